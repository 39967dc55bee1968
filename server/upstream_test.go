package server_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/distill-rag/distill"
	"github.com/distill-rag/distill/internal/testsupport/fakemodel"
	"github.com/distill-rag/distill/server"
)

// A model provider that is rate limited, down or too slow is reported as
// that (429, 503, 504) with Retry-After, never as the server's own 500:
// clients back off instead of retrying at once.
func TestUpstreamFailuresKeepTheirStatus(t *testing.T) {
	tests := []struct {
		name       string
		fault      fakemodel.Fault
		options    string
		status     int
		errType    string
		retryAfter int // the Retry-After wanted; 0: any
	}{
		{"rate limited, with Retry-After", fakemodel.Status(429, "7"), "&retries=0", 429, "rate_limit_error", 7},
		{"rate limited", fakemodel.Status(429, ""), "&retries=0", 429, "rate_limit_error", 0},
		{"unavailable", fakemodel.Status(503, "3"), "&retries=0", 503, "unavailable_error", 3},
		{"internal error upstream", fakemodel.Status(500, ""), "&retries=0", 503, "unavailable_error", 0},
		{"gateway timeout upstream", fakemodel.Status(504, ""), "&retries=0", 504, "timeout_error", 0},
		{"no answer in time", fakemodel.Hang, "&retries=0&timeout=200ms", 504, "timeout_error", 0},
	}
	routes := []struct{ name, path, body string }{
		{"ask", "/v1/collections/default/ask", `{"question": "What did Alpha Widgets acquire in 2022?", "technique": "regular"}`},
		{"ask stream, failing before its first token", "/v1/collections/default/ask", `{"question": "What did Alpha Widgets acquire in 2022?", "technique": "regular", "stream": true}`},
		{"chat", "/v1/chat/completions", `{"model": "regular", "messages": [{"role": "user", "content": "What did Alpha Widgets acquire in 2022?"}]}`},
		{"chat stream, failing before its first token", "/v1/chat/completions", `{"model": "regular", "stream": true, "messages": [{"role": "user", "content": "What did Alpha Widgets acquire in 2022?"}]}`},
	}
	for _, tt := range tests {
		for _, rt := range routes {
			t.Run(tt.name+", "+rt.name, func(t *testing.T) {
				fake := fakemodel.OpenAI(t, fakemodel.Faults(tt.fault))
				e := start(t, func(c *server.Config) { c.Models = distill.Models{LLM: fake.URI("gpt-4o-mini") + tt.options} }).withLetters()
				r := e.do("POST", rt.path, rt.body)
				if r.status != tt.status || r.errorType() != tt.errType {
					t.Fatalf("%d %s, want %d %s: %s", r.status, r.errorType(), tt.status, tt.errType, shortBody(r.body))
				}
				ra, err := strconv.Atoi(r.header.Get("Retry-After"))
				if err != nil || ra < 1 || (tt.retryAfter != 0 && ra != tt.retryAfter) {
					t.Errorf("Retry-After %q, want %d", r.header.Get("Retry-After"), tt.retryAfter)
				}
				if !strings.Contains(string(r.body), "model provider") {
					t.Errorf("the message does not say the model provider failed: %s", r.body)
				}
				// The provider is back: the next question is answered.
				e.do("POST", rt.path, rt.body).ok(t, 200, nil)
			})
		}
	}
}
