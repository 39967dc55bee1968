package server

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"sync"
	"time"
)

// slowBody cuts off a request body that arrives too slowly, the way
// Apache's mod_reqtimeout does (body=20,MinRate=500): the body has
// BodyTimeout to start, and each further BodyMinRate bytes received earn
// one more second. A client trickling a byte every two seconds is cut off
// after BodyTimeout; a real upload on a slow link is not. The read
// deadline is set only while the handler reads, so that the connection's
// own reads afterwards (net/http watches for the client going away) never
// see it.
type slowBody struct {
	body     io.ReadCloser
	rc       *http.ResponseController
	start    time.Time
	timeout  time.Duration
	minRate  int64
	received int64
	err      error
}

func (b *slowBody) deadline() time.Time {
	return b.start.Add(b.timeout + time.Duration(float64(b.received)/float64(b.minRate)*float64(time.Second)))
}

func (b *slowBody) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	deadline := b.deadline()
	if !time.Now().Before(deadline) {
		b.rc.SetReadDeadline(time.Now())
		b.err = b.tooSlow()
		return 0, b.err
	}
	b.rc.SetReadDeadline(deadline) // not supported: no cut-off, as before
	n, err := b.body.Read(p)
	b.received += int64(n)
	if err != nil && errors.Is(err, os.ErrDeadlineExceeded) {
		// The deadline stays: the server's reads of the rest of the body
		// (to reuse the connection) fail at once, and it closes it.
		b.err = b.tooSlow()
		return n, b.err
	}
	b.rc.SetReadDeadline(time.Time{})
	return n, err
}

func (b *slowBody) Close() error { return b.body.Close() }

func (b *slowBody) tooSlow() error {
	return &slowBodyError{received: b.received, elapsed: time.Since(b.start), timeout: b.timeout, minRate: b.minRate}
}

// slowBodyError is a request body cut off for arriving too slowly.
type slowBodyError struct {
	received int64
	elapsed  time.Duration
	timeout  time.Duration
	minRate  int64
}

func (e *slowBodyError) Error() string {
	return fmt.Sprintf("the request body arrived too slowly (%d bytes in %s; the server waits %s and then wants %d bytes/s)",
		e.received, e.elapsed.Round(time.Millisecond), e.timeout, e.minRate)
}

// budget counts bytes of request bodies held in memory at once (JSON is
// decoded whole); a request that would go over waits for none but is
// refused with 503 and Retry-After.
type budget struct {
	mu    sync.Mutex
	max   int64
	inUse int64
}

func (b *budget) take(n int64) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.inUse+n > b.max {
		return false
	}
	b.inUse += n
	return true
}

func (b *budget) give(n int64) {
	b.mu.Lock()
	b.inUse -= n
	b.mu.Unlock()
}

// memoryBody is how many bytes of the budget a request takes: what it
// declares, or its limit when it does not say. Multipart uploads stream to
// disk part by part and take none; bodiless requests take none.
func memoryBody(r *http.Request, limit int64) int64 {
	if r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 {
		return 0
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "multipart/form-data" {
		return 0
	}
	if r.ContentLength > 0 {
		return min(r.ContentLength, limit)
	}
	return limit
}

// busy is the answer to a request the server has no room for now.
func busy(retry time.Duration, format string, args ...any) *apiError {
	return &apiError{Status: http.StatusServiceUnavailable, Type: typeUnavailable, Code: "server_busy", RetryAfter: retry,
		Message: fmt.Sprintf(format, args...)}
}

// tooManyJobs is the answer to a job over the MaxJobs running ones.
func tooManyJobs(max int) *apiError {
	return &apiError{Status: http.StatusTooManyRequests, Type: typeRateLimit, Code: "too_many_jobs", RetryAfter: jobRetry,
		Message: fmt.Sprintf("%d ingestion jobs are running, the most this server runs at once (--max-jobs); try again when one has finished", max)}
}

// jobRetry is the Retry-After of a refused job.
const jobRetry = 30 * time.Second

// slots bounds the ingests that run in requests (small uploads): one
// waits for a slot as long as its request may run.
type slots chan struct{}

func (s slots) acquire(r *http.Request) (func(), error) {
	select {
	case s <- struct{}{}:
		return func() { <-s }, nil
	case <-r.Context().Done():
		return nil, r.Context().Err()
	}
}
