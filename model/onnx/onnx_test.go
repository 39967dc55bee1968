package onnx

import (
	"context"
	"errors"
	"io"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/distill-rag/distill/internal/testsupport/onnxgen"
	"github.com/distill-rag/distill/model"
)

var sentences = []string{
	"The cat sat on the mat.",
	"Revenue grew 12% to $40 million in June!",
	"Über-fast delivery now covers Zürich.",
	"a",
	"",
	"What is the zephyr line of solar lanterns? It was discontinued.",
	"qwerty unknownword",
}

// refPool pools reference token vectors the way sentence-transformers
// describes each mode.
func refPool(mode string, toks [][]float64) []float64 {
	out := make([]float64, len(toks[0]))
	switch mode {
	case "cls":
		copy(out, toks[0])
	case "mean":
		for _, t := range toks {
			for i, v := range t {
				out[i] += v / float64(len(toks))
			}
		}
	case "max":
		copy(out, toks[0])
		for _, t := range toks {
			for i, v := range t {
				out[i] = math.Max(out[i], v)
			}
		}
	}
	return out
}

func refNormalize(v []float64) []float64 {
	var s float64
	for _, x := range v {
		s += x * x
	}
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = x / math.Sqrt(s)
	}
	return out
}

func maxDiff(t *testing.T, got []float32, want []float64) float64 {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("dimension %d, want %d", len(got), len(want))
	}
	var d float64
	for i := range want {
		d = math.Max(d, math.Abs(float64(got[i])-want[i]))
	}
	return d
}

func TestEmbedMatchesReference(t *testing.T) {
	tests := []struct {
		name    string
		cfg     func(*onnxgen.Config)
		files   onnxgen.Files
		opts    url.Values
		pooling string
		norm    bool
		purpose model.Purpose
		prefix  string
		maxLen  int
	}{
		{name: "bge-style cls+normalize", files: onnxgen.Files{Pooling: "cls", Normalize: true}, pooling: "cls", norm: true},
		{name: "minilm-style mean+normalize", files: onnxgen.Files{Pooling: "mean", Normalize: true}, pooling: "mean", norm: true},
		{name: "mean without normalize", files: onnxgen.Files{Pooling: "mean"}, pooling: "mean"},
		{name: "no sentence-transformers config means mean", files: onnxgen.Files{}, pooling: "mean"},
		{name: "pooling and normalize options win", files: onnxgen.Files{Pooling: "mean"}, opts: url.Values{"pooling": {"max"}, "normalize": {"true"}}, pooling: "max", norm: true},
		{name: "external weights in onnx folder", files: onnxgen.Files{ONNX: "onnx/model.onnx", ExternalData: true, Pooling: "cls", Normalize: true}, pooling: "cls", norm: true},
		{name: "decomposed layer norm, no token types", cfg: func(c *onnxgen.Config) { c.DecomposedLayerNorm, c.NoTokenTypes = true, true }, files: onnxgen.Files{Pooling: "mean"}, pooling: "mean"},
		{name: "query prompt from config", files: onnxgen.Files{Pooling: "cls", QueryPrompt: "Represent this sentence for searching relevant passages: "}, pooling: "cls", purpose: model.ForQuery, prefix: "Represent this sentence for searching relevant passages: "},
		{name: "query prefix option", files: onnxgen.Files{Pooling: "cls", QueryPrompt: "search: "}, opts: url.Values{"query_prefix": {"question: "}}, pooling: "cls", purpose: model.ForQuery, prefix: "question: "},
		{name: "documents get no query prompt", files: onnxgen.Files{Pooling: "cls", QueryPrompt: "search: "}, pooling: "cls"},
		{name: "max_seq_length truncates", files: onnxgen.Files{Pooling: "mean", MaxSeqLength: 6}, pooling: "mean", maxLen: 6},
		{name: "tokenizer truncation", files: onnxgen.Files{Pooling: "mean", Truncation: 5}, pooling: "mean", maxLen: 5},
		{name: "max_tokens option and small batches", files: onnxgen.Files{Pooling: "mean"}, opts: url.Values{"max_tokens": {"4"}, "batch": {"2"}}, pooling: "mean", maxLen: 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := onnxgen.Tiny()
			if tt.cfg != nil {
				tt.cfg(&cfg)
			}
			m := onnxgen.New(cfg)
			dir := t.TempDir()
			if err := m.Write(dir, tt.files); err != nil {
				t.Fatal(err)
			}
			e, err := model.OpenEmbedder(context.Background(), "onnx:"+dir+"?"+tt.opts.Encode())
			if err != nil {
				t.Fatal(err)
			}
			defer e.(io.Closer).Close() // model.OpenEmbedder wraps the *Embedder
			if want := "onnx:" + dir; e.Name() != want {
				t.Errorf("Name() = %q, want %q", e.Name(), want)
			}
			vecs, err := e.Embed(context.Background(), sentences, tt.purpose)
			if err != nil {
				t.Fatal(err)
			}
			if len(vecs) != len(sentences) {
				t.Fatalf("%d vectors for %d texts", len(vecs), len(sentences))
			}
			for i, s := range sentences {
				ids, types := m.Encode(tt.prefix+s, tt.maxLen)
				want := refPool(tt.pooling, m.HiddenStates(ids, types))
				if tt.norm {
					want = refNormalize(want)
				}
				if d := maxDiff(t, vecs[i], want); d > 1e-4 {
					t.Errorf("text %d %q: max difference from reference %g", i, s, d)
				}
			}
		})
	}
}

func TestPoolingChangesVectors(t *testing.T) {
	// Guards the reference comparison: pooling modes must give different
	// vectors on these weights, or a wrong mode could pass.
	m := onnxgen.New(onnxgen.Tiny())
	ids, types := m.Encode(sentences[0], 0)
	h := m.HiddenStates(ids, types)
	cls, mean := refPool("cls", h), refPool("mean", h)
	var d float64
	for i := range cls {
		d = math.Max(d, math.Abs(cls[i]-mean[i]))
	}
	if d < 0.1 {
		t.Fatalf("cls and mean pooling differ by only %g", d)
	}
}

func TestTokenizerMatchesReference(t *testing.T) {
	m := onnxgen.New(onnxgen.Tiny())
	dir := t.TempDir()
	if err := m.Write(dir, onnxgen.Files{}); err != nil {
		t.Fatal(err)
	}
	tok, limit, err := loadTokenizer(dir, "tokenizer.json")
	if err != nil {
		t.Fatal(err)
	}
	if limit != 0 {
		t.Errorf("truncation limit %d, want 0", limit)
	}
	tok.maxLen = 512
	for _, s := range sentences {
		got, err := tok.encode(s)
		if err != nil {
			t.Fatal(err)
		}
		ids, types := m.Encode(s, 0)
		if !equal(got.ids, ids) || !equal(got.types, types) {
			t.Errorf("encode(%q) = %v %v, want %v %v", s, got.ids, got.types, ids, types)
		}
	}
	pairs := [][2]string{{"what grew", "Revenue grew 12% to $40 million in June!"}, {"", "the cat"}, {"the cat sat on the mat", "a"}}
	for _, maxLen := range []int{512, 8, 5} {
		tok.maxLen = maxLen
		for _, p := range pairs {
			got, err := tok.encodePair(p[0], &p[1])
			if err != nil {
				t.Fatal(err)
			}
			ids, types := m.EncodePair(p[0], p[1], maxLen)
			if !equal(got.ids, ids) || !equal(got.types, types) {
				t.Errorf("max %d: encodePair(%q, %q) = %v %v, want %v %v", maxLen, p[0], p[1], got.ids, got.types, ids, types)
			}
		}
	}
}

func equal(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestRerankMatchesReference(t *testing.T) {
	tests := []struct {
		name       string
		opts       url.Values
		activation func(float64) float64
	}{
		{name: "sigmoid", activation: sigmoid},
		{name: "raw logits", opts: url.Values{"activation": {"none"}, "batch": {"3"}}, activation: func(x float64) float64 { return x }},
	}
	cfg := onnxgen.Tiny()
	cfg.CrossEncoder = true
	m := onnxgen.New(cfg)
	dir := t.TempDir()
	if err := m.Write(dir, onnxgen.Files{}); err != nil {
		t.Fatal(err)
	}
	query := "what grew in june?"
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := model.OpenReranker(context.Background(), "onnx:"+dir+"?"+tt.opts.Encode())
			if err != nil {
				t.Fatal(err)
			}
			scores, err := r.Rerank(context.Background(), query, sentences)
			if err != nil {
				t.Fatal(err)
			}
			distinct := map[float64]bool{}
			for i, s := range sentences {
				ids, types := m.EncodePair(query, s, 512)
				want := tt.activation(m.Logit(ids, types))
				if math.Abs(scores[i]-want) > 1e-4 {
					t.Errorf("doc %d %q: score %g, want %g", i, s, scores[i], want)
				}
				distinct[math.Round(want*1e3)] = true
			}
			if len(distinct) < 3 {
				t.Errorf("reference scores barely differ: %v", distinct)
			}
		})
	}
}

func TestOpenErrors(t *testing.T) {
	m := onnxgen.New(onnxgen.Tiny())
	good := t.TempDir()
	if err := m.Write(good, onnxgen.Files{Pooling: "cls"}); err != nil {
		t.Fatal(err)
	}
	ce := onnxgen.Tiny()
	ce.CrossEncoder = true
	crossDir := t.TempDir()
	if err := onnxgen.New(ce).Write(crossDir, onnxgen.Files{}); err != nil {
		t.Fatal(err)
	}
	broken := func(change func(dir string)) string {
		dir := t.TempDir()
		if err := m.Write(dir, onnxgen.Files{ONNX: "onnx/model.onnx", ExternalData: true, Pooling: "cls"}); err != nil {
			t.Fatal(err)
		}
		change(dir)
		return dir
	}
	tests := []struct {
		name     string
		uri      string
		reranker bool
		want     []string // in the message
	}{
		{name: "missing folder", uri: "onnx:" + filepath.Join(good, "nope"), want: []string{"nope", "cannot open the model folder"}},
		{name: "no target", uri: "onnx:", want: []string{"want onnx:DIR"}},
		{name: "missing tokenizer", uri: "onnx:" + broken(func(d string) { os.Remove(filepath.Join(d, "tokenizer.json")) }), want: []string{"tokenizer.json", "missing"}},
		{name: "missing model", uri: "onnx:" + broken(func(d string) { os.RemoveAll(filepath.Join(d, "onnx")) }), want: []string{"model.onnx", "missing"}},
		{name: "missing external weights", uri: "onnx:" + broken(func(d string) { os.Remove(filepath.Join(d, "onnx", "model.onnx_data")) }), want: []string{"model.onnx_data", "missing"}},
		{name: "bad pooling config", uri: "onnx:" + broken(func(d string) { os.WriteFile(filepath.Join(d, "1_Pooling", "config.json"), []byte("{"), 0o644) }), want: []string{"1_Pooling/config.json", "not valid JSON"}},
		{name: "tokenizer of another shape", uri: "onnx:" + broken(func(d string) {
			os.WriteFile(filepath.Join(d, "tokenizer.json"), []byte(`{"model":{"type":"Nope"}}`), 0o644)
		}), want: []string{"tokenizer.json"}},
		{name: "garbage model", uri: "onnx:" + broken(func(d string) {
			os.WriteFile(filepath.Join(d, "onnx", "model.onnx"), []byte("not a model at all"), 0o644)
		}), want: []string{"model.onnx"}},
		{name: "two onnx files", uri: "onnx:" + broken(func(d string) {
			os.Rename(filepath.Join(d, "onnx", "model.onnx"), filepath.Join(d, "onnx", "a.onnx"))
			os.WriteFile(filepath.Join(d, "onnx", "b.onnx"), nil, 0o644)
		}), want: []string{"several ONNX files", "?file="}},
		{name: "file outside folder", uri: "onnx:" + good + "?file=../x.onnx", want: []string{"inside the model folder"}},
		{name: "unknown option", uri: "onnx:" + good + "?poolling=cls", want: []string{"poolling", "unknown", "pooling"}},
		{name: "bad pooling option", uri: "onnx:" + good + "?pooling=median", want: []string{"median"}},
		{name: "bad batch", uri: "onnx:" + good + "?batch=0", want: []string{"batch", "positive"}},
		{name: "unknown output", uri: "onnx:" + good + "?output=pooled", want: []string{"pooled", "last_hidden_state"}},
		{name: "embedder is not a reranker", uri: "onnx:" + good, reranker: true, want: []string{"last_hidden_state", "cross-encoder"}},
		{name: "reranker option on embedder", uri: "onnx:" + good + "?activation=none", want: []string{"activation", "unknown"}},
		{name: "cross-encoder is not an embedder", uri: "onnx:" + crossDir, want: []string{"logits", "reranker"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			if tt.reranker {
				_, err = model.OpenReranker(context.Background(), tt.uri)
			} else {
				_, err = model.OpenEmbedder(context.Background(), tt.uri)
			}
			if err == nil {
				t.Fatalf("opened %s", tt.uri)
			}
			var ue interface{ UserError() }
			if !errors.As(err, &ue) {
				t.Errorf("error %v (%T) is not marked as the user's", err, err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

func TestEmbedCancelled(t *testing.T) {
	dir := t.TempDir()
	if err := onnxgen.New(onnxgen.Tiny()).Write(dir, onnxgen.Files{}); err != nil {
		t.Fatal(err)
	}
	e, err := OpenEmbedder(context.Background(), "x", dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := e.Embed(ctx, sentences, model.ForDocuments); !errors.Is(err, context.Canceled) {
		t.Fatalf("Embed with a cancelled context = %v", err)
	}
	vecs, err := e.Embed(context.Background(), nil, model.ForDocuments)
	if err != nil || len(vecs) != 0 {
		t.Fatalf("Embed(nil) = %v, %v", vecs, err)
	}
}

func TestEmbedConcurrently(t *testing.T) {
	dir := t.TempDir()
	if err := onnxgen.New(onnxgen.Tiny()).Write(dir, onnxgen.Files{Pooling: "mean", Normalize: true}); err != nil {
		t.Fatal(err)
	}
	e, err := OpenEmbedder(context.Background(), "x", dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	want, err := e.Embed(context.Background(), sentences, model.ForDocuments)
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			got, err := e.Embed(context.Background(), sentences, model.ForDocuments)
			if err == nil {
				for i := range want {
					for k := range want[i] {
						if got[i][k] != want[i][k] {
							err = errors.New("concurrent Embed gave different vectors")
						}
					}
				}
			}
			errs <- err
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}
