// Package fakeaws serves in-process fakes of the AWS APIs distill's cloud
// commands call: S3 object reads (path-style REST) and the SageMaker control
// plane (JSON 1.1 with X-Amz-Target), checking the SigV4 scope of each
// request as the real services would.
package fakeaws

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// Server fakes S3 and SageMaker on one address; requests are told apart by
// the service in their SigV4 credential scope.
type Server struct {
	URL    string
	Region string

	mu      sync.Mutex
	Objects map[string][]byte // "bucket/key" -> body
	// Resources by name.
	Models, Configs map[string]map[string]any
	Endpoints       map[string]*Endpoint
	Calls           []string // SageMaker operations in order
	// Scripted behaviour.
	FailEndpoint     string            // FailureReason for endpoints: they end Failed
	DescribesToReady int               // DescribeEndpoint calls before InService
	Refuse           map[string]string // operation -> error code to return
}

// Endpoint is a fake endpoint's state.
type Endpoint struct {
	Name, Config, Status, Reason string
	Tags                         map[string]string
	Created                      time.Time
	describes                    int
}

// New starts a fake for region.
func New(t testing.TB, region string) *Server {
	s := &Server{Region: region, Objects: map[string][]byte{}, Models: map[string]map[string]any{}, Configs: map[string]map[string]any{},
		Endpoints: map[string]*Endpoint{}, Refuse: map[string]string{}, DescribesToReady: 2}
	srv := httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	return s
}

// Put stores an object.
func (s *Server) Put(bucket, key string, body []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.Objects[bucket+"/"+key] = body
}

// Operations returns the SageMaker operations called so far.
func (s *Server) Operations() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.Calls...)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	auth := r.Header.Get("Authorization")
	scope := func(service string) bool {
		return strings.HasPrefix(auth, "AWS4-HMAC-SHA256 Credential=") && strings.Contains(auth, "/"+s.Region+"/"+service+"/aws4_request") && strings.Contains(auth, "Signature=")
	}
	switch {
	case scope("s3"):
		s.serveS3(w, r)
	case scope("sagemaker"):
		s.serveSageMaker(w, r)
	default:
		http.Error(w, `{"__type":"IncompleteSignatureException","message":"missing or wrong SigV4 scope: `+auth+`"}`, http.StatusForbidden)
	}
}

func (s *Server) serveS3(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		http.Error(w, "method", http.StatusMethodNotAllowed)
		return
	}
	s.mu.Lock()
	body, ok := s.Objects[strings.TrimPrefix(r.URL.Path, "/")]
	s.mu.Unlock()
	if !ok {
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message><Key>%s</Key></Error>`, r.URL.Path)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(body)
}

func apiError(w http.ResponseWriter, code, msg string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.WriteHeader(http.StatusBadRequest)
	json.NewEncoder(w).Encode(map[string]string{"__type": code, "Message": msg})
}

func (s *Server) serveSageMaker(w http.ResponseWriter, r *http.Request) {
	target := r.Header.Get("X-Amz-Target")
	op, ok := strings.CutPrefix(target, "SageMaker.")
	if r.Method != http.MethodPost || r.URL.Path != "/" || !ok || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-amz-json-1.1") {
		apiError(w, "UnknownOperationException", "bad request to "+r.URL.Path+" target "+target)
		return
	}
	var in map[string]any
	data, _ := io.ReadAll(r.Body)
	if err := json.Unmarshal(data, &in); err != nil {
		apiError(w, "SerializationException", err.Error())
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.Calls = append(s.Calls, op)
	if code, ok := s.Refuse[op]; ok {
		msg := "refused"
		switch code {
		case "AccessDeniedException":
			msg = "User: arn:aws:iam::123456789012:user/dev is not authorized to perform: sagemaker:" + op
		case "ResourceLimitExceeded":
			msg = "The account-level service limit 'ml.g5.48xlarge for endpoint usage' is 0 Instances"
		}
		apiError(w, code, msg)
		return
	}
	str := func(k string) string { v, _ := in[k].(string); return v }
	out := map[string]any{}
	arn := func(kind, name string) string {
		return "arn:aws:sagemaker:" + s.Region + ":123456789012:" + kind + "/" + strings.ToLower(name)
	}
	switch op {
	case "CreateModel":
		name := str("ModelName")
		if _, dup := s.Models[name]; dup {
			apiError(w, "ValidationException", "Cannot create already existing model "+name)
			return
		}
		if str("ExecutionRoleArn") == "" {
			apiError(w, "ValidationException", "ExecutionRoleArn is required")
			return
		}
		s.Models[name] = in
		out["ModelArn"] = arn("model", name)
	case "DescribeModel":
		m, ok := s.Models[str("ModelName")]
		if !ok {
			apiError(w, "ValidationException", "Could not find model \""+str("ModelName")+"\".")
			return
		}
		out = map[string]any{"ModelName": m["ModelName"], "ModelArn": arn("model", str("ModelName")), "CreationTime": 1.7e9}
	case "DeleteModel":
		if _, ok := s.Models[str("ModelName")]; !ok {
			apiError(w, "ValidationException", "Could not find model \""+str("ModelName")+"\".")
			return
		}
		delete(s.Models, str("ModelName"))
	case "CreateEndpointConfig":
		name := str("EndpointConfigName")
		if _, dup := s.Configs[name]; dup {
			apiError(w, "ValidationException", "Cannot create already existing endpoint configuration "+name)
			return
		}
		s.Configs[name] = in
		out["EndpointConfigArn"] = arn("endpoint-config", name)
	case "DescribeEndpointConfig":
		c, ok := s.Configs[str("EndpointConfigName")]
		if !ok {
			apiError(w, "ValidationException", "Could not find endpoint configuration \""+str("EndpointConfigName")+"\".")
			return
		}
		out = map[string]any{"EndpointConfigName": c["EndpointConfigName"], "EndpointConfigArn": arn("endpoint-config", str("EndpointConfigName")), "ProductionVariants": c["ProductionVariants"], "CreationTime": 1.7e9}
	case "DeleteEndpointConfig":
		if _, ok := s.Configs[str("EndpointConfigName")]; !ok {
			apiError(w, "ValidationException", "Could not find endpoint configuration \""+str("EndpointConfigName")+"\".")
			return
		}
		delete(s.Configs, str("EndpointConfigName"))
	case "CreateEndpoint":
		name := str("EndpointName")
		if _, ok := s.Configs[str("EndpointConfigName")]; !ok {
			apiError(w, "ValidationException", "Could not find endpoint configuration \""+str("EndpointConfigName")+"\".")
			return
		}
		if _, dup := s.Endpoints[name]; dup {
			apiError(w, "ValidationException", "Cannot create already existing endpoint "+name)
			return
		}
		tags := map[string]string{}
		for _, t := range asList(in["Tags"]) {
			m := t.(map[string]any)
			tags[m["Key"].(string)] = m["Value"].(string)
		}
		s.Endpoints[name] = &Endpoint{Name: name, Config: str("EndpointConfigName"), Status: "Creating", Tags: tags, Created: time.Now().Add(-time.Minute)}
		out["EndpointArn"] = arn("endpoint", name)
	case "DescribeEndpoint":
		e, ok := s.Endpoints[str("EndpointName")]
		if !ok {
			apiError(w, "ValidationException", "Could not find endpoint \""+str("EndpointName")+"\".")
			return
		}
		e.describes++
		if e.Status == "Creating" && e.describes > s.DescribesToReady {
			if s.FailEndpoint != "" {
				e.Status, e.Reason = "Failed", s.FailEndpoint
			} else {
				e.Status = "InService"
			}
		}
		out = map[string]any{"EndpointName": e.Name, "EndpointArn": arn("endpoint", e.Name), "EndpointConfigName": e.Config, "EndpointStatus": e.Status, "CreationTime": float64(e.Created.Unix()), "LastModifiedTime": float64(e.Created.Unix())}
		if e.Reason != "" {
			out["FailureReason"] = e.Reason
		}
	case "DeleteEndpoint":
		if _, ok := s.Endpoints[str("EndpointName")]; !ok {
			apiError(w, "ValidationException", "Could not find endpoint \""+str("EndpointName")+"\".")
			return
		}
		delete(s.Endpoints, str("EndpointName"))
	case "ListEndpoints":
		var names []string
		for n := range s.Endpoints {
			names = append(names, n)
		}
		sort.Strings(names)
		var list []any
		for _, n := range names {
			e := s.Endpoints[n]
			list = append(list, map[string]any{"EndpointName": e.Name, "EndpointArn": arn("endpoint", e.Name), "EndpointStatus": e.Status, "CreationTime": float64(e.Created.Unix()), "LastModifiedTime": float64(e.Created.Unix())})
		}
		out["Endpoints"] = list
	case "ListTags":
		resArn := str("ResourceArn")
		var tags []any
		for _, e := range s.Endpoints {
			if arn("endpoint", e.Name) == resArn {
				for k, v := range e.Tags {
					tags = append(tags, map[string]any{"Key": k, "Value": v})
				}
			}
		}
		out["Tags"] = tags
	default:
		apiError(w, "UnknownOperationException", op)
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	json.NewEncoder(w).Encode(out)
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

// JumpStart writes a models manifest and specifications shaped like
// JumpStart's for the study's two models into the region's bucket: Mixtral
// (TGI image, uncompressed artifacts, g5 variants) and BGE Large (a
// script-mode PyTorch image with a tarball), each in two versions.
func (s *Server) JumpStart() {
	bucket := "jumpstart-cache-prod-" + s.Region
	manifest := `[
 {"model_id": "huggingface-llm-mixtral-8x7b-instruct", "version": "1.0.0", "min_version": "2.0", "spec_key": "community_models/huggingface-llm-mixtral-8x7b-instruct/specs_v1.0.0.json"},
 {"model_id": "huggingface-llm-mixtral-8x7b-instruct", "version": "1.3.1", "min_version": "2.0", "spec_key": "community_models/huggingface-llm-mixtral-8x7b-instruct/specs_v1.3.1.json"},
 {"model_id": "huggingface-sentencesimilarity-bge-large-en", "version": "1.0.0", "min_version": "2.0", "spec_key": "community_models/huggingface-sentencesimilarity-bge-large-en/specs_v1.0.0.json"},
 {"model_id": "huggingface-llm-mistral-7b-instruct", "version": "2.0.0", "min_version": "2.0", "spec_key": "community_models/huggingface-llm-mistral-7b-instruct/specs_v2.0.0.json"}
]`
	mixtral := func(version, image string) string {
		return `{
 "model_id": "huggingface-llm-mixtral-8x7b-instruct", "version": "` + version + `",
 "hosting_artifact_key": "huggingface-llm/huggingface-llm-mixtral-8x7b-instruct/artifacts/inference-prepack/v1.0.0/",
 "hosting_prepacked_artifact_key": "huggingface-llm/huggingface-llm-mixtral-8x7b-instruct/artifacts/inference-prepack/v1.0.0/",
 "default_inference_instance_type": "ml.g5.48xlarge",
 "supported_inference_instance_types": ["ml.g5.48xlarge", "ml.p4d.24xlarge"],
 "inference_enable_network_isolation": true,
 "inference_environment_variables": [
  {"name": "SM_NUM_GPUS", "type": "text", "default": "8", "scope": "container"},
  {"name": "MAX_INPUT_LENGTH", "type": "text", "default": "24000", "scope": "container"},
  {"name": "MAX_TOTAL_TOKENS", "type": "text", "default": "32000", "scope": "container"},
  {"name": "HF_MODEL_ID", "type": "text", "default": "/opt/ml/model", "scope": "container"},
  {"name": "SAGEMAKER_PROGRAM", "type": "text", "default": "inference.py", "scope": "algorithm"}
 ],
 "hosting_instance_type_variants": {
  "regional_aliases": {
   "us-east-1": {"gpu_ecr_uri_1": "763104351884.dkr.ecr.us-east-1.amazonaws.com/huggingface-pytorch-tgi-inference:` + image + `"},
   "eu-west-1": {"gpu_ecr_uri_1": "763104351884.dkr.ecr.eu-west-1.amazonaws.com/huggingface-pytorch-tgi-inference:` + image + `"}
  },
  "variants": {
   "g5": {"regional_properties": {"image_uri": "$gpu_ecr_uri_1"}},
   "p4d": {"regional_properties": {"image_uri": "$gpu_ecr_uri_1"}},
   "ml.p4d.24xlarge": {"properties": {"environment_variables": {"SM_NUM_GPUS": "8", "MAX_TOTAL_TOKENS": "32768"}}}
  }
 }
}`
	}
	bge := `{
 "model_id": "huggingface-sentencesimilarity-bge-large-en", "version": "1.0.0",
 "hosting_artifact_key": "huggingface-infer/infer-huggingface-sentencesimilarity-bge-large-en.tar.gz",
 "hosting_script_key": "source-directory-tarballs/huggingface/inference/sentencesimilarity/v1.0.0/sourcedir.tar.gz",
 "hosting_prepacked_artifact_key": "huggingface-infer/prepack/v1.0.0/infer-prepack-huggingface-sentencesimilarity-bge-large-en.tar.gz",
 "default_inference_instance_type": "ml.g5.2xlarge",
 "supported_inference_instance_types": ["ml.g5.2xlarge", "ml.g5.xlarge", "ml.c5.2xlarge"],
 "inference_environment_variables": [
  {"name": "SAGEMAKER_PROGRAM", "type": "text", "default": "inference.py", "scope": "container"},
  {"name": "SAGEMAKER_SUBMIT_DIRECTORY", "type": "text", "default": "/opt/ml/model/code", "scope": "container"},
  {"name": "MODEL_CACHE_ROOT", "type": "text", "default": "/opt/ml/model", "scope": "container"},
  {"name": "SAGEMAKER_MODEL_SERVER_TIMEOUT", "type": "text", "default": "3600", "scope": "container"}
 ],
 "hosting_instance_type_variants": {
  "regional_aliases": {
   "us-east-1": {
    "gpu_ecr_uri_1": "763104351884.dkr.ecr.us-east-1.amazonaws.com/huggingface-pytorch-inference:1.13.1-transformers4.26.0-gpu-py39-cu117-ubuntu20.04",
    "cpu_ecr_uri_1": "763104351884.dkr.ecr.us-east-1.amazonaws.com/huggingface-pytorch-inference:1.13.1-transformers4.26.0-cpu-py39-ubuntu20.04"
   }
  },
  "variants": {
   "g5": {"regional_properties": {"image_uri": "$gpu_ecr_uri_1"}},
   "c5": {"regional_properties": {"image_uri": "$cpu_ecr_uri_1"}}
  }
 }
}`
	s.Put(bucket, "models_manifest.json", []byte(manifest))
	s.Put(bucket, "community_models/huggingface-llm-mixtral-8x7b-instruct/specs_v1.0.0.json", []byte(mixtral("1.0.0", "2.0.1-tgi1.1.0-gpu-py39-cu118-ubuntu20.04")))
	s.Put(bucket, "community_models/huggingface-llm-mixtral-8x7b-instruct/specs_v1.3.1.json", []byte(mixtral("1.3.1", "2.1.1-tgi1.4.0-gpu-py310-cu121-ubuntu22.04")))
	s.Put(bucket, "community_models/huggingface-sentencesimilarity-bge-large-en/specs_v1.0.0.json", []byte(bge))
	// The mistral spec is listed but missing, as a broken mirror would be.
}
