// Command peers measures distill's text side against bleve on one BEIR data
// set, in one run, alternating the two so that a change in the machine's
// load touches both: CPU seconds to ingest and index, index size on disk,
// single-thread query latency at k=10 and k=100 (p50, p99, wall clock, one
// query at a time; the kernel's CPU accounting is too coarse for a query),
// and nDCG@10.
//
// It is its own Go module, so that distill does not depend on bleve:
//
//	cd bench/peers && go run . -beir ../../../shared/data/beir/nfcorpus
//
// distill ingests the corpus as files (one text file per document, title
// and text, every default split plus the whole-document split indexed),
// the way a user's folder is ingested; bleve indexes the same text in one
// field with BM25 scoring. Queries go to distill's whole-document split
// (BM25 over whole documents, as bleve ranks them).
package main

import (
	"context"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/pprof"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/blevesearch/bleve/v2"
	bleveindex "github.com/blevesearch/bleve_index_api"

	"github.com/distill-rag/distill"
	_ "github.com/distill-rag/distill/all"
	"github.com/distill-rag/distill/eval"
	"github.com/distill-rag/distill/ingest"
)

func main() {
	dir := flag.String("beir", "", "BEIR data set directory (corpus.jsonl, queries.jsonl, qrels/)")
	rounds := flag.Int("rounds", 2, "ingest rounds per engine, alternating")
	queries := flag.Int("queries", 0, "queries to time (0: every judged query)")
	work := flag.String("work", "", "scratch directory (default a temporary one)")
	profile := flag.String("cpuprofile", "", "write a CPU profile of distill's ingest to this file")
	qprofile := flag.String("queryprofile", "", "write a CPU profile of distill's queries (k=100, every judged query 20 times) to this file")
	flag.Parse()
	cpuProfile, queryProfile = *profile, *qprofile
	if *dir == "" {
		fmt.Fprintln(os.Stderr, "peers: -beir DIR is required")
		os.Exit(2)
	}
	if err := run(context.Background(), *dir, *rounds, *queries, *work); err != nil {
		fmt.Fprintln(os.Stderr, "peers:", err)
		os.Exit(1)
	}
}

type result struct {
	name      string
	ingestCPU []time.Duration
	bytes     int64
	p50, p99  map[int]time.Duration
	ndcg      float64
}

func run(ctx context.Context, dir string, rounds, nq int, work string) error {
	ds, err := eval.LoadBEIR(ctx, dir, eval.LoadOptions{})
	if err != nil {
		return err
	}
	if work == "" {
		if work, err = os.MkdirTemp("", "distill-peers-"); err != nil {
			return err
		}
		defer os.RemoveAll(work)
	}
	files := filepath.Join(work, "corpus")
	if err := writeCorpus(ds, files); err != nil {
		return err
	}
	qids := ds.QueryIDs
	if nq > 0 && nq < len(qids) {
		qids = qids[:nq]
	}
	d := &result{name: "distill"}
	b := &result{name: "bleve"}
	var dEng *distill.Engine
	var bIdx bleve.Index
	for r := 0; r < rounds; r++ {
		// distill
		if dEng != nil {
			dEng.Close()
		}
		db := filepath.Join(work, fmt.Sprintf("distill-%d", r))
		cpu, eng, err := ingestDistill(ctx, files, db)
		if err != nil {
			return err
		}
		dEng = eng
		d.ingestCPU = append(d.ingestCPU, cpu)
		d.bytes = dirSize(db)
		// bleve
		if bIdx != nil {
			bIdx.Close()
		}
		path := filepath.Join(work, fmt.Sprintf("bleve-%d", r))
		cpu, idx, err := ingestBleve(ds, path)
		if err != nil {
			return err
		}
		bIdx = idx
		b.ingestCPU = append(b.ingestCPU, cpu)
		b.bytes = dirSize(path)
	}
	defer dEng.Close()
	defer bIdx.Close()

	st := dEng.Store()
	distillSearch := func(q string, k int) ([]string, error) {
		ps, err := st.SearchText(ctx, "documents", q, k)
		if err != nil {
			return nil, err
		}
		ids := make([]string, len(ps))
		for i, p := range ps {
			ids[i] = strings.TrimSuffix(filepath.Base(p.Source), ".txt")
		}
		return ids, nil
	}
	bleveSearch := func(fields []string) func(q string, k int) ([]string, error) {
		return func(q string, k int) ([]string, error) {
			req := bleve.NewSearchRequestOptions(bleve.NewMatchQuery(q), k, 0, false)
			req.Fields = fields
			res, err := bIdx.Search(req)
			if err != nil {
				return nil, err
			}
			ids := make([]string, len(res.Hits))
			for i, h := range res.Hits {
				ids[i] = h.ID
			}
			return ids, nil
		}
	}
	if queryProfile != "" {
		if err := profileQueries(queryProfile, ds, qids, distillSearch); err != nil {
			return err
		}
	}
	// distill returns each hit with its text, as a RAG engine needs it;
	// bleve is timed both returning ids only and loading the stored text.
	bt := &result{name: "bleve, with text", ingestCPU: b.ingestCPU, bytes: b.bytes}
	engines := []struct {
		r      *result
		search func(string, int) ([]string, error)
	}{{d, distillSearch}, {b, bleveSearch(nil)}, {bt, bleveSearch([]string{"text"})}}
	for _, k := range []int{10, 100} {
		// Alternate query by query so load changes touch every engine.
		lat := make([][]time.Duration, len(engines))
		for _, id := range qids {
			q := ds.Queries[id]
			for i, e := range engines {
				t := time.Now()
				if _, err := e.search(q, k); err != nil {
					return err
				}
				lat[i] = append(lat[i], time.Since(t))
			}
		}
		for i, e := range engines {
			setLatency(e.r, k, lat[i])
		}
	}
	for _, e := range engines {
		if e.r.ndcg, err = ndcg(ds, qids, e.search); err != nil {
			return err
		}
	}
	report(ds, len(qids), rounds, d, b, bt)
	return nil
}

func writeCorpus(ds *eval.Dataset, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, doc := range ds.Corpus {
		if err := os.WriteFile(filepath.Join(dir, safeName(doc.ID)+".txt"), []byte(text(doc)), 0o644); err != nil {
			return err
		}
	}
	return nil
}

func safeName(id string) string { return strings.NewReplacer("/", "_", "\\", "_").Replace(id) }

func text(doc eval.CorpusDoc) string {
	if doc.Title != "" {
		return doc.Title + "\n\n" + doc.Text
	}
	return doc.Text
}

// cpuNow is the process's CPU time so far (user and system, every thread).
func cpuNow() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// cpuProfile, when set, is where the first distill ingest's CPU profile
// goes; queryProfile, where distill's queries' goes.
var cpuProfile, queryProfile string

func profileQueries(path string, ds *eval.Dataset, qids []string, search func(string, int) ([]string, error)) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	pprof.StartCPUProfile(f)
	defer pprof.StopCPUProfile()
	for r := 0; r < 20; r++ {
		for _, id := range qids {
			if _, err := search(ds.Queries[id], 100); err != nil {
				return err
			}
		}
	}
	return nil
}

func ingestDistill(ctx context.Context, files, db string) (time.Duration, *distill.Engine, error) {
	if cpuProfile != "" {
		f, err := os.Create(cpuProfile)
		if err != nil {
			return 0, nil, err
		}
		pprof.StartCPUProfile(f)
		defer func() {
			pprof.StopCPUProfile()
			f.Close()
			cpuProfile = ""
		}()
	}
	cfg, err := eval.BEIRConfig(nil)
	if err != nil {
		return 0, nil, err
	}
	start := cpuNow()
	eng, err := distill.Open(ctx, distill.Options{DB: db, Create: true, Config: cfg})
	if err != nil {
		return 0, nil, err
	}
	rep, err := eng.Ingest(ctx, []string{files}, ingest.Options{})
	if err != nil {
		eng.Close()
		return 0, nil, err
	}
	if f := rep.Failures(); len(f) > 0 {
		eng.Close()
		return 0, nil, fmt.Errorf("distill ingest: %d files failed, first %s: %w", len(f), f[0].Source, f[0].Err())
	}
	return cpuNow() - start, eng, nil
}

func ingestBleve(ds *eval.Dataset, path string) (time.Duration, bleve.Index, error) {
	start := cpuNow()
	m := bleve.NewIndexMapping()
	m.ScoringModel = bleveindex.BM25Scoring
	m.DefaultAnalyzer = "en"
	idx, err := bleve.New(path, m)
	if err != nil {
		return 0, nil, err
	}
	batch := idx.NewBatch()
	for _, doc := range ds.Corpus {
		if err := batch.Index(doc.ID, map[string]any{"text": text(doc)}); err != nil {
			return 0, nil, err
		}
		if batch.Size() >= 1000 {
			if err := idx.Batch(batch); err != nil {
				return 0, nil, err
			}
			batch.Reset()
		}
	}
	if err := idx.Batch(batch); err != nil {
		return 0, nil, err
	}
	return cpuNow() - start, idx, nil
}

func setLatency(r *result, k int, ds []time.Duration) {
	if r.p50 == nil {
		r.p50, r.p99 = map[int]time.Duration{}, map[int]time.Duration{}
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	r.p50[k] = ds[len(ds)/2]
	r.p99[k] = ds[min(len(ds)-1, len(ds)*99/100)]
}

func ndcg(ds *eval.Dataset, qids []string, search func(string, int) ([]string, error)) (float64, error) {
	var sum float64
	for _, id := range qids {
		ranked, err := search(ds.Queries[id], 10)
		if err != nil {
			return 0, err
		}
		sum += eval.NDCG(ranked, ds.Qrels[id], 10)
	}
	return sum / float64(len(qids)), nil
}

func dirSize(dir string) int64 {
	var n int64
	filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}

func report(ds *eval.Dataset, nq, rounds int, d *result, peers ...*result) {
	var load string
	if data, err := os.ReadFile("/proc/loadavg"); err == nil {
		load = strings.Join(strings.Fields(string(data))[:3], " ")
	}
	fmt.Printf("# %s: %d documents, %d queries timed, %d ingest rounds each, alternating; load %s\n\n", ds.Name, len(ds.Corpus), nq, rounds, load)
	fmt.Println("| | ingest CPU (s) | index size (MB) | p50 k=10 (ms) | p99 k=10 | p50 k=100 | p99 k=100 | nDCG@10 |")
	fmt.Println("|---|---|---|---|---|---|---|---|")
	for _, r := range append([]*result{d}, peers...) {
		fmt.Printf("| %s | %s | %.1f | %s | %s | %s | %s | %.4f |\n", r.name, cpus(r.ingestCPU), float64(r.bytes)/1e6,
			ms(r.p50[10]), ms(r.p99[10]), ms(r.p50[100]), ms(r.p99[100]), r.ndcg)
	}
	fmt.Println()
	for _, p := range peers {
		fmt.Printf("distill / %s: ingest CPU %.2fx (best rounds), query p50 k=10 %.2fx, k=100 %.2fx\n", p.name,
			best(d.ingestCPU).Seconds()/best(p.ingestCPU).Seconds(),
			float64(d.p50[10])/float64(p.p50[10]), float64(d.p50[100])/float64(p.p50[100]))
	}
}

func cpus(ds []time.Duration) string {
	var parts []string
	for _, d := range ds {
		parts = append(parts, fmt.Sprintf("%.2f", d.Seconds()))
	}
	return strings.Join(parts, ", ")
}

func best(ds []time.Duration) time.Duration {
	b := ds[0]
	for _, d := range ds {
		b = min(b, d)
	}
	return b
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f", float64(d)/1e6) }
