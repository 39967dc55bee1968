package fakemodel

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
)

// TEI fakes Hugging Face's text-embeddings-inference: POST /embed with
// {"inputs": [...]} answering [[...], ...]; more inputs than MaxBatch
// (default 32, TEI's --max-client-batch-size) get 413.
func TEI(t testing.TB, opts ...Option) *Server {
	s := newServer(t, append([]Option{MaxBatch(32)}, opts...), serveTEI)
	s.uri = func(string) string { return "tei:" + s.URL }
	return s
}

func teiError(w http.ResponseWriter, status int, retryAfter, msg, typ string) {
	if retryAfter != "" {
		w.Header().Set("Retry-After", retryAfter)
	}
	writeJSON(w, status, map[string]any{"error": msg, "error_type": typ}, Fault{})
}

func serveTEI(s *Server, w http.ResponseWriter, r *http.Request, req Request, fault Fault) {
	if fault.Status != 0 {
		teiError(w, fault.Status, fault.RetryAfter, http.StatusText(fault.Status), "Overloaded")
		return
	}
	if r.Method != http.MethodPost || r.URL.Path != "/embed" {
		http.NotFound(w, r)
		return
	}
	texts, err := teiInputs(req.Body)
	if err != nil {
		teiError(w, http.StatusUnprocessableEntity, "", err.Error(), "Validation")
		return
	}
	if len(texts) > s.cfg.maxBatch {
		teiError(w, http.StatusRequestEntityTooLarge, "", fmt.Sprintf("batch size %d > maximum allowed batch size %d", len(texts), s.cfg.maxBatch), "Validation")
		return
	}
	s.countEmbed()
	vecs := make([][]float32, len(texts))
	for i, t := range texts {
		vecs[i] = Vector(t, s.cfg.dim)
	}
	writeJSON(w, http.StatusOK, vecs, fault)
}

func teiInputs(body []byte) ([]string, error) {
	var in struct {
		Inputs    json.RawMessage `json:"inputs"`
		Truncate  *bool           `json:"truncate"`
		Normalize *bool           `json:"normalize"`
	}
	if err := decodeStrict(body, &in); err != nil {
		return nil, err
	}
	var texts []string
	if err := json.Unmarshal(in.Inputs, &texts); err != nil {
		var one string
		if err := json.Unmarshal(in.Inputs, &one); err != nil {
			return nil, fmt.Errorf("inputs must be a string or a list of strings")
		}
		texts = []string{one}
	}
	if len(texts) == 0 {
		return nil, fmt.Errorf("`inputs` cannot be empty")
	}
	return texts, nil
}
