package remote

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/distill-rag/distill/model"
)

// An answer larger than MaxAnswer fails, unretried, instead of being read
// into memory; one of exactly MaxAnswer bytes is read.
func TestAnswersAreBounded(t *testing.T) {
	defer func(m int64) { MaxAnswer = m }(MaxAnswer)
	MaxAnswer = 1 << 10
	var calls atomic.Int32
	var body string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.Write([]byte(body))
	}))
	defer srv.Close()
	c := &Client{Provider: "test", HTTP: &http.Client{}, Policy: Policy{Attempts: 3}}

	tests := []struct {
		name    string
		body    string
		stream  bool
		tooLong bool
	}{
		{"JSON of exactly the limit", `{"text": "` + strings.Repeat("a", 1<<10-len(`{"text": ""}`)) + `"}`, false, false},
		{"JSON over the limit", `{"text": "` + strings.Repeat("a", 1<<10) + `"}`, false, true},
		{"a stream over the limit", strings.Repeat("data: {\"text\": \"aaaaaaaa\"}\n", 100), true, true},
		{"a stream within it", strings.Repeat("data: {\"text\": \"aaaaaaaa\"}\n", 20), true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body = tt.body
			calls.Store(0)
			var err error
			if tt.stream {
				err = c.PostLines(context.Background(), srv.URL, map[string]string{}, func([]byte) error { return nil })
			} else {
				var out struct{ Text string }
				err = c.PostJSON(context.Background(), srv.URL, map[string]string{}, &out)
			}
			var tl *AnswerTooLargeError
			var me *model.Error
			switch {
			case !tt.tooLong && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tt.tooLong && (!errors.As(err, &tl) || !errors.As(err, &me) || !strings.Contains(err.Error(), "larger than")):
				t.Fatalf("error %v, want a model.Error saying the answer is too large", err)
			case calls.Load() != 1:
				t.Errorf("%d calls, want 1 (no retry)", calls.Load())
			}
		})
	}
}
