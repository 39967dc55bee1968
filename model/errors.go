package model

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Error is a failed call to a model provider. It names the provider, the
// endpoint (a URL, a SageMaker endpoint or a Bedrock model ID) and the HTTP
// status, so that a user can tell a wrong key from a wrong model name.
type Error struct {
	Provider string // "openai", "ollama", "tei", "sagemaker", "bedrock"
	Endpoint string
	Status   int    // HTTP status; 0 when no response came
	Message  string // what the provider said, or what was wrong with its answer
	// RetryAfter is how long the provider asked us to wait (429, 503).
	RetryAfter time.Duration
	// Permanent stops retries even for a status that usually allows them,
	// e.g. a stream that failed after tokens were delivered.
	Permanent bool
	Err       error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Provider)
	if e.Endpoint != "" {
		b.WriteString(" ")
		b.WriteString(e.Endpoint)
	}
	b.WriteString(": ")
	if e.Status != 0 {
		fmt.Fprintf(&b, "HTTP %d %s", e.Status, http.StatusText(e.Status))
		if hint := statusHint(e.Status); hint != "" {
			b.WriteString(" (" + hint + ")")
		}
		if e.Message != "" || e.Err != nil {
			b.WriteString(": ")
		}
	}
	switch {
	case e.Message != "" && e.Err != nil:
		b.WriteString(e.Message + ": " + e.Err.Error())
	case e.Message != "":
		b.WriteString(e.Message)
	case e.Err != nil:
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

func statusHint(status int) string {
	switch status {
	case http.StatusUnauthorized:
		return "check the credentials or API key"
	case http.StatusForbidden:
		return "the credentials may not use this model"
	case http.StatusNotFound:
		return "unknown endpoint or model"
	case http.StatusTooManyRequests:
		return "rate limited"
	}
	return ""
}

func (e *Error) Unwrap() error { return e.Err }

// Temporary reports whether trying again may succeed: rate limits, server
// errors and timeouts are; bad requests, bad keys and malformed answers are not.
func (e *Error) Temporary() bool {
	if e.Permanent {
		return false
	}
	switch {
	case e.Status == http.StatusTooManyRequests, e.Status == http.StatusRequestTimeout:
		return true
	case e.Status >= 500 && e.Status != http.StatusNotImplemented && e.Status != http.StatusHTTPVersionNotSupported:
		return true
	case e.Status == 0 && e.Err != nil:
		return IsTimeout(e.Err)
	}
	return false
}

// IsTimeout reports whether err is a request that ran out of time (not one
// whose caller gave up).
func IsTimeout(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var te interface{ Timeout() bool }
	return errors.As(err, &te) && te.Timeout()
}
