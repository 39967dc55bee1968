package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/distill-rag/distill"
)

const where2022Question = "What did Alpha Widgets acquire in 2022?"

func TestAskCompareWhere(t *testing.T) {
	e := start(t).withLetters()
	// Unfiltered, the 2022 letter answers; limited to the 2021 letter, every
	// context comes from it, and there are as many as without the filter.
	var all, res distill.Result
	e.do("POST", "/v1/collections/default/ask", map[string]any{"question": where2022Question, "technique": "regular"}).ok(t, 200, &all)
	if len(all.Contexts) == 0 || all.Contexts[0].Source != "alpha-2022.pdf" {
		t.Fatalf("unfiltered: %+v", all.Contexts)
	}
	for _, stream := range []bool{false, true} {
		r := e.do("POST", "/v1/collections/default/ask", map[string]any{"question": where2022Question, "technique": "regular", "stream": stream, "where": []string{"source~*2021*", "page>=1"}})
		if stream {
			if r.status != 200 || strings.Contains(string(r.body), "alpha-2022.pdf") || !strings.Contains(string(r.body), "alpha-2021.pdf") {
				t.Fatalf("streamed ask with where: %d %s", r.status, shortBody(r.body))
			}
			continue
		}
		r.ok(t, 200, &res)
		if len(res.Contexts) == 0 {
			t.Fatal("where source~*2021*: no contexts")
		}
		for _, c := range res.Contexts {
			if c.Source != "alpha-2021.pdf" {
				t.Fatalf("where source~*2021* returned %s", c.Source)
			}
		}
	}
	var cmp distill.Comparison
	e.do("POST", "/v1/collections/default/compare", map[string]any{"question": where2022Question, "techniques": []string{"regular", "parent"}, "where": []string{"source=alpha-2021.pdf"}}).ok(t, 200, &cmp)
	for _, r := range cmp.Results {
		for _, c := range r.Contexts {
			if c.Source != "alpha-2021.pdf" {
				t.Fatalf("compare %s with where returned %s", r.Technique, c.Source)
			}
		}
	}
	// Mistakes are 400 invalid_filter naming the expression and key.
	for _, tc := range []struct {
		path string
		body any
		want string
	}{
		{"/v1/collections/default/ask", map[string]any{"question": "q", "where": []string{"year"}}, `filter \"year\": has no operator`},
		{"/v1/collections/default/ask", map[string]any{"question": "q", "where": []string{"colour=red"}}, `key \"colour\" is not a key of any document`},
		{"/v1/collections/default/ask", map[string]any{"question": "q", "stream": true, "where": []string{"colour=red"}}, `key \"colour\"`},
		{"/v1/collections/default/compare", map[string]any{"question": "q", "where": []string{"year>soon"}}, `compares with > \"soon\"`},
		{"/v1/collections/default/eval?where=" + url.QueryEscape("page=x"), `{"question": "q", "answers": ["a"]}`, `key \"page\" is a number`},
	} {
		r := e.do("POST", tc.path, tc.body)
		var body struct {
			Error struct{ Code, Param, Message string }
		}
		json.Unmarshal(r.body, &body)
		if r.status != 400 || body.Error.Code != "invalid_filter" || body.Error.Param != "where" || !strings.Contains(string(r.body), tc.want) {
			t.Errorf("%s %v: %d %s, want 400 invalid_filter with %s", tc.path, tc.body, r.status, r.body, tc.want)
		}
	}
}

func TestChatMetadataWhere(t *testing.T) {
	e := start(t).withLetters()
	client := sdk(e)
	ctx := context.Background()
	params := openai.ChatCompletionNewParams{Model: "regular", Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage(where2022Question)}}
	sources := func(c *openai.ChatCompletion) []distill.Context {
		t.Helper()
		var s []distill.Context
		if err := json.Unmarshal([]byte(c.JSON.ExtraFields["sources"].Raw()), &s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	c, err := client.Chat.Completions.New(ctx, params)
	if err != nil {
		t.Fatal(err)
	}
	if s := sources(c); len(s) == 0 || s[0].Source != "alpha-2022.pdf" {
		t.Fatalf("unfiltered sources: %+v", s)
	}
	// The extra body, as an array; OpenAI's typed metadata, as a string.
	typed := params
	typed.Metadata = map[string]string{"where": `["source~*2021*"]`}
	for name, call := range map[string]func() (*openai.ChatCompletion, error){
		"extra body": func() (*openai.ChatCompletion, error) {
			return client.Chat.Completions.New(ctx, params, option.WithJSONSet("metadata.where", []string{"source~*2021*", "page>=1"}))
		},
		"typed metadata": func() (*openai.ChatCompletion, error) { return client.Chat.Completions.New(ctx, typed) },
	} {
		c, err := call()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		s := sources(c)
		if len(s) == 0 {
			t.Fatalf("%s: no sources", name)
		}
		for _, src := range s {
			if src.Source != "alpha-2021.pdf" {
				t.Fatalf("%s: source %s passed source~*2021*", name, src.Source)
			}
		}
	}
	// Streaming applies it too.
	stream := client.Chat.Completions.NewStreaming(ctx, params, option.WithJSONSet("metadata.where", []string{"source~*2021*"}))
	var raw strings.Builder
	for stream.Next() {
		raw.WriteString(stream.Current().RawJSON())
	}
	if err := stream.Err(); err != nil || strings.Contains(raw.String(), "alpha-2022.pdf") || !strings.Contains(raw.String(), "alpha-2021.pdf") {
		t.Fatalf("streamed with metadata.where: %v %s", err, raw.String())
	}
	// Mistakes are the SDK's errors: 400 invalid_filter on metadata.where.
	for _, where := range []any{[]string{"colour=red"}, []string{"year"}, 42} {
		_, err := client.Chat.Completions.New(ctx, params, option.WithJSONSet("metadata.where", where))
		var apiErr *openai.Error
		if !errors.As(err, &apiErr) || apiErr.StatusCode != 400 || apiErr.Code != "invalid_filter" || apiErr.Param != "metadata.where" {
			t.Errorf("where %v: %v", where, err)
		}
	}
}
