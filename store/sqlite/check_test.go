package sqlite_test

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/distill-rag/distill/document"
	"github.com/distill-rag/distill/ingest"
	"github.com/distill-rag/distill/store"
	"github.com/distill-rag/distill/store/sqlite"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var checkSplits = []store.Split{
	{Name: "chunks", Size: 200, Overlap: 20, Search: true},
	{Name: "parents", Size: 300, Overlap: 30},
	{Name: "children", Size: 100, Overlap: 20, Parent: "parents", Search: true},
}

var words = strings.Fields(`revenue grew lanterns solar warehouse customer satisfaction survey buyers
acquired optics lenses recall batteries delivery repair services landfills invest products widgets
kestrel harbour ledger quarterly dividend factory shipping rainfall orchard copper tariff`)

// pageText makes a deterministic page of prose for document d, page n.
func pageText(d, n int) string {
	var b strings.Builder
	for i := 0; i < 60+(d*7+n*13)%50; i++ {
		w := words[(d*31+n*17+i*i)%len(words)]
		b.WriteString(w)
		switch {
		case i%11 == 10:
			b.WriteString(".\n\n")
		case i%5 == 4:
			b.WriteString(". ")
		default:
			b.WriteString(" ")
		}
	}
	return b.String()
}

func writeDoc(t testing.TB, st store.Store, d, pages int) {
	t.Helper()
	ctx := context.Background()
	src := fmt.Sprintf("/docs/doc-%03d.txt", d)
	w, err := st.Begin(ctx, document.Document{ID: document.IDFor(src), Source: src, Type: "text", Hash: fmt.Sprint(d, pages)})
	if err != nil {
		t.Fatal(err)
	}
	for n := 1; n <= pages; n++ {
		text := pageText(d, n)
		if err := w.AddPage(ctx, document.Page{Number: n, Text: text}, ingest.Chunks(checkSplits, text)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Commit(ctx); err != nil {
		t.Fatal(err)
	}
}

// newCollection writes docs documents, replaces and deletes some so that
// segments hold postings of deleted chunks and merges have run.
func newCollection(t testing.TB, docs int) (*sqlite.Store, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "coll")
	st, err := sqlite.OpenStore(context.Background(), dir, store.Options{Create: true, Splits: checkSplits})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	for d := 0; d < docs; d++ {
		writeDoc(t, st, d, 1+d%3)
	}
	for d := 0; d < docs; d += 4 {
		writeDoc(t, st, d, 2+d%2) // replace
	}
	var gone []string
	for d := 1; d < docs; d += 5 {
		gone = append(gone, document.IDFor(fmt.Sprintf("/docs/doc-%03d.txt", d)))
	}
	if _, err := st.Delete(context.Background(), gone...); err != nil {
		t.Fatal(err)
	}
	return st, dir
}

func mustCheck(t *testing.T, st *sqlite.Store, repair bool) *store.CheckReport {
	t.Helper()
	rep, err := st.Check(context.Background(), store.CheckOptions{Repair: repair})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func TestCheckSoundCollection(t *testing.T) {
	st, _ := newCollection(t, 40)
	rep := mustCheck(t, st, false)
	if !rep.OK() {
		t.Fatalf("a sound collection fails the check: %v", rep.Problems())
	}
	var names []string
	for _, c := range rep.Checks {
		names = append(names, c.Name)
	}
	if got := strings.Join(names, ","); got != "sqlite,schema,links,bm25,vectors" {
		t.Errorf("checks run = %s", got)
	}
	if rep.Documents != 32 || rep.Pages == 0 || rep.Chunks == 0 {
		t.Errorf("counts = %d documents, %d pages, %d chunks", rep.Documents, rep.Pages, rep.Chunks)
	}
	// Merging everything and checking again finds nothing either.
	for _, sp := range checkSplits {
		if err := st.Merge(context.Background(), sp.Name, true); err != nil {
			t.Fatal(err)
		}
	}
	if rep := mustCheck(t, st, false); !rep.OK() {
		t.Fatalf("after a full merge: %v", rep.Problems())
	}
}

type hitKey struct {
	chunk string
	score float64
}

func searchAll(t *testing.T, st store.Store) map[string][]hitKey {
	t.Helper()
	out := map[string][]hitKey{}
	for _, split := range []string{"chunks", "children"} {
		for _, q := range []string{"revenue grew", "solar lanterns recall", "kestrel harbour", "dividend tariff copper"} {
			ps, err := st.SearchText(context.Background(), split, q, 10)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range ps {
				out[split+"/"+q] = append(out[split+"/"+q], hitKey{p.ChunkID, p.Score})
			}
		}
	}
	return out
}

func sameHits(a, b map[string][]hitKey) error {
	for q, ha := range a {
		hb := b[q]
		if len(ha) != len(hb) {
			return fmt.Errorf("%s: %d hits, then %d", q, len(ha), len(hb))
		}
		for i := range ha {
			if ha[i].chunk != hb[i].chunk || math.Abs(ha[i].score-hb[i].score) > 1e-9 {
				return fmt.Errorf("%s hit %d: %v, then %v", q, i, ha[i], hb[i])
			}
		}
	}
	return nil
}

// corrupt changes the database behind the store's back, as a bug, a bad
// disk or a hand edit would.
func corrupt(t *testing.T, dir string, stmts ...string) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, sqlite.DatabaseFile)+"?_pragma=foreign_keys(0)&_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, s := range stmts {
		res, err := db.Exec(s)
		if err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			t.Fatalf("%s changed nothing", s)
		}
	}
}

const (
	firstIndexed = `(SELECT min(id) FROM chunks WHERE split = 'chunks')`
	firstSegment = `(SELECT id FROM bm25_segments WHERE split = 'chunks' ORDER BY first LIMIT 1)`
	firstBlock   = `(SELECT min(last_term) FROM bm25_blocks WHERE segment = ` + firstSegment + `)`
)

func TestCheckFindsAndRepairs(t *testing.T) {
	tests := []struct {
		name       string
		corrupt    []string
		check      string // the check that must report it
		want       string // in one of its messages
		repairable bool   // --repair leaves a sound collection
	}{
		{"block dropped", []string{`DELETE FROM bm25_blocks WHERE segment = ` + firstSegment + ` AND last_term = ` + firstBlock}, "bm25", "disagree with its text", true},
		{"block garbage", []string{`UPDATE bm25_blocks SET data = x'05ff' WHERE segment = ` + firstSegment + ` AND last_term = ` + firstBlock}, "bm25", "corrupt posting list", true},
		{"block key wrong", []string{`UPDATE bm25_blocks SET last_term = last_term || 'x' WHERE segment = ` + firstSegment + ` AND last_term = ` + firstBlock}, "bm25", "its last term is", true},
		{"statistics off", []string{`UPDATE bm25_stats SET chunks = chunks + 3 WHERE split = 'chunks'`}, "bm25", "statistics record", true},
		{"chunk length off", []string{`UPDATE chunks SET terms = terms + 1 WHERE id = ` + firstIndexed}, "bm25", "terms, but its text has", true},
		{"chunk out of the index", []string{`UPDATE bm25_segments SET first = first + 1 WHERE id = ` + firstSegment}, "bm25", "is not in the BM25 index", true},
		{"block of a missing segment", []string{`UPDATE bm25_blocks SET segment = 99999 WHERE segment = ` + firstSegment + ` AND last_term = ` + firstBlock}, "bm25", "does not exist", true},
		{"segments overlap", []string{`INSERT INTO bm25_segments(split, first, last, chunks) SELECT split, first, last, 0 FROM bm25_segments WHERE id = ` + firstSegment}, "bm25", "overlap", true},
		{"segment counts off", []string{`UPDATE bm25_segments SET deleted = deleted + 1 WHERE id = (SELECT min(id) FROM bm25_segments)`}, "bm25", "live chunks are in it", true},
		{"page text edited", []string{`UPDATE pages SET text = replace(text, 'revenue', 'kestrel')`}, "bm25", "disagree with its text", true},
		{"orphan page", []string{`INSERT INTO pages(document, number, text) VALUES(99999, 1, 'lost text')`}, "links", "missing document", true},
		{"orphan chunk", []string{`INSERT INTO chunks(document, page, split, seq, start, end, terms) VALUES(99999, 99999, 'chunks', 0, 0, 4, 1)`}, "links", "missing document", true},
		{"document counts off", []string{`UPDATE documents SET chunks = chunks + 5 WHERE id = (SELECT min(id) FROM documents)`}, "links", "records", true},
		{"chunk outside its page", []string{`UPDATE chunks SET end = 1000000 WHERE id = (SELECT min(id) FROM chunks WHERE split = 'parents')`}, "links", "outside page", false},
		{"child without parent", []string{`UPDATE chunks SET parent = NULL WHERE id = (SELECT min(id) FROM chunks WHERE split = 'children')`}, "links", "has no parent chunk", false},
		{"chunk numbering gap", []string{`UPDATE chunks SET seq = seq + 1000 WHERE id = (SELECT max(id) FROM chunks WHERE split = 'parents')`}, "links", "chunks numbered", false},
		{"chunk of an unknown split", []string{`UPDATE chunks SET split = 'gone' WHERE id = (SELECT min(id) FROM chunks WHERE split = 'parents')`}, "schema", "split \"gone\"", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, dir := newCollection(t, 12)
			// Document frequencies count the postings of deleted chunks
			// until their segment is merged (as in Lucene), and a rebuild
			// has none; merge first so that scores can be compared.
			for _, sp := range checkSplits {
				if err := st.Merge(context.Background(), sp.Name, true); err != nil {
					t.Fatal(err)
				}
			}
			before := searchAll(t, st)
			corrupt(t, dir, tt.corrupt...)
			rep := mustCheck(t, st, false)
			if rep.OK() {
				t.Fatal("the check passes a corrupted collection")
			}
			var msgs []string
			found := false
			for _, p := range rep.Problems() {
				msgs = append(msgs, p.String())
				if p.Check == tt.check && strings.Contains(p.Message, tt.want) {
					found = true
				}
			}
			if !found {
				t.Fatalf("no %s problem mentioning %q in:\n%s", tt.check, tt.want, strings.Join(msgs, "\n"))
			}
			rep = mustCheck(t, st, true)
			if rep.After == nil {
				t.Fatal("repair did not check again")
			}
			if rep.OK() != tt.repairable {
				t.Fatalf("after repair OK = %v, want %v; repaired %v; still: %v", rep.OK(), tt.repairable, rep.Repaired, rep.After)
			}
			if !tt.repairable {
				return
			}
			if again := mustCheck(t, st, false); !again.OK() {
				t.Fatalf("a fresh check after repair: %v", again.Problems())
			}
			if tt.name == "page text edited" {
				return // the text changed, so the results do
			}
			if err := sameHits(before, searchAll(t, st)); err != nil {
				t.Errorf("search after repair differs: %v", err)
			}
		})
	}
}

func TestRepairedIndexFindsEditedText(t *testing.T) {
	st, dir := newCollection(t, 6)
	corrupt(t, dir, `UPDATE pages SET text = replace(text, 'revenue', 'zygote!')`)
	if ps, _ := st.SearchText(context.Background(), "chunks", "zygote", 3); len(ps) != 0 {
		t.Fatalf("the stale index already finds the new word: %v", ps)
	}
	mustCheck(t, st, true)
	ps, err := st.SearchText(context.Background(), "chunks", "zygote", 3)
	if err != nil || len(ps) == 0 {
		t.Fatalf("after repair, search for the new word: %v, %v", ps, err)
	}
	if !strings.Contains(ps[0].Text, "zygote") {
		t.Errorf("top hit %q does not hold the word", ps[0].Text)
	}
}

func TestCheckDamagedFile(t *testing.T) {
	st, dir := newCollection(t, 30)
	st.Close()
	path := filepath.Join(dir, sqlite.DatabaseFile)
	// Fold the WAL into the main file so the damage lands on real pages.
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		t.Fatal(err)
	}
	var pageSize, pages int
	db.QueryRow(`PRAGMA page_size`).Scan(&pageSize)
	db.QueryRow(`PRAGMA page_count`).Scan(&pages)
	db.Close()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// Scribble over the second half of the file, past the schema.
	for p := pages / 2; p < pages; p += 2 {
		off := p*pageSize + 8
		copy(data[off:off+64], strings.Repeat("\xff\x00", 32))
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	st2, err := sqlite.OpenStore(context.Background(), dir, store.Options{})
	if err != nil {
		t.Logf("open refuses the damaged collection: %v", err)
		return // refusing to open a damaged collection is fine too
	}
	defer st2.Close()
	rep, err := st2.Check(context.Background(), store.CheckOptions{})
	if err == nil && rep.OK() {
		t.Fatal("the check passes a damaged database file")
	}
	if err == nil {
		t.Logf("found: %v", rep.Problems()[0])
	} else {
		t.Logf("check fails: %v", err)
	}
}
