package faultproxy_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/distill-rag/distill/internal/testsupport/faultproxy"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// body is what the upstream answers: 40 lines, flushed one by one as a
// stream is.
var body = strings.Repeat("data: {\"token\": \"word\"}\n\n", 40)

func upstream(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		in, _ := io.ReadAll(r.Body)
		w.Header().Set("X-Seen-Host", r.Host)
		w.Header().Set("X-Seen-Body", string(in))
		w.Header().Set("X-Seen-Path", r.URL.RequestURI())
		w.Header().Set("Content-Type", "text/event-stream")
		for _, line := range strings.SplitAfter(body, "\n\n") {
			io.WriteString(w, line)
			w.(http.Flusher).Flush()
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func post(ctx context.Context, url string) (*http.Response, []byte, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url+"/v1/x?k=v", strings.NewReader(`{"q":1}`))
	client := &http.Client{Transport: &http.Transport{}}
	defer client.CloseIdleConnections()
	resp, err := client.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	return resp, data, err
}

func TestForwardsAndInjects(t *testing.T) {
	up := upstream(t)
	tests := []struct {
		name       string
		fault      faultproxy.Fault
		wantStatus int
		wantBody   int // bytes of the body the client gets
		wantErr    func(error) bool
	}{
		{name: "pass", fault: faultproxy.Pass, wantStatus: 200, wantBody: len(body)},
		{name: "delay", fault: faultproxy.Delay(20 * time.Millisecond), wantStatus: 200, wantBody: len(body)},
		{name: "trickle", fault: faultproxy.Trickle(time.Millisecond), wantStatus: 200, wantBody: len(body)},
		{name: "429", fault: faultproxy.Status(429, "3"), wantStatus: 429},
		{name: "503", fault: faultproxy.Status(503, ""), wantStatus: 503},
		{name: "reset", fault: faultproxy.Reset, wantErr: func(err error) bool { return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, io.EOF) }},
		{name: "end mid-answer", fault: faultproxy.EndAfter(100), wantStatus: 200, wantBody: 100},
		{name: "cut mid-answer", fault: faultproxy.CutAfter(100), wantStatus: 200, wantBody: 100, wantErr: func(err error) bool { return errors.Is(err, io.ErrUnexpectedEOF) }},
		{name: "reset mid-answer", fault: faultproxy.ResetAfter(100), wantStatus: 200, wantBody: 100, wantErr: func(err error) bool {
			return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, io.ErrUnexpectedEOF)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := faultproxy.New(t, up.URL, faultproxy.Always(tt.fault))
			resp, data, err := post(context.Background(), p.URL)
			if tt.wantErr != nil {
				if err == nil || !tt.wantErr(err) {
					t.Fatalf("err = %v", err)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if resp != nil && resp.StatusCode != tt.wantStatus {
				t.Errorf("status %d, want %d", resp.StatusCode, tt.wantStatus)
			}
			log := p.Log()
			if len(log) != 1 || log[0].Fault != tt.fault || log[0].Method != "POST" || log[0].Path != "/v1/x" {
				t.Fatalf("log = %+v", log)
			}
			switch {
			case tt.wantStatus == 200:
				if len(data) != tt.wantBody || body[:len(data)] != string(data) || log[0].BodyBytes != tt.wantBody {
					t.Errorf("got %d bytes (log: %d), want the first %d of the upstream's answer", len(data), log[0].BodyBytes, tt.wantBody)
				}
				// Forwarded as sent: path, query, body and the Host the client used.
				if resp.Header.Get("X-Seen-Host") != strings.TrimPrefix(p.URL, "http://") || resp.Header.Get("X-Seen-Body") != `{"q":1}` || resp.Header.Get("X-Seen-Path") != "/v1/x?k=v" {
					t.Errorf("upstream saw host %q, body %q, path %q", resp.Header.Get("X-Seen-Host"), resp.Header.Get("X-Seen-Body"), resp.Header.Get("X-Seen-Path"))
				}
			case tt.wantStatus != 0:
				if !strings.Contains(string(data), "fault injected") || resp.Header.Get("Retry-After") != tt.fault.RetryAfter {
					t.Errorf("body %q, Retry-After %q", data, resp.Header.Get("Retry-After"))
				}
			}
		})
	}
}

func TestHeldRequestsSeeTheClientLeave(t *testing.T) {
	up := upstream(t)
	for _, fault := range []faultproxy.Fault{faultproxy.Hang, faultproxy.StallAfter(60), faultproxy.Delay(time.Hour)} {
		t.Run(fault.String(), func(t *testing.T) {
			p := faultproxy.New(t, up.URL, faultproxy.Always(fault))
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			errc := make(chan error, 1)
			read := make(chan int, 1) // body bytes read before the stall
			go func() {
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost, p.URL+"/v1/x", strings.NewReader(`{}`))
				client := &http.Client{Transport: &http.Transport{}}
				defer client.CloseIdleConnections()
				resp, err := client.Do(req)
				if err != nil {
					errc <- err
					return
				}
				defer resp.Body.Close()
				buf := make([]byte, 60)
				k, err := io.ReadFull(resp.Body, buf)
				read <- k
				if err == nil {
					_, err = resp.Body.Read(buf)
				}
				errc <- err
			}()
			switch {
			case fault.Stall:
				if k := <-read; k != 60 {
					t.Fatalf("client read %d bytes before the stall, want 60", k)
				}
			case fault.Hang:
				if n := p.Held(t); n != 0 {
					t.Errorf("held request %d, want 0", n)
				}
			default:
				for p.Attempts() == 0 {
					time.Sleep(time.Millisecond)
				}
			}
			cancel()
			if n := p.Gone(t); n != 0 {
				t.Errorf("request %d gone, want 0", n)
			}
			if err := <-errc; !errors.Is(err, context.Canceled) {
				t.Errorf("client err = %v, want context.Canceled", err)
			}
			if log := p.Log(); !log[0].ClientGone {
				t.Errorf("log = %+v, want ClientGone", log[0])
			}
		})
	}
}

func TestScripts(t *testing.T) {
	a, b := faultproxy.Status(500, ""), faultproxy.Hang
	seq := faultproxy.Sequence(a, b)
	times := faultproxy.Times(2, a)
	for n, want := range []faultproxy.Fault{a, b, faultproxy.Pass, faultproxy.Pass} {
		if got := seq(n, faultproxy.Request{}); got != want {
			t.Errorf("Sequence: request %d gets %v, want %v", n, got, want)
		}
	}
	for n, want := range []faultproxy.Fault{a, a, faultproxy.Pass} {
		if got := times(n, faultproxy.Request{}); got != want {
			t.Errorf("Times: request %d gets %v, want %v", n, got, want)
		}
	}
}

func TestSetScriptCountsFromZero(t *testing.T) {
	p := faultproxy.New(t, upstream(t).URL, nil)
	var statuses []int
	for i := range 4 {
		if i == 1 {
			p.SetScript(faultproxy.Sequence(faultproxy.Status(500, "")))
		}
		resp, _, err := post(context.Background(), p.URL)
		if err != nil {
			t.Fatal(err)
		}
		statuses = append(statuses, resp.StatusCode)
	}
	if fmt.Sprint(statuses) != "[200 500 200 200]" {
		t.Errorf("statuses %v, want the new script's first fault on the request after SetScript", statuses)
	}
}
