package model

import (
	"context"
	"time"
)

// Retry tells that a model call failed and will be tried again, so that
// a program can say so instead of sitting silent through the backoff.
type Retry struct {
	Attempt  int           // the attempt that failed, from 1
	Attempts int           // attempts in all
	Wait     time.Duration // before the next one
	Err      error         // why the attempt failed (a *Error from remote providers)
}

type retryObserverKey struct{}

// WithRetryObserver returns a context whose model calls report each retry
// to fn (from the calling goroutine, before the wait).
func WithRetryObserver(ctx context.Context, fn func(Retry)) context.Context {
	return context.WithValue(ctx, retryObserverKey{}, fn)
}

// NotifyRetry reports r to the context's observer, if any. Providers that
// retry call it.
func NotifyRetry(ctx context.Context, r Retry) {
	if fn, ok := ctx.Value(retryObserverKey{}).(func(Retry)); ok && fn != nil {
		fn(r)
	}
}
