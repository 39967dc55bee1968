package fakemodel

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// Bedrock fakes Bedrock Runtime, signed with SigV4 for service "bedrock":
// Converse (POST /model/ID/converse), ConverseStream (POST
// /model/ID/converse-stream, answered in event-stream framing with
// messageStart, contentBlockDelta, contentBlockStop, messageStop and
// metadata events) and InvokeModel (POST /model/ID/invoke) with the bodies
// of Titan Text Embeddings and Cohere Embed. It sets the AWS environment
// (see useAWS) so the SDK finds it.
func Bedrock(t testing.TB, opts ...Option) *Server {
	s := newServer(t, opts, serveBedrock)
	s.uri = func(id string) string { return "bedrock:" + id }
	useAWS(t, "AWS_ENDPOINT_URL_BEDROCK_RUNTIME", s.URL)
	return s
}

func serveBedrock(s *Server, w http.ResponseWriter, r *http.Request, req Request, fault Fault) {
	if err := verifySigV4(r, req.Body, s.awsSecret(), "bedrock"); err != nil {
		awsError(w, http.StatusForbidden, "UnrecognizedClientException", err.Error(), "")
		return
	}
	if fault.Status != 0 {
		typ := map[int]string{429: "ThrottlingException", 500: "InternalServerException", 503: "ServiceUnavailableException", 400: "ValidationException"}[fault.Status]
		if typ == "" {
			typ = "ModelErrorException"
		}
		awsError(w, fault.Status, typ, "fake fault "+http.StatusText(fault.Status), fault.RetryAfter)
		return
	}
	parts := strings.Split(strings.TrimPrefix(r.URL.EscapedPath(), "/"), "/")
	if r.Method != http.MethodPost || len(parts) != 3 || parts[0] != "model" {
		awsError(w, http.StatusNotFound, "UnknownOperationException", "unknown operation "+r.URL.Path, "")
		return
	}
	id, _ := url.PathUnescape(parts[1])
	if !s.knows(id) {
		awsError(w, http.StatusBadRequest, "ValidationException", "The provided model identifier is invalid.", "")
		return
	}
	switch parts[2] {
	case "converse":
		s.converse(w, req, fault, id, false)
	case "converse-stream":
		s.converse(w, req, fault, id, true)
	case "invoke":
		s.invokeModel(w, r, req, fault, id)
	default:
		awsError(w, http.StatusNotFound, "UnknownOperationException", "unknown operation "+parts[2], "")
	}
}

func (s *Server) converse(w http.ResponseWriter, req Request, fault Fault, id string, stream bool) {
	var in struct {
		Messages []struct {
			Role    string `json:"role"`
			Content []struct {
				Text *string `json:"text"`
			} `json:"content"`
		} `json:"messages"`
		System []struct {
			Text string `json:"text"`
		} `json:"system"`
		InferenceConfig *struct {
			MaxTokens     *int     `json:"maxTokens"`
			Temperature   *float64 `json:"temperature"`
			TopP          *float64 `json:"topP"`
			StopSequences []string `json:"stopSequences"`
		} `json:"inferenceConfig"`
	}
	if err := decodeStrict(req.Body, &in); err != nil {
		awsError(w, http.StatusBadRequest, "ValidationException", err.Error(), "")
		return
	}
	if len(in.Messages) == 0 || in.Messages[0].Role != "user" {
		awsError(w, http.StatusBadRequest, "ValidationException", "A conversation must start with a user message.", "")
		return
	}
	var prompt []string
	for _, sys := range in.System {
		prompt = append(prompt, sys.Text)
	}
	for _, m := range in.Messages {
		for _, c := range m.Content {
			if c.Text == nil {
				awsError(w, http.StatusBadRequest, "ValidationException", "content blocks must hold text", "")
				return
			}
			prompt = append(prompt, *c.Text)
		}
	}
	answer := s.reply(strings.Join(prompt, "\n\n"))
	usage := map[string]any{"inputTokens": s.cfg.promptTokens, "outputTokens": s.cfg.completionTokens, "totalTokens": s.cfg.promptTokens + s.cfg.completionTokens}
	if !stream {
		writeJSON(w, http.StatusOK, map[string]any{
			"output":     map[string]any{"message": map[string]any{"role": "assistant", "content": []any{map[string]any{"text": answer}}}},
			"stopReason": "end_turn", "usage": usage, "metrics": map[string]any{"latencyMs": 12},
		}, fault)
		return
	}
	w.Header().Set("Content-Type", "application/vnd.amazon.eventstream")
	w.WriteHeader(http.StatusOK)
	event := func(typ string, v any) {
		data, _ := json.Marshal(v)
		writeEvent(w, "event", typ, "application/json", data)
	}
	event("messageStart", map[string]any{"role": "assistant"})
	toks := Tokens(answer)
	for i, tok := range toks {
		if fault.Truncate && i == len(toks)/2 {
			writeEvent(w, "exception", "modelStreamErrorException", "application/json", []byte(`{"message":"the model stopped"}`))
			return
		}
		event("contentBlockDelta", map[string]any{"contentBlockIndex": 0, "delta": map[string]any{"text": tok}})
	}
	event("contentBlockStop", map[string]any{"contentBlockIndex": 0})
	event("messageStop", map[string]any{"stopReason": "end_turn"})
	event("metadata", map[string]any{"usage": usage, "metrics": map[string]any{"latencyMs": 12}})
}

func (s *Server) invokeModel(w http.ResponseWriter, r *http.Request, req Request, fault Fault, id string) {
	if r.Header.Get("Content-Type") != "application/json" {
		awsError(w, http.StatusBadRequest, "ValidationException", "Content-Type must be application/json", "")
		return
	}
	switch {
	case strings.Contains(id, "titan-embed-text"):
		var in struct {
			InputText  *string `json:"inputText"`
			Dimensions *int    `json:"dimensions"`
			Normalize  *bool   `json:"normalize"`
		}
		if err := decodeStrict(req.Body, &in); err != nil || in.InputText == nil {
			awsError(w, http.StatusBadRequest, "ValidationException", "Malformed input request: #: required key [inputText] not found or extraneous key", "")
			return
		}
		if strings.Contains(id, "-v1") && (in.Dimensions != nil || in.Normalize != nil) {
			awsError(w, http.StatusBadRequest, "ValidationException", "Malformed input request: extraneous key [dimensions, normalize] is not permitted", "")
			return
		}
		dim := s.cfg.dim
		if in.Dimensions != nil {
			if *in.Dimensions != 256 && *in.Dimensions != 512 && *in.Dimensions != 1024 {
				awsError(w, http.StatusBadRequest, "ValidationException", "Malformed input request: dimensions must be 256, 512 or 1024", "")
				return
			}
			dim = *in.Dimensions
		}
		s.countEmbed()
		writeJSON(w, http.StatusOK, map[string]any{"embedding": Vector(*in.InputText, dim), "inputTextTokenCount": len(strings.Fields(*in.InputText))}, fault)
	case strings.Contains(id, "cohere.embed"):
		var in struct {
			Texts     []string `json:"texts"`
			InputType string   `json:"input_type"`
			Truncate  string   `json:"truncate"`
		}
		if err := decodeStrict(req.Body, &in); err != nil || len(in.Texts) == 0 || len(in.Texts) > 96 {
			awsError(w, http.StatusBadRequest, "ValidationException", "Malformed input request: texts must hold 1 to 96 strings", "")
			return
		}
		if in.InputType != "search_document" && in.InputType != "search_query" && in.InputType != "classification" && in.InputType != "clustering" {
			awsError(w, http.StatusBadRequest, "ValidationException", "Malformed input request: input_type is required", "")
			return
		}
		s.countEmbed()
		vecs := make([][]float32, len(in.Texts))
		for i, t := range in.Texts {
			vecs[i] = Vector(in.InputType+" "+t, s.cfg.dim)
		}
		writeJSON(w, http.StatusOK, map[string]any{"id": "fake", "embeddings": vecs, "texts": in.Texts, "response_type": "embeddings_floats"}, fault)
	default:
		awsError(w, http.StatusBadRequest, "ValidationException", "this fake embeds with Titan and Cohere models only", "")
	}
}
