package distill_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/distill-rag/distill"
	"github.com/distill-rag/distill/ingest"
	"github.com/distill-rag/distill/store"
)

// TestResplitBuildsAndRebuildsSplits changes a collection's splits after
// ingest: a split is added and one gets a smaller size. Reindex rewrites
// every document from its stored pages, resumes after an interrupt, and
// afterwards searches, vectors and the store's check all agree.
func TestResplitBuildsAndRebuildsSplits(t *testing.T) {
	t.Setenv("DISTILL_EMBED", "")
	ctx := context.Background()
	docs, db := writeLetters(t), filepath.Join(t.TempDir(), "c")
	eng := openEngine(t, db, "hash:64")
	if _, err := eng.Ingest(ctx, []string{docs}, ingest.Options{}); err != nil {
		t.Fatal(err)
	}
	eng.Close()

	cfg := distill.BuiltinConfig(t)
	for i := range cfg.Splits {
		if cfg.Splits[i].Name == "chunks" {
			cfg.Splits[i].Size, cfg.Splits[i].Overlap = 60, 10
		}
	}
	cfg.Splits = append(cfg.Splits, store.Split{Name: "tiny", Size: 30, Search: true})
	open := func() *distill.Engine {
		t.Helper()
		// No model named: the collection's hash:64 is used, so the new
		// chunks get vectors too.
		e, err := distill.Open(ctx, distill.Options{DB: db, Config: cfg})
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	eng = open()
	warnings := strings.Join(eng.Warnings(), "\n")
	if !strings.Contains(warnings, `split "tiny" is configured but the collection was built without it; run distill reindex`) ||
		!strings.Contains(warnings, `split "chunks" is configured as size 60, overlap 10`) {
		t.Errorf("warnings: %s", warnings)
	}
	// Interrupted after two documents.
	cut, cancel := context.WithCancel(ctx)
	_, err := eng.Resplit(cut, distill.ResplitOptions{Progress: func(done, total int) {
		if done == 2 {
			cancel()
		}
	}})
	cancel()
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "run distill reindex again to resume; 2 of 7 documents are done") {
		t.Fatalf("interrupted resplit: %v", err)
	}
	eng.Close()

	eng = open()
	defer func() { eng.Close() }()
	if len(eng.Warnings()) != 0 {
		t.Errorf("the target splits are recorded at the start; warnings: %v", eng.Warnings())
	}
	rep, err := eng.Resplit(ctx, distill.ResplitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Resumed || rep.Documents != 5 {
		t.Errorf("resumed run: %+v", rep)
	}
	info, err := eng.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.Documents != len(letters) {
		t.Errorf("documents after resplit: %d", info.Documents)
	}
	var names []string
	for _, sp := range info.Splits {
		names = append(names, sp.Name)
	}
	if got := strings.Join(names, ","); got != "chunks,parents,children,tiny" {
		t.Errorf("splits: %s", got)
	}
	for _, split := range []struct {
		name string
		max  int
	}{{"tiny", 30}, {"chunks", 60}} {
		ps, err := eng.Store().SearchText(ctx, split.name, "lanterns batteries recall", 10)
		if err != nil || len(ps) == 0 {
			t.Fatalf("search %s: %v %d", split.name, err, len(ps))
		}
		for _, p := range ps {
			if n := utf8.RuneCountInString(p.Text); n > split.max {
				t.Errorf("%s chunk of %d characters: %q", split.name, n, p.Text)
			}
		}
		vs := eng.Store().(store.VectorStore)
		if hits, err := vs.SearchVector(ctx, split.name, make([]float32, 64), 3); err != nil || len(hits) == 0 {
			t.Errorf("dense search of %s: %v %d", split.name, err, len(hits))
		}
	}
	if res, err := eng.Retrieve(ctx, "How many lanterns were recalled?", "regular"); err != nil || len(res.Contexts) == 0 || !strings.Contains(res.Contexts[0].Text, "recall") {
		t.Errorf("regular after resplit: %v %+v", err, res)
	}
	check, err := eng.Check(ctx, store.CheckOptions{})
	if err != nil || !check.OK() {
		t.Errorf("check after resplit: %v %+v", err, check)
	}
	again, err := eng.Resplit(ctx, distill.ResplitOptions{})
	if err != nil || again.Documents != 0 || again.Resumed || len(again.Added)+len(again.Changed)+len(again.Removed) != 0 {
		t.Errorf("second resplit should do nothing: %v %+v", err, again)
	}
	// Dropping the split again removes its chunks; the index stays sound.
	eng.Close()
	cfg.Splits = cfg.Splits[:len(cfg.Splits)-1]
	eng = open()
	gone, err := eng.Resplit(ctx, distill.ResplitOptions{})
	if err != nil || strings.Join(gone.Removed, ",") != "tiny" || gone.Documents != len(letters) {
		t.Fatalf("remove a split: %v %+v", err, gone)
	}
	if _, err := eng.Store().SearchText(ctx, "tiny", "lanterns", 3); err == nil {
		t.Error("the removed split is still searched")
	}
	if check, err := eng.Check(ctx, store.CheckOptions{}); err != nil || !check.OK() {
		t.Errorf("check after removing a split: %v %+v", err, check)
	}
}
