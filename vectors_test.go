package distill_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/distill-rag/distill"
	"github.com/distill-rag/distill/ingest"
	"github.com/distill-rag/distill/internal/testsupport"
	"github.com/distill-rag/distill/model"
	"github.com/distill-rag/distill/model/hashembed"
	"github.com/distill-rag/distill/store"
)

var letters = map[string]string{
	"zephyr.txt":     "The Zephyr line of solar lanterns launched in March and sold 90,000 units. A recall of 3,000 lanterns with faulty batteries ended the line.",
	"krakow.txt":     "Our warehouse in Krakow opened in June and now ships to Zurich and Malmo within two days.",
	"borealis.txt":   "We acquired Borealis Optics for 12 million euros to make lenses in-house.",
	"survey.txt":     "Customer satisfaction reached 91%, measured by our quarterly survey of 4,000 buyers.",
	"repair.txt":     "Looking ahead, we will invest in repair services so that products last longer.",
	"revenue.txt":    "Revenue grew 8% to 43 million dollars in 2022, after 12% growth the year before.",
	"lighthouse.txt": "The lighthouse keeper counted seagulls every morning.",
}

func writeLetters(t *testing.T) string {
	dir := t.TempDir()
	for name, text := range letters {
		testsupport.Write(t, dir, name, []byte(text))
	}
	return dir
}

func openEngine(t *testing.T, db, embed string) *distill.Engine {
	t.Helper()
	eng, err := distill.Open(context.Background(), distill.Options{DB: db, Create: true, Config: distill.BuiltinConfig(t), Models: distill.Models{Embed: embed}})
	if err != nil {
		t.Fatal(err)
	}
	return eng
}

func TestDenseTechniquesAfterIngestWithEmbeddings(t *testing.T) {
	t.Setenv("DISTILL_EMBED", "")
	ctx := context.Background()
	docs, db := writeLetters(t), filepath.Join(t.TempDir(), "c")
	eng := openEngine(t, db, "hash:256")
	rep, err := eng.Ingest(ctx, []string{docs}, ingest.Options{})
	if err != nil || rep.Count(ingest.Added) != len(letters) {
		t.Fatalf("ingest: %v %+v", err, rep)
	}
	var names []string
	for _, ti := range eng.Techniques() {
		names = append(names, ti.Name)
	}
	for _, want := range []string{"regular", "parent", "extract", "filter", "hybrid", "parent-hybrid"} {
		if !slices.Contains(names, want) {
			t.Fatalf("techniques %v lack %s", names, want)
		}
	}
	for _, tech := range []string{"regular", "parent", "hybrid", "parent-hybrid"} {
		res, err := eng.Ask(ctx, "Why were the solar lanterns recalled?", tech)
		if err != nil {
			t.Fatalf("%s: %v", tech, err)
		}
		if len(res.Contexts) == 0 || !strings.Contains(res.Contexts[0].Text, "faulty batteries") {
			t.Fatalf("%s: first context %+v", tech, res.Contexts)
		}
	}
	// regular and parent retrieve densely: their scores are cosine
	// similarities (BM25's exceed 1 here); hybrid's are RRF sums.
	for tech, limit := range map[string]float64{"regular": 1, "parent": 1, "hybrid": 2.0 / 61} {
		res, _ := eng.Ask(ctx, "Why were the solar lanterns recalled?", tech)
		if s := res.Contexts[0].Score; s <= 0 || s > limit+1e-9 {
			t.Fatalf("%s's top score %v is not in (0, %v]", tech, s, limit)
		}
	}
	eng.Close()

	// Another model, or none, cannot add to or query the collection.
	var mm *store.EmbeddingMismatchError
	eng = openEngine(t, db, "hash:128")
	if _, err := eng.Ingest(ctx, []string{testsupport.Write(t, t.TempDir(), "new.txt", []byte("new text"))}, ingest.Options{}); !errors.As(err, &mm) {
		t.Fatalf("ingest with another model: %v", err)
	}
	if _, err := eng.Ask(ctx, "lanterns", "regular"); !errors.As(err, &mm) || !strings.Contains(err.Error(), "hash:256") || !strings.Contains(err.Error(), "hash:128") {
		t.Fatalf("ask with another model: %v", err)
	}
	eng.Close()
	eng = openEngine(t, db, "none")
	if _, err := eng.Ingest(ctx, []string{testsupport.Write(t, t.TempDir(), "new.txt", []byte("new text"))}, ingest.Options{}); !errors.As(err, &mm) || !strings.Contains(err.Error(), "--embed hash:256") {
		t.Fatalf("ingest with --embed none: %v", err)
	}
	eng.Close()

	// Naming no model uses the collection's: ingest and hybrid work.
	eng = openEngine(t, db, "")
	if rep, err := eng.Ingest(ctx, []string{testsupport.Write(t, t.TempDir(), "new.txt", []byte("new text"))}, ingest.Options{}); err != nil || rep.Count(ingest.Added) != 1 {
		t.Fatalf("ingest with the recorded model: %+v %v", rep, err)
	}
	if _, err := eng.Ask(ctx, "Why were the lanterns recalled?", "hybrid"); err != nil {
		t.Fatalf("hybrid with the recorded model: %v", err)
	}
	if info, err := eng.Info(ctx); err != nil || info.Embedding.Model != "hash:256" || info.EmbedFrom != "collection" {
		t.Fatalf("info: %+v %v", info, err)
	}
	eng.Close()
}

func TestOfflineLeavesHybridTechniquesOut(t *testing.T) {
	t.Setenv("DISTILL_EMBED", "")
	ctx := context.Background()
	eng := openEngine(t, filepath.Join(t.TempDir(), "c"), "")
	defer eng.Close()
	if _, err := eng.Ingest(ctx, []string{writeLetters(t)}, ingest.Options{}); err != nil {
		t.Fatal(err)
	}
	hybrids := 0
	for _, ti := range eng.Techniques() {
		if strings.Contains(ti.Name, "hybrid") {
			hybrids++
			if !strings.Contains(ti.Unavailable, "needs an embedding model") || !strings.Contains(ti.Unavailable, "--embed") {
				t.Fatalf("offline, %s is not listed as unavailable: %+v", ti.Name, ti)
			}
		}
	}
	if hybrids != 2 {
		t.Fatalf("%d hybrid techniques listed, want 2", hybrids)
	}
	// Offline, regular is BM25, whose scores here exceed a cosine's 1.
	if res, err := eng.Ask(ctx, "Why were the solar lanterns recalled?", "regular"); err != nil || res.Contexts[0].Score <= 1 {
		t.Fatalf("offline regular: %v", err)
	}
	cmp, err := eng.Compare(ctx, "Why were the lanterns recalled?", nil)
	if err != nil || len(cmp.Results) < 4 {
		t.Fatalf("offline compare: %v", err)
	}
	for _, r := range cmp.Results {
		if strings.Contains(r.Technique, "hybrid") {
			t.Fatalf("offline compare ran %s", r.Technique)
		}
	}
	if _, err := eng.Ask(ctx, "lanterns", "hybrid"); err == nil || !strings.Contains(err.Error(), "--embed") {
		t.Fatalf("asking hybrid offline: %v", err)
	}
}

// failing is an embedder that fails after a number of texts.
type failing struct {
	model.Embedder
	mu     sync.Mutex // ingest workers embed concurrently
	budget int
}

func (f *failing) Embed(ctx context.Context, texts []string, p model.Purpose) ([][]float32, error) {
	f.mu.Lock()
	f.budget -= len(texts)
	over := f.budget < 0
	f.mu.Unlock()
	if over {
		return nil, fmt.Errorf("endpoint unavailable")
	}
	return f.Embedder.Embed(ctx, texts, p)
}

// counting counts the texts it embeds; ingest workers call it concurrently.
type counting struct {
	model.Embedder
	n atomic.Int64
}

func (c *counting) Embed(ctx context.Context, texts []string, p model.Purpose) ([][]float32, error) {
	c.n.Add(int64(len(texts)))
	return c.Embedder.Embed(ctx, texts, p)
}

func TestReindexResumesAndSwitchesModels(t *testing.T) {
	t.Setenv("DISTILL_EMBED", "")
	ctx := context.Background()
	db := filepath.Join(t.TempDir(), "c")
	eng := openEngine(t, db, "")
	if _, err := eng.Ingest(ctx, []string{writeLetters(t)}, ingest.Options{}); err != nil {
		t.Fatal(err)
	}
	eng.Close()
	if _, err := openEngine(t, db, "").Reindex(ctx, distill.ReindexOptions{}); !errors.Is(err, distill.ErrNoEmbedder) {
		t.Fatalf("reindex without a model: %v", err)
	}

	// A run that fails half-way leaves the collection on BM25 and resumes.
	const failAfter = 5
	h := &hashembed.Embedder{Dim: 96}
	eng = distill.NewEngineForTest(t, db, &failing{Embedder: h, budget: failAfter})
	if _, err := eng.Reindex(ctx, distill.ReindexOptions{Batch: 2}); err == nil || !strings.Contains(err.Error(), "run distill reindex again") {
		t.Fatalf("failing reindex: %v", err)
	}
	if emb, _ := eng.Store().(store.VectorStore).Embedding(ctx); emb.Model != "" {
		t.Fatalf("collection switched to %+v half-way", emb)
	}
	eng.Close()
	c := &counting{Embedder: h}
	eng = distill.NewEngineForTest(t, db, c)
	rep, err := eng.Reindex(ctx, distill.ReindexOptions{Batch: 2})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Chunks == 0 || int(c.n.Load()) != rep.Chunks-4 || rep.Embedded != int(c.n.Load()) || rep.Model != "hash:96" || rep.Dim != 96 {
		t.Fatalf("resumed reindex embedded %d texts, report %+v", c.n.Load(), rep)
	}
	res, err := eng.Ask(ctx, "Why were the solar lanterns recalled?", "hybrid")
	if err != nil || !strings.Contains(res.Contexts[0].Text, "faulty batteries") {
		t.Fatalf("hybrid after reindex: %v", err)
	}
	// Once done, running it again has nothing to do.
	c.n.Store(0)
	if rep, err := eng.Reindex(ctx, distill.ReindexOptions{}); err != nil || rep.Embedded != 0 || c.n.Load() != 0 {
		t.Fatalf("second reindex: %+v %v", rep, err)
	}
	eng.Close()
}

func TestIngestFailingHalfWayResumes(t *testing.T) {
	t.Setenv("DISTILL_EMBED", "")
	ctx := context.Background()
	db, docs := filepath.Join(t.TempDir(), "c"), writeLetters(t)
	h := &hashembed.Embedder{Dim: 64}
	// Each short letter is one chunk and one child: two texts to embed.
	eng := distill.NewEngineForTest(t, db, &failing{Embedder: h, budget: 6})
	rep, err := eng.Ingest(ctx, []string{docs}, ingest.Options{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Count(ingest.Added) != 3 || rep.Count(ingest.Failed) != len(letters)-3 {
		t.Fatalf("added %d, failed %d", rep.Count(ingest.Added), rep.Count(ingest.Failed))
	}
	var ee *ingest.EmbedError
	if f := rep.Failures()[0]; !errors.As(f.Err(), &ee) || !strings.Contains(f.Error, "embed with hash:64: endpoint unavailable") {
		t.Fatalf("failure: %v", f.Err())
	}
	if listed, _ := eng.Documents(ctx); len(listed) != 3 {
		t.Fatalf("%d documents stored after the failed run", len(listed))
	}
	eng.Close()
	c := &counting{Embedder: h}
	eng = distill.NewEngineForTest(t, db, c)
	defer eng.Close()
	rep, err = eng.Ingest(ctx, []string{docs}, ingest.Options{})
	if err != nil || rep.Count(ingest.Added) != len(letters)-3 || rep.Count(ingest.Unchanged) != 3 || int(c.n.Load()) != 2*(len(letters)-3) {
		t.Fatalf("re-run: %v, added %d, unchanged %d, embedded %d texts", err, rep.Count(ingest.Added), rep.Count(ingest.Unchanged), c.n.Load())
	}
	res, err := eng.Ask(ctx, "Where did the warehouse open?", "regular")
	if err != nil || !strings.Contains(res.Contexts[0].Text, "Krakow") {
		t.Fatalf("ask after resume: %v", err)
	}
}
