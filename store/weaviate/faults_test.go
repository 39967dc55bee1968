package weaviate_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/distill-rag/distill/internal/testsupport/weaviatetest"
	"github.com/distill-rag/distill/store"
	"github.com/distill-rag/distill/store/weaviate"
)

func TestParseURI(t *testing.T) {
	t.Setenv(weaviate.EnvAPIKey, "")
	t.Setenv(weaviate.EnvGRPC, "")
	tests := []struct {
		uri     string
		want    weaviate.Config
		wantErr string
	}{
		{uri: "weaviate:http://127.0.0.1:8080", want: weaviate.Config{GRPC: "127.0.0.1:50051", Collection: "Distill", Timeout: 30 * time.Second, Batch: 200, Consistency: "QUORUM", Retries: 4}},
		{uri: "weaviate:http://db:9000?collection=manuals&grpc=9001&batch=50&replicas=3&shards=2&consistency=one&timeout=5s&retries=0",
			want: weaviate.Config{GRPC: "db:9001", Collection: "Manuals", Timeout: 5 * time.Second, Batch: 50, Replicas: 3, Shards: 2, Consistency: "ONE"}},
		{uri: "weaviate:https://cluster.example?grpc=grpc.example:443&api_key=s3cret", want: weaviate.Config{GRPC: "grpc.example:443", APIKey: "s3cret", Collection: "Distill", Timeout: 30 * time.Second, Batch: 200, Consistency: "QUORUM", Retries: 4}},
		{uri: "weaviate:http://h1:8080,h2?collection=x&grpc=h1:1", wantErr: "one host:port per node"},
		{uri: "weaviate:http://h1:8080,h2?grpc=1,2,3", wantErr: "one gRPC port for all nodes or one per node (2)"},
		{uri: "weaviate:http://h1:8080,?grpc=1", wantErr: `bad node address ""`},
		{uri: "weaviate:127.0.0.1:8080", wantErr: "http:// or https://"},
		{uri: "weaviate:http://h:1/Manuals", wantErr: "?collection=NAME"},
		{uri: "weaviate:http://h:1?collection=9lives", wantErr: "must start with a letter"},
		{uri: "weaviate:http://h:1?collection=my-docs", wantErr: "must start with a letter"},
		{uri: "weaviate:http://h:1?batch=0", wantErr: "batch=0: must be positive"},
		{uri: "weaviate:http://h:1?timeout=soon", wantErr: "timeout=soon"},
		{uri: "weaviate:http://h:1?consistency=MOST", wantErr: "ONE, QUORUM or ALL"},
		{uri: "weaviate:http://h:1?grpc=abc", wantErr: "want a port or host:port"},
		{uri: "weaviate:http://h:1?colection=x", wantErr: `unknown option "colection"`},
		{uri: "weaviate:http://h:1?api_key=s3cret&colection=x", wantErr: "api_key=REDACTED"},
		{uri: "weaviate:http://h:1?api_key=a&api_key=s3cret&batch=x", wantErr: "api_key=REDACTED&api_key=REDACTED&batch=x"},
	}
	for _, tc := range tests {
		t.Run(tc.uri, func(t *testing.T) {
			got, err := weaviate.ParseURI(tc.uri)
			if tc.wantErr != "" {
				var ue *weaviate.URIError
				if !errors.As(err, &ue) || !strings.Contains(err.Error(), tc.wantErr) || strings.Contains(err.Error(), "s3cret") {
					t.Fatalf("error %v, want a URIError containing %q without the key", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got.Nodes) == 0 || got.Nodes[0].URL != got.URL || got.Nodes[0].GRPC != got.GRPC {
				t.Fatalf("nodes %+v do not start with the URL and gRPC endpoint", got.Nodes)
			}
			got.URL, got.Nodes = nil, nil
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %+v\nwant %+v", got, tc.want)
			}
		})
	}
	t.Run("several nodes", func(t *testing.T) {
		got, err := weaviate.ParseURI("weaviate:http://h1:8080,h2,10.0.0.3:9000?grpc=50051,h2:6000,7000&collection=c")
		if err != nil {
			t.Fatal(err)
		}
		var nodes []string
		for _, n := range got.Nodes {
			nodes = append(nodes, n.URL.String()+" "+n.GRPC)
		}
		want := []string{"http://h1:8080 h1:50051", "http://h2:8080 h2:6000", "http://10.0.0.3:9000 10.0.0.3:7000"}
		if strings.Join(nodes, "|") != strings.Join(want, "|") || got.String() != "weaviate:http://h1:8080,h2:8080,10.0.0.3:9000?collection=C" {
			t.Fatalf("nodes %q, String %s", nodes, got.String())
		}
		one, err := weaviate.ParseURI("weaviate:http://h1,h2?grpc=7000")
		if err != nil || one.Nodes[1].GRPC != "h2:7000" {
			t.Fatalf("one gRPC port for all: %+v, %v", one.Nodes, err)
		}
	})
	t.Run("environment", func(t *testing.T) {
		t.Setenv(weaviate.EnvAPIKey, "from-env")
		t.Setenv(weaviate.EnvGRPC, "10.0.0.1:7000")
		got, err := weaviate.ParseURI("weaviate:http://h:1")
		if err != nil || got.APIKey != "from-env" || got.GRPC != "10.0.0.1:7000" || got.URL.String() != "http://h:1" {
			t.Fatalf("got %+v, %v", got, err)
		}
	})
}

// fakeWeaviate answers the first request distill makes, reading the
// schema of the chunk class, as a failing Weaviate would.
func fakeWeaviate(t *testing.T, handle func(w http.ResponseWriter, r *http.Request)) (uri string, requests *atomic.Int64) {
	requests = &atomic.Int64{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && r.URL.Path == "/v1/meta" { // the client asks for the server version
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`{"hostname":"http://[::]:8080","modules":{},"version":"1.35.2"}`))
			return
		}
		requests.Add(1)
		if r.Method != http.MethodGet || r.URL.Path != "/v1/schema/FaultsChunk" {
			t.Errorf("unexpected request %s %s", r.Method, r.URL.Path)
			http.NotFound(w, r)
			return
		}
		if got := r.Header.Get("Authorization"); got != "Bearer k3y" {
			t.Errorf("Authorization header %q", got)
		}
		handle(w, r)
	}))
	t.Cleanup(srv.Close)
	return "weaviate:" + srv.URL + "?collection=Faults&retries=2&grpc=127.0.0.1:1", requests
}

func TestFaults(t *testing.T) {
	t.Setenv(weaviate.EnvAPIKey, "k3y")
	ctx := context.Background()
	open := func(uri string) error {
		_, err := weaviate.Open(ctx, uri, store.Options{Create: true, Splits: testSplits})
		return err
	}
	closedPort := func() string {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		return addr
	}
	weaviateError := func(err error, wants ...string) {
		t.Helper()
		var we *weaviate.Error
		if !errors.As(err, &we) {
			t.Fatalf("error %v (%T) is not a *weaviate.Error", err, err)
		}
		for _, w := range append(wants, "weaviate:http://", "collection=Faults") {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("error %q does not say %q", err, w)
			}
		}
	}

	t.Run("down", func(t *testing.T) {
		start := time.Now()
		err := open("weaviate:http://" + closedPort() + "?collection=Faults&retries=2")
		weaviateError(err, "cannot connect", "after 3 attempts")
		if time.Since(start) > 10*time.Second {
			t.Errorf("gave up after %s", time.Since(start))
		}
	})
	t.Run("server error", func(t *testing.T) {
		uri, n := fakeWeaviate(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusInternalServerError)
			w.Write([]byte(`{"error":[{"message":"could not read schema: disk I/O error"}]}`))
		})
		weaviateError(open(uri), "Weaviate answered 500: could not read schema: disk I/O error")
		if n.Load() != 1 {
			t.Errorf("a plain server error was sent %d times; it is not transient", n.Load())
		}
	})
	t.Run("unavailable then up", func(t *testing.T) {
		uri, n := fakeWeaviate(t, func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusServiceUnavailable)
			w.Write([]byte(`{"error":[{"message":"not ready"}]}`))
		})
		weaviateError(open(uri), "Weaviate answered 503: not ready", "after 3 attempts")
		if n.Load() != 3 {
			t.Errorf("503 was tried %d times, want 3 (retries=2)", n.Load())
		}
	})
	t.Run("slow", func(t *testing.T) {
		release := make(chan struct{})
		uri, _ := fakeWeaviate(t, func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		})
		defer close(release)
		err := open(strings.Replace(uri, "retries=2", "retries=0&timeout=300ms", 1))
		weaviateError(err, "no answer in time")
	})
	t.Run("cancelled", func(t *testing.T) {
		uri, _ := fakeWeaviate(t, func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
		ctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		defer cancel()
		_, err := weaviate.Open(ctx, uri, store.Options{Create: true, Splits: testSplits})
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("got %v", err)
		}
	})
}

// TestServerGoesDown kills a server under an open store: every operation
// fails with an error naming the store, and nothing hangs.
func TestServerGoesDown(t *testing.T) {
	if testing.Short() {
		t.Skip("starts its own server")
	}
	ctx := context.Background()
	node := weaviatetest.StartCluster(t, 1)[0]
	s := openWeaviate(t, node.URI("Down", "retries=1", "timeout=5s"), true)
	doc, pages := corpusDoc(0, 2, "")
	writeDoc(t, s, doc, pages, true)
	node.Kill()
	checks := map[string]func() error{
		"search":    func() error { _, err := s.SearchText(ctx, "chunks", "zeppelin", 3); return err },
		"dense":     func() error { _, err := s.SearchVector(ctx, "chunks", embed("zeppelin"), 3); return err },
		"documents": func() error { _, err := s.Documents(ctx); return err },
		"page":      func() error { _, err := s.Page(ctx, doc.ID, 1); return err },
		"delete":    func() error { _, err := s.Delete(ctx, doc.ID); return err },
		"write": func() error {
			w, err := begin(ctx, s, doc, true)
			if err != nil {
				return err
			}
			defer w.Rollback()
			if err := w.AddPage(ctx, pages[0], chunksWithVectors(pages[0].Text, true)); err != nil {
				return err
			}
			return w.Commit(ctx)
		},
	}
	for name, check := range checks {
		t.Run(name, func(t *testing.T) {
			err := check()
			var we *weaviate.Error
			if !errors.As(err, &we) || !strings.Contains(err.Error(), "collection=Down") ||
				!strings.Contains(err.Error(), "cannot") {
				t.Fatalf("got %v", err)
			}
		})
	}
}

// FuzzParseURI checks that any URI either parses into a usable
// configuration or is refused with a URIError that never shows a key.
func FuzzParseURI(f *testing.F) {
	for _, s := range []string{"weaviate:http://127.0.0.1:8080", "weaviate:https://a,b:9?grpc=1,2&api_key=s3cretK3y",
		"weaviate:http://h?collection=X&timeout=1s&batch=3", "weaviate:http://[::1]:8080?grpc=[::1]:50051", "weaviate:http://h:1/x?api_key=s3cretK3y&batch=0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		c, err := weaviate.ParseURI(raw)
		if err != nil {
			var ue *weaviate.URIError
			if !errors.As(err, &ue) {
				t.Fatalf("%q: error %T %v", raw, err, err)
			}
			for _, key := range apiKeys(raw) {
				if strings.Contains(err.Error(), key) {
					t.Fatalf("%q: key %q shown in %v", raw, key, err)
				}
			}
			return
		}
		if len(c.Nodes) == 0 || c.URL == nil || c.GRPC == "" || c.Batch <= 0 || c.Timeout <= 0 || c.Collection == "" {
			t.Fatalf("%q parsed into an unusable %+v", raw, c)
		}
		if c.APIKey != "" && strings.Contains(c.String(), "api_key") {
			t.Fatalf("%q: String shows the key: %s", raw, c.String())
		}
	})
}

// apiKeys returns the api_key values of a URI that appear nowhere else in
// it, so that finding one in an error means the key leaked.
func apiKeys(raw string) []string {
	var keys []string
	rest := raw
	without := raw
	for {
		i := strings.Index(rest, "api_key=")
		if i < 0 {
			break
		}
		rest = rest[i+len("api_key="):]
		v := rest
		if j := strings.IndexByte(v, '&'); j >= 0 {
			v = v[:j]
		}
		keys = append(keys, v)
		without = strings.Replace(without, "api_key="+v, "", 1)
	}
	for _, r := range raw {
		if r < 0x20 || r > 0x7e {
			return nil // errors quote such bytes as escapes, which could spell anything
		}
	}
	var out []string
	for _, k := range keys {
		// Keys look like keys: long runs of letters and digits that the
		// fixed wording of an error cannot contain by chance.
		if len(k) >= 8 && strings.Trim(k, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") == "" && !strings.Contains(without, k) {
			out = append(out, k)
		}
	}
	return out
}
