// Package bench is distill's benchmark suite: it builds collections of
// generated text at given sizes and measures ingest throughput, query
// latency per technique, compression wall time against a fake LLM with a
// set latency, approximate vector search where the store offers it, and
// peak memory, then writes a markdown report. Every figure is the median of
// several repetitions in one run on one machine.
package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/distill-rag/distill"
	"github.com/distill-rag/distill/compress"
	"github.com/distill-rag/distill/config"
	"github.com/distill-rag/distill/ingest"
	"github.com/distill-rag/distill/model"
	"github.com/distill-rag/distill/retrieve"
	"github.com/distill-rag/distill/technique"
)

// Options shape a benchmark run.
type Options struct {
	// Sizes are the collection sizes, in chunks of the "chunks" split
	// (about 900 bytes of text each); default 10,000 and 100,000.
	Sizes []int
	// Reps is how many times each measurement is repeated; default 5.
	Reps int
	// Queries per technique and repetition; default 50.
	Queries int
	// ANNDim is the dimension of the vectors the approximate index is
	// measured with; default 384 (the small sentence-embedding models').
	ANNDim int
	// LLMDelay is the fake LLM's latency per call; default 200ms.
	LLMDelay time.Duration
	// Dir holds the generated files and collections; default a temporary
	// directory, removed afterwards.
	Dir string
	// Config is the configuration; nil means the built-in one.
	Config *config.Config
	// Progress receives a line per step.
	Progress func(string)
}

// Report is the suite's outcome.
type Report struct {
	Started  time.Time
	Machine  string
	Options  Options
	Sections []Section
}

// Section is one table of the report.
type Section struct {
	Title  string
	Note   string
	Header []string
	Rows   [][]string
}

// Run runs the suite.
func Run(ctx context.Context, opts Options) (*Report, error) {
	if len(opts.Sizes) == 0 {
		opts.Sizes = []int{10000, 100000}
	}
	if opts.Reps <= 0 {
		opts.Reps = 5
	}
	if opts.Queries <= 0 {
		opts.Queries = 50
	}
	if opts.ANNDim <= 0 {
		opts.ANNDim = 384
	}
	if opts.LLMDelay <= 0 {
		opts.LLMDelay = 200 * time.Millisecond
	}
	if opts.Progress == nil {
		opts.Progress = func(string) {}
	}
	if opts.Config == nil {
		cfg, err := config.Parse("<built-in>", config.DefaultYAML(), nil)
		if err != nil {
			return nil, err
		}
		opts.Config = cfg
	}
	dir := opts.Dir
	if dir == "" {
		tmp, err := os.MkdirTemp("", "distill-bench-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	}
	rep := &Report{Started: time.Now(), Options: opts, Machine: fmt.Sprintf("%s/%s, %d CPUs, %s", runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.Version())}
	b := &runner{opts: opts, dir: dir, rep: rep}
	ingestRows, queryRows, compressRows, annRows, memRows := [][]string{}, [][]string{}, [][]string{}, [][]string{}, [][]string{}
	for _, size := range opts.Sizes {
		eng, ir, err := b.build(ctx, size)
		if err != nil {
			return nil, err
		}
		ingestRows = append(ingestRows, ir)
		memRows = append(memRows, []string{fmt.Sprintf("after ingesting %s chunks", count(size)), mib(peakRSS())})
		qr, err := b.queries(ctx, eng, size)
		if err != nil {
			eng.Close()
			return nil, err
		}
		queryRows = append(queryRows, qr...)
		memRows = append(memRows, []string{fmt.Sprintf("after querying %s chunks", count(size)), mib(peakRSS())})
		if size == opts.Sizes[0] {
			if compressRows, err = b.compression(ctx, eng); err != nil {
				eng.Close()
				return nil, err
			}
		}
		eng.Close()
		ar, err := b.ann(ctx, size)
		if err != nil {
			return nil, err
		}
		annRows = append(annRows, ar)
		memRows = append(memRows, []string{fmt.Sprintf("after the vector index of %s vectors", count(size)), mib(peakRSS())})
	}
	rep.Sections = []Section{
		{Title: "Ingest throughput", Note: fmt.Sprintf("Generated text files of 100 KB into a new collection with the configured splits; median of %d builds (the largest size is built once).", min(opts.Reps, 3)),
			Header: []string{"chunks", "files", "MB", "all-split chunks", "time", "MB/s", "chunks/s"}, Rows: ingestRows},
		{Title: "Query latency per technique", Note: fmt.Sprintf("%d generated queries per technique, retrieval and compression without composing an answer; p50 and p95 are medians over %d repetitions.", opts.Queries, opts.Reps),
			Header: []string{"chunks", "technique", "p50", "p95", "LLM calls/q"}, Rows: queryRows},
		{Title: "Compression with a fake LLM", Note: fmt.Sprintf("Techniques with compressors, run with an in-process LLM that answers after %s per call; compression stage wall time per question, median of %d repetitions of %d queries. Offline compressors make no calls.", opts.LLMDelay, opts.Reps, min(opts.Queries, 10)),
			Header: []string{"technique", "stage", "wall time p50", "LLM calls/q", "tokens/q", "× one call"}, Rows: compressRows},
		{Title: "Approximate vector index", Note: fmt.Sprintf("As many generated vectors as chunks (points of a %d-dimensional latent space mapped into %d dimensions, plus noise), one chunk each, written through the store into a collection of their own; %d queries from the same distribution, k = 10. Recall@10 is the mean share of the exact top 10 that the store's approximate search (SearchVector) returns; p50 are medians over %d repetitions, each including reading the passages. Memory is the index's heap per vector and its ratio to the raw float32 vectors.", annLatent, opts.ANNDim, opts.Queries, opts.Reps),
			Header: []string{"vectors", "dim", "index build", "recall@10", "p50 approximate", "p50 exact", "memory / vector", "file / vector", "note"}, Rows: annRows},
		{Title: "Peak memory", Note: "Peak resident set size of the benchmark process so far (it only grows).", Header: []string{"phase", "peak RSS"}, Rows: memRows},
	}
	return rep, nil
}

type runner struct {
	opts Options
	dir  string
	rep  *Report
}

// build ingests a collection of about size chunks, timing the ingest.
func (b *runner) build(ctx context.Context, size int) (*distill.Engine, []string, error) {
	const fileBytes = 100_000
	b.opts.Progress(fmt.Sprintf("generating %s chunks of text", count(size)))
	files := filepath.Join(b.dir, fmt.Sprintf("files-%d", size))
	paths, bytes, err := newCorpus(uint64(size)).writeFiles(files, size*900, fileBytes)
	if err != nil {
		return nil, nil, err
	}
	reps := min(b.opts.Reps, 3)
	if size == b.opts.Sizes[len(b.opts.Sizes)-1] && len(b.opts.Sizes) > 1 {
		reps = 1
	}
	var times []float64
	var eng *distill.Engine
	var chunks int
	for r := range reps {
		b.opts.Progress(fmt.Sprintf("ingesting %s chunks (%d/%d)", count(size), r+1, reps))
		db := filepath.Join(b.dir, fmt.Sprintf("db-%d-%d", size, r))
		if eng != nil {
			eng.Close()
		}
		eng, err = distill.Open(ctx, distill.Options{DB: db, Create: true, Config: b.opts.Config, Models: distill.Models{LLM: "none", Embed: "none", Rerank: "none"}})
		if err != nil {
			return nil, nil, err
		}
		start := time.Now()
		rep, err := eng.Ingest(ctx, []string{files}, ingest.Options{})
		if err != nil {
			eng.Close()
			return nil, nil, err
		}
		times = append(times, time.Since(start).Seconds())
		if f := rep.Failures(); len(f) > 0 {
			eng.Close()
			return nil, nil, fmt.Errorf("bench ingest: %s: %w", f[0].Source, f[0].Err())
		}
		chunks = 0
		for _, f := range rep.Files {
			chunks += f.Chunks
		}
		if r < reps-1 {
			eng.Close()
			eng = nil
			os.RemoveAll(db)
		}
	}
	t := median(times)
	mb := float64(bytes) / 1e6
	return eng, []string{count(size), count(len(paths)), fmt.Sprintf("%.1f", mb), count(chunks), fmt.Sprintf("%.1f s", t),
		fmt.Sprintf("%.2f", mb/t), count(int(float64(size) / t))}, nil
}

// queries times every technique on generated queries.
func (b *runner) queries(ctx context.Context, eng *distill.Engine, size int) ([][]string, error) {
	c := newCorpus(uint64(size) + 1)
	qs := make([]string, b.opts.Queries)
	for i := range qs {
		qs[i] = c.query()
	}
	var rows [][]string
	for _, t := range eng.Techniques() {
		if t.Unavailable != "" {
			rows = append(rows, []string{count(size), t.Name, "–", "–", "not run: " + t.Unavailable})
			continue
		}
		b.opts.Progress(fmt.Sprintf("querying %s chunks with %s", count(size), t.Name))
		var p50s, p95s []float64
		calls := 0
		for range b.opts.Reps {
			var lat []float64
			for _, q := range qs {
				res, err := eng.Retrieve(ctx, q, t.Name)
				if err != nil {
					return nil, err
				}
				lat = append(lat, res.Stats.LatencyMS)
				calls += res.Stats.LLMCalls
			}
			p50s = append(p50s, percentile(lat, 50))
			p95s = append(p95s, percentile(lat, 95))
		}
		rows = append(rows, []string{count(size), t.Name, ms(median(p50s)), ms(median(p95s)), fmt.Sprintf("%.1f", float64(calls)/float64(b.opts.Reps*len(qs)))})
	}
	return rows, nil
}

// compression runs each technique that has compressors with a fake LLM
// of fixed latency, and reports the compression stages' wall time.
func (b *runner) compression(ctx context.Context, eng *distill.Engine) ([][]string, error) {
	llm := &slowLLM{delay: b.opts.LLMDelay}
	renv := retrieve.Env{Store: eng.Store(), Auto: "bm25"}
	cenv := compress.Env{LLM: llm}
	c := newCorpus(7)
	qs := make([]string, min(b.opts.Queries, 10))
	for i := range qs {
		qs[i] = c.query()
	}
	var rows [][]string
	for _, spec := range b.opts.Config.Techniques {
		if len(spec.Compressors) == 0 {
			continue
		}
		t, err := technique.Build(spec, renv, cenv)
		if err != nil {
			return nil, fmt.Errorf("bench: technique %s: %w", spec.Name, err)
		}
		if err := t.Unavailable(); err != nil {
			rows = append(rows, []string{spec.Name, "not run: " + err.Error(), "–", "–", "–", "–"})
			continue
		}
		b.opts.Progress("compressing with " + spec.Name)
		stages := map[string][]float64{}
		calls := map[string]int{}
		tokens := map[string]int{}
		var order []string
		for range b.opts.Reps {
			perStage := map[string][]float64{}
			for _, q := range qs {
				run, err := t.Run(ctx, q)
				if err != nil {
					return nil, err
				}
				for _, s := range run.Stages {
					if !strings.HasPrefix(s.Name, "compress") {
						continue
					}
					if _, ok := stages[s.Name]; !ok {
						stages[s.Name] = nil
						order = append(order, s.Name)
					}
					perStage[s.Name] = append(perStage[s.Name], s.LatencyMS)
					calls[s.Name] += s.Calls
					tokens[s.Name] += s.PromptTokens + s.CompletionTokens
				}
			}
			for name, lat := range perStage {
				stages[name] = append(stages[name], percentile(lat, 50))
			}
		}
		n := float64(b.opts.Reps * len(qs))
		for _, name := range order {
			wall := median(stages[name])
			rows = append(rows, []string{spec.Name, name, ms(wall), fmt.Sprintf("%.1f", float64(calls[name])/n),
				fmt.Sprintf("%.0f", float64(tokens[name])/n), fmt.Sprintf("%.2f", wall/float64(b.opts.LLMDelay.Milliseconds()))})
		}
	}
	return rows, nil
}

// slowLLM answers after a delay: YES to yes/no prompts, else the first
// sentence of the prompt's last paragraph (a chunk, for extraction).
type slowLLM struct{ delay time.Duration }

func (l *slowLLM) Name() string { return "bench:slow" }

func (l *slowLLM) Generate(ctx context.Context, req model.Request) (model.Response, error) {
	t := time.NewTimer(l.delay)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return model.Response{}, ctx.Err()
	case <-t.C:
	}
	var prompt string
	for _, m := range req.Messages {
		prompt += m.Content + "\n"
	}
	reply := "YES"
	if !strings.Contains(prompt, "YES") {
		paras := strings.Split(strings.TrimSpace(prompt), "\n\n")
		reply = paras[len(paras)-1]
		if i := strings.Index(reply, ". "); i > 0 {
			reply = reply[:i+1]
		}
	}
	u := model.Response{Text: reply, FinishReason: "stop"}
	u.Usage.Calls, u.Usage.PromptTokens, u.Usage.CompletionTokens = 1, len(strings.Fields(prompt)), len(strings.Fields(reply))
	return u, nil
}

func (l *slowLLM) Stream(ctx context.Context, req model.Request, onToken func(string) error) (model.Response, error) {
	resp, err := l.Generate(ctx, req)
	if err == nil {
		err = onToken(resp.Text)
	}
	return resp, err
}

// peakRSS is the process's peak resident set size in bytes.
func peakRSS() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Maxrss * 1024 // kilobytes on Linux
}

func median(v []float64) float64 { return percentile(v, 50) }

func percentile(values []float64, p float64) float64 {
	if len(values) == 0 {
		return 0
	}
	s := append([]float64(nil), values...)
	sort.Float64s(s)
	i := int(float64(len(s))*p/100+0.999999) - 1
	return s[min(max(i, 0), len(s)-1)]
}

func count(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func ms(v float64) string {
	if v < 10 {
		return fmt.Sprintf("%.2f ms", v)
	}
	return fmt.Sprintf("%.0f ms", v)
}

func mib(b int64) string { return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20)) }
