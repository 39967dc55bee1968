package server

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/distill-rag/distill/eval"
)

// evalQA runs a question set over a collection with eval.RunQA and answers
// what `distill eval --qa FILE --json` prints. The body is the question
// set itself (JSON lines, as the CLI reads them, or a JSON array of the
// same objects); options are query parameters, so that a file can be sent
// as is (curl --data-binary @questions.jsonl):
//
//	techniques=a,b  the techniques to run (default: all that can run)
//	strict=false    skip and count bad lines instead of refusing the set
//	judge=true      rate answers with the server's judge model (--judge)
//	name=NAME       the set's name in the report and in errors
//	where=EXPR      a filter expression, repeatable and ANDed ("year>=2021")
//
// The body is bounded by MaxBody (413 beyond it) and the run by the
// request timeout: larger sets belong to the CLI.
func (s *Server) evalQA(w http.ResponseWriter, r *http.Request) {
	opts, name, strict, err := s.evalOptions(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := checkQAContentType(r.Header.Get("Content-Type")); err != nil {
		s.writeError(w, r, err)
		return
	}
	// Read the whole body first: over the limit is 413, not a bad line.
	body, err := io.ReadAll(r.Body)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	set, err := eval.ReadQA(r.Context(), bytes.NewReader(body), name, strict)
	if err != nil {
		var de *eval.DataError
		if errors.As(err, &de) {
			err = badRequest("%s", de.Error())
		}
		s.writeError(w, r, err)
		return
	}
	s.withCollection(w, r, func(c *collection) error {
		rep, err := eval.RunQA(r.Context(), c.eng, set, opts)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, rep.QAJSON())
		return nil
	})
}

// evalOptions reads the query parameters of an eval request.
func (s *Server) evalOptions(r *http.Request) (opts eval.QAOptions, name string, strict bool, err error) {
	q := r.URL.Query()
	for key := range q {
		switch key {
		case "techniques", "strict", "judge", "name", "where":
		default:
			ae := badRequest("unknown query parameter %q (known: techniques, strict, judge, name, where)", key)
			ae.Param = key
			return opts, "", false, ae
		}
	}
	for _, v := range q["techniques"] {
		for _, t := range strings.Split(v, ",") {
			if t = strings.TrimSpace(t); t != "" {
				opts.Techniques = append(opts.Techniques, t)
			}
		}
	}
	if opts.Where, err = parseWhere(q["where"]); err != nil {
		return opts, "", false, err
	}
	boolParam := func(key string, def bool) (bool, error) {
		v := q.Get(key)
		if v == "" {
			return def, nil
		}
		b, err := strconv.ParseBool(v)
		if err != nil {
			ae := badRequest("%s=%q: want true or false", key, v)
			ae.Param = key
			return false, ae
		}
		return b, nil
	}
	if strict, err = boolParam("strict", true); err != nil {
		return opts, "", false, err
	}
	judge, err := boolParam("judge", false)
	if err != nil {
		return opts, "", false, err
	}
	if judge {
		if s.judge == nil {
			return opts, "", false, &apiError{Status: http.StatusBadRequest, Type: typeInvalidRequest, Param: "judge", Code: "judge_unavailable",
				Message: "judge=true needs a judge model: start the server with --judge URI"}
		}
		opts.Judge = s.judge
	}
	name = q.Get("name")
	if name == "" {
		name = "questions"
	}
	return opts, name, strict, nil
}

// checkQAContentType accepts the JSON types decodeJSON does and the JSON
// lines ones (none of which a browser sends across origins unasked).
func checkQAContentType(ct string) error {
	mt, _, _ := mime.ParseMediaType(ct)
	switch mt {
	case "application/x-ndjson", "application/jsonl", "application/x-jsonlines", "application/json-lines":
		return nil
	}
	if requireJSON(ct) != nil {
		return &apiError{Status: http.StatusUnsupportedMediaType, Type: typeUnsupported,
			Message: "the request body is " + strings.TrimSpace(ct+" ") + "not JSON; send a question set as application/json or application/x-ndjson"}
	}
	return nil
}
