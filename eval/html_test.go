package eval

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/distill-rag/distill/internal/testsupport"
)

// tinyReport evaluates the tiny BEIR set with every technique.
func tinyReport(t *testing.T) *Report {
	t.Helper()
	ctx := context.Background()
	ds, err := LoadBEIR(ctx, testsupport.TinyBEIR(t, filepath.Join(t.TempDir(), "tiny")), LoadOptions{Strict: true})
	if err != nil {
		t.Fatal(err)
	}
	eng, _, err := OpenBEIR(ctx, ds, CollectionOptions{CacheDir: t.TempDir(), Config: builtinConfig(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	rep, err := RunBEIR(ctx, eng, ds, RunOptions{Contexts: 2})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func count(s, sub string) int { return strings.Count(s, sub) }

func TestWriteHTMLIsSelfContained(t *testing.T) {
	rep := tinyReport(t)
	rep.Questions[0].Question = `<script>alert("x")</script> & more`
	var b bytes.Buffer
	if err := WriteHTML(&b, rep); err != nil {
		t.Fatal(err)
	}
	html := b.String()
	for _, external := range []string{"src=", "href=", "@import", "url(", `="http`, `="//`} {
		if strings.Contains(html, external) {
			t.Errorf("the report refers to something outside it: %q", external)
		}
	}
	if strings.Contains(html, `<script>alert`) || !strings.Contains(html, "&lt;script&gt;alert") {
		t.Error("question text is not escaped")
	}
	n := len(rep.Results)
	if got := count(html, `<tr class="technique"`); got != n {
		t.Errorf("%d metric rows, want %d", got, n)
	}
	if got := count(html, `<circle class="point"`); got != n {
		t.Errorf("%d chart points, want %d", got, n)
	}
	if got := count(html, `<details class="question"`); got != len(rep.Questions) {
		t.Errorf("%d questions, want %d", got, len(rep.Questions))
	}
	// bm25-doc is best on every metric and is marked so
	if got := count(html, `class="best"`); got < len(rep.Metrics) {
		t.Errorf("%d best cells, want at least %d", got, len(rep.Metrics))
	}
}

func TestChartPlacesPointsByQualityAndCost(t *testing.T) {
	rep := &Report{Quality: NDCG10, Results: []TechniqueResult{
		{Technique: "cheap", Values: map[string]float64{NDCG10: 0.2}, Cost: Cost{ContextChars: 1000}},
		{Technique: "dear", Values: map[string]float64{NDCG10: 0.4}, Cost: Cost{ContextChars: 100000}},
	}}
	c := newChart(rep)
	cheap, dear := c.Points[0], c.Points[1]
	if !(cheap.X < dear.X && cheap.Y > dear.Y) {
		t.Errorf("cheap at (%v,%v), dear at (%v,%v): want dear right of and above cheap", cheap.X, cheap.Y, dear.X, dear.Y)
	}
	for _, p := range c.Points {
		if p.X < c.Left || p.X > c.Right || p.Y < c.Top || p.Y > c.Bot {
			t.Errorf("%s outside the plot: (%v,%v)", p.Technique, p.X, p.Y)
		}
	}
	// a 100x range is drawn on a log scale with round ticks
	var labels []string
	for _, tk := range c.XTicks {
		labels = append(labels, tk.Label)
	}
	if got := strings.Join(labels, " "); !strings.Contains(got, "1000") || !strings.Contains(got, "10k") {
		t.Errorf("x ticks %q", got)
	}
	// with LLM tokens spent, cost is tokens
	rep.Results[0].Cost.PromptTokens = 50
	if c := newChart(rep); !strings.Contains(c.XLabel, "tokens") {
		t.Errorf("x label %q", c.XLabel)
	}
}

func TestHTMLRendersInChromium(t *testing.T) {
	testsupport.Chromium(t)
	rep := tinyReport(t)
	path := filepath.Join(t.TempDir(), "report.html")
	var b bytes.Buffer
	if err := WriteHTML(&b, rep); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	dom := testsupport.DumpDOM(t, path)
	n := len(rep.Results)
	// the script ran to its end and counted the table's rows
	ready := regexp.MustCompile(`<body data-ready="(\d+)"`).FindStringSubmatch(dom)
	if ready == nil || ready[1] != "5" || n != 5 {
		t.Fatalf("scripts did not finish (data-ready %v) for %d techniques; DOM starts:\n%.500s", ready, n, dom)
	}
	if got := count(dom, `<tr class="technique"`); got != n {
		t.Errorf("%d metric rows in the rendered DOM, want %d", got, n)
	}
	if got := count(dom, `<circle class="point"`); got != n {
		t.Errorf("%d chart points in the rendered DOM, want %d", got, n)
	}
	for _, r := range rep.Results {
		if !strings.Contains(dom, `data-technique="`+r.Technique+`"`) {
			t.Errorf("technique %s missing from the DOM", r.Technique)
		}
	}
	if got := count(dom, `<details class="question"`); got != len(rep.Questions) {
		t.Errorf("%d questions in the DOM, want %d", got, len(rep.Questions))
	}
}
