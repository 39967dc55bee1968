package eval

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/distill-rag/distill"
	"github.com/distill-rag/distill/config"
	"github.com/distill-rag/distill/document"
	"github.com/distill-rag/distill/internal/testsupport"
)

func builtinConfig(t *testing.T) *config.Config {
	t.Helper()
	cfg, err := config.Parse("<built-in>", config.DefaultYAML(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func appendLine(t *testing.T, path, line string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(line + "\n"); err != nil {
		t.Fatal(err)
	}
}

func TestLoadBEIR(t *testing.T) {
	dir := testsupport.TinyBEIR(t, t.TempDir())
	ds, err := LoadBEIR(context.Background(), dir, LoadOptions{Strict: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(ds.Corpus) != 6 || ds.Name != filepath.Base(dir) {
		t.Errorf("corpus %d docs, name %q", len(ds.Corpus), ds.Name)
	}
	// q4 has no judgments, so it is not a test query
	if want := []string{"q1", "q2", "q3"}; !slices.Equal(ds.QueryIDs, want) {
		t.Errorf("queries %v, want %v", ds.QueryIDs, want)
	}
	if got := ds.Qrels["q1"]; got["d1"] != 2 || got["d2"] != 1 || len(got) != 2 {
		t.Errorf("q1 judgments %v", got)
	}
	if len(ds.CorpusHash) != 64 {
		t.Errorf("corpus hash %q", ds.CorpusHash)
	}
}

func TestLoadBEIRBadInput(t *testing.T) {
	tests := []struct {
		name   string
		file   string // appended to, or removed when line is empty
		line   string
		want   string // the strict error
		skips  int    // lines skipped when lenient; -1: fails either way
		remove bool
	}{
		{"malformed corpus line", "corpus.jsonl", `{"_id": "d9", "text": `, "corpus.jsonl:7: not a JSON object", 1, false},
		{"corpus line without id", "corpus.jsonl", `{"title": "t", "text": "x"}`, `corpus.jsonl:7: no "_id"`, 1, false},
		{"duplicate document", "corpus.jsonl", `{"_id": "d1", "text": "again"}`, `corpus.jsonl:7: document "d1" appears twice`, 1, false},
		{"query without text", "queries.jsonl", `{"_id": "q9", "text": ""}`, `queries.jsonl:5: query "q9" has no text`, 1, false},
		{"unknown document", "qrels/test.tsv", "q1\tnope\t1", `test.tsv:6: document "nope" is not in corpus.jsonl`, 1, false},
		{"unknown query", "qrels/test.tsv", "q77\td1\t1", `test.tsv:6: query "q77" is not in queries.jsonl`, 1, false},
		{"bad score", "qrels/test.tsv", "q1\td3\thigh", `test.tsv:6: score "high" is not an integer`, 1, false},
		{"wrong field count", "qrels/test.tsv", "q1 d3", "test.tsv:6: want 3 tab-separated fields", 1, false},
		{"missing queries", "queries.jsonl", "", "queries.jsonl: no such file", -1, true},
		{"missing qrels", "qrels/test.tsv", "", "test.tsv: no such file", -1, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := testsupport.TinyBEIR(t, t.TempDir())
			path := filepath.Join(dir, tc.file)
			if tc.remove {
				os.Remove(path)
			} else {
				appendLine(t, path, tc.line)
			}
			_, err := LoadBEIR(context.Background(), dir, LoadOptions{Strict: true})
			var de *DataError
			if !errors.As(err, &de) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("strict: got %v, want a DataError with %q", err, tc.want)
			}
			ds, err := LoadBEIR(context.Background(), dir, LoadOptions{})
			if tc.skips < 0 {
				if err == nil {
					t.Fatal("lenient: no error")
				}
				return
			}
			if err != nil {
				t.Fatalf("lenient: %v", err)
			}
			if ds.Skipped.Count() != tc.skips || !strings.Contains(ds.Skipped.Summary(), tc.want) {
				t.Errorf("lenient: skipped %d (%s), want %d", ds.Skipped.Count(), ds.Skipped.Summary(), tc.skips)
			}
			if len(ds.QueryIDs) != 3 {
				t.Errorf("lenient: %d queries, want the 3 good ones", len(ds.QueryIDs))
			}
		})
	}
	if _, err := LoadBEIR(context.Background(), filepath.Join(t.TempDir(), "nothing"), LoadOptions{}); err == nil || !strings.Contains(err.Error(), "is not a directory") {
		t.Errorf("missing directory: %v", err)
	}
}

func TestBEIREndToEnd(t *testing.T) {
	ctx := context.Background()
	dir := testsupport.TinyBEIR(t, filepath.Join(t.TempDir(), "tiny"))
	ds, err := LoadBEIR(ctx, dir, LoadOptions{Strict: true})
	if err != nil {
		t.Fatal(err)
	}
	cache := t.TempDir()
	opts := CollectionOptions{CacheDir: cache, Config: builtinConfig(t)}
	eng, written, err := OpenBEIR(ctx, ds, opts)
	if err != nil {
		t.Fatal(err)
	}
	if written != 6 || !strings.HasPrefix(eng.DB(), filepath.Join(cache, "tiny-")) {
		t.Errorf("first open wrote %d documents into %s", written, eng.DB())
	}
	db := eng.DB()
	rep, err := RunBEIR(ctx, eng, ds, RunOptions{})
	eng.Close()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range rep.Results {
		names = append(names, r.Technique)
	}
	if want := []string{"regular", "parent", "extract", "filter", "bm25-doc"}; !slices.Equal(names, want) {
		t.Fatalf("techniques %v, want %v", names, want)
	}
	doc := rep.Results[4]
	for _, m := range rep.Metrics {
		if doc.Values[m] != 1 {
			t.Errorf("bm25-doc %s = %v, want 1 (each query's documents rank first)", m, doc.Values[m])
		}
	}
	if doc.Cost.Contexts < 1 || doc.P95MS < doc.P50MS || doc.Cost.StageMS["retrieve"] <= 0 {
		t.Errorf("bm25-doc cost %+v, p50 %v p95 %v", doc.Cost, doc.P50MS, doc.P95MS)
	}
	if len(rep.Questions) != 3 || rep.Questions[0].Runs[4].Contexts[0].Doc != "d1" || rep.Questions[0].Runs[4].Contexts[0].Grade != 2 {
		t.Errorf("drill-down of q1: %+v", rep.Questions[0].Runs[4].Contexts)
	}

	// The --json shape has exactly the documented keys.
	data, err := json.Marshal(rep.BEIRJSON())
	if err != nil {
		t.Fatal(err)
	}
	var shape struct {
		Dataset string           `json:"dataset"`
		Queries int              `json:"queries"`
		Results []map[string]any `json:"results"`
	}
	if err := json.Unmarshal(data, &shape); err != nil {
		t.Fatal(err)
	}
	var top map[string]any
	json.Unmarshal(data, &top)
	if len(top) != 3 || shape.Dataset != "tiny" || shape.Queries != 3 || len(shape.Results) != 5 {
		t.Fatalf("json %s", data)
	}
	var keys []string
	for k := range shape.Results[0] {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if want := []string{"map@100", "mrr@10", "ndcg@10", "p50_ms", "p95_ms", "recall@10", "recall@100", "technique"}; !slices.Equal(keys, want) {
		t.Errorf("result keys %v, want %v", keys, want)
	}

	// A second run reuses the collection without writing.
	eng, written, err = OpenBEIR(ctx, ds, opts)
	if err != nil {
		t.Fatal(err)
	}
	eng.Close()
	if written != 0 || eng.DB() != db {
		t.Errorf("second open wrote %d documents into %s (first: %s)", written, eng.DB(), db)
	}
	// A changed corpus gets its own collection.
	appendLine(t, filepath.Join(dir, "corpus.jsonl"), `{"_id": "d7", "title": "New", "text": "A new document."}`)
	ds2, err := LoadBEIR(ctx, dir, LoadOptions{Strict: true})
	if err != nil {
		t.Fatal(err)
	}
	cfg, _ := BEIRConfig(builtinConfig(t))
	if CollectionFor(ds2, cfg, cache) == db {
		t.Error("a changed corpus maps to the same collection")
	}
}

func TestOpenBEIRResumesAnInterruptedIngest(t *testing.T) {
	ctx := context.Background()
	dir := testsupport.TinyBEIR(t, filepath.Join(t.TempDir(), "tiny"))
	ds, err := LoadBEIR(ctx, dir, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	opts := CollectionOptions{CacheDir: t.TempDir(), Config: builtinConfig(t)}
	// Ingest only half, as a run stopped half-way would, without the marker.
	half := *ds
	half.Corpus = ds.Corpus[:3]
	eng, _, err := OpenBEIR(ctx, &half, opts)
	if err != nil {
		t.Fatal(err)
	}
	db := eng.DB()
	eng.Close()
	os.Remove(filepath.Join(db, markerFile))
	opts.DB = db
	eng, written, err := OpenBEIR(ctx, ds, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	docs, _ := eng.Documents(ctx)
	if written != 3 || len(docs) != 6 {
		t.Errorf("resumed: wrote %d, collection has %d documents; want 3 and 6", written, len(docs))
	}
}

// scripted is a Retriever whose contexts are given per question.
type scripted struct {
	results map[string][]distill.Context
	latency map[string]float64
}

func (s *scripted) Techniques() []distill.TechniqueInfo {
	return []distill.TechniqueInfo{{Name: "t"}}
}

func (s *scripted) Retrieve(ctx context.Context, q, technique string, _ ...distill.QueryOption) (*distill.Result, error) {
	cs := s.results[q]
	return &distill.Result{Question: q, Technique: technique, Contexts: cs, Stats: distill.Stats{LatencyMS: s.latency[q], ContextChars: 10 * len(cs)}}, nil
}

func TestRunBEIRMapsContextsToDocuments(t *testing.T) {
	ds := &Dataset{
		Name:     "set",
		Corpus:   []CorpusDoc{{ID: "d1"}, {ID: "d2"}, {ID: "d3"}},
		QueryIDs: []string{"q1", "q2"},
		Queries:  map[string]string{"q1": "first", "q2": "second"},
		Qrels:    map[string]Judgments{"q1": {"d1": 2, "d2": 1}, "q2": {"d3": 1}},
	}
	ctx := func(rank int, doc string, score float64) distill.Context {
		return distill.Context{Rank: rank, Passage: document.Passage{DocID: document.IDFor(ds.Source(doc)), Score: score}}
	}
	r := &scripted{
		results: map[string][]distill.Context{
			// d2's best chunk (5) beats d1's best (4.5); the foreign one is ignored
			"first":  {ctx(1, "d2", 5), ctx(2, "d1", 4), ctx(3, "d2", 3), ctx(4, "other", 2.5), ctx(5, "d1", 4.5)},
			"second": {ctx(1, "d1", 1)},
		},
		latency: map[string]float64{"first": 10, "second": 30},
	}
	rep, err := RunBEIR(context.Background(), r, ds, RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got := rep.Questions[0].Runs[0].Values
	// ranking d2, d1: DCG = 1/1 + 2/log2(3) = 2.2618595; IDCG = 2 + 1/log2(3) = 2.6309298
	want := map[string]float64{NDCG10: 0.8597, Recall10: 1, Recall100: 1, MRR10: 1, MAP100: 1}
	for k, v := range want {
		if math.Abs(got[k]-v) > 1e-4 {
			t.Errorf("q1 %s = %v, want %v", k, got[k], v)
		}
	}
	sum := rep.Results[0]
	if math.Abs(sum.Values[NDCG10]-0.8597/2) > 1e-4 || sum.Values[Recall10] != 0.5 {
		t.Errorf("means %v", sum.Values)
	}
	if sum.P50MS != 10 || sum.P95MS != 30 || sum.Cost.Contexts != 3 || sum.Cost.ContextChars != 30 {
		t.Errorf("latency %v/%v, cost %+v", sum.P50MS, sum.P95MS, sum.Cost)
	}
	if _, err := RunBEIR(context.Background(), r, ds, RunOptions{Techniques: []string{"nope"}}); err == nil || !strings.Contains(err.Error(), `unknown technique "nope"`) {
		t.Errorf("unknown technique: %v", err)
	}
}
