package compress

import (
	"context"
	"errors"
	"hash/fnv"
	"strings"
	"testing"
	"unicode"

	"github.com/distill-rag/distill/document"
	"github.com/distill-rag/distill/internal/testsupport/fakererank"
	"github.com/distill-rag/distill/model"
)

// wordEmbedder embeds texts as hashed bags of words: texts sharing words
// are similar, identical texts have cosine 1.
type wordEmbedder struct {
	calls int
	err   error
}

func (e *wordEmbedder) Name() string { return "words" }

func (e *wordEmbedder) Embed(_ context.Context, texts []string, _ model.Purpose) ([][]float32, error) {
	e.calls++
	if e.err != nil {
		return nil, e.err
	}
	out := make([][]float32, len(texts))
	for i, t := range texts {
		v := make([]float32, 256)
		for _, w := range strings.FieldsFunc(strings.ToLower(t), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
			h := fnv.New32a()
			h.Write([]byte(w))
			v[h.Sum32()%256]++
		}
		out[i] = v
	}
	return out, nil
}

// overlapReranker scores as the fake rerank servers do.
type overlapReranker struct {
	err error
}

func (r *overlapReranker) Name() string { return "overlap" }

func (r *overlapReranker) Rerank(_ context.Context, query string, docs []string) ([]float64, error) {
	if r.err != nil {
		return nil, r.err
	}
	out := make([]float64, len(docs))
	for i, d := range docs {
		out[i] = fakererank.Score(query, d)
	}
	return out, nil
}

func ids(ps []document.Passage) string {
	var out []string
	for _, p := range ps {
		out = append(out, p.ChunkID)
	}
	return strings.Join(out, " ")
}

func TestRerankStage(t *testing.T) {
	const q = "When did the warehouse in Kraków open?"
	tests := []struct {
		name      string
		reranker  model.Reranker
		src       string
		want      string
		wantNote  string
		wantError bool
	}{
		{"reorders best first", &overlapReranker{}, "type: rerank", "c a b d", "", false},
		{"keeps the top n", &overlapReranker{}, "{type: rerank, top_n: 2}", "c a", "", false},
		{"drops under the minimum score", &overlapReranker{}, "{type: rerank, min_score: 0.4}", "c", "dropped 3 passages scoring under 0.4", false},
		{"a failed reranker keeps the retrieval order", &overlapReranker{err: errors.New("503")}, "{type: rerank, top_n: 2}", "a b", "not reranked: overlap failed: 503; kept the retrieval order", false},
		{"strict fails", &overlapReranker{err: errors.New("503")}, "{type: rerank, strict: true}", "", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := build(t, Env{Reranker: tt.reranker}, tt.src)
			out, rep, err := c.Compress(context.Background(), q, passages())
			if tt.wantError {
				if err == nil || !strings.Contains(err.Error(), "rerank with overlap: 503") {
					t.Fatalf("err = %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := ids(out); got != tt.want {
				t.Errorf("passages %q, want %q", got, tt.want)
			}
			if !strings.Contains(strings.Join(rep.Notes, "\n"), tt.wantNote) {
				t.Errorf("notes %q lack %q", rep.Notes, tt.wantNote)
			}
			if rep.Usage.RerankCalls != 1 || rep.Usage.Calls != 0 {
				t.Errorf("usage = %+v", rep.Usage)
			}
			if tt.wantNote == "" {
				for _, p := range out {
					if want := fakererank.Score(q, p.Text); p.Score != want {
						t.Errorf("%s scored %g, want the reranker's %g", p.ChunkID, p.Score, want)
					}
				}
			}
		})
	}
}

func TestRerankWithoutRerankerIsUnavailable(t *testing.T) {
	c := build(t, Env{}, "type: rerank")
	_, _, err := c.Compress(context.Background(), "q", passages())
	if err == nil || !strings.Contains(err.Error(), `technique "t" needs a reranker for its rerank stage: give one with --rerank URI or $DISTILL_RERANK`) {
		t.Errorf("err = %v", err)
	}
}

func TestEmbeddingsFilter(t *testing.T) {
	const q = "warehouse Kraków opened June"
	tests := []struct {
		name string
		src  string
		want string
	}{
		{"top k keeps retrieval order", "{type: embeddings, top_k: 2}", "a c"},
		{"threshold", "{type: embeddings, threshold: 0.3}", "c"},
		{"both", "{type: embeddings, threshold: 0.01, top_k: 3}", "a c"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := &wordEmbedder{}
			in := passages()
			in[0].Text = "Alpha: Revenue grew in June."
			out, rep, err := build(t, Env{Embedder: e}, tt.src).Compress(context.Background(), q, in)
			if err != nil {
				t.Fatal(err)
			}
			if got := ids(out); got != tt.want {
				t.Errorf("kept %q, want %q (notes %q)", got, tt.want, rep.Notes)
			}
			if rep.Usage.EmbedCalls != 2 || e.calls != 2 {
				t.Errorf("embed calls = %d (made %d), want 2", rep.Usage.EmbedCalls, e.calls)
			}
		})
	}
	e := &wordEmbedder{err: errors.New("timeout")}
	out, rep, err := build(t, Env{Embedder: e}, "{type: embeddings, top_k: 1}").Compress(context.Background(), q, passages())
	if err != nil || len(out) != 4 || rep.Uncompressed != 4 || !strings.Contains(rep.Notes[0], "not filtered: embed the question with words: timeout") {
		t.Errorf("failed embedder: %d passages, report %+v, err %v", len(out), rep, err)
	}
	if _, err := Build(Env{Embedder: e}, stageOf(t, "type: embeddings")); err == nil || !strings.Contains(err.Error(), "give a similarity threshold, top_k or both") {
		t.Errorf("no limit: err = %v", err)
	}
	c := build(t, Env{}, "{type: embeddings, top_k: 2}")
	if _, ok := c.(*Unavailable); !ok {
		t.Errorf("without an embedder: %T, want unavailable", c)
	}
}

func TestRedundantFilter(t *testing.T) {
	in := passages()
	dup := in[2]
	dup.ChunkID, dup.Score = "c2", 1
	dup.Text = "Charlie: Our warehouse in Kraków opened in June.  It employs 40 people. "
	near := in[0]
	near.ChunkID = "a2"
	near.Text = "Alpha: Revenue grew 12% to $40 million in 2021. The board met twice, in Geneva and in Oslo."
	in = append(in, dup, near)
	tests := []struct {
		name     string
		embedder model.Embedder
		src      string
		want     string
	}{
		{"terms, default threshold", nil, "type: redundant", "a b c d a2"},
		{"terms, lower threshold", nil, "{type: redundant, threshold: 0.8}", "a b c d"},
		{"embeddings", &wordEmbedder{}, "type: redundant", "a b c d a2"},
		{"failed embedder falls back to terms", &wordEmbedder{err: errors.New("down")}, "type: redundant", "a b c d a2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, rep, err := build(t, Env{Embedder: tt.embedder}, tt.src).Compress(context.Background(), "q", in)
			if err != nil {
				t.Fatal(err)
			}
			if got := ids(out); got != tt.want {
				t.Errorf("kept %q, want %q (notes %q)", got, tt.want, rep.Notes)
			}
			if !strings.Contains(strings.Join(rep.Notes, "\n"), "dropped c2: 1.00 similar to c") {
				t.Errorf("notes %q", rep.Notes)
			}
		})
	}
}
