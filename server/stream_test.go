package server_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/distill-rag/distill"
	"github.com/distill-rag/distill/internal/testsupport/fakellm"
	"github.com/distill-rag/distill/internal/testsupport/fakemodel"
	"github.com/distill-rag/distill/model"
	"github.com/distill-rag/distill/server"
)

const modelAnswer = "Alpha Widgets acquired Borealis Optics for €12 million [1]."

// tokenTexts returns the text of each "token" event of an ask stream, or
// each content delta of a chat stream (event name "").
func tokenTexts(t *testing.T, events []event, name string) []string {
	t.Helper()
	var out []string
	for _, ev := range events {
		if ev.name != name || ev.data == "[DONE]" {
			continue
		}
		if name == "token" {
			var tok struct{ Text string }
			json.Unmarshal([]byte(ev.data), &tok)
			out = append(out, tok.Text)
			continue
		}
		var chunk struct {
			Choices []struct{ Delta struct{ Content *string } }
		}
		json.Unmarshal([]byte(ev.data), &chunk)
		if len(chunk.Choices) == 1 && chunk.Choices[0].Delta.Content != nil && *chunk.Choices[0].Delta.Content != "" {
			out = append(out, *chunk.Choices[0].Delta.Content)
		}
	}
	return out
}

// With a model configured, streams carry the model's own tokens (as the
// OpenAI-compatible provider streams them), not pieces of a finished answer.
func TestStreamsModelTokens(t *testing.T) {
	fake := fakemodel.OpenAI(t, fakemodel.Reply(modelAnswer))
	e := start(t, func(c *server.Config) { c.Models = distill.Models{LLM: fake.URI("gpt-4o-mini")} }).withLetters()
	want := fakemodel.Tokens(modelAnswer)

	r := e.do("POST", "/v1/collections/default/ask", `{"question": "What did Alpha Widgets acquire in 2022?", "technique": "regular", "stream": true}`)
	events := readEvents(t, strings.NewReader(string(r.body)))
	if got := tokenTexts(t, events, "token"); !slices.Equal(got, want) {
		t.Errorf("ask: tokens %q, want the model's %q", got, want)
	}
	var done distill.Result
	if len(events) == 0 || events[len(events)-1].name != "done" || json.Unmarshal([]byte(events[len(events)-1].data), &done) != nil {
		t.Fatalf("ask: no done event: %s", r.body)
	}
	if done.Mode != "llm" || done.Answer != modelAnswer || done.Stats.LLMCalls != 1 || done.Stats.CompletionTokens != 20 {
		t.Errorf("ask: result %+v", done)
	}
	if body := fake.Last().JSON(); body["stream"] != true {
		t.Errorf("the model was not asked to stream: %s", fake.Last().Body)
	}

	r = e.do("POST", "/v1/chat/completions", `{"model": "regular", "stream": true, "messages": [{"role": "user", "content": "What did Alpha Widgets acquire in 2022?"}]}`)
	events = readEvents(t, strings.NewReader(string(r.body)))
	got := tokenTexts(t, events, "")
	if len(got) != len(want)+1 || !slices.Equal(got[:len(want)], want) || !strings.HasPrefix(got[len(want)], "\n\nSources:\n[1] ") {
		t.Errorf("chat: deltas %q, want the model's %q then the sources", got, want)
	}
}

// gatedLLM streams its first token, then waits for the test to release
// the rest: a server that held the answer back until the end would never
// show the first token.
type gatedLLM struct {
	*fakellm.LLM
	release chan struct{}
}

func (g *gatedLLM) Stream(ctx context.Context, req model.Request, onToken func(string) error) (model.Response, error) {
	if onToken == nil {
		return g.LLM.Stream(ctx, req, nil)
	}
	first := true
	return g.LLM.Stream(ctx, req, func(tok string) error {
		if err := onToken(tok); err != nil || !first {
			return err
		}
		first = false
		select {
		case <-g.release:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
}

func TestStreamsTokensAsTheyArrive(t *testing.T) {
	tests := []struct {
		name, path, body, firstData string
	}{
		{"ask", "/v1/collections/default/ask", `{"question": "What did Alpha Widgets acquire in 2022?", "technique": "regular", "stream": true}`, `{"text":"Alpha "}`},
		{"chat", "/v1/chat/completions", `{"model": "regular", "stream": true, "messages": [{"role": "user", "content": "What did Alpha Widgets acquire in 2022?"}]}`, `"content":"Alpha "`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := &gatedLLM{LLM: fakellm.New(func(string) fakellm.Reply { return fakellm.Reply{Text: modelAnswer} }), release: make(chan struct{})}
			uri := fakellm.Register(t.Name(), g)
			e := start(t, func(c *server.Config) { c.Models = distill.Models{LLM: uri} }).withLetters()
			// A guard against a hang, not a measure: the test fails rather
			// than waits forever if the first token never comes.
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			req, _ := http.NewRequestWithContext(ctx, "POST", e.url+tc.path, strings.NewReader(tc.body))
			req.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			br := bufio.NewReader(resp.Body)
			for {
				line, err := br.ReadString('\n')
				if err != nil {
					t.Fatalf("the stream ended or stalled before the first token: %v", err)
				}
				if strings.Contains(line, tc.firstData) {
					break // the first token came while the model still writes
				}
			}
			close(g.release)
			rest := readEvents(t, br)
			if len(rest) == 0 || !strings.Contains(rest[len(rest)-1].data, "DONE") && rest[len(rest)-1].name != "done" {
				t.Errorf("the stream did not finish: %+v", rest)
			}
		})
	}
}
