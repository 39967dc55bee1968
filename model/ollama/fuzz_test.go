package ollama

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/distill-rag/distill/model"
)

// bodyTransport answers every request with a 200 and body, without a network.
type bodyTransport []byte

func (b bodyTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		r.Body.Close()
	}
	return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/x-ndjson"}},
		Body: io.NopCloser(bytes.NewReader(b)), Request: r}, nil
}

// FuzzStream feeds Ollama's streamed chat answer (NDJSON) any body. The
// stream either fails with a model.Error, or succeeds only after a line
// that says done, with the text that was passed on piece by piece.
func FuzzStream(f *testing.F) {
	f.Add([]byte(`{"message":{"role":"assistant","content":"Par"},"done":false}
{"message":{"role":"assistant","content":"is."},"done":false}
{"message":{"role":"assistant","content":""},"done":true,"done_reason":"stop","prompt_eval_count":9,"eval_count":2}
`))
	f.Add([]byte(`{"message":{"content":"a"},"done":false}` + "\n" + `{"error":"model requires more system memory"}` + "\n"))
	f.Add([]byte(`{"message":{"content":"cut"},"done":false}` + "\n" + `{"message":{"con`))
	f.Add([]byte(`{"done":true}`))
	f.Add([]byte("\n\n{\"done\":true}\n"))
	f.Add([]byte(`{"message":null,"done":"yes"}` + "\n"))
	f.Fuzz(func(t *testing.T, body []byte) {
		u, err := model.ParseURI("ollama:m?retries=0")
		if err != nil {
			t.Fatal(err)
		}
		m, err := open(u)
		if err != nil {
			t.Fatal(err)
		}
		m.client.HTTP = &http.Client{Transport: bodyTransport(body)}
		var shown strings.Builder
		resp, err := m.Stream(context.Background(), model.Request{Messages: []model.Message{{Role: "user", Content: "q"}}}, func(s string) error {
			shown.WriteString(s)
			return nil
		})
		if err != nil {
			var me *model.Error
			if !errors.As(err, &me) || me.Provider != "ollama" {
				t.Fatalf("error %v (%T), want an ollama model.Error", err, err)
			}
			return
		}
		if !bytes.Contains(body, []byte(`"done"`)) || resp.Text != shown.String() {
			t.Fatalf("success with text %q after showing %q, from %q", resp.Text, shown.String(), body)
		}
	})
}
