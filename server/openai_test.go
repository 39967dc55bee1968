package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/distill-rag/distill"
	"github.com/distill-rag/distill/internal/testsupport/fakellm"
	"github.com/distill-rag/distill/server"
)

// sdk is the official OpenAI client pointed at a test server.
func sdk(e *env) openai.Client {
	return openai.NewClient(option.WithBaseURL(e.url+"/v1/"), option.WithAPIKey(e.key),
		option.WithHTTPClient(e.client), option.WithMaxRetries(0))
}

func TestOpenAISDK(t *testing.T) {
	e := start(t, func(c *server.Config) { c.APIKeys = []string{"sk-test"} }).withLetters()
	e.do("POST", "/v1/collections", map[string]string{"name": "letters"}).ok(t, 201, nil)
	client := sdk(e)
	ctx := context.Background()

	page, err := client.Models.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, m := range page.Data {
		ids = append(ids, m.ID)
	}
	for _, want := range []string{"regular", "parent", "extract", "filter", "letters/parent"} {
		if !slices.Contains(ids, want) {
			t.Errorf("models %v lack %s", ids, want)
		}
	}
	if slices.Contains(ids, "rerank") {
		t.Errorf("models %v list rerank, which has no reranker to run", ids)
	}

	params := openai.ChatCompletionNewParams{
		Model:    "parent",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.SystemMessage("Answer briefly."), openai.UserMessage("What did Alpha Widgets acquire in 2022?")},
	}
	completion, err := client.Chat.Completions.New(ctx, params)
	if err != nil {
		t.Fatal(err)
	}
	content := completion.Choices[0].Message.Content
	if !strings.Contains(content, "Borealis Optics") || !strings.Contains(content, "\n\nSources:\n[1] alpha-2022.pdf, page 1") {
		t.Errorf("content: %q", content)
	}
	if completion.Model != "parent" || completion.Choices[0].FinishReason != "stop" || completion.Object != "chat.completion" {
		t.Errorf("completion: %+v", completion)
	}
	var sources []distill.Context
	if err := json.Unmarshal([]byte(completion.JSON.ExtraFields["sources"].Raw()), &sources); err != nil || len(sources) == 0 {
		t.Fatalf("sources %q: %v", completion.JSON.ExtraFields["sources"].Raw(), err)
	}
	if sources[0].Rank != 1 || sources[0].Source != "alpha-2022.pdf" || sources[0].Page != 1 || !strings.Contains(sources[0].Text, "Borealis") {
		t.Errorf("sources[0]: %+v", sources[0])
	}

	params.StreamOptions = openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)}
	stream := client.Chat.Completions.NewStreaming(ctx, params)
	var acc openai.ChatCompletionAccumulator
	chunks, sawSources, sawUsage := 0, false, false
	for stream.Next() {
		chunk := stream.Current()
		acc.AddChunk(chunk)
		chunks++
		if f, ok := chunk.JSON.ExtraFields["sources"]; ok && strings.HasPrefix(f.Raw(), "[{") {
			sawSources = len(chunk.Choices) == 1 && chunk.Choices[0].FinishReason == "stop"
		}
		if chunk.JSON.Usage.Valid() && len(chunk.Choices) == 0 {
			sawUsage = true
		}
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	if got := acc.Choices[0].Message.Content; got != content {
		t.Errorf("streamed content %q, want %q", got, content)
	}
	if chunks < 5 || !sawSources || !sawUsage {
		t.Errorf("%d chunks, sources in the last: %v, usage chunk: %v", chunks, sawSources, sawUsage)
	}

	// Another collection, by model id or by the extra field.
	for _, opts := range [][]option.RequestOption{nil, {option.WithJSONSet("collection", "letters")}} {
		p := params
		p.Model = "letters/regular"
		if opts != nil {
			p.Model = "regular"
		}
		c, err := client.Chat.Completions.New(ctx, p, opts...)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(c.Choices[0].Message.Content, "could not find") {
			t.Errorf("the empty letters collection answered %q", c.Choices[0].Message.Content)
		}
	}

	// Errors come back as the SDK's errors.
	_, err = client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{Model: "gpt-4o", Messages: params.Messages})
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 404 || apiErr.Code != "model_not_found" || apiErr.Param != "model" {
		t.Errorf("unknown model: %v", err)
	}
	bad := openai.NewClient(option.WithBaseURL(e.url+"/v1/"), option.WithAPIKey("sk-wrong"), option.WithHTTPClient(e.client), option.WithMaxRetries(0))
	_, err = bad.Models.List(ctx)
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 401 || apiErr.Type != "authentication_error" {
		t.Errorf("wrong key: %v", err)
	}
}

func TestChatBadInput(t *testing.T) {
	e := start(t).withLetters()
	q := `"messages": [{"role": "user", "content": "What did Alpha Widgets acquire?"}]`
	tests := []struct {
		name   string
		body   string
		status int
		param  string
		code   string
	}{
		{"content parts", `{"model": "regular", "messages": [{"role": "user", "content": [{"type": "text", "text": "What did Alpha Widgets acquire?"}]}]}`, 200, "", ""},
		{"unknown fields are fine", `{"model": "regular", "temperature": 0.2, "user": "u1", "tools": [], ` + q + `}`, 200, "", ""},
		{"no model", `{` + q + `}`, 400, "model", ""},
		{"unknown model", `{"model": "gpt-4o", ` + q + `}`, 404, "model", "model_not_found"},
		{"unknown collection", `{"model": "nope/parent", ` + q + `}`, 404, "model", "model_not_found"},
		{"no messages", `{"model": "regular", "messages": []}`, 400, "messages", ""},
		{"assistant last", `{"model": "regular", "messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}]}`, 400, "messages", ""},
		{"blank question", `{"model": "regular", "messages": [{"role": "user", "content": " "}]}`, 400, "messages", ""},
		{"blank question, streaming", `{"model": "regular", "stream": true, "messages": [{"role": "user", "content": " "}]}`, 400, "messages", ""},
		{"content of a wrong type", `{"model": "regular", "messages": [{"role": "user", "content": 7}]}`, 400, "messages[0].content", ""},
		{"several choices", `{"model": "regular", "n": 2, ` + q + `}`, 400, "n", ""},
		{"malformed JSON", `{"model": "regular", `, 400, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do("POST", "/v1/chat/completions", tt.body)
			if r.status != tt.status {
				t.Fatalf("%d, want %d: %s", r.status, tt.status, shortBody(r.body))
			}
			if tt.status == 200 {
				return
			}
			var body struct {
				Error struct {
					Message, Type string
					Param, Code   *string
				}
			}
			r.ok(t, tt.status, &body)
			param, code := "", ""
			if body.Error.Param != nil {
				param = *body.Error.Param
			}
			if body.Error.Code != nil {
				code = *body.Error.Code
			}
			if param != tt.param || code != tt.code || body.Error.Type != "invalid_request_error" {
				t.Errorf("error %s: param %q code %q, want %q %q", r.body, param, code, tt.param, tt.code)
			}
		})
	}
}

func TestChatCondensesConversation(t *testing.T) {
	fake := fakellm.New(func(prompt string) fakellm.Reply {
		if strings.HasSuffix(prompt, "Standalone question:") {
			return fakellm.Reply{Text: "What did Alpha Widgets acquire in 2022?"}
		}
		// The answer call: the model writes the answer from the context
		// for the condensed question only.
		if strings.Contains(prompt, "Question: What did Alpha Widgets acquire in 2022?") && strings.Contains(prompt, "Borealis Optics") {
			return fakellm.Reply{Text: "They acquired Borealis Optics for €12 million [1]."}
		}
		return fakellm.Reply{Text: "unexpected call"}
	})
	fake.Model = "fakellm:condense"
	uri := fakellm.Register(t.Name(), fake)
	e := start(t, func(c *server.Config) { c.Models = distill.Models{LLM: uri} }).withLetters()
	client := sdk(e)
	params := openai.ChatCompletionNewParams{Model: "regular", Messages: []openai.ChatCompletionMessageParamUnion{
		openai.UserMessage("What did Alpha Widgets launch in 2021?"),
		openai.AssistantMessage("The Zephyr line of solar lanterns."),
		openai.UserMessage("And what did they buy the year after?"),
	}}
	completion, err := client.Chat.Completions.New(context.Background(), params)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(completion.Choices[0].Message.Content, "Borealis") {
		t.Errorf("answered %q, not the condensed question", completion.Choices[0].Message.Content)
	}
	if completion.Usage.TotalTokens == 0 {
		t.Errorf("the condensing call is not in the usage: %+v", completion.Usage)
	}
	reqs := fake.Requests()
	if len(reqs) != 2 || !strings.Contains(reqs[0].Messages[1].Content, "Assistant: The Zephyr line") {
		t.Fatalf("model requests: %+v", reqs)
	}
	stream := client.Chat.Completions.NewStreaming(context.Background(), params)
	var acc openai.ChatCompletionAccumulator
	for stream.Next() {
		acc.AddChunk(stream.Current())
	}
	if stream.Err() != nil || acc.Choices[0].Message.Content != completion.Choices[0].Message.Content {
		t.Errorf("stream: %v %q", stream.Err(), acc.Choices[0].Message.Content)
	}
	if len(fake.Requests()) != 4 {
		t.Errorf("streaming did not condense and answer: %d calls, want 4", len(fake.Requests()))
	}
	// The model calls show in the metrics by provider.
	r := e.do("GET", "/metrics", nil)
	r.ok(t, 200, nil)
	for _, want := range []string{
		`distill_llm_calls_total{model="fakellm:condense",provider="fakellm"} 4`,
		`distill_llm_tokens_total{kind="prompt",model="fakellm:condense",provider="fakellm"}`,
	} {
		if !strings.Contains(string(r.body), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

func TestAuth(t *testing.T) {
	e := start(t, func(c *server.Config) { c.APIKeys = []string{"sk-one", "sk-two"} })
	tests := []struct {
		name   string
		path   string
		auth   string
		status int
	}{
		{"no key", "/v1/collections", "", 401},
		{"wrong key", "/v1/collections", "Bearer sk-three", 401},
		{"a prefix of a key", "/v1/collections", "Bearer sk-on", 401},
		{"not bearer", "/v1/collections", "Basic c2stb25lOg==", 401},
		{"first key", "/v1/collections", "Bearer sk-one", 200},
		{"second key", "/v1/collections", "bearer sk-two", 200},
		{"metrics need a key", "/metrics", "", 401},
		{"the OpenAPI document needs a key", "/openapi.json", "", 401},
		{"OpenAI routes need a key", "/v1/models", "", 401},
		{"unknown routes need a key", "/v1/secret", "", 401},
		{"health does not", "/healthz", "", 200},
		{"readiness does not", "/readyz", "", 200},
		{"the page shell does not", "/", "", 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do("GET", tt.path, nil, "Authorization", tt.auth)
			if r.status != tt.status {
				t.Fatalf("%d, want %d: %s", r.status, tt.status, shortBody(r.body))
			}
			if tt.status == 401 && (r.errorType() != "authentication_error" || !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer")) {
				t.Errorf("401 without the authentication error: %s %v", r.body, r.header)
			}
		})
	}
}

func TestMetrics(t *testing.T) {
	e := start(t).withLetters()
	e.do("POST", "/v1/collections/default/ask", map[string]string{"question": "What did Alpha Widgets acquire in 2022?"}).ok(t, 200, nil)
	e.do("POST", "/v1/collections/default/ask", map[string]string{"question": ""}).ok(t, 400, nil)
	r := e.do("GET", "/metrics", nil)
	r.ok(t, 200, nil)
	body := string(r.body)
	for _, want := range []string{
		`distill_http_requests_total{code="200",route="POST /v1/collections/{collection}/ask"} 1`,
		`distill_http_requests_total{code="400",route="POST /v1/collections/{collection}/ask"} 1`,
		`distill_http_request_duration_seconds_count{route="POST /v1/collections/{collection}/ask"} 2`,
		`distill_answers_total{mode="extractive",technique="parent"} 1`,
		`distill_ingest_files_total{status="added"} 2`,
		`distill_ingest_pages_total 5`,
		`distill_ingest_jobs_running 0`,
		`go_goroutines`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(body, "distill_llm_calls_total{") {
		t.Errorf("offline answers counted model calls")
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("content type %q", ct)
	}
}
