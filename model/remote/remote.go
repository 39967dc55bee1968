// Package remote holds what every provider that calls a model server
// shares: retries with exponential backoff and jitter that honour
// Retry-After, a timeout per attempt, JSON over HTTP, and errors that name
// the provider, the endpoint and the status (model.Error).
package remote

import (
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"syscall"
	"time"

	"go.opentelemetry.io/otel/attribute"

	"github.com/distill-rag/distill/model"
)

// Policy bounds how a request is retried.
type Policy struct {
	Attempts int           // tries in all, the first included
	Timeout  time.Duration // per attempt; 0 means none
	Base     time.Duration // first backoff
	Max      time.Duration // longest backoff, and longest Retry-After honoured
}

// DefaultPolicy is the policy a URI's settings ask for (retries, timeout,
// backoff): by default a few retries over a few seconds.
func DefaultPolicy(s model.Settings) Policy {
	return Policy{Attempts: s.Attempts, Timeout: s.Timeout, Base: s.Backoff, Max: 30 * time.Second}
}

// sleep waits, or returns early when ctx ends; a test may replace it.
var sleep = realSleep

func realSleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Do calls fn until it succeeds, fails in a way that retrying cannot fix,
// or the attempts are used up. Each attempt gets its own timeout; fn should
// return a *model.Error so that Do can tell a 429 from a 401.
//
// The whole call, retries included, is a span "model.request" with the
// number of attempts.
func Do(ctx context.Context, p Policy, fn func(ctx context.Context) error) (err error) {
	ctx, span := model.StartSpan(ctx, "model.request")
	attempt := 0
	defer func() {
		span.SetAttributes(attribute.Int("distill.attempts", attempt))
		model.EndSpan(span, err)
	}()
	attempts := max(p.Attempts, 1)
	for attempt = 1; ; attempt++ {
		err = try(ctx, p.Timeout, fn)
		if err == nil || ctx.Err() != nil || attempt >= attempts || !Retryable(err) {
			return err
		}
		wait := p.backoff(attempt, err)
		model.NotifyRetry(ctx, model.Retry{Attempt: attempt, Attempts: attempts, Wait: wait, Err: err})
		if err := sleep(ctx, wait); err != nil {
			return err
		}
	}
}

func try(ctx context.Context, timeout time.Duration, fn func(ctx context.Context) error) error {
	if timeout <= 0 {
		return fn(ctx)
	}
	actx, cancel := context.WithTimeoutCause(ctx, timeout, errAttemptTimeout)
	defer cancel()
	err := fn(actx)
	if err != nil && ctx.Err() == nil && errors.Is(context.Cause(actx), errAttemptTimeout) {
		var me *model.Error
		switch {
		case !errors.As(err, &me):
		case me.Status == 0:
			me.Message = "no answer within " + timeout.String() + " (timeout option)"
			me.Err = errAttemptTimeout
		case me.Status/100 == 2: // a stream that stopped coming
			me.Message = "answer not complete within " + timeout.String() + " (timeout option)"
			me.Err = errAttemptTimeout
		}
	}
	return err
}

var errAttemptTimeout = timeoutError{}

type timeoutError struct{}

func (timeoutError) Error() string { return "request timed out" }
func (timeoutError) Timeout() bool { return true }

// backoff is how long to wait before attempt+1: what the server asked for
// in Retry-After when it did (up to Max), else exponential with full jitter.
func (p Policy) backoff(attempt int, err error) time.Duration {
	maxWait := p.Max
	if maxWait <= 0 {
		maxWait = 30 * time.Second
	}
	var me *model.Error
	if errors.As(err, &me) && me.RetryAfter > 0 {
		return min(me.RetryAfter, maxWait)
	}
	base := p.Base
	if base <= 0 {
		base = 500 * time.Millisecond
	}
	ceiling := min(base<<(attempt-1), maxWait)
	return time.Duration(rand.Int64N(int64(ceiling)) + 1)
}

// Retryable reports whether an error is worth another attempt: rate
// limits, server errors, timeouts and connections cut short, also in the
// middle of a successful answer's body (the caller has seen none of it;
// callers that passed part of a stream on mark the error Permanent).
func Retryable(err error) bool {
	var se *stopError
	if errors.As(err, &se) {
		return false
	}
	var me *model.Error
	if errors.As(err, &me) {
		if me.Permanent {
			return false
		}
		if me.Temporary() {
			return true
		}
		if me.Status != 0 && me.Status/100 != 2 {
			return false // an error status that asking again cannot fix
		}
	}
	return model.IsTimeout(err) || CutShort(err)
}

// CutShort reports whether err is a connection that ended in the middle:
// reset, closed, or an answer shorter than announced.
func CutShort(err error) bool {
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed)
}

// RetryAfter parses a Retry-After header: seconds or an HTTP date.
func RetryAfter(h http.Header) time.Duration {
	v := h.Get("Retry-After")
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseFloat(v, 64); err == nil && secs >= 0 {
		return time.Duration(secs * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(time.Until(t), 0)
	}
	return 0
}
