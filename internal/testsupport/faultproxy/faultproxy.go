// Package faultproxy runs an HTTP proxy for tests that sits in front of a
// model server (usually a fake from package fakemodel or fakererank) and
// misbehaves on purpose: it delays or never answers, resets connections,
// answers with 429 (with or without Retry-After) or 5xx instead of
// forwarding, trickles an answer, or forwards part of an answer and then
// cuts, resets or stalls the connection, as flaky networks, overloaded
// servers and crashing model containers do.
//
// Each request the proxy receives is an attempt: a script picks its fault,
// and the proxy records what happened, including whether the client went
// away while the proxy held the request (so a test can show that
// cancelling a caller's context reaches the HTTP request in flight).
//
//	p := faultproxy.New(t, srv.URL, faultproxy.Sequence(faultproxy.Status(503, ""), faultproxy.Pass))
//	... point the client at p.URL, call, then p.Attempts(), p.Log()
package faultproxy

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// Fault is what the proxy does with one request. The zero Fault forwards
// the request and its answer unchanged.
type Fault struct {
	// Delay waits this long before forwarding (or before the status below).
	Delay time.Duration
	// Hang never answers: the proxy holds the request until the client
	// gives up.
	Hang bool
	// Reset resets the TCP connection (RST) instead of answering.
	Reset bool
	// Status answers with this status and a JSON error body instead of
	// forwarding, with a Retry-After header when RetryAfter is set.
	Status     int
	RetryAfter string

	// Faults in a forwarded answer's body. After is how many bytes of the
	// body pass before one of End, Cut, ResetBody or Stall takes effect.
	After int
	// End ends the answer properly after After bytes (the last chunk of a
	// chunked body is sent): the answer looks whole but is not, as when a
	// server or a proxy in between gives up on a stream.
	End bool
	// Cut closes the connection after After bytes: the client sees the
	// answer end in the middle (an unexpected EOF).
	Cut bool
	// ResetBody resets the connection after After bytes.
	ResetBody bool
	// Stall stops sending after After bytes and holds the connection open
	// until the client gives up: a stream that stops mid-answer.
	Stall bool
	// Trickle sends the body in pieces of at most 16 bytes with this pause
	// before each: a slow stream.
	Trickle time.Duration
}

// Pass forwards a request unchanged.
var Pass = Fault{}

// Hang never answers.
var Hang = Fault{Hang: true}

// Reset resets the connection without answering.
var Reset = Fault{Reset: true}

// Status answers status (with Retry-After when retryAfter is not "").
func Status(status int, retryAfter string) Fault {
	return Fault{Status: status, RetryAfter: retryAfter}
}

// Delay forwards after d.
func Delay(d time.Duration) Fault { return Fault{Delay: d} }

// EndAfter forwards n bytes of the answer's body, then ends it cleanly.
func EndAfter(n int) Fault { return Fault{After: n, End: true} }

// CutAfter forwards n bytes of the answer's body, then closes the connection.
func CutAfter(n int) Fault { return Fault{After: n, Cut: true} }

// ResetAfter forwards n bytes of the answer's body, then resets the connection.
func ResetAfter(n int) Fault { return Fault{After: n, ResetBody: true} }

// StallAfter forwards n bytes of the answer's body, then sends nothing more.
func StallAfter(n int) Fault { return Fault{After: n, Stall: true} }

// Trickle forwards the answer slowly, a few bytes at a time.
func Trickle(pause time.Duration) Fault { return Fault{Trickle: pause} }

// holds reports whether the fault keeps the request until the client leaves.
func (f Fault) holds() bool { return f.Hang || f.Stall }

func (f Fault) String() string {
	var parts []string
	if f.Delay > 0 {
		parts = append(parts, "delay "+f.Delay.String())
	}
	switch {
	case f.Hang:
		parts = append(parts, "hang")
	case f.Reset:
		parts = append(parts, "reset")
	case f.Status != 0:
		s := fmt.Sprintf("status %d", f.Status)
		if f.RetryAfter != "" {
			s += " (Retry-After " + f.RetryAfter + ")"
		}
		parts = append(parts, s)
	case f.End:
		parts = append(parts, fmt.Sprintf("end after %d bytes", f.After))
	case f.Cut:
		parts = append(parts, fmt.Sprintf("cut after %d bytes", f.After))
	case f.ResetBody:
		parts = append(parts, fmt.Sprintf("reset after %d bytes", f.After))
	case f.Stall:
		parts = append(parts, fmt.Sprintf("stall after %d bytes", f.After))
	}
	if f.Trickle > 0 {
		parts = append(parts, "trickle "+f.Trickle.String())
	}
	if len(parts) == 0 {
		return "pass"
	}
	return strings.Join(parts, ", ")
}

// Request is what a script sees of a request.
type Request struct {
	Method string
	Path   string // escaped path, as sent
	Header http.Header
	Body   []byte
}

// Script picks the fault for the n-th request since the script was set
// (counting from 0).
type Script func(n int, r Request) Fault

// Sequence gives the n-th request the n-th fault, and passes the ones after.
func Sequence(faults ...Fault) Script {
	return func(n int, _ Request) Fault {
		if n < len(faults) {
			return faults[n]
		}
		return Pass
	}
}

// Always gives every request the same fault: a storm.
func Always(f Fault) Script { return func(int, Request) Fault { return f } }

// Times gives the first n requests fault f, and passes the ones after.
func Times(n int, f Fault) Script {
	return func(i int, _ Request) Fault {
		if i < n {
			return f
		}
		return Pass
	}
}

// Attempt is the record of one request.
type Attempt struct {
	Method, Path string
	Fault        Fault
	Arrived      time.Time
	// Status is what the proxy answered or forwarded; 0 when it answered nothing.
	Status int
	// BodyBytes is how many bytes of the answer's body it sent.
	BodyBytes int
	// ClientGone is true when the request's context ended (the client
	// closed the connection or cancelled) while the proxy held or
	// delayed it, or while forwarding.
	ClientGone bool
	// Err is what went wrong forwarding, if anything.
	Err error
}

// Proxy is a running fault-injecting proxy.
type Proxy struct {
	// URL is the proxy's base URL, to use in place of the upstream's.
	URL string

	upstream  string
	script    Script
	transport *http.Transport
	closing   chan struct{}
	held      chan int // request numbers, as the proxy starts holding them
	gone      chan int // request numbers, as their clients go away

	mu       sync.Mutex
	attempts []Attempt
	base     int // requests received before the script was set
}

// New starts a proxy forwarding to upstream (a base URL such as an
// httptest server's) and misbehaving as script says. It is closed when the
// test ends.
func New(t testing.TB, upstream string, script Script) *Proxy {
	t.Helper()
	if script == nil {
		script = Always(Pass)
	}
	p := &Proxy{
		upstream: strings.TrimRight(upstream, "/"), script: script,
		// Compression off: forward the bytes the upstream sent.
		transport: &http.Transport{DisableCompression: true, MaxIdleConnsPerHost: 16},
		closing:   make(chan struct{}),
		held:      make(chan int, 1024),
		gone:      make(chan int, 1024),
	}
	ts := httptest.NewServer(http.HandlerFunc(p.serve))
	p.URL = ts.URL
	t.Cleanup(func() {
		close(p.closing)
		ts.CloseClientConnections()
		ts.Close()
		p.transport.CloseIdleConnections()
	})
	return p
}

// SetScript replaces the script for the requests that follow; the next
// request is the script's request 0.
func (p *Proxy) SetScript(s Script) {
	p.mu.Lock()
	p.script, p.base = s, len(p.attempts)
	p.mu.Unlock()
}

// Attempts is the number of requests received.
func (p *Proxy) Attempts() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.attempts)
}

// Log returns the record of every request received, in arrival order. A
// request still being answered shows what happened so far.
func (p *Proxy) Log() []Attempt {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Attempt(nil), p.attempts...)
}

// Held waits until the proxy holds a request (a Hang, or a Stall that has
// sent its bytes) and returns its number; it fails the test if none comes
// within a minute (a bound against hanging tests, not a speed check).
func (p *Proxy) Held(t testing.TB) int {
	t.Helper()
	select {
	case n := <-p.held:
		return n
	case <-time.After(time.Minute):
		t.Fatal("faultproxy: no request was held within a minute")
		return -1
	}
}

// Gone waits until the client of a request the proxy was holding or
// delaying went away, and returns the request's number; it fails the test
// if that does not happen within a minute.
func (p *Proxy) Gone(t testing.TB) int {
	t.Helper()
	select {
	case n := <-p.gone:
		return n
	case <-time.After(time.Minute):
		t.Fatal("faultproxy: the client of a held request did not go away within a minute")
		return -1
	}
}

func (p *Proxy) update(n int, f func(a *Attempt)) {
	p.mu.Lock()
	f(&p.attempts[n])
	p.mu.Unlock()
}

func (p *Proxy) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return // the client went away while sending
	}
	req := Request{Method: r.Method, Path: r.URL.EscapedPath(), Header: r.Header.Clone(), Body: body}
	p.mu.Lock()
	n := len(p.attempts)
	fault := p.script(n-p.base, req)
	p.attempts = append(p.attempts, Attempt{Method: r.Method, Path: req.Path, Fault: fault, Arrived: time.Now()})
	p.mu.Unlock()

	ctx := r.Context()
	leave := func() {
		p.update(n, func(a *Attempt) { a.ClientGone = true })
		notify(p.gone, n)
	}
	if fault.Delay > 0 {
		select {
		case <-time.After(fault.Delay):
		case <-ctx.Done():
			leave()
			return
		case <-p.closing:
			return
		}
	}
	switch {
	case fault.Hang:
		p.hold(ctx, n, leave)
		return
	case fault.Reset:
		reset(w, true)
		return
	case fault.Status != 0:
		p.status(w, n, fault)
		return
	}
	p.forward(ctx, w, r, n, body, fault, leave)
}

// hold keeps a request until its client leaves or the proxy closes.
func (p *Proxy) hold(ctx context.Context, n int, leave func()) {
	notify(p.held, n)
	select {
	case <-ctx.Done():
		leave()
	case <-p.closing:
	}
}

// status answers an error in a shape every client reads a message from:
// {"error": {"message"}} (OpenAI), {"message"} (AWS, Cohere), and the
// error type header AWS's SDK reads.
func (p *Proxy) status(w http.ResponseWriter, n int, f Fault) {
	msg := fmt.Sprintf("fault injected: %d %s", f.Status, http.StatusText(f.Status))
	typ := map[int]string{429: "ThrottlingException", 500: "InternalServerException", 503: "ServiceUnavailableException"}[f.Status]
	if typ == "" {
		typ = "InternalFailure"
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-ErrorType", typ)
	if f.RetryAfter != "" {
		w.Header().Set("Retry-After", f.RetryAfter)
	}
	body := fmt.Sprintf(`{"error":{"message":%q,"type":"fault"},"message":%q}`, msg, msg)
	w.WriteHeader(f.Status)
	io.WriteString(w, body)
	p.update(n, func(a *Attempt) { a.Status, a.BodyBytes = f.Status, len(body) })
}

// hopHeaders are the connection's own headers, never forwarded.
var hopHeaders = []string{"Connection", "Keep-Alive", "Proxy-Connection", "Te", "Trailer", "Transfer-Encoding", "Upgrade"}

func (p *Proxy) forward(ctx context.Context, w http.ResponseWriter, r *http.Request, n int, body []byte, f Fault, leave func()) {
	out, err := http.NewRequestWithContext(ctx, r.Method, p.upstream+r.URL.RequestURI(), bytes.NewReader(body))
	if err != nil {
		p.update(n, func(a *Attempt) { a.Err = err })
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	out.Header = r.Header.Clone()
	for _, h := range hopHeaders {
		out.Header.Del(h)
	}
	// Keep the Host the client signed (AWS's SigV4 covers it).
	out.Host = r.Host
	resp, err := p.transport.RoundTrip(out)
	if err != nil {
		if ctx.Err() != nil {
			leave()
			return
		}
		p.update(n, func(a *Attempt) { a.Err = err })
		http.Error(w, "faultproxy: upstream: "+err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	for k, vs := range resp.Header {
		w.Header()[k] = vs
	}
	for _, h := range hopHeaders {
		w.Header().Del(h)
	}
	if f.After > 0 || f.End || f.Cut || f.ResetBody || f.Stall {
		// The answer will not be whole: let the client find out from the
		// connection rather than from a length it can check in advance
		// (as a stream, which has none, would).
		w.Header().Del("Content-Length")
	}
	w.WriteHeader(resp.StatusCode)
	p.update(n, func(a *Attempt) { a.Status = resp.StatusCode })
	flush := func() {
		if fl, ok := w.(http.Flusher); ok {
			fl.Flush()
		}
	}
	flush()

	limit := -1 // bytes to send before the body fault; -1 for all
	if f.End || f.Cut || f.ResetBody || f.Stall {
		limit = f.After
	}
	sent := 0
	buf := make([]byte, 32*1024)
	for limit < 0 || sent < limit {
		want := len(buf)
		if f.Trickle > 0 {
			want = 16
		}
		if limit >= 0 {
			want = min(want, limit-sent)
		}
		k, rerr := resp.Body.Read(buf[:want])
		if k > 0 {
			if f.Trickle > 0 {
				select {
				case <-time.After(f.Trickle):
				case <-ctx.Done():
					leave()
					return
				case <-p.closing:
					return
				}
			}
			if _, werr := w.Write(buf[:k]); werr != nil {
				if ctx.Err() != nil {
					leave()
					return
				}
				p.update(n, func(a *Attempt) { a.Err = werr })
				return
			}
			flush()
			sent += k
			p.update(n, func(a *Attempt) { a.BodyBytes = sent })
		}
		if rerr == io.EOF {
			return // the whole answer went through
		}
		if rerr != nil {
			if ctx.Err() != nil {
				leave()
				return
			}
			p.update(n, func(a *Attempt) { a.Err = rerr })
			return
		}
	}
	switch {
	case f.Cut:
		reset(w, false)
	case f.ResetBody:
		reset(w, true)
	case f.Stall:
		p.hold(ctx, n, leave)
	}
}

// notify sends n on c unless c is full (a test that does not wait on it).
func notify(c chan int, n int) {
	select {
	case c <- n:
	default:
	}
}

// reset takes the connection from the server and closes it: with an RST
// when hard (SO_LINGER 0), else with a plain close.
func reset(w http.ResponseWriter, hard bool) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, buf, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if buf != nil {
		buf.Flush()
	}
	if tc, ok := conn.(*net.TCPConn); ok && hard {
		tc.SetLinger(0)
	}
	conn.Close()
}
