package fakemodel

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// OpenAI fakes an OpenAI-compatible server: POST /v1/chat/completions
// (with and without stream) and POST /v1/embeddings.
func OpenAI(t testing.TB, opts ...Option) *Server {
	s := newServer(t, opts, serveOpenAI)
	s.uri = func(model string) string { return "openai:" + model + "?base_url=" + s.URL + "/v1" }
	return s
}

func openAIError(w http.ResponseWriter, status int, retryAfter, msg, typ string) {
	if retryAfter != "" {
		w.Header().Set("Retry-After", retryAfter)
	}
	writeJSON(w, status, map[string]any{"error": map[string]any{"message": msg, "type": typ, "param": nil, "code": nil}}, Fault{})
}

func serveOpenAI(s *Server, w http.ResponseWriter, r *http.Request, req Request, fault Fault) {
	if r.Method != http.MethodPost {
		openAIError(w, http.StatusMethodNotAllowed, "", "method not allowed", "invalid_request_error")
		return
	}
	if s.cfg.apiKey != "" && r.Header.Get("Authorization") != "Bearer "+s.cfg.apiKey {
		openAIError(w, http.StatusUnauthorized, "", "Incorrect API key provided.", "invalid_request_error")
		return
	}
	if fault.Status != 0 {
		msg := fault.Message
		if msg == "" {
			msg = http.StatusText(fault.Status)
		}
		openAIError(w, fault.Status, fault.RetryAfter, msg, "server_error")
		return
	}
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		openAIError(w, http.StatusUnsupportedMediaType, "", "Content-Type must be application/json", "invalid_request_error")
		return
	}
	switch r.URL.Path {
	case "/v1/chat/completions":
		s.openAIChat(w, req, fault)
	case "/v1/embeddings":
		s.openAIEmbeddings(w, req, fault)
	default:
		openAIError(w, http.StatusNotFound, "", "Invalid URL (POST "+r.URL.Path+")", "invalid_request_error")
	}
}

type openAIChatRequest struct {
	Model    string `json:"model"`
	Messages []struct {
		Role    string `json:"role"`
		Content any    `json:"content"`
	} `json:"messages"`
	Temperature   *float64        `json:"temperature"`
	TopP          *float64        `json:"top_p"`
	MaxTokens     *int            `json:"max_tokens"`
	Stop          json.RawMessage `json:"stop"`
	Stream        bool            `json:"stream"`
	StreamOptions *struct {
		IncludeUsage bool `json:"include_usage"`
	} `json:"stream_options"`
}

func (s *Server) openAIChat(w http.ResponseWriter, req Request, fault Fault) {
	var in openAIChatRequest
	if err := decodeStrict(req.Body, &in); err != nil {
		openAIError(w, http.StatusBadRequest, "", err.Error(), "invalid_request_error")
		return
	}
	if in.Model == "" || len(in.Messages) == 0 {
		openAIError(w, http.StatusBadRequest, "", "model and messages are required", "invalid_request_error")
		return
	}
	if !s.knows(in.Model) {
		openAIError(w, http.StatusNotFound, "", "The model `"+in.Model+"` does not exist or you do not have access to it.", "invalid_request_error")
		return
	}
	var parts []string
	for _, m := range in.Messages {
		text, ok := m.Content.(string)
		if !ok || (m.Role != "system" && m.Role != "user" && m.Role != "assistant") {
			openAIError(w, http.StatusBadRequest, "", "each message needs a role and string content", "invalid_request_error")
			return
		}
		parts = append(parts, text)
	}
	answer := s.reply(strings.Join(parts, "\n\n"))
	usage := map[string]any{"prompt_tokens": s.cfg.promptTokens, "completion_tokens": s.cfg.completionTokens, "total_tokens": s.cfg.promptTokens + s.cfg.completionTokens}
	if !in.Stream {
		writeJSON(w, http.StatusOK, map[string]any{
			"id": "chatcmpl-fake", "object": "chat.completion", "created": 1700000000, "model": in.Model,
			"choices": []any{map[string]any{"index": 0, "message": map[string]any{"role": "assistant", "content": answer}, "finish_reason": "stop", "logprobs": nil}},
			"usage":   usage,
		}, fault)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(http.StatusOK)
	chunk := func(delta map[string]any, finish any) string {
		data, _ := json.Marshal(map[string]any{
			"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": 1700000000, "model": in.Model,
			"choices": []any{map[string]any{"index": 0, "delta": delta, "finish_reason": finish}},
		})
		return string(data)
	}
	sseWrite(w, chunk(map[string]any{"role": "assistant", "content": ""}, nil))
	toks := Tokens(answer)
	for i, tok := range toks {
		if fault.Truncate && i == len(toks)/2 {
			return // the connection ends mid-answer, without [DONE]
		}
		sseWrite(w, chunk(map[string]any{"content": tok}, nil))
	}
	if fault.BadJSON {
		sseWrite(w, "{not json")
	}
	sseWrite(w, chunk(map[string]any{}, "stop"))
	if in.StreamOptions != nil && in.StreamOptions.IncludeUsage {
		data, _ := json.Marshal(map[string]any{"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": 1700000000, "model": in.Model, "choices": []any{}, "usage": usage})
		sseWrite(w, string(data))
	}
	sseWrite(w, "[DONE]")
}

func (s *Server) openAIEmbeddings(w http.ResponseWriter, req Request, fault Fault) {
	var in struct {
		Model          string          `json:"model"`
		Input          json.RawMessage `json:"input"`
		EncodingFormat string          `json:"encoding_format"`
		Dimensions     int             `json:"dimensions"`
	}
	if err := decodeStrict(req.Body, &in); err != nil {
		openAIError(w, http.StatusBadRequest, "", err.Error(), "invalid_request_error")
		return
	}
	var texts []string
	if err := json.Unmarshal(in.Input, &texts); err != nil {
		var one string
		if err := json.Unmarshal(in.Input, &one); err != nil {
			openAIError(w, http.StatusBadRequest, "", "input must be a string or a list of strings", "invalid_request_error")
			return
		}
		texts = []string{one}
	}
	if in.EncodingFormat != "" && in.EncodingFormat != "float" {
		openAIError(w, http.StatusBadRequest, "", "this fake answers encoding_format float only", "invalid_request_error")
		return
	}
	if !s.knows(in.Model) {
		openAIError(w, http.StatusNotFound, "", "The model `"+in.Model+"` does not exist", "invalid_request_error")
		return
	}
	if s.cfg.maxBatch > 0 && len(texts) > s.cfg.maxBatch {
		openAIError(w, http.StatusBadRequest, "", "too many inputs", "invalid_request_error")
		return
	}
	s.countEmbed()
	dim := s.cfg.dim
	if in.Dimensions > 0 {
		dim = in.Dimensions
	}
	data := make([]any, len(texts))
	for i := len(texts) - 1; i >= 0; i-- { // out of order: clients must sort by index
		data[len(texts)-1-i] = map[string]any{"object": "embedding", "index": i, "embedding": Vector(texts[i], dim)}
	}
	writeJSON(w, http.StatusOK, map[string]any{"object": "list", "data": data, "model": in.Model, "usage": map[string]any{"prompt_tokens": len(texts), "total_tokens": len(texts)}}, fault)
}
