package eval

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/distill-rag/distill"
	"github.com/distill-rag/distill/config"
	"github.com/distill-rag/distill/document"
	"github.com/distill-rag/distill/ingest"
	"github.com/distill-rag/distill/store"
)

//go:embed beir.yaml
var beirYAML []byte

// BEIRConfig is cfg (the defaults when nil) with what BEIR collections
// add: a whole-document split and the bm25-doc technique. It is data, so a
// user configuration can change it like any other technique.
func BEIRConfig(cfg *config.Config) (*config.Config, error) {
	if cfg == nil {
		var err error
		if cfg, err = config.Load(""); err != nil {
			return nil, err
		}
	}
	return config.Parse("<eval: beir>", beirYAML, cfg)
}

// CollectionOptions say where a data set's collection lives and how the
// engine on it is opened.
type CollectionOptions struct {
	// DB is the collection to use; empty means one under CacheDir keyed by
	// the data set's name, corpus hash and splits, reused while they stay
	// the same.
	DB string
	// CacheDir holds keyed collections; empty means the user cache
	// directory's distill/eval.
	CacheDir string
	// Config is the configuration before the BEIR additions; nil loads
	// ConfigFile (or the default search).
	Config     *config.Config
	ConfigFile string
	Models     distill.Models
	// Progress is called as corpus documents are ingested.
	Progress func(ingest.Progress)
}

// CollectionFor is the keyed collection directory for ds under cacheDir.
func CollectionFor(ds *Dataset, cfg *config.Config, cacheDir string) string {
	splits, _ := json.Marshal(cfg.Splits)
	key := hashHex(ds.CorpusHash + "\x00" + string(splits))
	return filepath.Join(cacheDir, ds.Name+"-"+key[:12])
}

// marker records, in a collection's directory, that a corpus was ingested
// completely, so later runs skip even the per-document checks.
type marker struct {
	Dataset    string `json:"dataset"`
	CorpusHash string `json:"corpus_hash"`
	Documents  int    `json:"documents"`
}

const markerFile = "eval-corpus.json"

// OpenBEIR opens the collection for ds, ingesting whatever part of the
// corpus it does not hold yet (all of it the first time; nothing once a run
// finished). It returns the engine and how many documents were written.
func OpenBEIR(ctx context.Context, ds *Dataset, opts CollectionOptions) (*distill.Engine, int, error) {
	cfg := opts.Config
	if cfg == nil {
		var err error
		if cfg, err = config.Load(opts.ConfigFile); err != nil {
			return nil, 0, err
		}
	}
	cfg, err := BEIRConfig(cfg)
	if err != nil {
		return nil, 0, err
	}
	db := opts.DB
	if db == "" {
		cache := opts.CacheDir
		if cache == "" {
			if cache, err = DefaultCacheDir(); err != nil {
				return nil, 0, err
			}
		}
		db = CollectionFor(ds, cfg, cache)
		if err := os.MkdirAll(filepath.Dir(db), 0o755); err != nil {
			return nil, 0, err
		}
	}
	eng, err := distill.Open(ctx, distill.Options{DB: db, Create: true, Config: cfg, Models: opts.Models})
	if err != nil {
		return nil, 0, err
	}
	want := marker{Dataset: ds.Name, CorpusHash: ds.CorpusHash, Documents: len(ds.Corpus)}
	markerPath := filepath.Join(db, markerFile)
	if have, err := os.ReadFile(markerPath); err == nil {
		var m marker
		if json.Unmarshal(have, &m) == nil && m == want {
			return eng, 0, nil
		}
	}
	rep, err := eng.IngestRecords(ctx, Records(ds), ingest.Options{Progress: opts.Progress})
	if err != nil {
		eng.Close()
		return nil, 0, err
	}
	written := rep.Count(ingest.Added) + rep.Count(ingest.Updated)
	if failed := rep.Failures(); len(failed) > 0 {
		eng.Close()
		return nil, 0, fmt.Errorf("ingest %s: %d documents failed, first %s: %w", ds.Name, len(failed), failed[0].Source, failed[0].Err())
	}
	if fi, err := os.Stat(db); err == nil && fi.IsDir() {
		data, _ := json.Marshal(want)
		if err := os.WriteFile(markerPath, data, 0o644); err != nil {
			eng.Close()
			return nil, 0, err
		}
	}
	return eng, written, nil
}

// DefaultCacheDir is where keyed evaluation collections go.
func DefaultCacheDir() (string, error) {
	if d := os.Getenv("DISTILL_EVAL_CACHE"); d != "" {
		return d, nil
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no cache directory for evaluation collections (set DISTILL_EVAL_CACHE): %w", err)
	}
	return filepath.Join(d, "distill", "eval"), nil
}

// Source is the source name a corpus document is stored under.
func (ds *Dataset) Source(docID string) string { return "beir:" + ds.Name + "/" + docID }

// Records are the corpus as text records: the title and the text as one
// page, the way BEIR's BM25 baselines index them.
func Records(ds *Dataset) []ingest.Record {
	out := make([]ingest.Record, len(ds.Corpus))
	for i, d := range ds.Corpus {
		text := d.Text
		if d.Title != "" {
			text = d.Title + "\n\n" + d.Text
		}
		out[i] = ingest.Record{Source: ds.Source(d.ID), Title: d.Title, Pages: []string{text}}
	}
	return out
}

// Retriever is what a retrieval evaluation needs from the engine.
type Retriever interface {
	Retrieve(ctx context.Context, question, technique string, opts ...distill.QueryOption) (*distill.Result, error)
	Techniques() []distill.TechniqueInfo
}

// BEIR metric names, in report order.
const (
	NDCG10    = "ndcg@10"
	Recall10  = "recall@10"
	Recall100 = "recall@100"
	MRR10     = "mrr@10"
	MAP100    = "map@100"
)

// RunOptions shape an evaluation run.
type RunOptions struct {
	Techniques []string // empty: every configured technique
	// Contexts is how many contexts per question and technique the report
	// keeps for its drill-down; 0 means DefaultReportContexts.
	Contexts int
	// Progress is called after each question with every technique.
	Progress func(done, total int)
	// Where limits retrieval to the chunks the filter allows (nil: all).
	Where *store.Filter
}

// RunBEIR runs every judged query through each technique, maps the
// contexts back to corpus documents (a document scores its best context),
// and computes the ranking metrics, latency and cost per technique.
// Techniques run one after another on each query so their latencies are
// comparable.
func RunBEIR(ctx context.Context, eng Retriever, ds *Dataset, opts RunOptions) (*Report, error) {
	techs, left, err := selectTechniques(eng.Techniques(), opts.Techniques)
	if err != nil {
		return nil, err
	}
	keep := opts.Contexts
	if keep <= 0 {
		keep = DefaultReportContexts
	}
	corpusID := make(map[string]string, len(ds.Corpus))
	for _, d := range ds.Corpus {
		corpusID[document.IDFor(ds.Source(d.ID))] = d.ID
	}
	rep := &Report{
		Kind: "beir", Dataset: ds.Name, Queries: len(ds.QueryIDs), Created: time.Now().UTC(),
		Metrics: []string{NDCG10, Recall10, Recall100, MRR10, MAP100}, Quality: NDCG10,
		Skipped: ds.Skipped.Summary(), Notes: left,
	}
	sums := make([]*summarizer, len(techs))
	for i := range sums {
		sums[i] = newSummarizer()
	}
	for qi, qid := range ds.QueryIDs {
		j := ds.Qrels[qid]
		q := Question{ID: qid, Question: ds.Queries[qid], Relevant: j.relevant()}
		for ti, t := range techs {
			res, err := eng.Retrieve(ctx, q.Question, t.Name, distill.Where(opts.Where))
			if err != nil {
				if errors.Is(err, distill.ErrEmptyQuestion) {
					err = fmt.Errorf("query %s has no searchable text: %w", qid, err)
				}
				return nil, fmt.Errorf("technique %s, query %s: %w", t.Name, qid, err)
			}
			scores := map[string]float64{}
			for _, c := range res.Contexts {
				id, ok := corpusID[c.DocID]
				if !ok {
					continue // not from this corpus
				}
				if s, seen := scores[id]; !seen || c.Score > s {
					scores[id] = c.Score
				}
			}
			ranked := RankDocs(scores)
			values := map[string]float64{
				NDCG10:    NDCG(ranked, j, 10),
				Recall10:  Recall(ranked, j, 10),
				Recall100: Recall(ranked, j, 100),
				MRR10:     ReciprocalRank(ranked, j, 10),
				MAP100:    AveragePrecision(ranked, j, 100),
			}
			sums[ti].add(res, values)
			run := Run{Technique: t.Name, Values: roundAll(values), LatencyMS: round(res.Stats.LatencyMS, 2)}
			for _, c := range res.Contexts {
				if len(run.Contexts) == keep {
					run.More = len(res.Contexts) - keep
					break
				}
				v := contextView(c, reportTextChars)
				v.Doc = corpusID[c.DocID]
				v.Grade = j[v.Doc]
				run.Contexts = append(run.Contexts, v)
			}
			q.Runs = append(q.Runs, run)
		}
		rep.Questions = append(rep.Questions, q)
		if opts.Progress != nil {
			opts.Progress(qi+1, len(ds.QueryIDs))
		}
	}
	for i, t := range techs {
		rep.Results = append(rep.Results, sums[i].result(t.Name, t.Description))
	}
	return rep, nil
}

func roundAll(values map[string]float64) map[string]float64 {
	out := make(map[string]float64, len(values))
	for k, v := range values {
		out[k] = round(v, 4)
	}
	return out
}

// BEIRJSON is the --json shape of a BEIR report.
type BEIRJSON struct {
	Dataset string           `json:"dataset"`
	Queries int              `json:"queries"`
	Results []BEIRJSONResult `json:"results"`
}

// BEIRJSONResult is one technique's line of BEIRJSON.
type BEIRJSONResult struct {
	Technique string  `json:"technique"`
	NDCG10    float64 `json:"ndcg@10"`
	Recall10  float64 `json:"recall@10"`
	Recall100 float64 `json:"recall@100"`
	MRR10     float64 `json:"mrr@10"`
	MAP100    float64 `json:"map@100"`
	P50MS     float64 `json:"p50_ms"`
	P95MS     float64 `json:"p95_ms"`
}

// BEIRJSON returns the report in its --json shape.
func (r *Report) BEIRJSON() BEIRJSON {
	out := BEIRJSON{Dataset: r.Dataset, Queries: r.Queries, Results: []BEIRJSONResult{}}
	for _, t := range r.Results {
		v := t.Values
		out.Results = append(out.Results, BEIRJSONResult{
			Technique: t.Technique, NDCG10: v[NDCG10], Recall10: v[Recall10], Recall100: v[Recall100],
			MRR10: v[MRR10], MAP100: v[MAP100], P50MS: t.P50MS, P95MS: t.P95MS,
		})
	}
	return out
}
