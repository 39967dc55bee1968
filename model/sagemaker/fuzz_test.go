package sagemaker

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/distill-rag/distill/model"
)

// parseStream runs the response-stream parser over data delivered in
// pieces whose sizes come from cuts (1 to 256 bytes each; the rest in one
// piece), as payload parts cut at arbitrary places arrive.
func parseStream(data, cuts []byte, messages bool, stop []string) (text string, done bool, err error) {
	var sent strings.Builder
	p := &streamParser{endpoint: &Endpoint{endpoint: "fuzz"}, messages: messages, stop: stop,
		onToken: func(s string) error { sent.WriteString(s); return nil }}
	rest := data
	for _, c := range cuts {
		if len(rest) == 0 {
			break
		}
		n := min(int(c)+1, len(rest))
		if err := p.write(rest[:n]); err != nil {
			return sent.String(), p.done, err
		}
		rest = rest[n:]
	}
	if err := p.write(rest); err != nil {
		return sent.String(), p.done, err
	}
	if err := p.flush(); err != nil {
		return sent.String(), p.done, err
	}
	if err := p.end(); err != nil {
		return sent.String(), p.done, err
	}
	if sent.String() != p.text.String() {
		return "", false, errors.New("the text passed on differs from the text kept")
	}
	return sent.String(), p.done, nil
}

// FuzzStreamParser feeds the SageMaker response-stream parser (TGI's
// server-sent events, or chat completion chunks) any bytes, cut anywhere.
// It may fail only with a model.Error, and where the payload parts are cut
// must not matter: the text, whether the answer was done, and whether it
// failed are the same as for the bytes in one piece. Text passed on never
// holds a stop sequence.
func FuzzStreamParser(f *testing.F) {
	tgi := "data:{\"token\": {\"id\": 1, \"text\": \" Paris\", \"special\": false}}\n\n" +
		"data:{\"token\": {\"id\": 2, \"text\": \"##\", \"special\": false}}\n\n" +
		"data:{\"token\": {\"id\": 3, \"text\": \"# end\", \"special\": false}}\n\n" +
		"data:{\"token\": {\"id\": 4, \"text\": \"</s>\", \"special\": true}, \"generated_text\": \" Paris\", \"details\": {\"finish_reason\": \"eos_token\", \"generated_tokens\": 4}}\n\n"
	chat := "data: {\"choices\": [{\"delta\": {\"content\": \"Par\"}}]}\n\n" +
		"data: {\"choices\": [{\"delta\": {\"content\": \"is\"}, \"finish_reason\": \"stop\"}], \"usage\": {\"prompt_tokens\": 9, \"completion_tokens\": 2}}\n\n" +
		"data: [DONE]\n\n"
	f.Add([]byte(tgi), []byte{0, 5, 17, 255}, false, "###")
	f.Add([]byte(tgi), []byte{}, false, "</s>")
	f.Add([]byte(chat), []byte{3, 3, 3}, true, "")
	f.Add([]byte(chat), []byte{100}, true, "is")
	f.Add([]byte("data:{\"error\": \"Input validation error\"}\n"), []byte{1}, false, "")
	f.Add([]byte(": keep-alive\r\n\r\ndata:{\"token\":{\"text\":\"a\"}}"), []byte{0, 0, 0}, false, "a")
	f.Add([]byte("data:{\"token\":null}\ndata:{not json\n"), []byte{7}, false, "")
	f.Fuzz(func(t *testing.T, data, cuts []byte, messages bool, stop string) {
		var stops []string
		if stop != "" {
			stops = []string{stop, "</s>"}
		}
		whole, wholeDone, wholeErr := parseStream(data, nil, messages, stops)
		text, done, err := parseStream(data, cuts, messages, stops)
		for _, e := range []error{wholeErr, err} {
			var me *model.Error
			if e != nil && !errors.As(e, &me) {
				t.Fatalf("error %v (%T) is not a model.Error", e, e)
			}
		}
		if (err == nil) != (wholeErr == nil) || done != wholeDone {
			t.Fatalf("cut at %v: done %v, error %v; in one piece: done %v, error %v", cuts, done, err, wholeDone, wholeErr)
		}
		if err == nil && text != whole {
			t.Fatalf("cut at %v: text %q; in one piece %q", cuts, text, whole)
		}
		for _, s := range stops {
			if err == nil && strings.Contains(text, s) {
				t.Fatalf("text %q holds the stop sequence %q", text, s)
			}
		}
	})
}

// FuzzDecodeTGI feeds the decoder of TGI's (non-streamed) answer any
// bytes: it returns the generated text of a well-formed answer, as JSON
// says it, and otherwise fails with a message, never panics.
func FuzzDecodeTGI(f *testing.F) {
	f.Add([]byte(`[{"generated_text": " Paris [1].", "details": {"finish_reason": "length", "generated_tokens": 700}}]`))
	f.Add([]byte(`{"generated_text": "alone"}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`[{"generated_text": null}]`))
	f.Add([]byte(`[{"generated_text": "a"}, {"generated_text": "b"}]`))
	f.Add([]byte(`{"error": "Input validation error: inputs must have less than 4096 tokens", "error_type": "validation"}`))
	f.Add([]byte("<html>502</html>"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		text, _, err := decodeTGI(raw)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "malformed answer") {
				t.Fatalf("error %q", err)
			}
			return
		}
		var list []struct {
			GeneratedText string `json:"generated_text"`
		}
		if json.Unmarshal(raw, &list) == nil && len(list) > 0 && list[0].GeneratedText != text {
			t.Fatalf("text %q, the answer says %q", text, list[0].GeneratedText)
		}
	})
}
