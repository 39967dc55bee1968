package rerank_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/distill-rag/distill/internal/testsupport/fakererank"
	"github.com/distill-rag/distill/model"
	_ "github.com/distill-rag/distill/model/rerank"
)

var docs = []string{
	"The Zephyr lanterns were recalled in 2022.",
	"Revenue grew 12% to $40 million in 2021.",
	"Our warehouse in Kraków opened in June.",
	"Revenue grew 8% in 2022 after the Zephyr recall.",
}

const query = "How much did revenue grow in 2022?"

func TestRerankProviders(t *testing.T) {
	tei := fakererank.TEI(t, fakererank.Options{})
	teiKey := fakererank.TEI(t, fakererank.Options{Key: "hf-secret", MaxBatch: 3})
	cohere := fakererank.Cohere(t, fakererank.Options{Key: "co-secret"}, true)
	jina := fakererank.Cohere(t, fakererank.Options{Key: "jina-secret", MaxBatch: 2}, true)
	vllm := fakererank.Cohere(t, fakererank.Options{}, false)
	t.Setenv("COHERE_API_KEY", "co-secret")
	t.Setenv("JINA_API_KEY", "jina-secret")
	t.Setenv("HF_TOKEN", "hf-secret")
	tests := []struct {
		uri       string
		server    *fakererank.Server
		requests  int
		wantModel string
	}{
		{"tei:" + tei.URL, tei, 1, ""},
		// 4 documents: refused as a batch over 3, then sent in batches of 3.
		{"tei-rerank:" + teiKey.URL + "?key_env=HF_TOKEN", teiKey, 3, ""},
		{"cohere:rerank-v3.5?url=" + cohere.URL, cohere, 1, "rerank-v3.5"},
		{"jina:jina-reranker-v2-base-multilingual?url=" + jina.URL + "&batch=2", jina, 2, "jina-reranker-v2-base-multilingual"},
		{"vllm:" + vllm.URL, vllm, 1, ""},
		{"vllm:" + vllm.URL + "/?model=BAAI/bge-reranker-v2-m3", vllm, 1, "BAAI/bge-reranker-v2-m3"},
	}
	for _, tt := range tests {
		t.Run(tt.uri, func(t *testing.T) {
			r, err := model.OpenReranker(context.Background(), tt.uri)
			if err != nil {
				t.Fatal(err)
			}
			before := tt.server.Calls()
			scores, err := r.Rerank(context.Background(), query, docs)
			if err != nil {
				t.Fatal(err)
			}
			for i, d := range docs {
				if want := fakererank.Score(query, d); scores[i] != want {
					t.Errorf("score of document %d = %g, want %g (scores must come back in document order)", i, scores[i], want)
				}
			}
			reqs := tt.server.Requests()[before:]
			if len(reqs) != tt.requests {
				t.Errorf("%d requests, want %d", len(reqs), tt.requests)
			}
			if m, _ := reqs[0]["model"].(string); m != tt.wantModel {
				t.Errorf("model = %q, want %q", m, tt.wantModel)
			}
			if r.Name() != tt.uri {
				t.Errorf("name = %q", r.Name())
			}
		})
	}
}

func TestRerankErrors(t *testing.T) {
	overloaded := fakererank.TEI(t, fakererank.Options{Fail: 100})
	small := fakererank.TEI(t, fakererank.Options{MaxBatch: 2})
	partial := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"results": [{"index": 1, "relevance_score": 0.5}]}`)
	}))
	defer partial.Close()
	wrongIndex := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `[{"index": 7, "score": 0.5}]`)
	}))
	defer wrongIndex.Close()
	html := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<html>proxy login</html>`)
	}))
	defer html.Close()
	keyed := fakererank.Cohere(t, fakererank.Options{Key: "right"}, true)
	t.Setenv("COHERE_API_KEY", "wrong")
	tests := []struct {
		uri   string
		want  string
		named string // the part of the message that names the reranker
		calls int    // requests the server saw, when it counts them
		srv   *fakererank.Server
	}{
		{"tei:" + overloaded.URL + "?retries=1&backoff=1ms", "HTTP 503 Service Unavailable: model is overloaded", "tei " + overloaded.URL + "/rerank", 2, overloaded},
		{"tei:" + small.URL + "/nowhere", "HTTP 404 Not Found (unknown endpoint or model): no route /nowhere/rerank", "tei " + small.URL + "/nowhere/rerank", 0, nil},
		{"cohere:rerank-v3.5?url=" + keyed.URL, "HTTP 401 Unauthorized (check the credentials or API key): invalid api token", "cohere " + keyed.URL + "/v1/rerank", 1, keyed},
		{"vllm:http://127.0.0.1:1", "connection refused", "vllm http://127.0.0.1:1/v1/rerank", 0, nil},
		{"vllm:" + partial.URL, "answer has no score for document 0", "vllm:" + partial.URL, 0, nil},
		{"tei:" + wrongIndex.URL, "answer names document 7 of 4", "tei:" + wrongIndex.URL, 0, nil},
		{"tei:" + html.URL, `malformed answer ("<html>proxy login</html>")`, "tei " + html.URL + "/rerank", 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.uri, func(t *testing.T) {
			r, err := model.OpenReranker(context.Background(), tt.uri)
			if err != nil {
				t.Fatal(err)
			}
			_, err = r.Rerank(context.Background(), query, docs)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
			if !strings.HasPrefix(fmt.Sprint(err), tt.named) {
				t.Errorf("err = %v does not start with %q", err, tt.named)
			}
			if tt.srv != nil && tt.srv.Calls() != tt.calls {
				t.Errorf("%d requests, want %d", tt.srv.Calls(), tt.calls)
			}
		})
	}
}

func TestOpenRerankErrors(t *testing.T) {
	t.Setenv("COHERE_API_KEY", "")
	t.Setenv("JINA_API_KEY", "x")
	tests := []struct{ uri, want string }{
		{"tei:", "want the server's URL"},
		{"tei:localhost:8080", "not an http(s) URL"},
		{"tei:http://h?batch=0", "batch=0: want a positive number"},
		{"tei:http://h?timeout=soon", "timeout=soon: want a duration"},
		{"tei:http://h?truncate=maybe", "truncate=maybe: want true or false"},
		{"tei:http://h?colour=red", `unknown option "colour"`},
		{"tei:http://h?retries=-1", "retries=-1: want a whole number from 0 to 20"},
		{"tei:http://h?backoff=soon", "backoff=soon: want a duration"},
		{"cohere:rerank-v3.5", "no API key: set $COHERE_API_KEY"},
		{"jina:", "want the model"},
		{"vllm:", "want the server's URL"},
		{"tei:http://h?key_env=NO_SUCH_KEY_VAR", "no API key: set $NO_SUCH_KEY_VAR"},
	}
	for _, tt := range tests {
		_, err := model.OpenReranker(context.Background(), tt.uri)
		var ue *model.URIError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want a URI error with %q", tt.uri, err, tt.want)
		}
	}
}
