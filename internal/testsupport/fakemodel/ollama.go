package fakemodel

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// Ollama fakes Ollama's native API: POST /api/chat (NDJSON stream unless
// "stream": false, as Ollama defaults to streaming) and POST /api/embed.
func Ollama(t testing.TB, opts ...Option) *Server {
	s := newServer(t, opts, serveOllama)
	s.uri = func(model string) string { return "ollama:" + model + "?host=" + s.URL }
	return s
}

func ollamaError(w http.ResponseWriter, status int, retryAfter, msg string) {
	if retryAfter != "" {
		w.Header().Set("Retry-After", retryAfter)
	}
	writeJSON(w, status, map[string]any{"error": msg}, Fault{})
}

func serveOllama(s *Server, w http.ResponseWriter, r *http.Request, req Request, fault Fault) {
	if fault.Status != 0 {
		ollamaError(w, fault.Status, fault.RetryAfter, strings.ToLower(http.StatusText(fault.Status)))
		return
	}
	if r.Method != http.MethodPost {
		ollamaError(w, http.StatusMethodNotAllowed, "", "method not allowed")
		return
	}
	switch r.URL.Path {
	case "/api/chat":
		s.ollamaChat(w, req, fault)
	case "/api/embed":
		s.ollamaEmbed(w, req, fault)
	default:
		http.NotFound(w, r)
	}
}

type ollamaChatRequest struct {
	Model    string `json:"model"`
	Messages []struct {
		Role    string `json:"role"`
		Content string `json:"content"`
	} `json:"messages"`
	Stream  *bool `json:"stream"`
	Options *struct {
		Temperature *float64 `json:"temperature"`
		TopP        *float64 `json:"top_p"`
		NumPredict  *int     `json:"num_predict"`
		Stop        []string `json:"stop"`
	} `json:"options"`
}

func (s *Server) ollamaChat(w http.ResponseWriter, req Request, fault Fault) {
	var in ollamaChatRequest
	if err := decodeStrict(req.Body, &in); err != nil {
		ollamaError(w, http.StatusBadRequest, "", err.Error())
		return
	}
	if in.Model == "" {
		ollamaError(w, http.StatusBadRequest, "", "model is required")
		return
	}
	if !s.knows(in.Model) {
		ollamaError(w, http.StatusNotFound, "", `model "`+in.Model+`" not found, try pulling it first`)
		return
	}
	var parts []string
	for _, m := range in.Messages {
		parts = append(parts, m.Content)
	}
	answer := s.reply(strings.Join(parts, "\n\n"))
	final := map[string]any{
		"model": in.Model, "created_at": "2024-01-01T00:00:00Z", "message": map[string]any{"role": "assistant", "content": ""},
		"done": true, "done_reason": "stop", "total_duration": 1000, "prompt_eval_count": s.cfg.promptTokens, "eval_count": s.cfg.completionTokens,
	}
	if in.Stream != nil && !*in.Stream {
		final["message"] = map[string]any{"role": "assistant", "content": answer}
		writeJSON(w, http.StatusOK, final, fault)
		return
	}
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.WriteHeader(http.StatusOK)
	toks := Tokens(answer)
	for i, tok := range toks {
		if fault.Truncate && i == len(toks)/2 {
			return
		}
		line, _ := json.Marshal(map[string]any{"model": in.Model, "created_at": "2024-01-01T00:00:00Z", "message": map[string]any{"role": "assistant", "content": tok}, "done": false})
		w.Write(append(line, '\n'))
		if f, ok := w.(http.Flusher); ok {
			f.Flush()
		}
	}
	if fault.BadJSON {
		w.Write([]byte("{not json\n"))
	}
	line, _ := json.Marshal(final)
	w.Write(append(line, '\n'))
}

func (s *Server) ollamaEmbed(w http.ResponseWriter, req Request, fault Fault) {
	var in struct {
		Model    string          `json:"model"`
		Input    json.RawMessage `json:"input"`
		Truncate *bool           `json:"truncate"`
	}
	if err := decodeStrict(req.Body, &in); err != nil {
		ollamaError(w, http.StatusBadRequest, "", err.Error())
		return
	}
	var texts []string
	if err := json.Unmarshal(in.Input, &texts); err != nil {
		var one string
		if err := json.Unmarshal(in.Input, &one); err != nil {
			ollamaError(w, http.StatusBadRequest, "", "invalid input type")
			return
		}
		texts = []string{one}
	}
	if !s.knows(in.Model) {
		ollamaError(w, http.StatusNotFound, "", `model "`+in.Model+`" not found, try pulling it first`)
		return
	}
	s.countEmbed()
	vecs := make([][]float32, len(texts))
	for i, t := range texts {
		vecs[i] = Vector(t, s.cfg.dim)
	}
	writeJSON(w, http.StatusOK, map[string]any{"model": in.Model, "embeddings": vecs, "prompt_eval_count": len(texts)}, fault)
}
