package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	_ "modernc.org/sqlite"

	"github.com/distill-rag/distill/document"
	"github.com/distill-rag/distill/ingest"
	"github.com/distill-rag/distill/store"
	"github.com/distill-rag/distill/store/sqlite"
	"github.com/distill-rag/distill/textproc"
)

var testSplits = []store.Split{
	{Name: "chunks", Size: 120, Overlap: 20, Search: true},
	{Name: "parents", Size: 240, Overlap: 20},
	{Name: "children", Size: 80, Overlap: 40, Parent: "parents", Search: true},
}

func openNew(t *testing.T) *sqlite.Store {
	t.Helper()
	s, err := sqlite.OpenStore(context.Background(), filepath.Join(t.TempDir(), "c"), store.Options{Create: true, Splits: testSplits})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// put writes a document of the given pages in one transaction.
func put(t *testing.T, s store.Store, source string, pages ...string) {
	t.Helper()
	ctx := context.Background()
	w, err := s.Begin(ctx, document.Document{ID: document.IDFor(source), Source: source, Type: "text", Hash: fmt.Sprint(len(pages), pages)})
	if err != nil {
		t.Fatal(err)
	}
	for i, text := range pages {
		if err := w.AddPage(ctx, document.Page{Number: i + 1, Text: text}, ingest.Chunks(testSplits, text)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Commit(ctx); err != nil {
		t.Fatal(err)
	}
}

var corpus = map[string][]string{
	"a.txt": {"Free cash flow rose to 25 billion dollars as capital expenditure fell. The board approved a buyback.", "Our logistics network delivered packages faster than ever."},
	"b.txt": {"Cloud revenue grew 30 percent. Customers moved databases and analytics to the cloud, and cash flow from cloud grew too."},
	"c.txt": {"The satellite program launched two prototypes. Satellites will bring broadband to rural customers."},
	"d.txt": {"Cash, cash and more cash: the treasury invested cash in short-term bonds while the flow of orders slowed."},
}

// bruteBM25 scores every chunk of a split from its text, independently of
// the index: Lucene's BM25 (k1 1.2, b 0.75) over the English analyzer.
func bruteBM25(texts map[string]string, query string) map[string]float64 {
	tf := map[string]map[string]int{}
	dl := map[string]int{}
	df := map[string]int{}
	total := 0
	for id, text := range texts {
		tf[id] = map[string]int{}
		for _, term := range textproc.English.Terms(text) {
			if tf[id][term] == 0 {
				df[term]++
			}
			tf[id][term]++
			dl[id]++
			total++
		}
	}
	n := float64(len(texts))
	avgdl := float64(total) / n
	qtf := map[string]int{}
	for _, term := range textproc.QueryTerms(query) {
		qtf[term]++
	}
	scores := map[string]float64{}
	for id := range texts {
		score := 0.0
		for term, q := range qtf {
			f := float64(tf[id][term])
			if f == 0 {
				continue
			}
			idf := math.Log(1 + (n-float64(df[term])+0.5)/(float64(df[term])+0.5))
			score += float64(q) * idf * f * 2.2 / (f + 1.2*(0.25+0.75*float64(dl[id])/avgdl))
		}
		if score > 0 {
			scores[id] = score
		}
	}
	return scores
}

// chunkTexts lists every chunk of a split in the corpus by a key of source,
// page and offsets, the way a search result identifies its text.
func chunkTexts(docs map[string][]string, splitName string) map[string]string {
	out := map[string]string{}
	for source, pages := range docs {
		for i, text := range pages {
			for _, c := range ingest.Chunks(testSplits, text) {
				if c.Split == splitName {
					out[fmt.Sprintf("%s#%d@%d-%d", source, i+1, c.Start, c.End)] = text[c.Start:c.End]
				}
			}
		}
	}
	return out
}

func key(p document.Passage) string {
	return fmt.Sprintf("%s#%d@%d-%d", p.Source, p.Page, p.Start, p.End)
}

// checkSearch compares the index's ranking with brute force over docs.
func checkSearch(t *testing.T, s store.Store, docs map[string][]string, split, query string) {
	t.Helper()
	want := bruteBM25(chunkTexts(docs, split), query)
	got, err := s.SearchText(context.Background(), split, query, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("SearchText(%s, %q) returned %d chunks, brute force scores %d", split, query, len(got), len(want))
	}
	for i, p := range got {
		w, ok := want[key(p)]
		if !ok {
			t.Fatalf("result %d %s is not a matching chunk", i, key(p))
		}
		if math.Abs(w-p.Score) > 1e-9 {
			t.Errorf("%s score %v, brute force %v", key(p), p.Score, w)
		}
		if i > 0 && got[i-1].Score < p.Score {
			t.Errorf("results not in score order at %d", i)
		}
		if p.Text != chunkTexts(docs, split)[key(p)] {
			t.Errorf("%s text %q does not match its offsets", key(p), p.Text)
		}
	}
}

func TestSearchMatchesBruteForceBM25(t *testing.T) {
	s := openNew(t)
	for _, src := range []string{"a.txt", "b.txt", "c.txt", "d.txt"} {
		put(t, s, src, corpus[src]...)
	}
	for _, q := range []string{"cash flow", "How did cloud revenue grow?", "satellite broadband customers", "cash"} {
		checkSearch(t, s, corpus, "chunks", q)
		checkSearch(t, s, corpus, "children", q)
	}
	if got, err := s.SearchText(context.Background(), "chunks", "zeppelin", 5); err != nil || len(got) != 0 {
		t.Errorf("search for an absent term = %v, %v; want nothing", got, err)
	}
	if _, err := s.SearchText(context.Background(), "parents", "cash", 5); err == nil {
		t.Error("searching a split that is not indexed should fail")
	}
	var unknown *sqlite.UnknownSplitError
	if _, err := s.SearchText(context.Background(), "nope", "cash", 5); !errors.As(err, &unknown) {
		t.Errorf("unknown split error = %v", err)
	}
}

func TestReplaceDeleteAndMergeKeepIndexExact(t *testing.T) {
	s := openNew(t)
	ctx := context.Background()
	docs := map[string][]string{}
	for src, pages := range corpus {
		put(t, s, src, pages...)
		docs[src] = pages
	}
	// Replacing a document leaves no trace of the old version.
	docs["b.txt"] = []string{"Cloud revenue shrank. Zeppelin deliveries replaced cash flow as the topic."}
	put(t, s, "b.txt", docs["b.txt"]...)
	checkSearch(t, s, docs, "chunks", "cloud cash flow zeppelin")
	infos, err := s.Documents(ctx)
	if err != nil || len(infos) != 4 {
		t.Fatalf("Documents after replace = %d, %v; want 4", len(infos), err)
	}
	// Deleting removes the document from search and from the statistics.
	n, err := s.Delete(ctx, document.IDFor("d.txt"))
	if err != nil || n != 1 {
		t.Fatalf("Delete = %d, %v", n, err)
	}
	delete(docs, "d.txt")
	checkSearch(t, s, docs, "chunks", "cash flow")
	if n, err := s.Delete(ctx, document.IDFor("d.txt")); err != nil || n != 0 {
		t.Fatalf("second Delete = %d, %v; want 0, nil", n, err)
	}
	// A full merge changes no score.
	if err := s.Merge(ctx, "chunks", true); err != nil {
		t.Fatal(err)
	}
	checkSearch(t, s, docs, "chunks", "cash flow")
	checkSearch(t, s, docs, "chunks", "logistics packages")
}

func TestManySegmentsMergeToSameRanking(t *testing.T) {
	s := openNew(t)
	docs := map[string][]string{}
	words := strings.Fields("cash flow cloud revenue satellite broadband logistics package customer board buyback bond treasury order")
	for i := 0; i < 40; i++ {
		var b strings.Builder
		for j := 0; j < 30; j++ {
			b.WriteString(words[(i*7+j*j)%len(words)])
			b.WriteByte(' ')
		}
		src := fmt.Sprintf("doc%02d.txt", i)
		docs[src] = []string{strings.TrimSpace(b.String())}
		put(t, s, src, docs[src]...)
	}
	for _, q := range []string{"cash flow", "satellite order", "treasury"} {
		checkSearch(t, s, docs, "chunks", q)
	}
	if err := s.Merge(context.Background(), "chunks", true); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"cash flow", "satellite order", "treasury"} {
		checkSearch(t, s, docs, "chunks", q)
	}
}

func TestRollbackKeepsPreviousVersion(t *testing.T) {
	// The writer buffers pages until it commits, or writes them into its
	// open transaction once it holds flushBytes; a rollback undoes both.
	for _, tt := range []struct {
		name  string
		flush int
	}{{"buffered", 32 << 20}, {"written", 1}} {
		t.Run(tt.name, func(t *testing.T) {
			defer sqlite.SetFlushBytes(tt.flush)()
			testRollback(t)
		})
	}
}

func testRollback(t *testing.T) {
	s := openNew(t)
	ctx := context.Background()
	put(t, s, "a.txt", corpus["a.txt"]...)
	before, _ := s.Document(ctx, "a.txt")
	w, err := s.Begin(ctx, document.Document{ID: document.IDFor("a.txt"), Source: "a.txt", Type: "text", Hash: "new"})
	if err != nil {
		t.Fatal(err)
	}
	text := "Zeppelin text that must never become visible."
	if err := w.AddPage(ctx, document.Page{Number: 1, Text: text}, ingest.Chunks(testSplits, text)); err != nil {
		t.Fatal(err)
	}
	if err := w.Rollback(); err != nil {
		t.Fatal(err)
	}
	after, err := s.Document(ctx, "a.txt")
	if err != nil || after.Hash != before.Hash || after.Chunks != before.Chunks {
		t.Fatalf("after rollback document = %+v, %v; want %+v", after, err, before)
	}
	if got, _ := s.SearchText(ctx, "chunks", "zeppelin", 5); len(got) != 0 {
		t.Fatalf("rolled-back text is searchable: %v", got)
	}
	checkSearch(t, s, map[string][]string{"a.txt": corpus["a.txt"]}, "chunks", "cash flow")
	put(t, s, "b.txt", corpus["b.txt"]...) // the write lock was released
	checkSearch(t, s, map[string][]string{"a.txt": corpus["a.txt"], "b.txt": corpus["b.txt"]}, "chunks", "cloud cash flow")
}

func TestParentsAlignWithChildren(t *testing.T) {
	s := openNew(t)
	ctx := context.Background()
	text := strings.Repeat("The parent text talks about cash flow and cloud revenue in some detail. ", 12)
	put(t, s, "p.txt", text)
	children, err := s.SearchText(ctx, "children", "cash flow", 50)
	if err != nil || len(children) < 3 {
		t.Fatalf("children = %d, %v", len(children), err)
	}
	ids := []string{children[0].ChunkID, "missing:children:9", children[len(children)-1].ChunkID}
	parents, err := s.Parents(ctx, ids)
	if err != nil {
		t.Fatal(err)
	}
	if len(parents) != len(ids) {
		t.Fatalf("Parents returned %d, want %d aligned", len(parents), len(ids))
	}
	for _, i := range []int{0, 2} {
		c, p := children[map[int]int{0: 0, 2: len(children) - 1}[i]], parents[i]
		if p.ChunkID == "" || p.Start > c.Start || p.End < c.End {
			t.Errorf("parent %s [%d,%d) does not contain child %s [%d,%d)", p.ChunkID, p.Start, p.End, c.ChunkID, c.Start, c.End)
		}
		if p.Text != text[p.Start:p.End] {
			t.Errorf("parent text does not match its offsets")
		}
	}
	if parents[1].ChunkID != "" {
		t.Errorf("unknown child got parent %+v", parents[1])
	}
}

func TestPersistsAcrossReopen(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "c")
	ctx := context.Background()
	s, err := sqlite.OpenStore(ctx, dir, store.Options{Create: true, Splits: testSplits})
	if err != nil {
		t.Fatal(err)
	}
	put(t, s, "a.txt", corpus["a.txt"]...)
	s.Close()
	s2, err := sqlite.OpenStore(ctx, dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	splits, _ := s2.Splits(ctx)
	if len(splits) != len(testSplits) {
		t.Fatalf("splits after reopen = %v", splits)
	}
	checkSearch(t, s2, map[string][]string{"a.txt": corpus["a.txt"]}, "chunks", "logistics network")
	page, err := s2.Page(ctx, document.IDFor("a.txt"), 2)
	if err != nil || page != corpus["a.txt"][1] {
		t.Fatalf("Page = %q, %v", page, err)
	}
	if _, err := s2.Page(ctx, document.IDFor("a.txt"), 3); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("missing page error = %v, want ErrNotFound", err)
	}
}

func TestOpenRefusesWhatIsNotACollection(t *testing.T) {
	ctx := context.Background()
	tmp := t.TempDir()
	foreign := filepath.Join(tmp, "foreign")
	os.MkdirAll(foreign, 0o755)
	db, err := sql.Open("sqlite", filepath.Join(foreign, sqlite.DatabaseFile))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`CREATE TABLE invoices (id INTEGER)`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	file := filepath.Join(tmp, "file")
	os.WriteFile(file, []byte("x"), 0o644)
	busy := filepath.Join(tmp, "busy")
	os.MkdirAll(busy, 0o755)
	os.WriteFile(filepath.Join(busy, "notes.txt"), []byte("x"), 0o644)

	tests := []struct {
		name, path string
		create     bool
		reason     string
	}{
		{"missing", filepath.Join(tmp, "missing"), false, "does not exist"},
		{"a file", file, true, "is a file"},
		{"other files", busy, true, "other files"},
		{"foreign database", foreign, true, "not a distill"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := sqlite.OpenStore(ctx, tt.path, store.Options{Create: tt.create, Splits: testSplits})
			var ce *store.CollectionError
			if !errors.As(err, &ce) || !strings.Contains(err.Error(), tt.reason) || !strings.Contains(err.Error(), tt.path) {
				t.Fatalf("error = %v, want CollectionError naming %s and %q", err, tt.path, tt.reason)
			}
		})
	}
	// The foreign database was not touched.
	db, _ = sql.Open("sqlite", filepath.Join(foreign, sqlite.DatabaseFile))
	defer db.Close()
	var tables []string
	rows, err := db.Query(`SELECT name FROM sqlite_master WHERE type = 'table'`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var n string
		rows.Scan(&n)
		tables = append(tables, n)
	}
	sort.Strings(tables)
	if strings.Join(tables, ",") != "invoices" {
		t.Fatalf("foreign database now has tables %v", tables)
	}
}

// TestDocumentWrittenInSeveralFlushes writes documents whose pages are
// flushed one at a time, as a huge document's are: each flush is its own
// segment inside the document's transaction, and search, replacement,
// deletion and the check stay exact.
func TestDocumentWrittenInSeveralFlushes(t *testing.T) {
	defer sqlite.SetFlushBytes(1)()
	s := openNew(t)
	ctx := context.Background()
	docs := map[string][]string{}
	for src, pages := range corpus {
		put(t, s, src, pages...)
		docs[src] = pages
	}
	docs["a.txt"] = []string{"Cash flow from logistics.", "Packages and cash.", "A third page on the board and its buyback."}
	put(t, s, "a.txt", docs["a.txt"]...)
	for _, q := range []string{"cash flow", "logistics packages", "board buyback"} {
		checkSearch(t, s, docs, "chunks", q)
		checkSearch(t, s, docs, "children", q)
	}
	if _, err := s.Delete(ctx, document.IDFor("c.txt")); err != nil {
		t.Fatal(err)
	}
	delete(docs, "c.txt")
	checkSearch(t, s, docs, "chunks", "satellite cash")
	rep, err := s.Check(ctx, store.CheckOptions{})
	if err != nil || !rep.OK() {
		t.Fatalf("check: %v, %v", err, rep.Problems())
	}
	infos, err := s.Documents(ctx)
	if err != nil || len(infos) != 3 {
		t.Fatalf("documents: %d, %v", len(infos), err)
	}
	for _, d := range infos {
		if d.Source == "a.txt" && d.Pages != 3 {
			t.Errorf("a.txt records %d pages, want 3", d.Pages)
		}
	}
}

// Destroy removes the collection's database and index files and leaves what
// a user put beside them; the directory can then be a collection again.
func TestDestroyRemovesTheCollection(t *testing.T) {
	ctx := context.Background()
	for _, userFile := range []bool{false, true} {
		t.Run(fmt.Sprintf("user file %v", userFile), func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "c")
			s, err := sqlite.OpenStore(ctx, dir, store.Options{Create: true, Splits: testSplits})
			if err != nil {
				t.Fatal(err)
			}
			put(t, s, "a.txt", corpus["a.txt"]...)
			os.MkdirAll(filepath.Join(dir, "index"), 0o755)
			os.WriteFile(filepath.Join(dir, "index", "1-6368756e6b73.hnsw"), []byte("x"), 0o644)
			os.WriteFile(filepath.Join(dir, "index", ".tmp-2.hnsw"), []byte("x"), 0o644)
			if userFile {
				os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("keep"), 0o644)
			}
			if !sqlite.IsCollection(dir) {
				t.Fatal("not a collection before Destroy")
			}
			if err := s.Destroy(ctx); err != nil {
				t.Fatal(err)
			}
			if sqlite.IsCollection(dir) {
				t.Error("still a collection after Destroy")
			}
			if ok, err := store.Exists(ctx, dir); ok || err != nil {
				t.Errorf("store.Exists after Destroy: %v, %v", ok, err)
			}
			_, err = os.Stat(dir)
			if userFile {
				if data, err := os.ReadFile(filepath.Join(dir, "notes.txt")); err != nil || string(data) != "keep" {
					t.Errorf("the user's file: %q, %v", data, err)
				}
				if _, err := os.Stat(filepath.Join(dir, "index")); !os.IsNotExist(err) {
					t.Errorf("the index directory remains: %v", err)
				}
			} else if !os.IsNotExist(err) {
				t.Errorf("the collection directory remains: %v", err)
			}
			if userFile {
				return // a directory holding other files is not made a collection
			}
			again, err := sqlite.OpenStore(ctx, dir, store.Options{Create: true, Splits: testSplits})
			if err != nil {
				t.Fatal(err)
			}
			defer again.Close()
			if docs, err := again.Documents(ctx); err != nil || len(docs) != 0 {
				t.Errorf("created again: %d documents, %v", len(docs), err)
			}
		})
	}
}
