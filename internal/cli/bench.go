package cli

import (
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/distill-rag/distill/bench"
	"github.com/distill-rag/distill/config"
)

func (a *app) benchCmd() *cobra.Command {
	var (
		out     string
		sizes   string
		reps    int
		annDim  int
		queries int
		delay   time.Duration
		dir     string
	)
	cmd := &cobra.Command{
		Use:   "bench [--out FILE] [--sizes 10000,100000] [--reps 5]",
		Short: "Run the benchmark suite and write a markdown report",
		Long: `Run the benchmark suite on generated text: ingest throughput, query latency
per technique at each collection size, compression wall time against a fake
LLM, approximate vector search where the store has it, and peak memory.
Figures are medians of several repetitions in one run.`,
		Example: `  distill bench --out bench.md
  distill bench --sizes 2000 --reps 3`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if annDim < 0 || annDim > 8192 {
				return &flagError{cmd: "distill bench", err: fmt.Errorf("--ann-dim: %d is not a dimension between 1 and 8192", annDim)}
			}
			opts := bench.Options{Reps: reps, Queries: queries, LLMDelay: delay, Dir: dir, ANNDim: annDim}
			for _, s := range splitList(sizes) {
				n, err := strconv.Atoi(s)
				if err != nil || n <= 0 {
					return &flagError{cmd: "distill bench", err: fmt.Errorf("--sizes: %q is not a positive number of chunks", s)}
				}
				opts.Sizes = append(opts.Sizes, n)
			}
			cfg, err := config.Load(a.configFile)
			if err != nil {
				return err
			}
			opts.Config = cfg
			opts.Progress = func(s string) { fmt.Fprintln(a.stderr, "distill: bench: "+s) }
			rep, err := bench.Run(cmd.Context(), opts)
			if err != nil {
				return err
			}
			if out == "" {
				return rep.Markdown(a.stdout)
			}
			f, err := os.Create(out)
			if err != nil {
				return &flagError{cmd: "distill bench", err: fmt.Errorf("--out: %w", err)}
			}
			if err := rep.Markdown(f); err != nil {
				f.Close()
				return err
			}
			return f.Close()
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "write the markdown report to this file (default: standard output)")
	cmd.Flags().StringVar(&sizes, "sizes", "10000,100000", "collection sizes in chunks, comma-separated")
	cmd.Flags().IntVar(&reps, "reps", 5, "repetitions of each measurement")
	cmd.Flags().IntVar(&annDim, "ann-dim", 384, "dimension of the vectors the approximate vector index is measured with")
	cmd.Flags().IntVar(&queries, "queries", 50, "queries per technique and repetition")
	cmd.Flags().DurationVar(&delay, "llm-delay", 200*time.Millisecond, "latency of the fake LLM per call")
	cmd.Flags().StringVar(&dir, "dir", "", "working directory for generated files and collections (default: a temporary one)")
	return cmd
}
