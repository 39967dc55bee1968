package remote

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"testing/iotest"
	"time"

	"github.com/distill-rag/distill/model"
)

func TestDoRetriesWhatRetryingCanFix(t *testing.T) {
	tests := []struct {
		name      string
		errs      []error
		attempts  int
		wantCalls int
		wantWaits []time.Duration // exact waits; 0 entries mean "jittered, within the backoff"
		wantErr   bool
	}{
		{name: "429 honours Retry-After", errs: []error{&model.Error{Status: 429, RetryAfter: 3 * time.Second}, nil}, attempts: 4, wantCalls: 2, wantWaits: []time.Duration{3 * time.Second}},
		{name: "Retry-After is capped", errs: []error{&model.Error{Status: 503, RetryAfter: time.Hour}, nil}, attempts: 4, wantCalls: 2, wantWaits: []time.Duration{30 * time.Second}},
		{name: "500 backs off with jitter", errs: []error{&model.Error{Status: 500}, &model.Error{Status: 502}, nil}, attempts: 4, wantCalls: 3, wantWaits: []time.Duration{0, 0}},
		{name: "attempts are bounded", errs: []error{&model.Error{Status: 500}, &model.Error{Status: 500}, &model.Error{Status: 500}}, attempts: 2, wantCalls: 2, wantErr: true},
		{name: "401 is not retried", errs: []error{&model.Error{Status: 401}}, attempts: 4, wantCalls: 1, wantErr: true},
		{name: "malformed is not retried", errs: []error{&model.Error{Status: 200, Permanent: true}}, attempts: 4, wantCalls: 1, wantErr: true},
		{name: "timeouts are retried", errs: []error{&model.Error{Err: context.DeadlineExceeded}, nil}, attempts: 4, wantCalls: 2, wantWaits: []time.Duration{0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var waits []time.Duration
			sleep = func(ctx context.Context, d time.Duration) error { waits = append(waits, d); return nil }
			defer func() { sleep = realSleep }()
			calls := 0
			err := Do(context.Background(), Policy{Attempts: tt.attempts, Base: time.Second, Max: 30 * time.Second}, func(ctx context.Context) error {
				e := tt.errs[calls]
				calls++
				return e
			})
			if calls != tt.wantCalls || (err != nil) != tt.wantErr {
				t.Fatalf("%d calls, error %v; want %d calls, error %v", calls, err, tt.wantCalls, tt.wantErr)
			}
			if tt.wantWaits != nil && len(waits) != len(tt.wantWaits) {
				t.Fatalf("waits %v, want %d", waits, len(tt.wantWaits))
			}
			for i, w := range tt.wantWaits {
				ceiling := time.Second << i
				if (w != 0 && waits[i] != w) || (w == 0 && (waits[i] <= 0 || waits[i] > ceiling)) {
					t.Errorf("wait %d = %v, want %v (0: jittered up to %v)", i, waits[i], w, ceiling)
				}
			}
		})
	}
}

func TestRetryAfter(t *testing.T) {
	h := http.Header{}
	h.Set("Retry-After", "2")
	if RetryAfter(h) != 2*time.Second {
		t.Errorf("RetryAfter(2) = %v", RetryAfter(h))
	}
	h.Set("Retry-After", time.Now().Add(90*time.Second).UTC().Format(http.TimeFormat))
	if d := RetryAfter(h); d < 80*time.Second || d > 91*time.Second {
		t.Errorf("RetryAfter(date) = %v", d)
	}
	if !errors.Is(&model.Error{Err: context.Canceled}, context.Canceled) {
		t.Error("model.Error does not unwrap")
	}
}

func TestRetryable(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"429", &model.Error{Status: 429}, true},
		{"503", &model.Error{Status: 503}, true},
		{"501", &model.Error{Status: 501}, false},
		{"400", &model.Error{Status: 400}, false},
		{"no answer: reset", &model.Error{Err: syscall.ECONNRESET}, true},
		{"no answer: timeout", &model.Error{Err: errAttemptTimeout}, true},
		{"no answer: cancelled", &model.Error{Err: context.Canceled}, false},
		{"200 with its body cut short", &model.Error{Status: 200, Message: "reading the answer", Err: io.ErrUnexpectedEOF}, true},
		{"200 with its body reset", &model.Error{Status: 200, Err: fmt.Errorf("read: %w", syscall.ECONNRESET)}, true},
		{"a stream cut after text was shown", &model.Error{Status: 200, Err: io.ErrUnexpectedEOF, Permanent: true}, false},
		{"404 whose body was cut", &model.Error{Status: 404, Err: io.ErrUnexpectedEOF}, false},
		{"malformed", &model.Error{Status: 200, Message: "malformed answer", Permanent: true}, false},
		{"a plain cut connection", fmt.Errorf("post: %w", io.ErrUnexpectedEOF), true},
		{"the caller's callback stopped", permanent(errors.New("stop")), false},
	}
	for _, tt := range tests {
		if got := Retryable(tt.err); got != tt.want {
			t.Errorf("%s: Retryable(%v) = %v, want %v", tt.name, tt.err, got, tt.want)
		}
	}
}

func TestLineScannerDropsALineCutShort(t *testing.T) {
	tests := []struct {
		name    string
		in      io.Reader
		want    []string
		wantErr error
	}{
		{"clean end with a newline", strings.NewReader("a\nb\n"), []string{"a", "b"}, nil},
		{"clean end in a line", strings.NewReader("a\r\n{\"par"), []string{"a"}, io.ErrUnexpectedEOF},
		{"cut in a line", io.MultiReader(strings.NewReader("a\n{\"par"), iotest.ErrReader(io.ErrUnexpectedEOF)), []string{"a"}, io.ErrUnexpectedEOF},
		{"reset between lines", io.MultiReader(strings.NewReader("a\nb\n"), iotest.ErrReader(syscall.ECONNRESET)), []string{"a", "b"}, syscall.ECONNRESET},
		{"one byte at a time, cut", iotest.OneByteReader(io.MultiReader(strings.NewReader("ab\ncd"), iotest.ErrReader(io.ErrUnexpectedEOF))), []string{"ab"}, io.ErrUnexpectedEOF},
	}
	for _, tt := range tests {
		sc := LineScanner(tt.in)
		var got []string
		for sc.Scan() {
			got = append(got, sc.Text())
		}
		if fmt.Sprint(got) != fmt.Sprint(tt.want) || !errors.Is(sc.Err(), tt.wantErr) || (tt.wantErr == nil && sc.Err() != nil) {
			t.Errorf("%s: lines %q, err %v; want %q, %v", tt.name, got, sc.Err(), tt.want, tt.wantErr)
		}
	}
}
