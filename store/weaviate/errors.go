package weaviate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"strings"
	"syscall"
	"time"

	"github.com/weaviate/weaviate-go-client/v5/weaviate/fault"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Error is a failed operation on a Weaviate store; it names the store, what
// distill was doing and, in plain words, what went wrong.
type Error struct {
	Store string
	Op    string
	Err   error
}

func (e *Error) Error() string { return fmt.Sprintf("%s: %s: %s", e.Store, e.Op, describe(e.Err)) }

func (e *Error) Unwrap() error { return e.Err }

func (s *Store) fail(op string, err error) error {
	if err == nil {
		return nil
	}
	var we *Error
	if errors.As(err, &we) {
		return err
	}
	return &Error{Store: s.cfg.String(), Op: op, Err: err}
}

// describe turns client, gRPC and network errors into one line a user can
// act on.
func describe(err error) string {
	var ce *fault.WeaviateClientError
	if errors.As(err, &ce) {
		if ce.IsUnexpectedStatusCode {
			return fmt.Sprintf("Weaviate answered %d: %s", ce.StatusCode, serverMessage(ce.Msg))
		}
		if ce.DerivedFromError != nil {
			return describe(ce.DerivedFromError)
		}
	}
	switch {
	case errors.Is(err, context.Canceled):
		return "interrupted"
	case errors.Is(err, context.DeadlineExceeded):
		return "no answer in time (Weaviate is slow, overloaded or stuck; raise ?timeout= if it is just slow): " + err.Error()
	case errors.Is(err, syscall.ECONNREFUSED):
		return "cannot connect (is Weaviate running at this address?): " + err.Error()
	}
	if st, ok := status.FromError(err); ok {
		switch st.Code() {
		case codes.Unavailable:
			return "cannot reach Weaviate's gRPC endpoint (is it running, and is the grpc= port right?): " + st.Message()
		case codes.DeadlineExceeded:
			return "no answer in time over gRPC (Weaviate is slow, overloaded or stuck): " + st.Message()
		case codes.Unauthenticated, codes.PermissionDenied:
			return "not allowed (set " + EnvAPIKey + "): " + st.Message()
		default:
			return fmt.Sprintf("Weaviate answered %s: %s", st.Code(), st.Message())
		}
	}
	return err.Error()
}

// serverMessage pulls the messages out of Weaviate's JSON error body.
func serverMessage(body string) string {
	var e struct {
		Error []struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal([]byte(body), &e) == nil && len(e.Error) > 0 {
		msgs := make([]string, len(e.Error))
		for i, m := range e.Error {
			msgs[i] = m.Message
		}
		return strings.Join(msgs, "; ")
	}
	return strings.TrimSpace(body)
}

// transient reports whether an error may go away when the same idempotent
// request is sent again: the server or a replica is unreachable, restarting,
// overloaded or momentarily unable to reach its consistency level.
func transient(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	var ce *fault.WeaviateClientError
	if errors.As(err, &ce) {
		if ce.IsUnexpectedStatusCode {
			switch ce.StatusCode {
			case 429, 502, 503, 504:
				return true
			case 500:
				m := strings.ToLower(ce.Msg)
				return strings.Contains(m, "consistency") || strings.Contains(m, "connection refused") || strings.Contains(m, "unavailable")
			}
			return false
		}
		if ce.DerivedFromError != nil {
			return transient(ce.DerivedFromError)
		}
	}
	if st, ok := status.FromError(err); ok {
		switch st.Code() {
		case codes.Unavailable, codes.ResourceExhausted, codes.Aborted, codes.DeadlineExceeded:
			return true
		case codes.Internal, codes.Unknown:
			m := strings.ToLower(st.Message())
			return strings.Contains(m, "consistency") || strings.Contains(m, "connection refused") || strings.Contains(m, "broken pipe")
		}
		return false
	}
	var ne net.Error
	return errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
		errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne)
}

// unreachable reports an error that says the node itself is gone, rather
// than busy: another node may answer at once.
func unreachable(err error) bool {
	var ce *fault.WeaviateClientError
	if errors.As(err, &ce) && ce.DerivedFromError != nil {
		err = ce.DerivedFromError
	}
	if st, ok := status.FromError(err); ok {
		return st.Code() == codes.Unavailable
	}
	var ne net.Error
	return errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.As(err, &ne) && !ne.Timeout()
}

// retry runs an idempotent request, repeating it with jittered exponential
// backoff while it fails transiently, at most cfg.Retries more times.
func (s *Store) retry(ctx context.Context, op string, fn func(ctx context.Context) error) error {
	delay := 100 * time.Millisecond
	// Every node gets a chance on top of the retries.
	limit := s.cfg.Retries + len(s.clients) - 1
	for attempt := 0; ; attempt++ {
		client := s.Client()
		err := fn(ctx)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return s.fail(op, ctx.Err())
		}
		if attempt >= limit || !transient(err) {
			if attempt > 0 {
				op = fmt.Sprintf("%s (after %d attempts)", op, attempt+1)
			}
			return s.fail(op, err)
		}
		if unreachable(err) && len(s.clients) > 1 {
			s.failover(client)
			continue // another node: no need to wait
		}
		sleep := delay/2 + rand.N(delay)
		select {
		case <-ctx.Done():
			return s.fail(op, ctx.Err())
		case <-time.After(sleep):
		}
		delay = min(2*delay, 2*time.Second)
	}
}
