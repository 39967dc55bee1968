package bench

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/distill-rag/distill/config"
)

func TestRunWritesEveryFigure(t *testing.T) {
	rep, err := Run(context.Background(), Options{Sizes: []int{200, 400}, Reps: 2, Queries: 4, ANNDim: 16, LLMDelay: time.Millisecond, Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := rep.Markdown(&b); err != nil {
		t.Fatal(err)
	}
	md := b.String()
	for _, want := range []string{"## Ingest throughput", "## Query latency per technique", "## Compression with a fake LLM", "## Approximate vector index", "## Peak memory",
		"| 200 | regular |", "| 400 | parent |", "| extract | compress:extract |", "| filter | compress:filter |"} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q:\n%s", want, md)
		}
	}
	ingest := rep.Sections[0].Rows
	if len(ingest) != 2 || ingest[0][0] != "200" || ingest[1][0] != "400" {
		t.Fatalf("ingest rows %v", ingest)
	}
	if small, large := atoi(ingest[0][3]), atoi(ingest[1][3]); small < 200 || large <= small {
		t.Errorf("chunk counts %d and %d for 200 and 400 chunks", small, large)
	}
	if n := len(rep.Sections[1].Rows); n != 2*len(builtinTechniques(t)) {
		t.Errorf("%d query rows, want one per size and configured technique", n)
	}
	ann := rep.Sections[3].Rows
	if len(ann) != 2 || ann[0][0] != "200" || ann[1][0] != "400" || ann[0][1] != "16" {
		t.Fatalf("vector index rows %v", ann)
	}
	for _, r := range ann {
		// Below 2,000 vectors the store searches exactly: recall is 1.
		if r[3] != "1.000" || !strings.Contains(r[8], "searches exactly") {
			t.Errorf("vector index row %v", r)
		}
	}
	if rows := rep.Sections[4].Rows; len(rows) != 6 || rows[0][1] == "0 MiB" {
		t.Errorf("memory rows %v", rows)
	}
}

func TestCorpusIsDeterministic(t *testing.T) {
	a, b := newCorpus(3), newCorpus(3)
	if a.text(2000) != b.text(2000) || a.query() != b.query() {
		t.Error("the same seed gives different text")
	}
	if newCorpus(4).text(200) == newCorpus(3).text(200) {
		t.Error("different seeds give the same text")
	}
}

func atoi(s string) int {
	n := 0
	for _, r := range s {
		if r >= '0' && r <= '9' {
			n = n*10 + int(r-'0')
		}
	}
	return n
}

func builtinTechniques(t *testing.T) []config.Technique {
	cfg, err := config.Parse("<built-in>", config.DefaultYAML(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return cfg.Techniques
}

// TestANNMeasuresTheGraph measures a split large enough for the store to
// search its graph rather than scan.
func TestANNMeasuresTheGraph(t *testing.T) {
	if testing.Short() {
		t.Skip("builds an index of 2,500 vectors")
	}
	b := &runner{opts: Options{Reps: 1, Queries: 20, ANNDim: 24, Progress: func(string) {}}, dir: t.TempDir()}
	row, err := b.ann(context.Background(), 2500)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%v", row)
	var rec float64
	if _, err := fmt.Sscanf(row[3], "%f", &rec); err != nil || rec < 0.9 || rec > 1 {
		t.Errorf("recall@10 %q, want at least 0.9 on 2,500 vectors", row[3])
	}
	if strings.Contains(row[8], "exactly") {
		t.Errorf("2,500 vectors were searched exactly: %v", row)
	}
	// Each vector costs at least its float32s and its layer-0 links.
	if mem := atoi(strings.Fields(row[6])[0]); mem < 4*24+4*32 || mem > 4*(4*24+4*32) {
		t.Errorf("memory per vector %q for 24 dimensions", row[6])
	}
	if file := atoi(row[7]); file < 4*24 {
		t.Errorf("file bytes per vector %q", row[7])
	}
}
