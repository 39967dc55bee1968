package distill_test

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/distill-rag/distill/internal/fence"

	"github.com/distill-rag/distill"
	"github.com/distill-rag/distill/compress"
	"github.com/distill-rag/distill/demo"
	"github.com/distill-rag/distill/ingest"
	"github.com/distill-rag/distill/internal/testsupport"
	"github.com/distill-rag/distill/internal/testsupport/fakellm"
	"github.com/distill-rag/distill/internal/testsupport/fakererank"
	"github.com/distill-rag/distill/model"
)

// copyFirstSentence is a model that extracts the first sentence of each
// context with the white space changed, as models do, adds a sentence of
// its own, and says YES to the filter.
func copyFirstSentence(prompt string) fakellm.Reply {
	if strings.Contains(prompt, "YES / NO") {
		return fakellm.Reply{Text: "Yes, although it does not mention everything."}
	}
	ctx := strings.TrimSpace(fencedText(prompt))
	first, _, _ := strings.Cut(ctx, ". ")
	return fakellm.Reply{Text: strings.Join(strings.Fields(first), "  ") + ".\nThis sentence is not in the source."}
}

var (
	fakesMu sync.Mutex
	fakes   = map[string]*fakellm.LLM{}
)

func init() {
	// "fake-test:NAME" opens the fake registered as NAME by a test.
	model.RegisterLLM("fake-test", func(_ context.Context, u model.URI) (model.LLM, error) {
		fakesMu.Lock()
		defer fakesMu.Unlock()
		f, ok := fakes[u.Target]
		if !ok {
			return nil, &model.URIError{URI: u.Raw, Reason: "no such fake"}
		}
		return f, nil
	})
}

func fakeURI(t testing.TB, f *fakellm.LLM) string {
	fakesMu.Lock()
	defer fakesMu.Unlock()
	fakes[t.Name()] = f
	return "fake-test:" + t.Name()
}

// collection ingests the test letters into a new collection.
func collection(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	var paths []string
	for name, pages := range testsupport.Letters {
		paths = append(paths, testsupport.Write(t, dir, strings.TrimSuffix(name, ".pdf")+".md", []byte(strings.Join(pages, "\n\n"))))
	}
	db := filepath.Join(dir, "db")
	eng, err := distill.Open(context.Background(), distill.Options{DB: db, Create: true, ConfigFile: writeEmptyConfig(t), Models: distill.Models{LLM: "none", Embed: "none", Rerank: "none"}})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	if _, err := eng.Ingest(context.Background(), paths, ingest.Options{}); err != nil {
		t.Fatal(err)
	}
	return db
}

func open(t testing.TB, db string, models distill.Models, noCache bool, cacheDir string) *distill.Engine {
	t.Helper()
	eng, err := distill.Open(context.Background(), distill.Options{DB: db, Models: models, NoCache: noCache, CacheDir: cacheDir, ConfigFile: writeEmptyConfig(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	return eng
}

func writeEmptyConfig(t testing.TB) string {
	return testsupport.Write(t, t.TempDir(), "config.yaml", []byte("# defaults only\n"))
}

func TestExtractWithLLMKeepsRealOffsetsAndCaches(t *testing.T) {
	db := collection(t)
	fake := fakellm.New(copyFirstSentence)
	uri := fakeURI(t, fake)
	cache := t.TempDir()
	ctx := context.Background()
	const q = "How much did revenue grow in 2022?"

	eng := open(t, db, distill.Models{LLM: uri, Rerank: "none", Embed: "none"}, false, cache)
	res, err := eng.Ask(ctx, q, "extract")
	if err != nil {
		t.Fatal(err)
	}
	// One call per retrieved chunk, and one for the answer (an LLM answers
	// when one is configured).
	if res.Stats.LLMCalls != res.Stats.Retrieved+1 || fake.Calls() != res.Stats.Retrieved+1 || res.Stats.Retrieved == 0 || res.Mode != "llm" {
		t.Fatalf("calls = %d (fake saw %d) for %d retrieved", res.Stats.LLMCalls, fake.Calls(), res.Stats.Retrieved)
	}
	if !res.Stats.TokensEstimated || res.Stats.PromptTokens == 0 {
		t.Errorf("stats = %+v, want estimated tokens", res.Stats)
	}
	stage := res.Stats.Stages[1]
	if stage.Name != "compress:extract" || stage.Calls != res.Stats.Retrieved || stage.InventedChars != res.Stats.Retrieved*len("This sentence is not in the source.") || stage.CharsOut >= stage.CharsIn {
		t.Errorf("stage = %+v", stage)
	}
	for _, c := range res.Contexts {
		page, err := eng.Store().Page(ctx, c.DocID, c.Page)
		if err != nil {
			t.Fatal(err)
		}
		if len(c.Spans) != 1 || page[c.Spans[0].Start:c.Spans[0].End] != c.Text {
			t.Errorf("context %d: text %q is not the page's text at %v", c.Rank, c.Text, c.Spans)
		}
		if strings.Contains(c.Text, "not in the source") {
			t.Errorf("invented text passed on: %q", c.Text)
		}
	}

	// The same question again: answered from the cache, at no cost.
	eng2 := open(t, db, distill.Models{LLM: uri, Rerank: "none", Embed: "none"}, false, cache)
	again, err := eng2.Ask(ctx, q, "extract")
	if err != nil {
		t.Fatal(err)
	}
	// (The answer itself is not cached: one call.)
	if again.Stats.LLMCalls != 1 || again.Stats.CachedCalls != res.Stats.Retrieved || again.Stats.Stages[1].PromptTokens != 0 || fake.Calls() != res.Stats.LLMCalls+1 {
		t.Errorf("second ask: %+v; fake calls %d", again.Stats, fake.Calls())
	}
	if again.Answer != res.Answer {
		t.Errorf("cached answer differs: %q vs %q", again.Answer, res.Answer)
	}

	// --no-cache asks the model again.
	eng3 := open(t, db, distill.Models{LLM: uri, Rerank: "none", Embed: "none"}, true, cache)
	third, err := eng3.Ask(ctx, q, "extract")
	if err != nil {
		t.Fatal(err)
	}
	if third.Stats.LLMCalls != res.Stats.LLMCalls || third.Stats.CachedCalls != 0 || fake.Calls() != 2*res.Stats.LLMCalls+1 {
		t.Errorf("no-cache ask: %+v; fake calls %d", third.Stats, fake.Calls())
	}
}

func TestFailingLLMStillAnswers(t *testing.T) {
	db := collection(t)
	n := 0
	var mu sync.Mutex
	fake := fakellm.New(func(p string) fakellm.Reply {
		mu.Lock()
		defer mu.Unlock()
		n++
		if n%2 == 0 {
			return fakellm.Reply{Err: errors.New("429 Too Many Requests")}
		}
		return copyFirstSentence(p)
	})
	eng := open(t, db, distill.Models{LLM: fakeURI(t, fake), Rerank: "none", Embed: "none"}, true, "")
	res, err := eng.Ask(context.Background(), "Where did Alpha open a warehouse?", "extract")
	if err != nil {
		t.Fatal(err)
	}
	stage := res.Stats.Stages[1]
	if stage.Uncompressed != res.Stats.Retrieved/2 || len(res.Contexts) != res.Stats.Retrieved {
		t.Errorf("stage = %+v, %d contexts", stage, len(res.Contexts))
	}
	if !strings.Contains(strings.Join(stage.Notes, "\n"), "not compressed: "+fake.Name()+" failed: 429 Too Many Requests") {
		t.Errorf("notes = %q", stage.Notes)
	}
	if res.Answer == "" {
		t.Error("no answer")
	}
}

func TestTechniquesNeedingModels(t *testing.T) {
	db := collection(t)
	ctx := context.Background()
	offline := open(t, db, distill.Models{LLM: "none", Rerank: "none", Embed: "none"}, false, "")
	unavailable := map[string]string{}
	for _, ti := range offline.Techniques() {
		unavailable[ti.Name] = ti.Unavailable
	}
	if !strings.Contains(unavailable["rerank"], "needs a reranker") || !strings.Contains(unavailable["local"], "needs an embedding model") || unavailable["extract"] != "" {
		t.Errorf("unavailable = %q", unavailable)
	}
	cmp, err := offline.Compare(ctx, "How much did revenue grow?", nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range cmp.Results {
		names = append(names, r.Technique)
	}
	if got := strings.Join(names, " "); got != "regular parent extract filter" {
		t.Errorf("compared %q, want the offline techniques", got)
	}
	_, err = offline.Ask(ctx, "How much did revenue grow?", "rerank")
	var me *compress.MissingModelError
	if !errors.As(err, &me) || !strings.Contains(err.Error(), "--rerank") {
		t.Errorf("ask rerank offline: err = %v", err)
	}

	srv := fakererank.TEI(t, fakererank.Options{})
	withReranker := open(t, db, distill.Models{LLM: "none", Rerank: "tei:" + srv.URL, Embed: "none"}, false, "")
	res, err := withReranker.Ask(ctx, "How much did revenue grow in 2022?", "rerank")
	if err != nil {
		t.Fatal(err)
	}
	if srv.Calls() != 1 || res.Stats.RerankCalls != 1 || res.Stats.Stages[1].Name != "compress:rerank" || res.Stats.Stages[1].Out > 4 {
		t.Errorf("rerank: %d server calls, stats %+v", srv.Calls(), res.Stats)
	}
}

func TestMarkdownComparison(t *testing.T) {
	db := collection(t)
	eng := open(t, db, distill.Models{LLM: "none", Rerank: "none", Embed: "none"}, false, "")
	var cmps []*distill.Comparison
	for _, q := range []string{"How much did revenue grow in 2022?", "Where is the | warehouse?"} {
		c, err := eng.Compare(context.Background(), q, []string{"regular", "extract"})
		if err != nil {
			t.Fatal(err)
		}
		cmps = append(cmps, c)
	}
	var b bytes.Buffer
	if err := distill.WriteMarkdown(&b, cmps); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(b.String(), "\n")
	if lines[0] != "| Question | regular | extract |" || lines[1] != "| --- | --- | --- |" {
		t.Errorf("header:\n%s", strings.Join(lines[:2], "\n"))
	}
	if !strings.HasPrefix(lines[2], "| How much did revenue grow in 2022? | ") || !strings.HasPrefix(lines[3], `| Where is the \| warehouse? | `) {
		t.Errorf("rows:\n%s", strings.Join(lines[2:4], "\n"))
	}
	for _, l := range lines[2:4] {
		if strings.Count(strings.ReplaceAll(l, `\|`, ""), "|") != 4 {
			t.Errorf("row has the wrong number of cells: %s", l)
		}
		if !strings.Contains(l, "LLM calls") || !strings.Contains(l, "chars") {
			t.Errorf("row lacks figures: %s", l)
		}
	}
	for _, want := range []string{"**Cost over 2 questions**", "| LLM calls | 0 | 0 |", "| context chars retrieved | ", "| mean latency | "} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("markdown lacks %q:\n%s", want, b.String())
		}
	}
}

// BenchmarkTechniques answers one question with every technique, the LLM
// taking 200 ms per call and the cache off, and reports what each costs:
// LLM and rerank calls, tokens, and the time of its compression stages.
func BenchmarkTechniques(b *testing.B) {
	ctx := context.Background()
	dir := b.TempDir()
	corpus, err := demo.Bundled(ctx, dir)
	if err != nil {
		b.Fatal(err)
	}
	db := filepath.Join(dir, "db")
	setup, err := distill.Open(ctx, distill.Options{DB: db, Create: true, ConfigFile: writeEmptyConfig(b), Models: distill.Models{LLM: "none", Embed: "none", Rerank: "none"}})
	if err != nil {
		b.Fatal(err)
	}
	for _, l := range corpus.Letters {
		if _, err := setup.Ingest(ctx, []string{l.Path}, ingest.Options{Pages: l.Pages}); err != nil {
			b.Fatal(err)
		}
	}
	setup.Close()
	fake := fakellm.New(copyFirstSentence)
	fake.Latency = 200 * time.Millisecond
	srv := fakererank.TEI(b, fakererank.Options{})
	eng := open(b, db, distill.Models{LLM: fakeURI(b, fake), Rerank: "tei:" + srv.URL, Embed: "none"}, true, "")
	for _, ti := range eng.Techniques() {
		if ti.Unavailable != "" {
			continue
		}
		b.Run(ti.Name, func(b *testing.B) {
			var calls, tokens, rerank int
			var compressMS float64
			for i := 0; i < b.N; i++ {
				res, err := eng.Ask(ctx, corpus.Questions[0], ti.Name)
				if err != nil {
					b.Fatal(err)
				}
				calls += res.Stats.LLMCalls
				tokens += res.Stats.PromptTokens + res.Stats.CompletionTokens
				rerank += res.Stats.RerankCalls
				for _, s := range res.Stats.Stages {
					if strings.HasPrefix(s.Name, "compress:") {
						compressMS += s.LatencyMS
					}
				}
			}
			n := float64(b.N)
			b.ReportMetric(float64(calls)/n, "llm_calls/op")
			b.ReportMetric(float64(tokens)/n, "tokens/op")
			b.ReportMetric(float64(rerank)/n, "rerank_calls/op")
			b.ReportMetric(compressMS/n, "compress_ms/op")
		})
	}
}

// fencedText is the chunk a compression prompt fences.
func fencedText(prompt string) string {
	if b := fence.Blocks(prompt); len(b) > 0 {
		return b[0]
	}
	return ""
}
