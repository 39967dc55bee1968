package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/distill-rag/distill"
)

// sse writes server-sent events. The stream starts (200 and its headers)
// with the first event, so that a failure before it, such as a
// rate-limited model provider, is still an answer with its own status.
type sse struct {
	w       http.ResponseWriter
	rc      *http.ResponseController
	started bool
}

func newSSE(w http.ResponseWriter) *sse {
	return &sse{w: w, rc: http.NewResponseController(w)}
}

func (e *sse) start() {
	if e.started {
		return
	}
	e.started = true
	h := e.w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	e.w.WriteHeader(http.StatusOK)
}

// event sends one event; an empty name sends a data-only event (OpenAI's
// stream has no event names). A write error means the client is gone.
func (e *sse) event(name string, v any) error {
	var data []byte
	switch v := v.(type) {
	case string:
		data = []byte(v)
	default:
		var err error
		if data, err = json.Marshal(v); err != nil {
			return err
		}
	}
	e.start()
	var b strings.Builder
	if name != "" {
		fmt.Fprintf(&b, "event: %s\n", name)
	}
	fmt.Fprintf(&b, "data: %s\n\n", data)
	if _, err := e.w.Write([]byte(b.String())); err != nil {
		return err
	}
	return e.rc.Flush()
}

// askStream answers and calls onToken with the answer's text as it comes:
// with a language model configured, the model's tokens as they arrive
// (Engine.AskStream streams the provider's answer); offline, the
// extractive answer is whole at once, and it is sent in word-sized pieces
// so that clients see one protocol either way.
func askStream(ctx context.Context, eng *distill.Engine, question, technique string, onToken func(string) error, opts ...distill.QueryOption) (*distill.Result, error) {
	send := onToken
	if eng.LLMName() == "" {
		send = func(text string) error {
			for _, piece := range pieces(text) {
				if err := onToken(piece); err != nil {
					return err
				}
			}
			return nil
		}
	}
	return eng.AskStream(ctx, question, technique, send, opts...)
}

// pieces cuts text after each space, about a word a piece, keeping every
// byte so that the pieces join back to the text.
func pieces(text string) []string {
	var out []string
	for len(text) > 0 {
		i := strings.IndexAny(text, " \n")
		if i < 0 {
			out = append(out, text)
			break
		}
		n := i + 1
		for n < len(text) {
			r, size := utf8.DecodeRuneInString(text[n:])
			if r != ' ' && r != '\n' {
				break
			}
			n += size
		}
		out = append(out, text[:n])
		text = text[n:]
	}
	return out
}

// streamAsk answers as server-sent events: "token" events with the
// answer's text as it comes, then "contexts" and "stats", then "done"
// with the whole result (the body a non-streaming ask returns). A failure
// after the stream started is an "error" event with the JSON error body.
func (s *Server) streamAsk(w http.ResponseWriter, r *http.Request, eng *distill.Engine, question, technique string, opts ...distill.QueryOption) error {
	// Mistakes the engine would report before answering are still plain
	// 4xx responses: check them before the stream starts.
	if !trimmed(question) {
		return distill.ErrEmptyQuestion
	}
	if err := checkTechnique(eng, technique); err != nil {
		return err
	}
	ev := newSSE(w)
	res, err := askStream(r.Context(), eng, question, technique, func(tok string) error {
		return ev.event("token", map[string]string{"text": tok})
	}, opts...)
	if err != nil && !ev.started {
		return err // nothing sent yet: a plain answer with the error's status
	}
	if err != nil {
		if r.Context().Err() == nil || classify(err).Status == http.StatusGatewayTimeout {
			ev.event("error", errorJSON(classify(err)))
		}
		return nil
	}
	s.metrics.observeAnswer(eng.LLMName(), res)
	if ev.event("contexts", map[string]any{"contexts": res.Contexts}) != nil {
		return nil
	}
	if ev.event("stats", map[string]any{"stats": res.Stats}) != nil {
		return nil
	}
	ev.event("done", res)
	return nil
}

// checkTechnique reports an unknown technique the way Ask would, and one
// that cannot run with the configured models.
func checkTechnique(eng *distill.Engine, name string) error {
	var known []string
	for _, t := range eng.Techniques() {
		if t.Name == name && t.Unavailable != "" {
			return &apiError{Status: http.StatusBadRequest, Type: typeInvalidRequest, Message: t.Unavailable, Param: "technique", Code: "technique_unavailable"}
		}
		if t.Name == name {
			return nil
		}
		known = append(known, t.Name)
	}
	return &distill.UnknownTechniqueError{Name: name, Known: known}
}
