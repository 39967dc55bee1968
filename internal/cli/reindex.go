package cli

import (
	"fmt"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/distill-rag/distill"
)

func (a *app) reindexCmd() *cobra.Command {
	var batch int
	cmd := &cobra.Command{
		Use:   "reindex --embed URI",
		Short: "Embed the whole collection with an embedding model and switch to it",
		Long: `Embed every searched chunk of the collection with the embedding model
given by --embed (or $DISTILL_EMBED), then switch the collection to that
model in one step. Until the switch the collection keeps answering with
its previous model (or BM25). An interrupted reindex, run again, embeds
only the chunks still missing.`,
		Example: `  distill reindex --embed ollama:bge-m3
  distill reindex --embed hash:256     # the toy offline model`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if batch < 0 {
				return &flagError{cmd: "distill reindex", err: fmt.Errorf("--batch must be positive, got %d", batch)}
			}
			eng, err := a.open(cmd.Context(), false)
			if err != nil {
				return err
			}
			defer eng.Close()
			opts := distill.ReindexOptions{Batch: batch}
			var bar *progressbar.ProgressBar
			if !a.jsonOut && isTerminal(a.stderr) {
				bar = progressbar.NewOptions(-1, progressbar.OptionSetWriter(a.stderr), progressbar.OptionSetDescription("embedding"),
					progressbar.OptionShowCount(), progressbar.OptionClearOnFinish(), progressbar.OptionSetWidth(30))
				opts.Progress = func(done, total int) {
					bar.ChangeMax(total)
					bar.Set(done)
				}
			}
			rep, err := eng.Reindex(cmd.Context(), opts)
			if bar != nil {
				bar.Finish()
			}
			if err != nil {
				return err
			}
			if a.jsonOut {
				writeJSON(a.stdout, rep)
				return nil
			}
			from := ""
			if rep.Previous != "" {
				from = " (was " + rep.Previous + ")"
			}
			fmt.Fprintf(a.stdout, "embedded %s with %s; the collection now searches %s of %d dimensions%s\n",
				plural(rep.Embedded, "chunk", "chunks"), rep.Model, plural(rep.Chunks, "chunk", "chunks"), rep.Dim, from)
			return nil
		},
	}
	cmd.Flags().IntVar(&batch, "batch", 0, "chunks embedded and stored per transaction (default 256)")
	cmd.Flags().BoolVar(&a.jsonOut, "json", false, "print the report as JSON")
	return cmd
}
