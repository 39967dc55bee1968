package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/distill-rag/distill"
	"github.com/distill-rag/distill/compress"
	"github.com/distill-rag/distill/loader"
	"github.com/distill-rag/distill/model"
	"github.com/distill-rag/distill/store"
)

// Error types, as OpenAI names them where it has a name for them.
const (
	typeInvalidRequest = "invalid_request_error"
	typeAuthentication = "authentication_error"
	typePermission     = "permission_error"
	typeNotFound       = "not_found_error"
	typeConflict       = "conflict_error"
	typeTooLarge       = "request_too_large"
	typeUnsupported    = "unsupported_media_type"
	typeTimeout        = "timeout_error"
	typeRateLimit      = "rate_limit_error"
	typeUnavailable    = "unavailable_error"
	typeServer         = "server_error"
)

// apiError is an error with the HTTP status and type it is reported as.
type apiError struct {
	Status  int
	Type    string
	Message string
	Param   string // the request field at fault, when one is (OpenAI's "param")
	Code    string // a finer code (OpenAI's "code", e.g. model_not_found)
	// RetryAfter, when set, is sent as the Retry-After header.
	RetryAfter time.Duration
}

func (e *apiError) Error() string { return e.Message }

func badRequest(format string, args ...any) *apiError {
	return &apiError{Status: http.StatusBadRequest, Type: typeInvalidRequest, Message: fmt.Sprintf(format, args...)}
}

func notFound(format string, args ...any) *apiError {
	return &apiError{Status: http.StatusNotFound, Type: typeNotFound, Message: fmt.Sprintf(format, args...)}
}

func conflict(format string, args ...any) *apiError {
	return &apiError{Status: http.StatusConflict, Type: typeConflict, Message: fmt.Sprintf(format, args...)}
}

// errorBody is the JSON error shape of every route: {"error":{...}}.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Message string  `json:"message"`
	Type    string  `json:"type"`
	Param   *string `json:"param"`
	Code    *string `json:"code"`
}

// classify turns any error into the apiError it is reported as.
func classify(err error) *apiError {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae
	}
	var mbe *http.MaxBytesError
	var ute *distill.UnknownTechniqueError
	var le *loader.Error
	var mme *compress.MissingModelError
	var tue *distill.TechniqueUnavailableError
	var de *deletedError
	var sbe *slowBodyError
	var me *model.Error
	var roe *store.ReadOnlyError
	var fe *store.FilterError
	var nfe *store.NoFilterError
	switch {
	case errors.As(err, &roe):
		return &apiError{Status: http.StatusForbidden, Type: typePermission, Code: "read_only", Message: roe.Error()}
	case errors.As(err, &fe):
		return &apiError{Status: http.StatusBadRequest, Type: typeInvalidRequest, Message: fe.Error(), Param: "where", Code: "invalid_filter"}
	case errors.As(err, &nfe):
		return &apiError{Status: http.StatusBadRequest, Type: typeInvalidRequest, Message: nfe.Error(), Param: "where", Code: "invalid_filter"}
	case errors.As(err, &sbe):
		return &apiError{Status: http.StatusRequestTimeout, Type: typeTimeout, Code: "body_too_slow", Message: sbe.Error()}
	case errors.As(err, &de):
		return conflict("%s", de.Error())
	case errors.As(err, &mbe):
		return &apiError{Status: http.StatusRequestEntityTooLarge, Type: typeTooLarge,
			Message: fmt.Sprintf("the request body is over the limit of %d bytes", mbe.Limit)}
	case errors.As(err, &ute):
		return &apiError{Status: http.StatusBadRequest, Type: typeInvalidRequest, Message: ute.Error(), Param: "technique"}
	case errors.As(err, &tue):
		return &apiError{Status: http.StatusBadRequest, Type: typeInvalidRequest, Message: tue.Error(), Param: "technique", Code: "technique_unavailable"}
	case errors.As(err, &mme):
		return &apiError{Status: http.StatusBadRequest, Type: typeInvalidRequest, Message: mme.Error(), Param: "technique", Code: "technique_unavailable"}
	case errors.Is(err, distill.ErrEmptyQuestion), errors.Is(err, distill.ErrNoQuestion):
		return badRequest("%s", err.Error())
	case errors.As(err, &le) && errors.Is(err, loader.ErrUnsupported):
		return &apiError{Status: http.StatusUnsupportedMediaType, Type: typeUnsupported, Message: le.Error()}
	case errors.Is(err, context.Canceled):
		// The client went away; nobody reads this.
		return &apiError{Status: 499, Type: typeInvalidRequest, Message: "the request was canceled"}
	case errors.As(err, &me):
		if ae := upstreamError(me); ae != nil {
			return ae
		}
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return &apiError{Status: http.StatusGatewayTimeout, Type: typeTimeout, Message: "the request took longer than the server's per-request timeout"}
	}
	return &apiError{Status: http.StatusInternalServerError, Type: typeServer, Message: err.Error()}
}

// upstreamRetry is the Retry-After sent for a busy or slow model provider
// that did not say how long to wait.
const upstreamRetry = 10 * time.Second

// upstreamError reports a model provider that is rate limited (429),
// unavailable (503) or too slow (504) as such, with Retry-After, rather
// than as the server's own failure: clients (OpenAI SDKs among them) then
// back off instead of retrying at once. distill has already retried the
// provider as its URI options say. Other provider failures (a bad key, a
// malformed answer) are left to the caller.
func upstreamError(me *model.Error) *apiError {
	wait := me.RetryAfter
	if wait <= 0 {
		wait = upstreamRetry
	}
	switch {
	case me.Status == http.StatusTooManyRequests:
		return &apiError{Status: http.StatusTooManyRequests, Type: typeRateLimit, Code: "upstream_rate_limited", RetryAfter: wait,
			Message: "the model provider is rate limiting distill; try again later: " + me.Error()}
	case me.Status == http.StatusGatewayTimeout || me.Status == http.StatusRequestTimeout || (me.Status == 0 && model.IsTimeout(me)):
		return &apiError{Status: http.StatusGatewayTimeout, Type: typeTimeout, Code: "upstream_timeout", RetryAfter: wait,
			Message: "the model provider did not answer in time: " + me.Error()}
	case me.Status >= 500 && me.Status != http.StatusNotImplemented && me.Status != http.StatusHTTPVersionNotSupported:
		return &apiError{Status: http.StatusServiceUnavailable, Type: typeUnavailable, Code: "upstream_unavailable", RetryAfter: wait,
			Message: "the model provider is unavailable; try again later: " + me.Error()}
	}
	return nil
}

// retryAfter formats a Retry-After header: whole seconds, at least 1.
func retryAfter(d time.Duration) string {
	return strconv.Itoa(max(1, int((d+time.Second-1)/time.Second)))
}

func errorJSON(ae *apiError) errorBody {
	d := errorDetail{Message: ae.Message, Type: ae.Type}
	if ae.Param != "" {
		d.Param = &ae.Param
	}
	if ae.Code != "" {
		d.Code = &ae.Code
	}
	return errorBody{Error: d}
}

// writeError reports err as JSON with its status.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	ae := classify(err)
	if ae.Status >= 500 {
		s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	if ae.Status == http.StatusRequestTimeout {
		w.Header().Set("Connection", "close")
	}
	if ae.RetryAfter > 0 {
		w.Header().Set("Retry-After", retryAfter(ae.RetryAfter))
	}
	if ae.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="distill"`)
	}
	writeJSON(w, ae.Status, errorJSON(ae))
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
}

// requireJSON refuses a body that is not declared JSON. Browsers send
// text/plain, form and multipart bodies across origins without asking
// first (a "simple" CORS request), so accepting them as JSON would let any
// web page drive the API; application/json needs a preflight the server
// only grants to --cors-origin.
func requireJSON(ct string) error {
	mt, _, err := mime.ParseMediaType(ct)
	if err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json")) {
		return nil
	}
	got := "without a Content-Type"
	if ct != "" {
		got = "of type " + ct
	}
	return &apiError{Status: http.StatusUnsupportedMediaType, Type: typeUnsupported,
		Message: "the request body is " + got + "; send it as JSON with Content-Type: application/json"}
}

// decodeJSON reads a JSON request body into v. Strict rejects fields v
// does not have; the OpenAI routes are lenient, since clients send many
// optional fields distill does not use.
func decodeJSON(r *http.Request, v any, strict bool) error {
	if err := requireJSON(r.Header.Get("Content-Type")); err != nil {
		return err
	}
	dec := json.NewDecoder(r.Body)
	if strict {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &mbe), errors.As(err, new(*slowBodyError)):
			return err
		case errors.Is(err, io.EOF):
			return badRequest("the request body is empty; send a JSON object")
		case errors.As(err, &se):
			return badRequest("malformed JSON at byte %d: %v", se.Offset, err)
		case errors.As(err, &te):
			ae := badRequest("field %q: want %s, got JSON %s", te.Field, te.Type, te.Value)
			ae.Param = te.Field
			return ae
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
			ae := badRequest("unknown field %q", field)
			ae.Param = field
			return ae
		}
		return badRequest("malformed JSON: %v", err)
	}
	if dec.More() {
		return badRequest("malformed JSON: more than one value in the body")
	}
	return nil
}
