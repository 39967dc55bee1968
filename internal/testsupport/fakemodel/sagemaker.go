package fakemodel

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// SageMaker fakes SageMaker Runtime: InvokeEndpoint (POST
// /endpoints/NAME/invocations) and InvokeEndpointWithResponseStream (POST
// /endpoints/NAME/invocations-response-stream, answered in event-stream
// framing with PayloadPart events), signed with SigV4 for service
// "sagemaker". An endpoint answers by its body: {"inputs", "parameters"}
// as TGI (a list of {"generated_text"}), {"messages"} as a chat
// completion, {"text_inputs", "mode": "embedding"} as JumpStart's embedding
// models. It sets the AWS environment (see useAWS) so the SDK finds it.
func SageMaker(t testing.TB, opts ...Option) *Server {
	s := newServer(t, opts, serveSageMaker)
	s.uri = func(endpoint string) string { return "sagemaker:" + endpoint }
	useAWS(t, "AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME", s.URL)
	return s
}

func serveSageMaker(s *Server, w http.ResponseWriter, r *http.Request, req Request, fault Fault) {
	if err := verifySigV4(r, req.Body, s.awsSecret(), "sagemaker"); err != nil {
		awsError(w, http.StatusForbidden, "InvalidSignatureException", err.Error(), "")
		return
	}
	if fault.Status != 0 {
		typ := map[int]string{429: "ThrottlingException", 500: "InternalFailure", 503: "ServiceUnavailable", 400: "ValidationError"}[fault.Status]
		if typ == "" {
			typ = "ModelError"
		}
		awsError(w, fault.Status, typ, "fake fault "+http.StatusText(fault.Status), fault.RetryAfter)
		return
	}
	parts := strings.Split(strings.TrimPrefix(r.URL.EscapedPath(), "/"), "/")
	if r.Method != http.MethodPost || len(parts) != 3 || parts[0] != "endpoints" || (parts[2] != "invocations" && parts[2] != "invocations-response-stream") {
		awsError(w, http.StatusNotFound, "UnknownOperationException", "unknown operation "+r.URL.Path, "")
		return
	}
	name, _ := url.PathUnescape(parts[1])
	stream := parts[2] == "invocations-response-stream"
	if !s.knows(name) {
		awsError(w, http.StatusBadRequest, "ValidationError", "Endpoint "+name+" of account 123456789012 not found.", "")
		return
	}
	if r.Header.Get("Content-Type") != "application/json" {
		awsError(w, http.StatusBadRequest, "ValidationError", "this endpoint takes Content-Type application/json", "")
		return
	}
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(req.Body, &probe); err != nil {
		modelError(w, 400, "Failed to parse the request body as JSON")
		return
	}
	switch {
	case probe["text_inputs"] != nil:
		s.jumpStartEmbed(w, req, fault)
	case probe["messages"] != nil:
		s.sageMakerChat(w, req, fault, stream)
	default:
		s.sageMakerTGI(w, req, fault, stream)
	}
}

// modelError is SageMaker's answer when the container refused the request.
func modelError(w http.ResponseWriter, originalStatus int, msg string) {
	w.Header().Set("X-Amzn-ErrorType", "ModelError")
	writeJSON(w, http.StatusFailedDependency, map[string]any{
		"ErrorCode": "CLIENT_ERROR_FROM_MODEL", "OriginalStatusCode": originalStatus,
		"OriginalMessage": msg, "message": "Received client error (" + http.StatusText(originalStatus) + ") from primary with message \"" + msg + "\"",
	}, Fault{})
}

func (s *Server) jumpStartEmbed(w http.ResponseWriter, req Request, fault Fault) {
	var in struct {
		TextInputs []string `json:"text_inputs"`
		Mode       string   `json:"mode"`
	}
	if err := decodeStrict(req.Body, &in); err != nil || in.Mode != "embedding" || len(in.TextInputs) == 0 {
		modelError(w, 400, `want {"text_inputs": [...], "mode": "embedding"}`)
		return
	}
	s.countEmbed()
	vecs := make([][]float32, len(in.TextInputs))
	for i, t := range in.TextInputs {
		vecs[i] = Vector(t, s.cfg.dim)
	}
	writeJSON(w, http.StatusOK, map[string]any{"embedding": vecs}, fault)
}

func (s *Server) sageMakerTGI(w http.ResponseWriter, req Request, fault Fault, stream bool) {
	var in tgiRequest
	if err := decodeStrict(req.Body, &in); err != nil {
		modelError(w, 422, err.Error())
		return
	}
	if err := in.validate(); err != nil {
		modelError(w, 422, err.Error())
		return
	}
	text, stop, details := s.tgiAnswer(&in)
	if !stream {
		out := map[string]any{"generated_text": text}
		if in.Parameters != nil && in.Parameters.Details {
			out["details"] = details
		}
		writeJSON(w, http.StatusOK, []any{out}, fault)
		return
	}
	var data []byte
	for _, ev := range tgiEvents(text, stop, details) {
		data = append(data, ev...)
	}
	s.payloadParts(w, data, fault)
}

// payloadParts streams data as PayloadPart events cut at odd places, as
// SageMaker does, so clients must reassemble lines.
func (s *Server) payloadParts(w http.ResponseWriter, data []byte, fault Fault) {
	w.Header().Set("Content-Type", "application/vnd.amazon.eventstream")
	w.Header().Set("X-Amzn-SageMaker-Content-Type", "text/event-stream")
	w.WriteHeader(http.StatusOK)
	const part = 37
	for i := 0; i < len(data); i += part {
		if fault.Truncate && i >= len(data)/2 {
			writeEvent(w, "exception", "ModelStreamError", "application/json", []byte(`{"Message":"the model stopped","ErrorCode":"StreamBroken"}`))
			return
		}
		writeEvent(w, "event", "PayloadPart", "application/octet-stream", data[i:min(i+part, len(data))])
	}
}

func (s *Server) sageMakerChat(w http.ResponseWriter, req Request, fault Fault, stream bool) {
	var in struct {
		Model    string `json:"model"`
		Messages []struct {
			Role    string `json:"role"`
			Content string `json:"content"`
		} `json:"messages"`
		MaxTokens   int      `json:"max_tokens"`
		Temperature *float64 `json:"temperature"`
		TopP        *float64 `json:"top_p"`
		Stop        []string `json:"stop"`
		Stream      bool     `json:"stream"`
	}
	if err := decodeStrict(req.Body, &in); err != nil {
		modelError(w, 422, err.Error())
		return
	}
	var parts []string
	for _, m := range in.Messages {
		parts = append(parts, m.Content)
	}
	answer := s.reply(strings.Join(parts, "\n\n"))
	usage := map[string]any{"prompt_tokens": s.cfg.promptTokens, "completion_tokens": s.cfg.completionTokens, "total_tokens": s.cfg.promptTokens + s.cfg.completionTokens}
	if !stream {
		writeJSON(w, http.StatusOK, map[string]any{
			"id": "fake", "object": "chat.completion", "model": "tgi",
			"choices": []any{map[string]any{"index": 0, "message": map[string]any{"role": "assistant", "content": answer}, "finish_reason": "stop"}},
			"usage":   usage,
		}, fault)
		return
	}
	var data []byte
	for _, tok := range Tokens(answer) {
		ev, _ := json.Marshal(map[string]any{"object": "chat.completion.chunk", "choices": []any{map[string]any{"index": 0, "delta": map[string]any{"content": tok}, "finish_reason": nil}}})
		data = append(data, "data: "+string(ev)+"\n\n"...)
	}
	ev, _ := json.Marshal(map[string]any{"object": "chat.completion.chunk", "choices": []any{map[string]any{"index": 0, "delta": map[string]any{}, "finish_reason": "stop"}}, "usage": usage})
	data = append(data, "data: "+string(ev)+"\n\ndata: [DONE]\n\n"...)
	s.payloadParts(w, data, fault)
}
