// Package ollama is the "ollama:MODEL" provider: Ollama's native API,
// /api/chat for generation (streamed as NDJSON) and /api/embed for
// embeddings. The server is $OLLAMA_HOST (default 127.0.0.1:11434) or the
// host option.
package ollama

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strings"

	"github.com/distill-rag/distill/cost"
	"github.com/distill-rag/distill/model"
	"github.com/distill-rag/distill/model/remote"
)

// DefaultHost is where Ollama listens unless told otherwise.
const DefaultHost = "http://127.0.0.1:11434"

func init() {
	model.RegisterLLM("ollama", func(ctx context.Context, u model.URI) (model.LLM, error) { return open(u) })
	model.RegisterEmbedder("ollama", func(ctx context.Context, u model.URI) (model.Embedder, error) { return open(u) })
}

// Model is one model on an Ollama server.
type Model struct {
	name, model, host string
	settings          model.Settings
	client            *remote.Client
}

func open(u model.URI) (*Model, error) {
	if u.Target == "" {
		return nil, &model.URIError{URI: u.Raw, Reason: "name the model, e.g. ollama:llama3.1"}
	}
	s, err := u.Settings("host")
	if err != nil {
		return nil, err
	}
	host := u.Options.Get("host")
	if host == "" {
		host = os.Getenv("OLLAMA_HOST")
	}
	return &Model{
		name: u.Name(), model: u.Target, host: Host(host), settings: s,
		client: &remote.Client{Provider: "ollama", HTTP: &http.Client{}, Policy: remote.DefaultPolicy(s)},
	}, nil
}

// Host turns $OLLAMA_HOST's forms ("", "0.0.0.0", ":11434",
// "example:8080", "https://example") into a base URL, as Ollama's own
// client does.
func Host(h string) string {
	h = strings.TrimRight(strings.TrimSpace(h), "/")
	if h == "" {
		return DefaultHost
	}
	scheme := "http"
	if i := strings.Index(h, "://"); i >= 0 {
		scheme, h = h[:i], h[i+3:]
	}
	hostPort, path, _ := strings.Cut(h, "/")
	if path != "" {
		path = "/" + path
	}
	host, port := hostPort, ""
	if i := strings.LastIndex(hostPort, ":"); i >= 0 && !strings.HasSuffix(hostPort, "]") {
		host, port = hostPort[:i], hostPort[i+1:]
	}
	if host == "" || host == "0.0.0.0" {
		host = "127.0.0.1"
	}
	if port == "" {
		port = "11434"
		if scheme == "https" {
			port = "443"
		}
	}
	return scheme + "://" + host + ":" + port + path
}

func (m *Model) Name() string { return m.name }

type chatRequest struct {
	Model    string          `json:"model"`
	Messages []model.Message `json:"messages"`
	Stream   bool            `json:"stream"`
	Options  chatOptions     `json:"options"`
}

type chatOptions struct {
	Temperature float64  `json:"temperature"`
	TopP        float64  `json:"top_p"`
	NumPredict  int      `json:"num_predict"`
	Stop        []string `json:"stop,omitempty"`
}

type chatResponse struct {
	Message *struct {
		Role    string `json:"role"`
		Content string `json:"content"`
	} `json:"message"`
	Done            bool   `json:"done"`
	DoneReason      string `json:"done_reason"`
	PromptEvalCount int    `json:"prompt_eval_count"`
	EvalCount       int    `json:"eval_count"`
	Error           string `json:"error"`
}

func (m *Model) chat(req model.Request, stream bool) chatRequest {
	req = m.settings.Apply(req)
	return chatRequest{Model: m.model, Messages: req.Messages, Stream: stream, Options: chatOptions{
		Temperature: *req.Temperature, TopP: *req.TopP, NumPredict: req.MaxTokens, Stop: req.Stop,
	}}
}

func (m *Model) malformed(path, why string) error {
	return &model.Error{Provider: "ollama", Endpoint: m.host + path, Status: 200, Message: "malformed answer: " + why, Permanent: true}
}

// Generate asks /api/chat for the whole answer at once.
func (m *Model) Generate(ctx context.Context, req model.Request) (model.Response, error) {
	var resp chatResponse
	if err := m.client.PostJSON(ctx, m.host+"/api/chat", m.chat(req, false), &resp); err != nil {
		return model.Response{}, err
	}
	if resp.Message == nil || !resp.Done {
		return model.Response{}, m.malformed("/api/chat", "no message, or not done")
	}
	return model.Response{Text: resp.Message.Content, FinishReason: resp.DoneReason,
		Usage: cost.Usage{Calls: 1, PromptTokens: resp.PromptEvalCount, CompletionTokens: resp.EvalCount}}, nil
}

// Stream reads /api/chat's NDJSON stream, one object per token or so; the
// last one (done: true) carries the token counts.
func (m *Model) Stream(ctx context.Context, req model.Request, onToken func(string) error) (model.Response, error) {
	var out model.Response
	var text strings.Builder
	done := false
	err := m.client.PostStream(ctx, m.host+"/api/chat", m.chat(req, true), func(line []byte) error {
		var r chatResponse
		if err := json.Unmarshal(line, &r); err != nil {
			return m.malformed("/api/chat", "bad stream line "+remote.Snippet(line))
		}
		if r.Error != "" {
			return &model.Error{Provider: "ollama", Endpoint: m.host + "/api/chat", Status: 200, Message: r.Error, Permanent: true}
		}
		if r.Message != nil && r.Message.Content != "" {
			text.WriteString(r.Message.Content)
			if err := onToken(r.Message.Content); err != nil {
				return err
			}
		}
		if r.Done {
			done = true
			out = model.Response{FinishReason: r.DoneReason, Usage: cost.Usage{Calls: 1, PromptTokens: r.PromptEvalCount, CompletionTokens: r.EvalCount}}
		}
		return nil
	}, func() error {
		if !done {
			// Asking again is safe while nothing was shown.
			return &model.Error{Provider: "ollama", Endpoint: m.host + "/api/chat", Status: 200,
				Message: "the stream ended before done", Err: io.ErrUnexpectedEOF, Permanent: text.Len() > 0}
		}
		return nil
	})
	if err != nil {
		return model.Response{}, err
	}
	out.Text = text.String()
	return out, nil
}

// Embed asks /api/embed for the texts' embeddings.
func (m *Model) Embed(ctx context.Context, texts []string, _ model.Purpose) ([][]float32, error) {
	var resp struct {
		Embeddings [][]float32 `json:"embeddings"`
	}
	req := struct {
		Model string   `json:"model"`
		Input []string `json:"input"`
	}{m.model, texts}
	if err := m.client.PostJSON(ctx, m.host+"/api/embed", req, &resp); err != nil {
		return nil, err
	}
	if len(resp.Embeddings) != len(texts) {
		return nil, m.malformed("/api/embed", itoa(len(resp.Embeddings))+" embeddings for "+itoa(len(texts))+" texts")
	}
	return resp.Embeddings, nil
}
