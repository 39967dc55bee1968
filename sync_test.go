package distill_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/distill-rag/distill"
	"github.com/distill-rag/distill/ingest"
	"github.com/distill-rag/distill/internal/testsupport"
	"github.com/distill-rag/distill/store"
)

// sources lists the collection's document sources.
func sources(t *testing.T, eng *distill.Engine) []string {
	t.Helper()
	docs, err := eng.Documents(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, d := range docs {
		out = append(out, d.Source)
	}
	slices.Sort(out)
	return out
}

func itemSources(items []distill.SyncItem) []string {
	out := []string{}
	for _, it := range items {
		out = append(out, it.Source)
	}
	return out
}

// returnedBy lists the techniques (and BM25 splits) that return a context
// from source for question.
func returnedBy(t *testing.T, eng *distill.Engine, question, source string) []string {
	t.Helper()
	ctx := context.Background()
	var found []string
	for _, ti := range eng.Techniques() {
		if ti.Unavailable != "" {
			continue
		}
		res, err := eng.Retrieve(ctx, question, ti.Name)
		if err != nil {
			t.Fatalf("%s: %v", ti.Name, err)
		}
		for _, c := range res.Contexts {
			if c.Source == source {
				found = append(found, ti.Name)
				break
			}
		}
	}
	for _, split := range []string{"chunks", "children"} {
		ps, err := eng.Store().SearchText(ctx, split, question, 10)
		if err != nil {
			t.Fatalf("bm25 %s: %v", split, err)
		}
		for _, p := range ps {
			if p.Source == source {
				found = append(found, "bm25:"+split)
				break
			}
		}
	}
	return found
}

func TestSyncMirrorsDirectories(t *testing.T) {
	t.Setenv("DISTILL_EMBED", "")
	ctx := context.Background()
	tmp := t.TempDir()
	dir := filepath.Join(tmp, "a", "b")
	keep := testsupport.Write(t, dir, "keep.txt", []byte("The harbour ledger lists copper and saffron shipments."))
	edit := testsupport.Write(t, dir, "sub/edit.md", []byte("# Orchard\n\nThe orchard gave 40 tonnes of apples."))
	gone := testsupport.Write(t, dir, "sub/gone.txt", []byte("The quixotrane beacon was repaired in the spring."))
	testsupport.Write(t, dir, ".hidden/skip.txt", []byte("hidden files are not synced"))
	// A sibling whose name extends the synced one, and a file elsewhere.
	sibling := testsupport.Write(t, filepath.Join(tmp, "a", "bc"), "sibling.txt", []byte("The quixotrane sibling stays."))
	outside := testsupport.Write(t, tmp, "outside.txt", []byte("The violin meadow is outside."))

	eng := openEngine(t, filepath.Join(tmp, "db"), "hash:256")
	defer eng.Close()
	if _, err := eng.Ingest(ctx, []string{sibling, outside}, ingest.Options{}); err != nil {
		t.Fatal(err)
	}

	rep, err := eng.Sync(ctx, []string{dir}, distill.SyncOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := itemSources(rep.Plan.Add), []string{keep, edit, gone}; !slices.Equal(got, sortedCopy(want)) {
		t.Errorf("first sync adds %v, want %v", got, sortedCopy(want))
	}
	if rep.Ingest == nil || rep.Ingest.Count(ingest.Added) != 3 || len(rep.Removed) != 0 {
		t.Fatalf("first sync: %+v", rep)
	}
	if by := returnedBy(t, eng, "quixotrane beacon", gone); !slices.Contains(by, "bm25:chunks") || !slices.Contains(by, "regular") {
		t.Fatalf("before removal, the unique word is found by %v; want BM25 and dense", by)
	}

	// Change one file, delete one, add one.
	testsupport.Write(t, dir, "sub/edit.md", []byte("# Orchard\n\nThe orchard gave 55 tonnes of pears."))
	// Files outside the directory are gone too, but their documents are
	// not sync's to remove.
	for _, f := range []string{gone, sibling, outside} {
		if err := os.Remove(f); err != nil {
			t.Fatal(err)
		}
	}
	added := testsupport.Write(t, dir, "new/added.html", []byte("<html><body><p>The turbine hall opened.</p></body></html>"))

	before := sources(t, eng)
	dry, err := eng.Sync(ctx, []string{dir}, distill.SyncOptions{DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		got  []string
		want []string
	}{
		{"add", itemSources(dry.Plan.Add), []string{added}},
		{"replace", itemSources(dry.Plan.Replace), []string{edit}},
		{"remove", itemSources(dry.Plan.Remove), []string{gone}},
		{"unchanged", itemSources(dry.Plan.Unchanged), []string{keep}},
	}
	for _, tt := range tests {
		if !slices.Equal(tt.got, tt.want) {
			t.Errorf("dry run %s = %v, want %v", tt.name, tt.got, tt.want)
		}
	}
	if !dry.DryRun || dry.Ingest != nil || len(dry.Removed) != 0 {
		t.Errorf("dry run applied something: %+v", dry)
	}
	if after := sources(t, eng); !slices.Equal(after, before) {
		t.Errorf("dry run changed the collection: %v, was %v", after, before)
	}

	rep, err = eng.Sync(ctx, []string{dir}, distill.SyncOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Ingest.Count(ingest.Added) != 1 || rep.Ingest.Count(ingest.Updated) != 1 || len(rep.Removed) != 1 || rep.Removed[0].Source != gone {
		t.Errorf("second sync: ingest %+v, removed %+v", rep.Ingest, rep.Removed)
	}
	want := sortedCopy([]string{keep, edit, added, sibling, outside})
	if got := sources(t, eng); !slices.Equal(got, want) {
		t.Errorf("after sync the collection holds %v, want %v", got, want)
	}
	if by := returnedBy(t, eng, "quixotrane beacon", gone); len(by) > 0 {
		t.Errorf("a document removed by sync is still returned by %v", by)
	}
	if by := returnedBy(t, eng, "quixotrane sibling", sibling); !slices.Contains(by, "bm25:chunks") {
		t.Errorf("the sibling outside the synced directory is returned only by %v", by)
	}
	res, err := eng.Retrieve(ctx, "How many tonnes of pears?", "hybrid")
	if err != nil || len(res.Contexts) == 0 || !strings.Contains(res.Contexts[0].Text, "55 tonnes of pears") {
		t.Errorf("the replaced file is not searchable: %v %+v", err, res)
	}

	// A third sync has nothing to do.
	rep, err = eng.Sync(ctx, []string{dir}, distill.SyncOptions{})
	if err != nil || len(rep.Plan.Add)+len(rep.Plan.Replace)+len(rep.Plan.Remove) != 0 || len(rep.Plan.Unchanged) != 3 {
		t.Errorf("third sync: %v %+v", err, rep.Plan)
	}
}

func sortedCopy(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}

// Meta given to sync is part of what is compared: changing it replaces.
func TestSyncReplacesOnChangedMeta(t *testing.T) {
	t.Setenv("DISTILL_EMBED", "")
	ctx := context.Background()
	dir := t.TempDir()
	testsupport.Write(t, dir, "x.txt", []byte("Revenue grew in the kestrel division."))
	eng := openEngine(t, filepath.Join(t.TempDir(), "db"), "")
	defer eng.Close()
	if _, err := eng.Sync(ctx, []string{dir}, distill.SyncOptions{}); err != nil {
		t.Fatal(err)
	}
	plan, err := eng.PlanSync(ctx, []string{dir}, distill.SyncOptions{Ingest: ingest.Options{Meta: map[string]string{"year": "2024"}}})
	if err != nil || len(plan.Replace) != 1 || len(plan.Unchanged) != 0 {
		t.Errorf("plan with new meta: %v %+v", err, plan)
	}
}

func TestSyncRefusesBadDirectories(t *testing.T) {
	ctx := context.Background()
	tmp := t.TempDir()
	file := testsupport.Write(t, tmp, "f.txt", []byte("text"))
	eng := openEngine(t, filepath.Join(tmp, "db"), "")
	defer eng.Close()
	if _, err := eng.Ingest(ctx, []string{file}, ingest.Options{}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		dir, reason string
	}{
		{filepath.Join(tmp, "missing"), "no such directory"},
		{file, "not a directory"},
	}
	for _, tt := range tests {
		_, err := eng.Sync(ctx, []string{tt.dir}, distill.SyncOptions{})
		var de *distill.SyncDirError
		if !errors.As(err, &de) || de.Dir != tt.dir || !strings.Contains(err.Error(), tt.reason) {
			t.Errorf("sync %s: %v, want a SyncDirError saying %q", tt.dir, err, tt.reason)
		}
	}
	// A missing directory never counts as empty: nothing was removed.
	if got := sources(t, eng); len(got) != 1 {
		t.Errorf("collection after refused syncs: %v", got)
	}
	_, err := eng.Sync(ctx, []string{tmp}, distill.SyncOptions{Ingest: ingest.Options{SourceName: filepath.Base}})
	if err == nil || !strings.Contains(err.Error(), "SourceName") {
		t.Errorf("sync with SourceName: %v", err)
	}
}

// Documents that are not files under the directory (uploads named by the
// server, files of a directory given by a relative path that resolves
// elsewhere) are never removed.
func TestSyncLeavesNonPathSourcesAlone(t *testing.T) {
	ctx := context.Background()
	tmp := t.TempDir()
	up := testsupport.Write(t, tmp, "up/notes.txt", []byte("The lighthouse keeper logged 41 ships."))
	eng := openEngine(t, filepath.Join(tmp, "db"), "")
	defer eng.Close()
	if _, err := eng.Ingest(ctx, []string{up}, ingest.Options{SourceName: func(string) string { return "notes.txt" }}); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(tmp, "docs")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	rep, err := eng.Sync(ctx, []string{"."}, distill.SyncOptions{})
	if err != nil || len(rep.Removed) != 0 {
		t.Fatalf("sync: %v %+v", err, rep)
	}
	if _, err := eng.Store().Document(ctx, "notes.txt"); errors.Is(err, store.ErrNotFound) {
		t.Error("the upload was removed")
	}
}
