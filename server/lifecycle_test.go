package server_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/distill-rag/distill"
	"github.com/distill-rag/distill/internal/testsupport/fakellm"
	"github.com/distill-rag/distill/model"
	"github.com/distill-rag/distill/server"
)

// conversation needs condensing, so a configured model is called.
const conversation = `{"model": "regular", "stream": %s, "messages": [
	{"role": "user", "content": "What did Alpha Widgets launch in 2021?"},
	{"role": "assistant", "content": "The Zephyr line."},
	{"role": "user", "content": "What did they buy next?"}]}`

func chatBody(stream bool) string {
	return strings.Replace(conversation, "%s", map[bool]string{true: "true", false: "false"}[stream], 1)
}

// blockingLLM is a model whose calls wait for the test: entered receives a
// value when a call starts, and the call ends when release is closed or
// its context is done (recorded in canceled).
type blockingLLM struct {
	*fakellm.LLM
	entered  chan struct{}
	release  chan struct{}
	canceled atomic.Int32
}

func newBlockingLLM(t *testing.T) (*blockingLLM, string) {
	b := &blockingLLM{entered: make(chan struct{}, 10), release: make(chan struct{}),
		LLM: fakellm.New(func(string) fakellm.Reply { return fakellm.Reply{Text: "What did Alpha Widgets acquire in 2022?"} })}
	return b, fakellm.Register(t.Name(), b)
}

func (b *blockingLLM) Generate(ctx context.Context, req model.Request) (model.Response, error) {
	return b.Stream(ctx, req, nil)
}

func (b *blockingLLM) Stream(ctx context.Context, req model.Request, onToken func(string) error) (model.Response, error) {
	b.entered <- struct{}{}
	select {
	case <-b.release:
	case <-ctx.Done():
		b.canceled.Add(1)
		return model.Response{}, ctx.Err()
	}
	return b.LLM.Stream(ctx, req, onToken)
}

func TestClientDisconnectMidStream(t *testing.T) {
	llm, uri := newBlockingLLM(t)
	e := start(t, func(c *server.Config) { c.Models = distill.Models{LLM: uri} }).withLetters()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "POST", e.url+"/v1/chat/completions", strings.NewReader(chatBody(true)))
	req.Header.Set("Content-Type", "application/json")
	// The stream starts with the answer's first token, so the client
	// waits for its headers while the model works; it leaves then.
	done := make(chan error, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req) // not the validating client: it would read to the end
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()
	<-llm.entered
	cancel()
	if err := <-done; err == nil {
		t.Fatal("the request succeeded although the client left")
	}
	// The model call is canceled with the request...
	for i := 0; llm.canceled.Load() == 0; i++ {
		if i > 2000 {
			t.Fatal("the model call was not canceled when the client left")
		}
		time.Sleep(5 * time.Millisecond)
	}
	// ...and the server serves on.
	e.do("GET", "/v1/collections", nil).ok(t, 200, nil)
	close(llm.release)
	e.do("POST", "/v1/chat/completions", chatBody(false)).ok(t, 200, nil)
}

func TestRequestTimeout(t *testing.T) {
	llm, uri := newBlockingLLM(t)
	e := start(t, func(c *server.Config) {
		c.Models = distill.Models{LLM: uri}
		c.RequestTimeout = 200 * time.Millisecond
	}).withLetters()
	r := e.do("POST", "/v1/chat/completions", chatBody(false))
	if r.status != 504 || r.errorType() != "timeout_error" {
		t.Errorf("non-streaming: %d %s", r.status, r.body)
	}
	// A stream whose model times out before its first token is a plain
	// 504 too: the stream starts with the first token.
	r = e.do("POST", "/v1/chat/completions", chatBody(true))
	if r.status != 504 || r.errorType() != "timeout_error" {
		t.Errorf("streaming, timed out before the first token: %d %s", r.status, r.body)
	}
	if llm.canceled.Load() != 2 {
		t.Errorf("%d model calls canceled, want 2", llm.canceled.Load())
	}
}

func TestGracefulShutdown(t *testing.T) {
	llm, uri := newBlockingLLM(t)
	e := start(t, func(c *server.Config) { c.Models = distill.Models{LLM: uri} }).withLetters()
	srv, err := server.New(context.Background(), e.cfg) // a second server on the same data
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, ln) }()
	url := "http://" + ln.Addr().String()

	type result struct {
		status int
		body   string
		err    error
	}
	running := make(chan result, 1)
	go func() {
		resp, err := http.Post(url+"/v1/chat/completions", "application/json", strings.NewReader(chatBody(false)))
		if err != nil {
			running <- result{err: err}
			return
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		running <- result{status: resp.StatusCode, body: string(body)}
	}()
	<-llm.entered
	stop()
	// New connections are refused while the running request goes on.
	for i := 0; ; i++ {
		_, err := http.Get(url + "/healthz")
		if err != nil {
			break
		}
		if i > 2000 {
			t.Fatal("the server still accepts connections after shutdown began")
		}
		time.Sleep(5 * time.Millisecond)
	}
	close(llm.release)
	res := <-running
	if res.err != nil || res.status != 200 || !strings.Contains(res.body, "Borealis") {
		t.Errorf("the running request did not finish: %+v", res)
	}
	if err := <-served; err != nil {
		t.Errorf("Serve: %v", err)
	}
	if llm.canceled.Load() != 0 {
		t.Errorf("shutdown canceled a running request")
	}
}
