// Package bedrock is the "bedrock:MODEL_ID" provider: generation with
// Bedrock's Converse and ConverseStream APIs (any chat model, e.g.
// mistral.mixtral-8x7b-instruct-v0:1), and embeddings with InvokeModel in
// the body formats of Amazon Titan Text Embeddings (v1, v2) and Cohere
// Embed, through aws-sdk-go-v2.
package bedrock

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime/types"

	"github.com/distill-rag/distill/cost"
	"github.com/distill-rag/distill/model"
	"github.com/distill-rag/distill/model/internal/awsx"
	"github.com/distill-rag/distill/model/remote"
)

func init() {
	model.RegisterLLM("bedrock", func(ctx context.Context, u model.URI) (model.LLM, error) { return open(ctx, u) })
	model.RegisterEmbedder("bedrock", func(ctx context.Context, u model.URI) (model.Embedder, error) {
		m, err := open(ctx, u)
		if err != nil {
			return nil, err
		}
		if m.family() == "" {
			return nil, &model.URIError{URI: u.Raw, Reason: "distill knows the embedding formats of amazon.titan-embed-text-* and cohere.embed-* models"}
		}
		return m, nil
	})
}

// Model is one Bedrock model.
type Model struct {
	name, id   string
	dimensions int
	settings   model.Settings
	policy     remote.Policy
	client     *bedrockruntime.Client
}

func open(ctx context.Context, u model.URI) (*Model, error) {
	if u.Target == "" {
		return nil, &model.URIError{URI: u.Raw, Reason: "name the model ID, e.g. bedrock:mistral.mixtral-8x7b-instruct-v0:1"}
	}
	s, err := u.Settings(append([]string{"dimensions"}, awsx.Options...)...)
	if err != nil {
		return nil, err
	}
	m := &Model{name: u.Name("dimensions"), id: u.Target, settings: s, policy: remote.DefaultPolicy(s)}
	if d := u.Options.Get("dimensions"); d != "" {
		if m.dimensions, err = strconv.Atoi(d); err != nil || m.dimensions <= 0 {
			return nil, &model.URIError{URI: u.Raw, Reason: "option dimensions: want a positive whole number (Titan v2: 256, 512 or 1024), got " + d}
		}
	}
	cfg, err := awsx.Load(ctx, u)
	if err != nil {
		return nil, err
	}
	m.client = bedrockruntime.NewFromConfig(cfg)
	return m, nil
}

func (m *Model) Name() string { return m.name }

func (m *Model) converse(req model.Request) ([]types.Message, []types.SystemContentBlock, *types.InferenceConfiguration) {
	req = m.settings.Apply(req)
	var msgs []types.Message
	var system []types.SystemContentBlock
	for _, msg := range req.Messages {
		switch msg.Role {
		case "system":
			system = append(system, &types.SystemContentBlockMemberText{Value: msg.Content})
		case "assistant":
			msgs = append(msgs, types.Message{Role: types.ConversationRoleAssistant, Content: []types.ContentBlock{&types.ContentBlockMemberText{Value: msg.Content}}})
		default:
			msgs = append(msgs, types.Message{Role: types.ConversationRoleUser, Content: []types.ContentBlock{&types.ContentBlockMemberText{Value: msg.Content}}})
		}
	}
	cfg := &types.InferenceConfiguration{
		MaxTokens: aws.Int32(int32(req.MaxTokens)), Temperature: aws.Float32(float32(*req.Temperature)),
		TopP: aws.Float32(float32(*req.TopP)), StopSequences: req.Stop,
	}
	return msgs, system, cfg
}

func usage(u *types.TokenUsage) cost.Usage {
	out := cost.Usage{Calls: 1}
	if u != nil {
		out.PromptTokens = int(aws.ToInt32(u.InputTokens))
		out.CompletionTokens = int(aws.ToInt32(u.OutputTokens))
	}
	return out
}

// Generate calls Converse.
func (m *Model) Generate(ctx context.Context, req model.Request) (model.Response, error) {
	msgs, system, cfg := m.converse(req)
	var out model.Response
	err := remote.Do(ctx, m.policy, func(ctx context.Context) error {
		resp, err := m.client.Converse(ctx, &bedrockruntime.ConverseInput{ModelId: aws.String(m.id), Messages: msgs, System: system, InferenceConfig: cfg})
		if err != nil {
			return awsx.Error("bedrock", m.id, err)
		}
		msg, ok := resp.Output.(*types.ConverseOutputMemberMessage)
		if !ok {
			return &model.Error{Provider: "bedrock", Endpoint: m.id, Status: 200, Message: "malformed answer: no message", Permanent: true}
		}
		var text strings.Builder
		for _, block := range msg.Value.Content {
			if t, ok := block.(*types.ContentBlockMemberText); ok {
				text.WriteString(t.Value)
			}
		}
		out = model.Response{Text: text.String(), FinishReason: string(resp.StopReason), Usage: usage(resp.Usage)}
		return nil
	})
	return out, err
}

// Stream calls ConverseStream: text arrives in contentBlockDelta events,
// the token counts in the closing metadata event.
func (m *Model) Stream(ctx context.Context, req model.Request, onToken func(string) error) (model.Response, error) {
	msgs, system, cfg := m.converse(req)
	var out model.Response
	err := remote.Do(ctx, m.policy, func(ctx context.Context) error {
		resp, err := m.client.ConverseStream(ctx, &bedrockruntime.ConverseStreamInput{ModelId: aws.String(m.id), Messages: msgs, System: system, InferenceConfig: cfg})
		if err != nil {
			return awsx.Error("bedrock", m.id, err)
		}
		stream := resp.GetStream()
		defer stream.Close()
		var text strings.Builder
		out = model.Response{Usage: cost.Usage{Calls: 1}}
		stopped := false
		for ev := range stream.Events() {
			switch v := ev.(type) {
			case *types.ConverseStreamOutputMemberContentBlockDelta:
				if d, ok := v.Value.Delta.(*types.ContentBlockDeltaMemberText); ok && d.Value != "" {
					text.WriteString(d.Value)
					if err := onToken(d.Value); err != nil {
						return &model.Error{Provider: "bedrock", Endpoint: m.id, Err: err, Permanent: true}
					}
				}
			case *types.ConverseStreamOutputMemberMessageStop:
				stopped, out.FinishReason = true, string(v.Value.StopReason)
			case *types.ConverseStreamOutputMemberMetadata:
				out.Usage = usage(v.Value.Usage)
			}
		}
		if err := stream.Err(); err != nil {
			me := awsx.Error("bedrock", m.id, err)
			me.Permanent = text.Len() > 0
			return me
		}
		if !stopped {
			// The SDK reads a stream cut off in the middle of an event as
			// its end. Asking again is safe while nothing was shown.
			return &model.Error{Provider: "bedrock", Endpoint: m.id, Status: 200, Message: "the stream ended before messageStop",
				Err: io.ErrUnexpectedEOF, Permanent: text.Len() > 0}
		}
		out.Text = text.String()
		return nil
	})
	return out, err
}

// family is the embedding body format the model ID implies.
func (m *Model) family() string {
	id := m.id
	if i := strings.LastIndex(id, "/"); i >= 0 { // an inference profile or model ARN
		id = id[i+1:]
	}
	if j := strings.Index(id, "."); j >= 0 && j < 3 { // a regional inference profile: "us.cohere..."
		id = id[j+1:]
	}
	switch {
	case strings.HasPrefix(id, "amazon.titan-embed-text"):
		return "titan"
	case strings.HasPrefix(id, "cohere.embed"):
		return "cohere"
	}
	return ""
}

// MaxBatch is what one InvokeModel call takes: one text for Titan, 96 for Cohere.
func (m *Model) MaxBatch() int {
	if m.family() == "titan" {
		return 1
	}
	return 96
}

func (m *Model) invoke(ctx context.Context, body any, out any) error {
	data, err := json.Marshal(body)
	if err != nil {
		return err
	}
	return remote.Do(ctx, m.policy, func(ctx context.Context) error {
		resp, err := m.client.InvokeModel(ctx, &bedrockruntime.InvokeModelInput{
			ModelId: aws.String(m.id), Body: data, ContentType: aws.String("application/json"), Accept: aws.String("application/json"),
		})
		if err != nil {
			return awsx.Error("bedrock", m.id, err)
		}
		if err := json.Unmarshal(resp.Body, out); err != nil {
			return &model.Error{Provider: "bedrock", Endpoint: m.id, Status: 200, Message: "malformed answer (" + remote.Snippet(resp.Body) + ")", Err: err, Permanent: true}
		}
		return nil
	})
}

// Embed calls InvokeModel in the model family's format.
func (m *Model) Embed(ctx context.Context, texts []string, purpose model.Purpose) ([][]float32, error) {
	var out [][]float32
	switch m.family() {
	case "titan":
		for _, t := range texts { // Batched keeps several of these in flight
			body := map[string]any{"inputText": t}
			if !strings.Contains(m.id, "titan-embed-text-v1") {
				body["normalize"] = true
				if m.dimensions > 0 {
					body["dimensions"] = m.dimensions
				}
			}
			var resp struct {
				Embedding []float32 `json:"embedding"`
			}
			if err := m.invoke(ctx, body, &resp); err != nil {
				return nil, err
			}
			out = append(out, resp.Embedding)
		}
	case "cohere":
		inputType := "search_document"
		if purpose == model.ForQuery {
			inputType = "search_query"
		}
		var resp struct {
			Embeddings json.RawMessage `json:"embeddings"`
		}
		if err := m.invoke(ctx, map[string]any{"texts": texts, "input_type": inputType, "truncate": "END"}, &resp); err != nil {
			return nil, err
		}
		// embed-v3 answers with a list; with embedding_types (v4) it is {"float": [...]}.
		if err := json.Unmarshal(resp.Embeddings, &out); err != nil {
			var typed struct {
				Float [][]float32 `json:"float"`
			}
			if err := json.Unmarshal(resp.Embeddings, &typed); err != nil {
				return nil, &model.Error{Provider: "bedrock", Endpoint: m.id, Status: 200, Message: "malformed answer: embeddings (" + remote.Snippet(resp.Embeddings) + ")", Permanent: true}
			}
			out = typed.Float
		}
	default:
		return nil, fmt.Errorf("bedrock %s: not an embedding model distill knows", m.id)
	}
	if len(out) != len(texts) {
		return nil, &model.Error{Provider: "bedrock", Endpoint: m.id, Status: 200, Message: fmt.Sprintf("malformed answer: %d embeddings for %d texts", len(out), len(texts)), Permanent: true}
	}
	return out, nil
}
