package faults_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/distill-rag/distill/internal/testsupport/fakemodel"
	"github.com/distill-rag/distill/internal/testsupport/fakererank"
	"github.com/distill-rag/distill/internal/testsupport/faultproxy"
	"github.com/distill-rag/distill/model"
	_ "github.com/distill-rag/distill/model/bedrock"
	_ "github.com/distill-rag/distill/model/ollama"
	_ "github.com/distill-rag/distill/model/openai"
	_ "github.com/distill-rag/distill/model/rerank"
	_ "github.com/distill-rag/distill/model/sagemaker"
	_ "github.com/distill-rag/distill/model/tei"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// answer is long enough that a stream of it takes many events.
const answer = "Revenue grew 8% in 2022 after the Zephyr recall, while the warehouse in Kraków opened in June and every lantern sold that year was replaced under warranty at no cost to the customer."

var question = []model.Message{{Role: "user", Content: "What happened in 2022?"}}

// family is a provider family and how to reach its fake through a proxy.
type family struct {
	name string
	aws  bool // its fake sets the process environment: not in parallel
	// serve starts the fake and returns its URL, and a function giving the
	// URI of target reached through a proxy at proxyURL.
	serve func(t *testing.T) (upstream string, uri func(t *testing.T, proxyURL, target string) string)
	ops   []op
}

// op is one kind of call.
type op struct {
	name     string
	provider string // what the error names
	target   string // model, endpoint or model ID
	stream   bool
	// call makes the call; onPiece sees each piece of a streamed answer.
	// It returns the result as text, to compare with a clean call's.
	call func(ctx context.Context, uri string, onPiece func(string)) (string, error)
}

func generate(ctx context.Context, uri string, _ func(string)) (string, error) {
	llm, err := model.OpenLLM(ctx, uri)
	if err != nil {
		return "", fmt.Errorf("open: %w", err)
	}
	resp, err := llm.Generate(ctx, model.Request{Messages: question})
	return resp.Text, err
}

func stream(ctx context.Context, uri string, onPiece func(string)) (string, error) {
	llm, err := model.OpenLLM(ctx, uri)
	if err != nil {
		return "", fmt.Errorf("open: %w", err)
	}
	resp, err := llm.Stream(ctx, model.Request{Messages: question}, func(s string) error {
		if onPiece != nil {
			onPiece(s)
		}
		return nil
	})
	return resp.Text, err
}

func embed(ctx context.Context, uri string, _ func(string)) (string, error) {
	e, err := model.OpenEmbedder(ctx, uri)
	if err != nil {
		return "", fmt.Errorf("open: %w", err)
	}
	vecs, err := e.Embed(ctx, []string{"revenue grew", "the warehouse opened", "lanterns were recalled"}, model.ForDocuments)
	return fmt.Sprint(vecs), err
}

func rerank(ctx context.Context, uri string, _ func(string)) (string, error) {
	r, err := model.OpenReranker(ctx, uri)
	if err != nil {
		return "", fmt.Errorf("open: %w", err)
	}
	scores, err := r.Rerank(ctx, "How much did revenue grow?", []string{"Revenue grew 8%.", "The warehouse opened.", "Lanterns were recalled."})
	return fmt.Sprint(scores), err
}

func llmOps(provider, llmTarget, embedTarget string) []op {
	return []op{
		{name: "generate", provider: provider, target: llmTarget, call: generate},
		{name: "stream", provider: provider, target: llmTarget, stream: true, call: stream},
		{name: "embed", provider: provider, target: embedTarget, call: embed},
	}
}

var families = []family{
	{
		name: "openai",
		serve: func(t *testing.T) (string, func(*testing.T, string, string) string) {
			srv := fakemodel.OpenAI(t, fakemodel.Reply(answer))
			return srv.URL, func(_ *testing.T, proxy, target string) string {
				return "openai:" + target + "?base_url=" + proxy + "/v1"
			}
		},
		ops: llmOps("openai", "gpt-4o-mini", "text-embedding-3-small"),
	},
	{
		name: "ollama",
		serve: func(t *testing.T) (string, func(*testing.T, string, string) string) {
			srv := fakemodel.Ollama(t, fakemodel.Reply(answer))
			return srv.URL, func(_ *testing.T, proxy, target string) string { return "ollama:" + target + "?host=" + proxy }
		},
		ops: llmOps("ollama", "mixtral", "nomic-embed-text"),
	},
	{
		name: "tei",
		serve: func(t *testing.T) (string, func(*testing.T, string, string) string) {
			srv := fakemodel.TEI(t)
			return srv.URL, func(_ *testing.T, proxy, _ string) string { return "tei:" + proxy }
		},
		ops: []op{{name: "embed", provider: "tei", call: embed}},
	},
	{
		name: "sagemaker", aws: true,
		serve: func(t *testing.T) (string, func(*testing.T, string, string) string) {
			srv := fakemodel.SageMaker(t, fakemodel.Reply(answer))
			return srv.URL, func(t *testing.T, proxy, target string) string {
				t.Setenv("AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME", proxy)
				return "sagemaker:" + target
			}
		},
		ops: llmOps("sagemaker", "jumpstart-dft-hf-llm-mixtral-8x7b-instruct", "jumpstart-dft-hf-textembedding-bge-large-en"),
	},
	{
		name: "bedrock", aws: true,
		serve: func(t *testing.T) (string, func(*testing.T, string, string) string) {
			srv := fakemodel.Bedrock(t, fakemodel.Reply(answer))
			return srv.URL, func(t *testing.T, proxy, target string) string {
				t.Setenv("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", proxy)
				return "bedrock:" + target
			}
		},
		ops: llmOps("bedrock", "mistral.mixtral-8x7b-instruct-v0:1", "cohere.embed-english-v3"),
	},
	{
		name: "rerank-tei",
		serve: func(t *testing.T) (string, func(*testing.T, string, string) string) {
			srv := fakererank.TEI(t, fakererank.Options{})
			return srv.URL, func(_ *testing.T, proxy, _ string) string { return "tei:" + proxy }
		},
		ops: []op{{name: "rerank", provider: "tei", call: rerank}},
	},
	{
		name: "rerank-cohere-style",
		serve: func(t *testing.T) (string, func(*testing.T, string, string) string) {
			srv := fakererank.Cohere(t, fakererank.Options{}, false)
			return srv.URL, func(_ *testing.T, proxy, _ string) string { return "vllm:" + proxy + "?model=BAAI/bge-reranker-v2-m3" }
		},
		ops: []op{{name: "rerank", provider: "vllm", call: rerank}},
	},
}

// withOptions adds URI options.
func withOptions(uri, opts string) string {
	if opts == "" {
		return uri
	}
	if strings.Contains(uri, "?") {
		return uri + "&" + opts
	}
	return uri + "?" + opts
}

// setup starts the family's fake behind a proxy running script and
// returns the proxy and the URI (with opts) that reaches the fake through it.
func setup(t *testing.T, f family, o op, script faultproxy.Script, opts string) (*faultproxy.Proxy, string) {
	t.Helper()
	upstream, uri := f.serve(t)
	p := faultproxy.New(t, upstream, script)
	t.Cleanup(func() {
		for _, a := range p.Log() {
			if a.Fault != faultproxy.Pass {
				injected.Add(1)
			}
		}
	})
	return p, withOptions(uri(t, p.URL, o.target), opts)
}

// checkError checks that err is a model error naming the provider, the
// endpoint (the URL for HTTP providers, the endpoint or model ID for AWS)
// and status (when not 0), in its fields and its message.
func checkError(t *testing.T, err error, f family, o op, p *faultproxy.Proxy, status int) *model.Error {
	t.Helper()
	var me *model.Error
	if !errors.As(err, &me) {
		t.Fatalf("error %v (%T), want a *model.Error", err, err)
	}
	endpoint := p.URL
	if f.aws {
		endpoint = o.target
	}
	if me.Provider != o.provider || !strings.Contains(me.Endpoint, endpoint) || (status != 0 && me.Status != status) {
		t.Errorf("error %q: provider %q, endpoint %q, status %d; want %q, %q, %d", err, me.Provider, me.Endpoint, me.Status, o.provider, endpoint, status)
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, o.provider+" ") || !strings.Contains(msg, endpoint) || (status != 0 && !strings.Contains(msg, "HTTP "+strconv.Itoa(status))) {
		t.Errorf("message %q does not name the provider %s, the endpoint %s and status %d", msg, o.provider, endpoint, status)
	}
	return me
}

// pieces collects a stream's pieces from any goroutine.
type pieces struct {
	mu    sync.Mutex
	list  []string
	first chan struct{}
}

func newPieces() *pieces { return &pieces{first: make(chan struct{})} }

func (p *pieces) add(s string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.list) == 0 {
		close(p.first)
	}
	p.list = append(p.list, s)
}

func (p *pieces) text() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.list, "")
}

// injected counts the faults the proxies injected (go test -v prints it).
var injected atomic.Int64

// TestFaults runs every scenario for every family and kind of call.
func TestFaults(t *testing.T) {
	t.Cleanup(func() { t.Logf("%d faults injected", injected.Load()) })
	for _, f := range families {
		t.Run(f.name, func(t *testing.T) {
			if !f.aws {
				t.Parallel()
			}
			for i, o := range f.ops {
				t.Run(o.name, func(t *testing.T) {
					for _, sc := range scenarios {
						if (sc.streams && !o.stream) || (sc.noStreams && o.stream) || (sc.firstOnly && i > 0) {
							continue
						}
						t.Run(sc.name, func(t *testing.T) { sc.run(t, f, o) })
					}
				})
			}
		})
	}
}

type scenario struct {
	name               string
	streams, noStreams bool // only for streamed calls, only for others
	firstOnly          bool // only for a family's first kind of call (it waits)
	run                func(t *testing.T, f family, o op)
}

// clean calls through a proxy that passes everything and returns the
// result and the size of the answer's body.
func clean(t *testing.T, p *faultproxy.Proxy, o op, uri string) (string, int) {
	t.Helper()
	p.SetScript(faultproxy.Always(faultproxy.Pass))
	want, err := o.call(t.Context(), uri, nil)
	if err != nil {
		t.Fatalf("clean call: %v", err)
	}
	log := p.Log()
	return want, log[len(log)-1].BodyBytes
}

var scenarios = []scenario{
	{name: "5xx storm: bounded retries", run: func(t *testing.T, f family, o op) {
		p, uri := setup(t, f, o, faultproxy.Always(faultproxy.Status(503, "")), "retries=2&backoff=1ms")
		_, err := o.call(t.Context(), uri, nil)
		if p.Attempts() != 3 {
			t.Errorf("%d attempts, want 3 (retries=2)", p.Attempts())
		}
		checkError(t, err, f, o, p, 503)
	}},
	{name: "429 storm without Retry-After: bounded retries", run: func(t *testing.T, f family, o op) {
		p, uri := setup(t, f, o, faultproxy.Always(faultproxy.Status(429, "")), "retries=3&backoff=1ms")
		_, err := o.call(t.Context(), uri, nil)
		if p.Attempts() != 4 {
			t.Errorf("%d attempts, want 4 (retries=3)", p.Attempts())
		}
		checkError(t, err, f, o, p, 429)
	}},
	{name: "429 with Retry-After is waited out", firstOnly: true, run: func(t *testing.T, f family, o op) {
		p, uri := setup(t, f, o, faultproxy.Times(1, faultproxy.Status(429, "1")), "retries=1&backoff=1ms")
		if _, err := o.call(t.Context(), uri, nil); err != nil {
			t.Fatal(err)
		}
		log := p.Log()
		if len(log) != 2 {
			t.Fatalf("%d attempts, want 2", len(log))
		}
		if gap := log[1].Arrived.Sub(log[0].Arrived); gap < time.Second {
			t.Errorf("retried after %v, before the 1s the server asked for", gap)
		}
	}},
	{name: "resets, 5xx and cut connections are retried", run: func(t *testing.T, f family, o op) {
		p, uri := setup(t, f, o, nil, "retries=4&backoff=1ms")
		want, _ := clean(t, p, o, uri)
		faults := []faultproxy.Fault{faultproxy.Reset, faultproxy.Status(500, ""), faultproxy.CutAfter(10), faultproxy.ResetAfter(10)}
		if o.stream {
			// A stream that ends early, before anything was shown.
			faults[1] = faultproxy.EndAfter(10)
		}
		p.SetScript(faultproxy.Sequence(append(faults, faultproxy.Delay(20*time.Millisecond))...))
		got, err := o.call(t.Context(), uri, nil)
		if err != nil {
			t.Fatalf("after 4 faults with 4 retries: %v (log %+v)", err, p.Log())
		}
		if got != want {
			t.Errorf("got %.80q, want %.80q", got, want)
		}
		if p.Attempts() != 6 {
			t.Errorf("%d attempts, want 1 clean + 5", p.Attempts())
		}
	}},
	{name: "an answer cut in the middle is retried", noStreams: true, run: func(t *testing.T, f family, o op) {
		p, uri := setup(t, f, o, nil, "backoff=1ms")
		want, size := clean(t, p, o, uri)
		p.SetScript(faultproxy.Times(1, faultproxy.CutAfter(size/2)))
		got, err := o.call(t.Context(), uri, nil)
		if err != nil || got != want {
			t.Fatalf("got %.80q, %v; want %.80q", got, err, want)
		}
		if p.Attempts() != 3 {
			t.Errorf("%d attempts, want 1 clean + 2", p.Attempts())
		}
	}},
	{name: "a slow answer arrives whole", run: func(t *testing.T, f family, o op) {
		p, uri := setup(t, f, o, nil, "")
		want, _ := clean(t, p, o, uri)
		p.SetScript(faultproxy.Always(faultproxy.Trickle(time.Millisecond)))
		got, err := o.call(t.Context(), uri, nil)
		if err != nil || got != want {
			t.Fatalf("got %.80q, %v; want %.80q", got, err, want)
		}
	}},
	{name: "hangs are cut by the timeout", run: func(t *testing.T, f family, o op) {
		p, uri := setup(t, f, o, faultproxy.Always(faultproxy.Hang), "timeout=200ms&retries=1&backoff=1ms")
		_, err := o.call(t.Context(), uri, nil)
		p.Gone(t)
		p.Gone(t)
		if p.Attempts() != 2 {
			t.Errorf("%d attempts, want 2", p.Attempts())
		}
		checkError(t, err, f, o, p, 0)
		if !strings.Contains(err.Error(), "no answer within 200ms") {
			t.Errorf("error %q does not say the timeout ran out", err)
		}
	}},
	{name: "cancelling reaches the request in flight", run: func(t *testing.T, f family, o op) {
		p, uri := setup(t, f, o, faultproxy.Always(faultproxy.Hang), "")
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		errc := make(chan error, 1)
		go func() {
			_, err := o.call(ctx, uri, nil)
			errc <- err
		}()
		p.Held(t)
		cancel()
		p.Gone(t) // the proxy saw the request's context end
		if err := <-errc; !errors.Is(err, context.Canceled) {
			t.Errorf("error %v, want context.Canceled", err)
		}
		if p.Attempts() != 1 {
			t.Errorf("%d attempts after cancelling, want 1", p.Attempts())
		}
	}},
	{name: "a stream ended, cut or reset mid-answer fails and is not retried", streams: true, run: func(t *testing.T, f family, o op) {
		for _, cut := range []func(int) faultproxy.Fault{faultproxy.EndAfter, faultproxy.CutAfter, faultproxy.ResetAfter} {
			p, uri := setup(t, f, o, nil, "retries=3&backoff=1ms")
			want, size := clean(t, p, o, uri)
			fault := cut(size / 2)
			p.SetScript(faultproxy.Always(fault))
			got := newPieces()
			text, err := o.call(t.Context(), uri, got.add)
			if err == nil {
				t.Fatalf("%v: no error; text %q (of %q)", fault, text, want)
			}
			checkError(t, err, f, o, p, 0)
			shown := got.text()
			if shown == "" || len(shown) >= len(want) || !strings.HasPrefix(want, shown) {
				t.Errorf("%v: shown %q before the error, want a part of %q", fault, shown, want)
			}
			if p.Attempts() != 2 {
				t.Errorf("%v: %d attempts, want 1 clean + 1 (no retry once text was shown)", fault, p.Attempts())
			}
		}
	}},
	{name: "a stream that stalls mid-answer times out", streams: true, run: func(t *testing.T, f family, o op) {
		p, uri := setup(t, f, o, nil, "timeout=300ms&retries=3&backoff=1ms")
		want, size := clean(t, p, o, uri)
		p.SetScript(faultproxy.Always(faultproxy.StallAfter(size / 2)))
		got := newPieces()
		_, err := o.call(t.Context(), uri, got.add)
		checkError(t, err, f, o, p, 0)
		if !strings.Contains(err.Error(), "within 300ms (timeout option)") {
			t.Errorf("error %q does not say the timeout ran out", err)
		}
		if shown := got.text(); shown == "" || !strings.HasPrefix(want, shown) {
			t.Errorf("shown %q, want a part of %q", shown, want)
		}
		if p.Attempts() != 2 {
			t.Errorf("%d attempts, want 1 clean + 1", p.Attempts())
		}
	}},
	{name: "cancelling a stalled stream reaches the request", streams: true, run: func(t *testing.T, f family, o op) {
		p, uri := setup(t, f, o, nil, "")
		_, size := clean(t, p, o, uri)
		p.SetScript(faultproxy.Always(faultproxy.StallAfter(size / 2)))
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		got := newPieces()
		errc := make(chan error, 1)
		go func() {
			_, err := o.call(ctx, uri, got.add)
			errc <- err
		}()
		p.Held(t)
		<-got.first
		cancel()
		p.Gone(t)
		if err := <-errc; !errors.Is(err, context.Canceled) {
			t.Errorf("error %v, want context.Canceled", err)
		}
	}},
}
