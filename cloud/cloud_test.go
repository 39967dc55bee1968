package cloud_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/distill-rag/distill/cloud"
	"github.com/distill-rag/distill/cloud/endpoint"
	"github.com/distill-rag/distill/cloud/jumpstart"
	"github.com/distill-rag/distill/internal/testsupport/fakeaws"
)

const role = "arn:aws:iam::123456789012:role/sagemaker"

// open points the real SDK clients at the fake through the standard
// endpoint-override environment variables.
func open(t *testing.T, region string) (*cloud.Cloud, *fakeaws.Server) {
	t.Helper()
	fake := fakeaws.New(t, region)
	fake.JumpStart()
	t.Setenv("AWS_ENDPOINT_URL_S3", fake.URL)
	t.Setenv("AWS_ENDPOINT_URL_SAGEMAKER", fake.URL)
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("AWS_CONFIG_FILE", t.TempDir()+"/none")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", t.TempDir()+"/none")
	t.Setenv("AWS_REGION", "")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	c, err := cloud.Open(context.Background(), region)
	if err != nil {
		t.Fatal(err)
	}
	c.Endpoints.Poll = time.Millisecond
	return c, fake
}

func TestPlanResolvesTheStudysModels(t *testing.T) {
	c, _ := open(t, "us-east-1")
	ctx := context.Background()
	tests := []struct {
		model, instance             string
		wantVersion, wantInstance   string
		wantImage, wantPrefix, wURL string
		env                         map[string]string
		kind                        string
	}{
		{"mixtral-8x7b-instruct", "", "1.3.1", "ml.g5.48xlarge", "huggingface-pytorch-tgi-inference:2.1.1-tgi1.4.0", "s3://jumpstart-cache-prod-us-east-1/huggingface-llm/huggingface-llm-mixtral-8x7b-instruct/artifacts/inference-prepack/v1.0.0/", "",
			map[string]string{"SM_NUM_GPUS": "8", "MAX_TOTAL_TOKENS": "32000", "HF_MODEL_ID": "/opt/ml/model"}, "llm"},
		{"huggingface-llm-mixtral-8x7b-instruct", "ml.p4d.24xlarge", "1.3.1", "ml.p4d.24xlarge", "tgi-inference", "s3://jumpstart-cache-prod-us-east-1/huggingface-llm/", "",
			map[string]string{"MAX_TOTAL_TOKENS": "32768"}, "llm"},
		{"bge-large-en", "", "1.0.0", "ml.g5.2xlarge", "huggingface-pytorch-inference:1.13.1-transformers4.26.0-gpu", "", "s3://jumpstart-cache-prod-us-east-1/huggingface-infer/prepack/v1.0.0/infer-prepack-huggingface-sentencesimilarity-bge-large-en.tar.gz",
			map[string]string{"SAGEMAKER_PROGRAM": "inference.py"}, "embed"},
		{"bge-large-en", "ml.c5.2xlarge", "1.0.0", "ml.c5.2xlarge", "-cpu-py39", "", "s3://", nil, "embed"},
	}
	for _, tt := range tests {
		t.Run(tt.model+"/"+tt.instance, func(t *testing.T) {
			p, err := c.Plan(ctx, tt.model, tt.instance, "")
			if err != nil {
				t.Fatal(err)
			}
			h := p.Hosting
			if h.Version != tt.wantVersion || h.InstanceType != tt.wantInstance || !strings.Contains(h.Image, tt.wantImage) || h.Kind != tt.kind {
				t.Errorf("hosting = %+v", h)
			}
			if !strings.HasPrefix(h.ModelDataPrefix, tt.wantPrefix) || (tt.wantPrefix == "") != (h.ModelDataPrefix == "") {
				t.Errorf("model data prefix = %q, want %q", h.ModelDataPrefix, tt.wantPrefix)
			}
			if !strings.HasPrefix(h.ModelDataURL, tt.wURL) || (tt.wURL == "") != (h.ModelDataURL == "") {
				t.Errorf("model data URL = %q, want %q", h.ModelDataURL, tt.wURL)
			}
			for k, v := range tt.env {
				if h.Environment[k] != v {
					t.Errorf("env %s = %q, want %q", k, h.Environment[k], v)
				}
			}
			if _, ok := h.Environment["SAGEMAKER_PROGRAM"]; ok && h.Kind == "llm" {
				t.Errorf("algorithm-scoped variable leaked into the container: %v", h.Environment)
			}
			if !strings.HasPrefix(p.Name, "distill-") || cloud.ValidName(p.Name) != nil {
				t.Errorf("default name %q", p.Name)
			}
		})
	}
	if p, _ := c.Plan(ctx, "mixtral-8x7b-instruct", "", ""); p.PricePerHour < 15 {
		t.Errorf("price of ml.g5.48xlarge = %v, want the ~$20/hour it costs", p.PricePerHour)
	}
}

func TestPlanRejectsWhatJumpStartDoesNotOffer(t *testing.T) {
	ctx := context.Background()
	c, _ := open(t, "us-east-1")
	tests := []struct {
		model, instance, name string
		want                  []string
	}{
		{"mixtral-8x7b", "", "", []string{`unknown JumpStart model "mixtral-8x7b"`, "mixtral-8x7b-instruct", "bge-large-en"}},
		{"mixtral-8x7b-instruct", "ml.t2.medium", "", []string{`"ml.t2.medium"`, "ml.g5.48xlarge", "ml.p4d.24xlarge"}},
		{"bge-large-en", "ml.g5.xlarge", "", nil}, // supported type, g5 family image
		{"mixtral-8x7b-instruct", "", "bad_name!", []string{"--name", "bad_name!"}},
		{"huggingface-llm-mistral-7b-instruct", "", "", []string{"NoSuchKey", "specs_v2.0.0.json"}},
	}
	for _, tt := range tests {
		_, err := c.Plan(ctx, tt.model, tt.instance, tt.name)
		if tt.want == nil {
			if err != nil {
				t.Errorf("Plan(%s, %s): %v", tt.model, tt.instance, err)
			}
			continue
		}
		if err == nil {
			t.Errorf("Plan(%s, %s) succeeded, want an error", tt.model, tt.instance)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("Plan(%s, %s) error %q lacks %q", tt.model, tt.instance, err, w)
			}
		}
	}
	// A region without the image lists the regions that have it.
	c2, _ := open(t, "ap-south-1")
	_, err := c2.Plan(ctx, "mixtral-8x7b-instruct", "", "")
	var je *jumpstart.Error
	if !errors.As(err, &je) || !strings.Contains(err.Error(), "ap-south-1") || !strings.Contains(err.Error(), "eu-west-1, us-east-1") {
		t.Errorf("region without image: %v", err)
	}
}

func TestDeployWaitListDelete(t *testing.T) {
	ctx := context.Background()
	c, fake := open(t, "us-east-1")
	p, err := c.Plan(ctx, "bge-large-en", "", "distill-bge")
	if err != nil {
		t.Fatal(err)
	}
	var progress []string
	if err := c.Deploy(ctx, p, role, false, func(m string) { progress = append(progress, m) }); err != nil {
		t.Fatal(err)
	}
	if fake.Endpoints["distill-bge"].Status != "InService" || len(progress) < 4 {
		t.Fatalf("endpoint %+v, progress %v", fake.Endpoints["distill-bge"], progress)
	}
	m := fake.Models["distill-bge"]
	cont := m["PrimaryContainer"].(map[string]any)
	if m["ExecutionRoleArn"] != role || !strings.Contains(cont["Image"].(string), "huggingface-pytorch-inference") || !strings.HasSuffix(cont["ModelDataUrl"].(string), ".tar.gz") {
		t.Errorf("CreateModel got %v", m)
	}
	variant := fake.Configs["distill-bge"]["ProductionVariants"].([]any)[0].(map[string]any)
	if variant["InstanceType"] != "ml.g5.2xlarge" || variant["ModelName"] != "distill-bge" {
		t.Errorf("endpoint config variant %v", variant)
	}
	if flag, uri := endpoint.URI(p.Name, p.Hosting.Kind); flag != "--embed" || uri != "sagemaker:distill-bge" {
		t.Errorf("URI = %s %s", flag, uri)
	}

	// Mixtral: uncompressed artifacts go in ModelDataSource.
	pm, _ := c.Plan(ctx, "mixtral-8x7b-instruct", "", "distill-mixtral")
	if err := c.Deploy(ctx, pm, role, false, nil); err != nil {
		t.Fatal(err)
	}
	src := fake.Models["distill-mixtral"]["PrimaryContainer"].(map[string]any)["ModelDataSource"].(map[string]any)["S3DataSource"].(map[string]any)
	if src["S3DataType"] != "S3Prefix" || src["CompressionType"] != "None" {
		t.Errorf("mixtral model data source %v", src)
	}
	// Endpoints made elsewhere are not distill's.
	fake.Endpoints["someone-else"] = &fakeaws.Endpoint{Name: "someone-else", Status: "InService", Tags: map[string]string{}, Created: time.Now()}

	eps, err := c.Endpoints.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(eps) != 2 {
		t.Fatalf("List = %+v, want distill's two endpoints", eps)
	}
	for _, e := range eps {
		if e.Status != "InService" || e.InstanceType == "" || e.Age < time.Minute-time.Second {
			t.Errorf("listed %+v", e)
		}
	}

	removed, err := c.Endpoints.Delete(ctx, "distill-bge")
	if err != nil || strings.Join(removed, ",") != "endpoint,endpoint configuration,model" {
		t.Fatalf("Delete = %v, %v", removed, err)
	}
	removed, err = c.Endpoints.Delete(ctx, "distill-bge")
	if err != nil || len(removed) != 0 {
		t.Fatalf("second Delete = %v, %v; want nothing removed and no error", removed, err)
	}
	if _, ok := fake.Endpoints["someone-else"]; !ok {
		t.Fatal("deleted an endpoint distill did not create")
	}
}

func TestDeployFailuresAndResume(t *testing.T) {
	ctx := context.Background()

	t.Run("endpoint fails", func(t *testing.T) {
		c, fake := open(t, "us-east-1")
		fake.FailEndpoint = "The primary container for production variant AllTraffic did not pass the ping health check."
		p, _ := c.Plan(ctx, "bge-large-en", "", "distill-fails")
		err := c.Deploy(ctx, p, role, false, nil)
		var fe *endpoint.FailedError
		if !errors.As(err, &fe) || !strings.Contains(err.Error(), "ping health check") || !strings.Contains(err.Error(), "distill aws delete distill-fails") {
			t.Fatalf("error = %v, want a FailedError with the reason", err)
		}
	})

	t.Run("quota, then resume", func(t *testing.T) {
		c, fake := open(t, "us-east-1")
		fake.Refuse["CreateEndpoint"] = "ResourceLimitExceeded"
		p, _ := c.Plan(ctx, "mixtral-8x7b-instruct", "", "distill-quota")
		err := c.Deploy(ctx, p, role, false, nil)
		var ae *endpoint.AWSError
		if !errors.As(err, &ae) || ae.Code != "ResourceLimitExceeded" || !strings.Contains(err.Error(), "quota") {
			t.Fatalf("error = %v, want ResourceLimitExceeded explained", err)
		}
		// Half-created: model and configuration exist, no endpoint.
		if fake.Models["distill-quota"] == nil || fake.Configs["distill-quota"] == nil || fake.Endpoints["distill-quota"] != nil {
			t.Fatalf("unexpected state after refusal")
		}
		// Deploying again under the same name creates only the endpoint.
		delete(fake.Refuse, "CreateEndpoint")
		before := len(fake.Operations())
		if err := c.Deploy(ctx, p, role, false, nil); err != nil {
			t.Fatal(err)
		}
		ops := strings.Join(fake.Operations()[before:], ",")
		if strings.Contains(ops, "CreateModel") || strings.Contains(ops, "CreateEndpointConfig") || !strings.Contains(ops, "CreateEndpoint") {
			t.Errorf("resume called %s", ops)
		}
	})

	t.Run("half-created deletes cleanly", func(t *testing.T) {
		c, fake := open(t, "us-east-1")
		fake.Refuse["CreateEndpointConfig"] = "ValidationException"
		p, _ := c.Plan(ctx, "bge-large-en", "", "distill-half")
		if err := c.Deploy(ctx, p, role, false, nil); err == nil {
			t.Fatal("deploy succeeded despite the refusal")
		}
		removed, err := c.Endpoints.Delete(ctx, "distill-half")
		if err != nil || strings.Join(removed, ",") != "model" || len(fake.Models) != 0 {
			t.Fatalf("Delete of a half-created deploy = %v, %v", removed, err)
		}
	})

	t.Run("permission names the action", func(t *testing.T) {
		c, fake := open(t, "us-east-1")
		fake.Refuse["CreateModel"] = "AccessDeniedException"
		p, _ := c.Plan(ctx, "bge-large-en", "", "distill-denied")
		err := c.Deploy(ctx, p, role, false, nil)
		if err == nil || !strings.Contains(err.Error(), "sagemaker:CreateModel") || !strings.Contains(err.Error(), "grant") {
			t.Fatalf("error = %v, want the missing permission named", err)
		}
	})

	t.Run("no role", func(t *testing.T) {
		c, fake := open(t, "us-east-1")
		p, _ := c.Plan(ctx, "bge-large-en", "", "distill-norole")
		var me *endpoint.MissingRoleError
		if err := c.Deploy(ctx, p, "", false, nil); !errors.As(err, &me) || len(fake.Models) != 0 {
			t.Fatalf("error = %v, want MissingRoleError before creating anything", err)
		}
	})
}

func TestDefaultName(t *testing.T) {
	now := time.Date(2026, 11, 24, 9, 5, 0, 0, time.UTC)
	for id, want := range map[string]string{
		"huggingface-llm-mixtral-8x7b-instruct":       "distill-mixtral-8x7b-instruct-1124-0905",
		"huggingface-sentencesimilarity-bge-large-en": "distill-bge-large-en-1124-0905",
		"x" + strings.Repeat("y", 80):                 "",
	} {
		got := cloud.DefaultName(id, now)
		if cloud.ValidName(got) != nil || (want != "" && got != want) {
			t.Errorf("DefaultName(%s) = %q, want %q (valid)", id, got, want)
		}
	}
}

// TestOpenWithoutCredentials: with no credentials anywhere in the chain,
// Open says what to set in one line instead of the SDK's account of every
// provider it tried.
func TestOpenWithoutCredentials(t *testing.T) {
	for _, v := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"} {
		t.Setenv(v, "")
	}
	t.Setenv("AWS_CONFIG_FILE", t.TempDir()+"/none")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", t.TempDir()+"/none")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true") // no instance role, and no network
	_, err := cloud.Open(context.Background(), "us-east-1")
	var nc *cloud.NoCredentialsError
	if !errors.As(err, &nc) {
		t.Fatalf("Open without credentials: %v", err)
	}
	if msg := err.Error(); !strings.HasPrefix(msg, "no AWS credentials found: set AWS_PROFILE") || strings.Contains(msg, "IMDS") {
		t.Fatalf("message: %s", msg)
	}
}
