package remote

import (
	"context"
	"errors"
	"net/http"
	"testing"
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
