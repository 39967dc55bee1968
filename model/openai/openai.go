// Package openai is the "openai:MODEL" provider: chat completions and
// embeddings from any server that speaks OpenAI's API (OpenAI, vLLM, TGI's
// OpenAI route, llama.cpp's server, LM Studio), through the official
// openai-go client. The server is $OPENAI_BASE_URL (or the base_url
// option) and the key $OPENAI_API_KEY.
package openai

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"sort"
	"strings"

	oai "github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/distill-rag/distill/cost"
	"github.com/distill-rag/distill/model"
	"github.com/distill-rag/distill/model/remote"
)

// DefaultBaseURL is OpenAI's API, used when neither $OPENAI_BASE_URL nor
// the base_url option names another server.
const DefaultBaseURL = "https://api.openai.com/v1"

func init() {
	model.RegisterLLM("openai", func(ctx context.Context, u model.URI) (model.LLM, error) { return open(u) })
	model.RegisterEmbedder("openai", func(ctx context.Context, u model.URI) (model.Embedder, error) { return open(u) })
}

// Model is one model on an OpenAI-compatible server.
type Model struct {
	name     string
	model    string
	baseURL  string
	client   oai.Client
	settings model.Settings
	policy   remote.Policy
	dims     int
}

func open(u model.URI) (*Model, error) {
	if u.Target == "" {
		return nil, &model.URIError{URI: u.Raw, Reason: "name the model, e.g. openai:gpt-4o-mini"}
	}
	s, err := u.Settings("base_url", "dimensions")
	if err != nil {
		return nil, err
	}
	base := u.Options.Get("base_url")
	if base == "" {
		base = os.Getenv("OPENAI_BASE_URL")
	}
	if base == "" {
		base = DefaultBaseURL
	}
	base = strings.TrimRight(base, "/")
	opts := []option.RequestOption{
		option.WithBaseURL(base + "/"),
		option.WithMaxRetries(0), // remote.Do retries, the same way for every provider
		option.WithHTTPClient(&http.Client{Transport: remote.LimitAnswers(nil)}),
	}
	if key := os.Getenv("OPENAI_API_KEY"); key != "" {
		opts = append(opts, option.WithAPIKey(key))
	}
	m := &Model{name: u.Name("dimensions"), model: u.Target, baseURL: base, client: oai.NewClient(opts...), settings: s, policy: remote.DefaultPolicy(s)}
	if d := u.Options.Get("dimensions"); d != "" {
		if m.dims, err = positive(d); err != nil {
			return nil, &model.URIError{URI: u.Raw, Reason: "option dimensions: want a positive whole number, got " + d}
		}
	}
	return m, nil
}

func (m *Model) Name() string { return m.name }

func (m *Model) params(req model.Request) oai.ChatCompletionNewParams {
	req = m.settings.Apply(req)
	p := oai.ChatCompletionNewParams{
		Model:       m.model,
		Temperature: oai.Float(*req.Temperature),
		TopP:        oai.Float(*req.TopP),
		MaxTokens:   oai.Int(int64(req.MaxTokens)),
	}
	for _, msg := range req.Messages {
		switch msg.Role {
		case "system":
			p.Messages = append(p.Messages, oai.SystemMessage(msg.Content))
		case "assistant":
			p.Messages = append(p.Messages, oai.AssistantMessage(msg.Content))
		default:
			p.Messages = append(p.Messages, oai.UserMessage(msg.Content))
		}
	}
	if len(req.Stop) > 0 {
		p.Stop = oai.ChatCompletionNewParamsStopUnion{OfStringArray: req.Stop}
	}
	return p
}

// Generate asks for a chat completion.
func (m *Model) Generate(ctx context.Context, req model.Request) (model.Response, error) {
	p := m.params(req)
	var out model.Response
	err := remote.Do(ctx, m.policy, func(ctx context.Context) error {
		resp, err := m.client.Chat.Completions.New(ctx, p)
		if err != nil {
			return m.error("chat/completions", err)
		}
		if len(resp.Choices) == 0 {
			return &model.Error{Provider: "openai", Endpoint: m.endpoint("chat/completions"), Status: 200, Message: "malformed answer: no choices", Permanent: true}
		}
		out = model.Response{
			Text:         resp.Choices[0].Message.Content,
			FinishReason: resp.Choices[0].FinishReason,
			Usage:        cost.Usage{Calls: 1, PromptTokens: int(resp.Usage.PromptTokens), CompletionTokens: int(resp.Usage.CompletionTokens)},
		}
		return nil
	})
	return out, err
}

// Stream asks for a chat completion as server-sent events, with usage in
// the last one (stream_options.include_usage).
func (m *Model) Stream(ctx context.Context, req model.Request, onToken func(string) error) (model.Response, error) {
	p := m.params(req)
	p.StreamOptions = oai.ChatCompletionStreamOptionsParam{IncludeUsage: oai.Bool(true)}
	var out model.Response
	err := remote.Do(ctx, m.policy, func(ctx context.Context) error {
		stream := m.client.Chat.Completions.NewStreaming(ctx, p)
		defer stream.Close()
		var text strings.Builder
		out = model.Response{Usage: cost.Usage{Calls: 1}}
		for stream.Next() {
			chunk := stream.Current()
			if chunk.JSON.Usage.Valid() {
				out.Usage.PromptTokens = int(chunk.Usage.PromptTokens)
				out.Usage.CompletionTokens = int(chunk.Usage.CompletionTokens)
			}
			for _, c := range chunk.Choices {
				if c.Delta.Content != "" {
					text.WriteString(c.Delta.Content)
					if err := onToken(c.Delta.Content); err != nil {
						return &model.Error{Provider: "openai", Endpoint: m.endpoint("chat/completions"), Err: err, Permanent: true}
					}
				}
				if c.FinishReason != "" {
					out.FinishReason = c.FinishReason
				}
			}
		}
		if err := stream.Err(); err != nil {
			me := m.error("chat/completions", err)
			if text.Len() > 0 {
				me.Permanent = true // the caller already showed part of the answer
			}
			return me
		}
		if out.FinishReason == "" {
			// Every OpenAI-compatible server ends an answer with a
			// finish_reason; a stream without one was cut off. Asking
			// again is safe while nothing was shown.
			return &model.Error{Provider: "openai", Endpoint: m.endpoint("chat/completions"), Status: 200,
				Message: "the stream ended before the answer did", Err: io.ErrUnexpectedEOF, Permanent: text.Len() > 0}
		}
		out.Text = text.String()
		return nil
	})
	return out, err
}

// Embed asks for the texts' embeddings, as floats.
func (m *Model) Embed(ctx context.Context, texts []string, _ model.Purpose) ([][]float32, error) {
	p := oai.EmbeddingNewParams{
		Model:          m.model,
		Input:          oai.EmbeddingNewParamsInputUnion{OfArrayOfStrings: texts},
		EncodingFormat: oai.EmbeddingNewParamsEncodingFormatFloat,
	}
	if m.dims > 0 {
		p.Dimensions = oai.Int(int64(m.dims))
	}
	var out [][]float32
	err := remote.Do(ctx, m.policy, func(ctx context.Context) error {
		resp, err := m.client.Embeddings.New(ctx, p)
		if err != nil {
			return m.error("embeddings", err)
		}
		if len(resp.Data) != len(texts) {
			return &model.Error{Provider: "openai", Endpoint: m.endpoint("embeddings"), Status: 200, Permanent: true,
				Message: "malformed answer: " + itoa(len(resp.Data)) + " embeddings for " + itoa(len(texts)) + " texts"}
		}
		data := resp.Data
		sort.SliceStable(data, func(i, j int) bool { return data[i].Index < data[j].Index })
		out = make([][]float32, len(data))
		for i, d := range data {
			v := make([]float32, len(d.Embedding))
			for j, x := range d.Embedding {
				v[j] = float32(x)
			}
			out[i] = v
		}
		return nil
	})
	return out, err
}

func (m *Model) endpoint(path string) string { return m.baseURL + "/" + path }

// error turns the client's errors into a model.Error with the status and
// Retry-After of the answer.
func (m *Model) error(path string, err error) *model.Error {
	me := &model.Error{Provider: "openai", Endpoint: m.endpoint(path), Err: err}
	var apiErr *oai.Error
	if errors.As(err, &apiErr) {
		me.Status, me.Err = apiErr.StatusCode, nil
		me.Message = apiErr.Message
		if me.Message == "" {
			me.Message = remote.ErrorMessage([]byte(apiErr.RawJSON()))
		}
		if apiErr.Response != nil {
			me.RetryAfter = remote.RetryAfter(apiErr.Response.Header)
		}
		return me
	}
	if isDecodeError(err) {
		me.Message, me.Permanent = "malformed answer", true
	}
	return me
}

func isDecodeError(err error) bool {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	return errors.As(err, &syntax) || errors.As(err, &typ) || strings.Contains(strings.ToLower(err.Error()), "json")
}
