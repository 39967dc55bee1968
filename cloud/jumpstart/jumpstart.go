// Package jumpstart resolves a SageMaker JumpStart model into what it takes
// to host it: the container image for a region and instance type, the model
// artifacts and the container's environment. It reads JumpStart's public
// model specifications (a manifest and one JSON file per model version) from
// the regional JumpStart bucket in S3, as the SageMaker Python SDK does.
package jumpstart

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"golang.org/x/mod/semver"
)

// Shortcuts name the study's two models.
var Shortcuts = map[string]string{
	"mixtral-8x7b-instruct": "huggingface-llm-mixtral-8x7b-instruct",
	"bge-large-en":          "huggingface-sentencesimilarity-bge-large-en",
}

// Bucket is the regional bucket holding JumpStart's specifications and
// artifacts.
func Bucket(region string) string { return "jumpstart-cache-prod-" + region }

// ObjectGetter reads an object from S3; *s3.Client implements it.
type ObjectGetter interface {
	GetObject(ctx context.Context, in *s3.GetObjectInput, opts ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

// ManifestEntry is one model version in the manifest.
type ManifestEntry struct {
	ModelID string `json:"model_id"`
	Version string `json:"version"`
	SpecKey string `json:"spec_key"`
}

// Spec is the part of a model specification distill uses.
type Spec struct {
	ModelID                string    `json:"model_id"`
	Version                string    `json:"version"`
	HostingArtifactKey     string    `json:"hosting_artifact_key"`
	HostingPrepackedKey    string    `json:"hosting_prepacked_artifact_key"`
	HostingScriptKey       string    `json:"hosting_script_key"`
	HostingEULAKey         string    `json:"hosting_eula_key"`
	DefaultInstanceType    string    `json:"default_inference_instance_type"`
	SupportedInstanceTypes []string  `json:"supported_inference_instance_types"`
	EnvironmentVariables   []EnvVar  `json:"inference_environment_variables"`
	InstanceTypeVariants   *Variants `json:"hosting_instance_type_variants"`
	NetworkIsolation       bool      `json:"inference_enable_network_isolation"`
}

// EnvVar is a container environment variable with its default.
type EnvVar struct {
	Name    string `json:"name"`
	Default any    `json:"default"`
	Scope   string `json:"scope"` // "container" or "algorithm"
}

// Variants are the per-instance-type differences: images by region
// (through aliases) and environment or artifacts per instance family.
type Variants struct {
	RegionalAliases map[string]map[string]string `json:"regional_aliases"`
	Variants        map[string]Variant           `json:"variants"`
}

// Variant applies to an instance type ("ml.g5.2xlarge") or family ("g5").
type Variant struct {
	RegionalProperties map[string]string `json:"regional_properties"`
	Properties         struct {
		EnvironmentVariables map[string]string `json:"environment_variables"`
		ArtifactKey          string            `json:"artifact_key"`
	} `json:"properties"`
}

// Hosting is what creating the SageMaker model needs.
type Hosting struct {
	ModelID      string
	Version      string
	Region       string
	InstanceType string
	Image        string
	// ModelDataURL is a .tar.gz artifact; ModelDataPrefix an uncompressed
	// S3 prefix (large LLMs). At most one is set.
	ModelDataURL     string
	ModelDataPrefix  string
	Environment      map[string]string
	RequiresEULA     bool
	NetworkIsolation bool
	// Kind is "llm" or "embed", for the URI distill prints.
	Kind string
}

// Error is a model, instance type or region that JumpStart does not offer;
// it lists what is offered instead.
type Error struct {
	What      string
	Supported []string
}

func (e *Error) Error() string {
	if len(e.Supported) == 0 {
		return e.What
	}
	return fmt.Sprintf("%s (supported: %s)", e.What, strings.Join(e.Supported, ", "))
}

// UserError marks the error as the user's to fix.
func (e *Error) UserError() {}

// Resolver reads specifications from a region's JumpStart bucket.
type Resolver struct {
	S3     ObjectGetter
	Region string
	// Bucket overrides Bucket(Region), for tests and mirrors.
	Bucket string
}

func (r *Resolver) bucket() string {
	if r.Bucket != "" {
		return r.Bucket
	}
	return Bucket(r.Region)
}

func (r *Resolver) getJSON(ctx context.Context, key string, out any) error {
	obj, err := r.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(r.bucket()), Key: aws.String(key)})
	if err != nil {
		return fmt.Errorf("jumpstart: read s3://%s/%s: %w", r.bucket(), key, err)
	}
	defer obj.Body.Close()
	data, err := io.ReadAll(io.LimitReader(obj.Body, 256<<20))
	if err != nil {
		return fmt.Errorf("jumpstart: read s3://%s/%s: %w", r.bucket(), key, err)
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("jumpstart: s3://%s/%s is not a valid specification: %w", r.bucket(), key, err)
	}
	return nil
}

// Spec returns the newest specification of a model id (or shortcut).
func (r *Resolver) Spec(ctx context.Context, modelID string) (*Spec, error) {
	if full, ok := Shortcuts[modelID]; ok {
		modelID = full
	}
	var manifest []ManifestEntry
	if err := r.getJSON(ctx, "models_manifest.json", &manifest); err != nil {
		return nil, err
	}
	var best *ManifestEntry
	var similar []string
	for i, e := range manifest {
		if e.ModelID == modelID {
			if best == nil || semver.Compare("v"+e.Version, "v"+best.Version) > 0 {
				best = &manifest[i]
			}
		} else if strings.Contains(e.ModelID, modelID) && len(similar) < 10 && !contains(similar, e.ModelID) {
			similar = append(similar, e.ModelID)
		}
	}
	if best == nil {
		names := make([]string, 0, len(Shortcuts))
		for s := range Shortcuts {
			names = append(names, s)
		}
		sort.Strings(names)
		return nil, &Error{What: fmt.Sprintf("unknown JumpStart model %q in %s", modelID, r.Region), Supported: append(names, similar...)}
	}
	var spec Spec
	if err := r.getJSON(ctx, best.SpecKey, &spec); err != nil {
		return nil, err
	}
	if spec.ModelID == "" {
		spec.ModelID, spec.Version = best.ModelID, best.Version
	}
	return &spec, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Resolve returns the hosting of spec on instanceType ("" for the model's
// default) in the resolver's region.
func (r *Resolver) Resolve(spec *Spec, instanceType string) (*Hosting, error) {
	if instanceType == "" {
		instanceType = spec.DefaultInstanceType
	}
	if len(spec.SupportedInstanceTypes) > 0 && !contains(spec.SupportedInstanceTypes, instanceType) {
		return nil, &Error{What: fmt.Sprintf("%s does not support instance type %q", spec.ModelID, instanceType), Supported: spec.SupportedInstanceTypes}
	}
	h := &Hosting{ModelID: spec.ModelID, Version: spec.Version, Region: r.Region, InstanceType: instanceType, Environment: map[string]string{}, RequiresEULA: spec.HostingEULAKey != "", NetworkIsolation: spec.NetworkIsolation, Kind: kindOf(spec.ModelID)}
	for _, v := range spec.EnvironmentVariables {
		if v.Scope == "container" || v.Scope == "" {
			h.Environment[v.Name] = fmt.Sprint(v.Default)
		}
	}
	vs := spec.InstanceTypeVariants
	if vs == nil {
		return nil, &Error{What: fmt.Sprintf("%s %s has no hosting images in its specification; distill cannot deploy it", spec.ModelID, spec.Version)}
	}
	aliases, ok := vs.RegionalAliases[r.Region]
	if !ok {
		var regions []string
		for reg := range vs.RegionalAliases {
			regions = append(regions, reg)
		}
		sort.Strings(regions)
		return nil, &Error{What: fmt.Sprintf("%s has no container image in region %s", spec.ModelID, r.Region), Supported: regions}
	}
	artifact := spec.HostingPrepackedKey
	if artifact == "" {
		artifact = spec.HostingArtifactKey
	}
	// The instance type's own variant wins over its family's ("g5").
	for _, key := range []string{family(instanceType), instanceType} {
		v, ok := vs.Variants[key]
		if !ok {
			continue
		}
		if img := v.RegionalProperties["image_uri"]; img != "" {
			h.Image = img
		}
		for k, val := range v.Properties.EnvironmentVariables {
			h.Environment[k] = val
		}
		if v.Properties.ArtifactKey != "" {
			artifact = v.Properties.ArtifactKey
		}
	}
	if strings.HasPrefix(h.Image, "$") {
		img, ok := aliases[strings.TrimPrefix(h.Image, "$")]
		if !ok {
			return nil, &Error{What: fmt.Sprintf("%s: image alias %s is not defined for region %s", spec.ModelID, h.Image, r.Region)}
		}
		h.Image = img
	}
	if h.Image == "" {
		var types []string
		for k := range vs.Variants {
			if vs.Variants[k].RegionalProperties["image_uri"] != "" {
				types = append(types, k)
			}
		}
		sort.Strings(types)
		return nil, &Error{What: fmt.Sprintf("%s has no container image for instance type %s in %s", spec.ModelID, instanceType, r.Region), Supported: types}
	}
	if artifact != "" {
		uri := "s3://" + r.bucket() + "/" + artifact
		if strings.HasSuffix(artifact, "/") {
			h.ModelDataPrefix = uri
		} else {
			h.ModelDataURL = uri
		}
	}
	return h, nil
}

// family returns "g5" for "ml.g5.2xlarge".
func family(instanceType string) string {
	parts := strings.Split(instanceType, ".")
	if len(parts) == 3 {
		return parts[1]
	}
	return instanceType
}

func kindOf(modelID string) string {
	for _, k := range []string{"sentencesimilarity", "textembedding", "embedding", "bge-", "e5-"} {
		if strings.Contains(modelID, k) {
			return "embed"
		}
	}
	return "llm"
}

// ErrNoRegion is returned when no AWS region is configured.
var ErrNoRegion = errors.New("no AWS region: pass --region or set AWS_REGION")
