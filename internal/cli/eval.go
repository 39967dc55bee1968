package cli

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/distill-rag/distill/eval"
	"github.com/distill-rag/distill/ingest"
	"github.com/distill-rag/distill/store"
)

type evalFlags struct {
	beir, qa      string
	techniques    string
	html          string
	strict        bool
	split         string
	cacheDir      string
	judge         string
	judgePrompts  string
	reportContext int
	where         []string
	filter        *store.Filter
}

func (a *app) evalCmd() *cobra.Command {
	var f evalFlags
	cmd := &cobra.Command{
		Use:   "eval (--beir DIR | --qa FILE.jsonl) [--techniques a,b]",
		Short: "Measure techniques on a BEIR benchmark or a question set",
		Long: `Measure how well each technique retrieves and answers, and at what cost.

--beir DIR reads a BEIR data set (corpus.jsonl, queries.jsonl, qrels/test.tsv),
ingests the corpus into its own collection (kept in the cache directory,
keyed by the corpus and the splits, and reused), runs every judged query
through each technique and reports nDCG@10, recall@10, recall@100, MRR@10
and MAP@100 (trec_eval's definitions), latency and cost. bm25-doc ranks
whole documents with BM25, for reference.

--qa FILE.jsonl runs questions over the current collection; each line is
{"question": ..., "answers": ["exact strings"]} and/or "reference": "text".
It reports context hit rate, first-hit rank, context size, answer
containment and token F1, and with --judge URI faithfulness and answer
relevancy judged by that LLM.

Bad lines fail with --strict; by default they are skipped and counted.`,
		Example: `  distill eval --beir data/nfcorpus --html nfcorpus.html
  distill eval --beir data/scifact --techniques regular,bm25-doc --json
  distill eval --qa questions.jsonl --judge ollama:mixtral`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			switch {
			case f.beir == "" && f.qa == "":
				return &flagError{cmd: "distill eval", err: fmt.Errorf("nothing to evaluate: give --beir DIR or --qa FILE.jsonl")}
			case f.beir != "" && f.qa != "":
				return &flagError{cmd: "distill eval", err: fmt.Errorf("--beir and --qa evaluate different things: give one")}
			case f.judge != "" && f.qa == "":
				return &flagError{cmd: "distill eval", err: fmt.Errorf("--judge rates answers and applies to --qa only")}
			}
			where, err := parseWhere(cmd, f.where)
			if err != nil {
				return err
			}
			f.filter = where
			var rep *eval.Report
			if f.beir != "" {
				rep, err = a.evalBEIR(cmd, f)
			} else {
				rep, err = a.evalQA(cmd, f)
			}
			if err != nil {
				return err
			}
			if f.html != "" {
				if err := writeHTMLReport(f.html, rep); err != nil {
					return err
				}
			}
			switch {
			case a.jsonOut && rep.Kind == "beir":
				return writeJSON(a.stdout, rep.BEIRJSON())
			case a.jsonOut:
				return writeJSON(a.stdout, rep.QAJSON())
			}
			a.printEval(rep)
			if f.html != "" {
				fmt.Fprintf(a.stdout, "\nReport: %s\n", f.html)
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.beir, "beir", "", "BEIR data set directory (corpus.jsonl, queries.jsonl, qrels/)")
	fl.StringVar(&f.qa, "qa", "", "question set, one JSON object per line")
	fl.StringVar(&f.techniques, "techniques", "", "comma-separated techniques (default: all)")
	fl.StringVar(&f.html, "html", "", "also write a self-contained HTML report to this file")
	fl.BoolVar(&f.strict, "strict", false, "fail on the first bad input line instead of skipping it")
	fl.StringVar(&f.split, "split", "test", "qrels split to evaluate (qrels/SPLIT.tsv)")
	fl.StringVar(&f.cacheDir, "cache-dir", "", "where BEIR collections are kept (default $DISTILL_EVAL_CACHE or the user cache directory's distill/eval); --db names one collection instead")
	fl.StringVar(&f.judge, "judge", "", "LLM URI that judges answers' faithfulness and relevancy (--qa)")
	fl.StringVar(&f.judgePrompts, "judge-prompts", "", "YAML file replacing the judge's prompts (keys: statements, verdicts, questions)")
	fl.IntVar(&f.reportContext, "report-contexts", eval.DefaultReportContexts, "contexts per question and technique kept in the HTML report")
	fl.BoolVar(&a.jsonOut, "json", false, "print the results as JSON")
	addWhere(cmd, &f.where)
	return cmd
}

func (a *app) evalBEIR(cmd *cobra.Command, f evalFlags) (*eval.Report, error) {
	ctx := cmd.Context()
	ds, err := eval.LoadBEIR(ctx, f.beir, eval.LoadOptions{Split: f.split, Strict: f.strict})
	if err != nil {
		return nil, err
	}
	if s := ds.Skipped.Summary(); s != "" {
		fmt.Fprintln(a.stderr, "distill: warning: "+s)
	}
	opts := eval.CollectionOptions{DB: a.db, CacheDir: f.cacheDir, ConfigFile: a.configFile, Models: a.models}
	bar := a.progress("ingesting " + ds.Name)
	opts.Progress = func(p ingest.Progress) { bar.set(p.Done, p.Total) }
	eng, written, err := eval.OpenBEIR(ctx, ds, opts)
	bar.finish()
	if err != nil {
		return nil, err
	}
	defer eng.Close()
	for _, w := range eng.Warnings() {
		fmt.Fprintln(a.stderr, "distill: warning: "+w)
	}
	if written > 0 {
		fmt.Fprintf(a.stderr, "distill: ingested %s documents of %s into %s\n", thousands(written), ds.Name, eng.DB())
	}
	bar = a.progress("evaluating")
	run := eval.RunOptions{Techniques: splitList(f.techniques), Contexts: f.reportContext, Where: f.filter}
	run.Progress = bar.set
	rep, err := eval.RunBEIR(ctx, eng, ds, run)
	bar.finish()
	return rep, err
}

func writeHTMLReport(path string, rep *eval.Report) error {
	out, err := os.Create(path)
	if err != nil {
		return &flagError{cmd: "distill eval", err: fmt.Errorf("--html: %w", err)}
	}
	if err := eval.WriteHTML(out, rep); err != nil {
		out.Close()
		return fmt.Errorf("--html %s: %w", path, err)
	}
	return out.Close()
}

// printEval prints the summary table: quality, then latency and cost.
func (a *app) printEval(rep *eval.Report) {
	w := a.stdout
	fmt.Fprintf(w, "%s: %s questions\n", rep.Dataset, thousands(rep.Queries))
	if rep.Skipped != "" {
		fmt.Fprintln(w, wrap(rep.Skipped, width, ""))
	}
	fmt.Fprintln(w)
	header := []string{"technique"}
	right := []bool{false}
	for _, m := range rep.Metrics {
		header = append(header, m)
		right = append(right, true)
	}
	var rows [][]string
	for _, r := range rep.Results {
		row := []string{r.Technique}
		for _, m := range rep.Metrics {
			v, ok := r.Values[m]
			switch {
			case !ok:
				row = append(row, "–")
			case strings.HasSuffix(m, "_rank"):
				row = append(row, fmt.Sprintf("%.2f", v))
			default:
				row = append(row, fmt.Sprintf("%.4f", v))
			}
		}
		rows = append(rows, row)
	}
	table(w, header, right, rows)
	fmt.Fprintln(w)
	rows = nil
	for _, r := range rep.Results {
		tokens := thousands(int(r.Cost.Tokens() + 0.5))
		if r.Cost.TokensEstimated {
			tokens = "~" + tokens
		}
		rows = append(rows, []string{r.Technique, ms(r.P50MS), ms(r.P95MS), fmt.Sprintf("%.1f", r.Cost.LLMCalls), tokens,
			fmt.Sprintf("%.1f", r.Cost.Contexts), thousands(int(r.Cost.ContextChars + 0.5))})
	}
	table(w, []string{"technique", "p50", "p95", "calls/q", "tokens/q", "contexts/q", "chars/q"},
		[]bool{false, true, true, true, true, true, true}, rows)
	if rep.Judge != "" {
		fmt.Fprintf(w, "\nJudge %s: %s calls, %s tokens\n", rep.Judge, thousands(rep.JudgeCost.Calls),
			thousands(rep.JudgeCost.PromptTokens+rep.JudgeCost.CompletionTokens))
	}
	for _, n := range rep.Notes {
		fmt.Fprintln(w, wrap("Note: "+n, width, ""))
	}
}

func (a *app) evalQA(cmd *cobra.Command, f evalFlags) (*eval.Report, error) {
	ctx := cmd.Context()
	var err error
	opts := eval.QAOptions{RunOptions: eval.RunOptions{Techniques: splitList(f.techniques), Contexts: f.reportContext, Where: f.filter}}
	if f.judge != "" {
		embed := a.models.Embed
		if embed == "" {
			embed = os.Getenv("DISTILL_EMBED")
		}
		if opts.Judge, err = eval.OpenJudge(ctx, f.judge, embed, f.judgePrompts); err != nil {
			return nil, err
		}
	} else if f.judgePrompts != "" {
		return nil, &flagError{cmd: "distill eval", err: fmt.Errorf("--judge-prompts needs --judge")}
	}
	set, err := eval.LoadQA(ctx, f.qa, f.strict)
	if err != nil {
		return nil, err
	}
	if s := set.Skipped.Summary(); s != "" {
		fmt.Fprintln(a.stderr, "distill: warning: "+s)
	}
	eng, err := a.open(ctx, false)
	if err != nil {
		return nil, err
	}
	defer eng.Close()
	bar := a.progress("evaluating")
	opts.Progress = bar.set
	rep, err := eval.RunQA(ctx, eng, set, opts)
	bar.finish()
	return rep, err
}
