// Package endpoint owns the lifecycle of the SageMaker endpoints distill
// deploys: creating the model, endpoint configuration and endpoint for a
// resolved JumpStart hosting, waiting for them, listing them by their tags
// and deleting them. Every resource of one deployment carries the
// deployment's name, so an interrupted deploy can be resumed or deleted by
// that name alone.
package endpoint

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker/types"
	"github.com/aws/smithy-go"

	"github.com/distill-rag/distill/cloud/jumpstart"
)

// Tags distill puts on what it creates.
const (
	TagManaged      = "distill:managed"
	TagModelID      = "distill:model-id"
	TagInstanceType = "distill:instance-type"
	TagKind         = "distill:kind"
)

// API is the part of the SageMaker API this package calls; *sagemaker.Client
// implements it.
type API interface {
	CreateModel(context.Context, *sagemaker.CreateModelInput, ...func(*sagemaker.Options)) (*sagemaker.CreateModelOutput, error)
	DescribeModel(context.Context, *sagemaker.DescribeModelInput, ...func(*sagemaker.Options)) (*sagemaker.DescribeModelOutput, error)
	DeleteModel(context.Context, *sagemaker.DeleteModelInput, ...func(*sagemaker.Options)) (*sagemaker.DeleteModelOutput, error)
	CreateEndpointConfig(context.Context, *sagemaker.CreateEndpointConfigInput, ...func(*sagemaker.Options)) (*sagemaker.CreateEndpointConfigOutput, error)
	DescribeEndpointConfig(context.Context, *sagemaker.DescribeEndpointConfigInput, ...func(*sagemaker.Options)) (*sagemaker.DescribeEndpointConfigOutput, error)
	DeleteEndpointConfig(context.Context, *sagemaker.DeleteEndpointConfigInput, ...func(*sagemaker.Options)) (*sagemaker.DeleteEndpointConfigOutput, error)
	CreateEndpoint(context.Context, *sagemaker.CreateEndpointInput, ...func(*sagemaker.Options)) (*sagemaker.CreateEndpointOutput, error)
	DescribeEndpoint(context.Context, *sagemaker.DescribeEndpointInput, ...func(*sagemaker.Options)) (*sagemaker.DescribeEndpointOutput, error)
	DeleteEndpoint(context.Context, *sagemaker.DeleteEndpointInput, ...func(*sagemaker.Options)) (*sagemaker.DeleteEndpointOutput, error)
	ListEndpoints(context.Context, *sagemaker.ListEndpointsInput, ...func(*sagemaker.Options)) (*sagemaker.ListEndpointsOutput, error)
	ListTags(context.Context, *sagemaker.ListTagsInput, ...func(*sagemaker.Options)) (*sagemaker.ListTagsOutput, error)
}

// Manager deploys, lists and deletes endpoints.
type Manager struct {
	API API
	// Poll is how often Wait asks for the endpoint's status (30s if zero).
	Poll time.Duration
	// Now is the clock, for ages in List.
	Now func() time.Time
}

// Deployment is what Deploy needs.
type Deployment struct {
	Name       string // for the model, the configuration and the endpoint
	Hosting    *jumpstart.Hosting
	Role       string // IAM role ARN the model runs as
	AcceptEULA bool
}

// AWSError is a refusal from AWS, with the operation it refused and, for
// permissions, the IAM action to grant.
type AWSError struct {
	Op      string // e.g. "CreateEndpoint"
	Code    string // e.g. "AccessDeniedException", "ResourceLimitExceeded"
	Message string
}

func (e *AWSError) Error() string {
	switch {
	case isAccessDenied(e.Code):
		return fmt.Sprintf("AWS refused sagemaker:%s: %s (grant the permission sagemaker:%s to your IAM identity)", e.Op, e.Message, e.Op)
	case e.Code == "ResourceLimitExceeded":
		return fmt.Sprintf("sagemaker %s: quota exceeded: %s (request a quota increase for the instance type in Service Quotas, or pick another instance type)", e.Op, e.Message)
	}
	return fmt.Sprintf("sagemaker %s: %s: %s", e.Op, e.Code, e.Message)
}

// UserError marks refusals the user must act on.
func (e *AWSError) UserError() {}

func isAccessDenied(code string) bool {
	return code == "AccessDeniedException" || code == "AccessDenied" || code == "UnauthorizedOperation"
}

func wrap(op string, err error) error {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return &AWSError{Op: op, Code: ae.ErrorCode(), Message: ae.ErrorMessage()}
	}
	return fmt.Errorf("sagemaker %s: %w", op, err)
}

// notFound reports SageMaker's way of saying a resource does not exist: a
// ValidationException whose message says "Could not find".
func notFound(err error) bool {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return false
	}
	msg := strings.ToLower(ae.ErrorMessage())
	return ae.ErrorCode() == "ResourceNotFound" || (ae.ErrorCode() == "ValidationException" && (strings.Contains(msg, "could not find") || strings.Contains(msg, "does not exist")))
}

// Progress receives what Deploy and Wait are doing.
type Progress func(msg string)

// Deploy creates what does not exist yet of the model, configuration and
// endpoint named d.Name, so a deploy interrupted part-way resumes where it
// stopped. It does not wait for the endpoint; see Wait.
func (m *Manager) Deploy(ctx context.Context, d Deployment, progress Progress) error {
	if progress == nil {
		progress = func(string) {}
	}
	h := d.Hosting
	tags := []types.Tag{
		{Key: aws.String(TagManaged), Value: aws.String("true")},
		{Key: aws.String(TagModelID), Value: aws.String(h.ModelID)},
		{Key: aws.String(TagInstanceType), Value: aws.String(h.InstanceType)},
		{Key: aws.String(TagKind), Value: aws.String(h.Kind)},
	}
	if _, err := m.API.DescribeModel(ctx, &sagemaker.DescribeModelInput{ModelName: &d.Name}); err == nil {
		progress("model " + d.Name + " exists")
	} else if !notFound(err) {
		return wrap("DescribeModel", err)
	} else {
		if d.Role == "" {
			return &MissingRoleError{}
		}
		container := &types.ContainerDefinition{Image: aws.String(h.Image), Environment: h.Environment}
		switch {
		case h.ModelDataPrefix != "":
			src := &types.S3ModelDataSource{S3Uri: aws.String(h.ModelDataPrefix), S3DataType: types.S3ModelDataTypeS3Prefix, CompressionType: types.ModelCompressionTypeNone}
			if h.RequiresEULA {
				src.ModelAccessConfig = &types.ModelAccessConfig{AcceptEula: aws.Bool(d.AcceptEULA)}
			}
			container.ModelDataSource = &types.ModelDataSource{S3DataSource: src}
		case h.ModelDataURL != "":
			container.ModelDataUrl = aws.String(h.ModelDataURL)
		}
		_, err := m.API.CreateModel(ctx, &sagemaker.CreateModelInput{
			ModelName: &d.Name, ExecutionRoleArn: aws.String(d.Role), PrimaryContainer: container,
			EnableNetworkIsolation: aws.Bool(h.NetworkIsolation), Tags: tags,
		})
		if err != nil {
			return wrap("CreateModel", err)
		}
		progress("created model " + d.Name)
	}
	if _, err := m.API.DescribeEndpointConfig(ctx, &sagemaker.DescribeEndpointConfigInput{EndpointConfigName: &d.Name}); err == nil {
		progress("endpoint configuration " + d.Name + " exists")
	} else if !notFound(err) {
		return wrap("DescribeEndpointConfig", err)
	} else {
		_, err := m.API.CreateEndpointConfig(ctx, &sagemaker.CreateEndpointConfigInput{
			EndpointConfigName: &d.Name,
			ProductionVariants: []types.ProductionVariant{{
				VariantName: aws.String("AllTraffic"), ModelName: &d.Name,
				InstanceType: types.ProductionVariantInstanceType(h.InstanceType), InitialInstanceCount: aws.Int32(1),
			}},
			Tags: tags,
		})
		if err != nil {
			return wrap("CreateEndpointConfig", err)
		}
		progress("created endpoint configuration " + d.Name)
	}
	if _, err := m.API.DescribeEndpoint(ctx, &sagemaker.DescribeEndpointInput{EndpointName: &d.Name}); err == nil {
		progress("endpoint " + d.Name + " exists")
		return nil
	} else if !notFound(err) {
		return wrap("DescribeEndpoint", err)
	}
	if _, err := m.API.CreateEndpoint(ctx, &sagemaker.CreateEndpointInput{EndpointName: &d.Name, EndpointConfigName: &d.Name, Tags: tags}); err != nil {
		return wrap("CreateEndpoint", err)
	}
	progress("created endpoint " + d.Name)
	return nil
}

// MissingRoleError says no IAM role was given for the model.
type MissingRoleError struct{}

func (e *MissingRoleError) Error() string {
	return "no IAM role for the model: pass --role ARN or set DISTILL_SAGEMAKER_ROLE (a role SageMaker can assume, with read access to the JumpStart bucket)"
}

// UserError marks the error as the user's to fix.
func (e *MissingRoleError) UserError() {}

// FailedError is an endpoint that ended in status Failed.
type FailedError struct {
	Name, Reason string
}

func (e *FailedError) Error() string {
	return fmt.Sprintf("endpoint %s failed: %s (delete it with: distill aws delete %s)", e.Name, e.Reason, e.Name)
}

// Wait polls the endpoint until it is InService, or returns a FailedError.
func (m *Manager) Wait(ctx context.Context, name string, progress Progress) error {
	poll := m.Poll
	if poll == 0 {
		poll = 30 * time.Second
	}
	start := time.Now()
	for {
		out, err := m.API.DescribeEndpoint(ctx, &sagemaker.DescribeEndpointInput{EndpointName: &name})
		if err != nil {
			return wrap("DescribeEndpoint", err)
		}
		switch out.EndpointStatus {
		case types.EndpointStatusInService:
			return nil
		case types.EndpointStatusFailed:
			return &FailedError{Name: name, Reason: aws.ToString(out.FailureReason)}
		}
		if progress != nil {
			progress(fmt.Sprintf("%s: %s (%s)", name, out.EndpointStatus, time.Since(start).Round(time.Second)))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(poll):
		}
	}
}

// Endpoint is an endpoint distill created.
type Endpoint struct {
	Name         string        `json:"name"`
	Status       string        `json:"status"`
	ModelID      string        `json:"model_id"`
	InstanceType string        `json:"instance_type"`
	Kind         string        `json:"kind"`
	Created      time.Time     `json:"created"`
	Age          time.Duration `json:"-"`
}

// List returns the endpoints tagged as distill's, newest first.
func (m *Manager) List(ctx context.Context) ([]Endpoint, error) {
	now := time.Now
	if m.Now != nil {
		now = m.Now
	}
	var out []Endpoint
	var token *string
	for {
		page, err := m.API.ListEndpoints(ctx, &sagemaker.ListEndpointsInput{NextToken: token, MaxResults: aws.Int32(100)})
		if err != nil {
			return nil, wrap("ListEndpoints", err)
		}
		for _, e := range page.Endpoints {
			tags, err := m.API.ListTags(ctx, &sagemaker.ListTagsInput{ResourceArn: e.EndpointArn})
			if err != nil {
				return nil, wrap("ListTags", err)
			}
			tm := map[string]string{}
			for _, t := range tags.Tags {
				tm[aws.ToString(t.Key)] = aws.ToString(t.Value)
			}
			if tm[TagManaged] != "true" {
				continue
			}
			created := aws.ToTime(e.CreationTime)
			out = append(out, Endpoint{
				Name: aws.ToString(e.EndpointName), Status: string(e.EndpointStatus), ModelID: tm[TagModelID],
				InstanceType: tm[TagInstanceType], Kind: tm[TagKind], Created: created, Age: now().Sub(created),
			})
		}
		if page.NextToken == nil || *page.NextToken == "" {
			break
		}
		token = page.NextToken
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Created.After(out[j].Created) })
	return out, nil
}

// Delete removes the endpoint, configuration and model named name, each
// only if it exists, so deleting twice, or deleting what a failed deploy
// half-created, succeeds. It reports what it removed.
func (m *Manager) Delete(ctx context.Context, name string) ([]string, error) {
	var removed []string
	if _, err := m.API.DeleteEndpoint(ctx, &sagemaker.DeleteEndpointInput{EndpointName: &name}); err == nil {
		removed = append(removed, "endpoint")
	} else if !notFound(err) {
		return removed, wrap("DeleteEndpoint", err)
	}
	if _, err := m.API.DeleteEndpointConfig(ctx, &sagemaker.DeleteEndpointConfigInput{EndpointConfigName: &name}); err == nil {
		removed = append(removed, "endpoint configuration")
	} else if !notFound(err) {
		return removed, wrap("DeleteEndpointConfig", err)
	}
	if _, err := m.API.DeleteModel(ctx, &sagemaker.DeleteModelInput{ModelName: &name}); err == nil {
		removed = append(removed, "model")
	} else if !notFound(err) {
		return removed, wrap("DeleteModel", err)
	}
	return removed, nil
}

// URI returns the model URI distill takes for a deployed endpoint, with
// the flag it goes with.
func URI(name, kind string) (flag, uri string) {
	if kind == "embed" {
		return "--embed", "sagemaker:" + name
	}
	return "--llm", "sagemaker:" + name + "?format=tgi"
}

// HourlyPrice is an approximate on-demand price in USD per hour for
// SageMaker real-time inference in us-east-1 (AWS's public price list,
// 2024); other regions differ by up to about 30%.
func HourlyPrice(instanceType string) (float64, bool) {
	p, ok := prices[instanceType]
	return p, ok
}

var prices = map[string]float64{
	"ml.g5.xlarge": 1.408, "ml.g5.2xlarge": 1.515, "ml.g5.4xlarge": 2.03, "ml.g5.8xlarge": 3.06,
	"ml.g5.12xlarge": 7.09, "ml.g5.16xlarge": 4.87, "ml.g5.24xlarge": 10.18, "ml.g5.48xlarge": 20.36,
	"ml.g4dn.xlarge": 0.736, "ml.g4dn.2xlarge": 0.94, "ml.g4dn.12xlarge": 4.89,
	"ml.g6.xlarge": 1.01, "ml.g6.2xlarge": 1.22, "ml.g6.12xlarge": 5.75, "ml.g6.48xlarge": 17.62,
	"ml.p4d.24xlarge": 37.69, "ml.p3.2xlarge": 3.825,
	"ml.c5.xlarge": 0.204, "ml.c5.2xlarge": 0.408, "ml.m5.xlarge": 0.23, "ml.m5.2xlarge": 0.461,
}
