// Package cloud deploys and tears down the SageMaker endpoints that serve
// distill's models: it plans a deployment from a JumpStart model id (what
// will run where, and roughly what it costs per hour) and carries it out.
// AWS configuration comes from the standard chain: region, profiles,
// credentials and AWS_ENDPOINT_URL_* endpoint overrides.
package cloud

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	"github.com/aws/smithy-go/logging"

	"github.com/distill-rag/distill/cloud/endpoint"
	"github.com/distill-rag/distill/cloud/jumpstart"
)

// Cloud holds the clients of one region.
type Cloud struct {
	Region    string
	Resolver  *jumpstart.Resolver
	Endpoints *endpoint.Manager
}

// Open loads the AWS configuration (region overrides the configured one
// when set) and makes the clients.
func Open(ctx context.Context, region string) (*Cloud, error) {
	// The SDK's own log lines ("WARN falling back to IMDSv1") say nothing
	// a user can act on; the errors below do.
	opts := []func(*config.LoadOptions) error{config.WithLogger(logging.Nop{})}
	if region != "" {
		opts = append(opts, config.WithRegion(region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		return nil, jumpstart.ErrNoRegion
	}
	// Asking for credentials once, up front, turns the SDK's account of
	// every provider in its chain into one line that says what to set.
	if _, err := cfg.Credentials.Retrieve(ctx); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, &NoCredentialsError{Err: err}
	}
	s3c := s3.NewFromConfig(cfg, func(o *s3.Options) {
		// A local endpoint (a mirror or a fake) has no per-bucket host names.
		if os.Getenv("AWS_ENDPOINT_URL_S3") != "" || os.Getenv("AWS_ENDPOINT_URL") != "" {
			o.UsePathStyle = true
		}
	})
	return &Cloud{
		Region:    cfg.Region,
		Resolver:  &jumpstart.Resolver{S3: s3c, Region: cfg.Region},
		Endpoints: &endpoint.Manager{API: sagemaker.NewFromConfig(cfg)},
	}, nil
}

// NoCredentialsError says that the standard AWS credential chain found no
// credentials; Err is the SDK's account of it.
type NoCredentialsError struct{ Err error }

func (e *NoCredentialsError) Error() string {
	return "no AWS credentials found: set AWS_PROFILE to a profile in ~/.aws/config (aws configure, or aws sso login), " +
		"or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run where an instance or task role is attached"
}

func (e *NoCredentialsError) Unwrap() error { return e.Err }

// UserError marks it as a setup mistake that the message explains.
func (e *NoCredentialsError) UserError() {}

// Plan is a deployment about to be made.
type Plan struct {
	Name         string
	Hosting      *jumpstart.Hosting
	PricePerHour float64 // approximate USD; 0 when unknown
}

// Plan resolves modelID (or a shortcut) on instanceType ("" for the
// model's default) and names the deployment (name "" picks one).
func (c *Cloud) Plan(ctx context.Context, modelID, instanceType, name string) (*Plan, error) {
	spec, err := c.Resolver.Spec(ctx, modelID)
	if err != nil {
		return nil, err
	}
	h, err := c.Resolver.Resolve(spec, instanceType)
	if err != nil {
		return nil, err
	}
	if name == "" {
		name = DefaultName(h.ModelID, time.Now())
	}
	if err := ValidName(name); err != nil {
		return nil, err
	}
	p := &Plan{Name: name, Hosting: h}
	p.PricePerHour, _ = endpoint.HourlyPrice(h.InstanceType)
	return p, nil
}

// Deploy creates (or resumes) the deployment and waits until it serves.
func (c *Cloud) Deploy(ctx context.Context, p *Plan, role string, acceptEULA bool, progress endpoint.Progress) error {
	if p.Hosting.RequiresEULA && !acceptEULA {
		return &NeedsEULAError{ModelID: p.Hosting.ModelID}
	}
	if err := c.Endpoints.Deploy(ctx, endpoint.Deployment{Name: p.Name, Hosting: p.Hosting, Role: role, AcceptEULA: acceptEULA}, progress); err != nil {
		return err
	}
	return c.Endpoints.Wait(ctx, p.Name, progress)
}

// NeedsEULAError says the model's license must be accepted first.
type NeedsEULAError struct{ ModelID string }

func (e *NeedsEULAError) Error() string {
	return fmt.Sprintf("%s requires accepting its end-user license agreement: read it, then pass --accept-eula", e.ModelID)
}

// UserError marks the error as the user's to fix.
func (e *NeedsEULAError) UserError() {}

var nameRE = regexp.MustCompile(`^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$`)

// ValidName checks a name against SageMaker's rule for endpoint names.
func ValidName(name string) error {
	if !nameRE.MatchString(name) {
		return &NameError{Name: name}
	}
	return nil
}

// NameError is a deployment name SageMaker would refuse.
type NameError struct{ Name string }

func (e *NameError) Error() string {
	return fmt.Sprintf("--name %q: use 1 to 63 letters, digits and hyphens, starting with a letter or digit", e.Name)
}

// UserError marks the error as the user's to fix.
func (e *NameError) UserError() {}

// DefaultName is "distill-" plus a short form of the model id and a time.
func DefaultName(modelID string, now time.Time) string {
	short := modelID
	for full, s := range map[string]string{"huggingface-llm-": "", "huggingface-sentencesimilarity-": "", "huggingface-textembedding-": ""} {
		short = strings.TrimPrefix(short, full) + s
	}
	short = regexp.MustCompile(`[^a-zA-Z0-9-]+`).ReplaceAllString(short, "-")
	suffix := now.UTC().Format("0102-1504")
	if max := 63 - len("distill--") - len(suffix); len(short) > max {
		short = short[:max]
	}
	return strings.Trim("distill-"+short, "-") + "-" + suffix
}
