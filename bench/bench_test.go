package bench

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/distill-rag/distill/config"
)

func TestRunWritesEveryFigure(t *testing.T) {
	rep, err := Run(context.Background(), Options{Sizes: []int{200, 400}, Reps: 2, Queries: 4, LLMDelay: time.Millisecond, Dir: t.TempDir()})
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
	if rows := rep.Sections[4].Rows; len(rows) != 4 || rows[0][1] == "0 MiB" {
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
