package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/distill-rag/distill"
)

func (a *app) reindexCmd() *cobra.Command {
	var batch int
	cmd := &cobra.Command{
		Use:   "reindex [--embed URI]",
		Short: "Rebuild changed splits, or embed the collection with a model",
		Long: `Bring the collection in line with the configuration and the models.

Splits: when the configuration defines a split the collection lacks, or a
split's size, overlap, parent or search flag changed, every document is
rewritten from its stored page text with the configured splits (source
files are not needed). Each document is rewritten in its own transaction;
an interrupted run, run again, rewrites only the documents left.

Embeddings: with --embed (or $DISTILL_EMBED), every searched chunk is
embedded with that model, then the collection switches to it in one step.
Until the switch the collection keeps answering with its previous model
(or BM25). An interrupted run, run again, embeds only the chunks missing.`,
		Example: `  distill reindex                       # after changing the config's splits
  distill reindex --embed ollama:bge-m3
  distill reindex --embed hash:256      # the toy offline model`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if batch < 0 {
				return &flagError{cmd: "distill reindex", err: fmt.Errorf("--batch must be positive, got %d", batch)}
			}
			eng, err := a.openQuiet(cmd.Context(), false)
			if err != nil {
				return err
			}
			defer eng.Close()
			out := struct {
				Splits *distill.ResplitReport `json:"splits"`
				Embed  *distill.ReindexReport `json:"embed,omitempty"`
			}{}
			bar := a.progress("rewriting documents")
			out.Splits, err = eng.Resplit(cmd.Context(), distill.ResplitOptions{Progress: bar.set})
			bar.finish()
			if err != nil {
				return err
			}
			info, err := eng.Info(cmd.Context())
			if err != nil {
				return err
			}
			// A model named by flag, variable or config is a request to
			// embed; the collection's own model only embeds what a
			// resplit or an interrupted run left without vectors.
			if info.EmbedModel != "" {
				bar = a.progress("embedding")
				out.Embed, err = eng.Reindex(cmd.Context(), distill.ReindexOptions{Batch: batch, Progress: bar.set})
				bar.finish()
				if err != nil {
					return err
				}
			}
			if a.jsonOut {
				return writeJSON(a.stdout, out)
			}
			sp := out.Splits
			changed := len(sp.Added)+len(sp.Changed)+len(sp.Removed) > 0 || sp.Resumed
			if changed {
				var what []string
				for _, part := range []struct {
					verb  string
					names []string
				}{{"built", sp.Added}, {"rebuilt", sp.Changed}, {"removed", sp.Removed}} {
					if len(part.names) > 0 {
						what = append(what, part.verb+" "+strings.Join(part.names, ", "))
					}
				}
				if sp.Resumed {
					what = append(what, "resumed an interrupted run")
				}
				fmt.Fprintf(a.stdout, "splits: %s; rewrote %s (%s)\n", strings.Join(what, "; "),
					plural(sp.Documents, "document", "documents"), plural(sp.Chunks, "chunk", "chunks"))
			}
			if e := out.Embed; e != nil && (e.Embedded > 0 || e.Previous != "" || info.EmbedFrom != distill.SourceCollection) {
				from := ""
				if e.Previous != "" {
					from = " (was " + e.Previous + ")"
				}
				fmt.Fprintf(a.stdout, "embedded %s with %s; the collection now searches %s of %d dimensions%s\n",
					plural(e.Embedded, "chunk", "chunks"), e.Model, plural(e.Chunks, "chunk", "chunks"), e.Dim, from)
				changed = true
			}
			if !changed {
				fmt.Fprintln(a.stdout, "nothing to do: the collection's splits match the configuration, and no embedding model was given (to embed, pass --embed URI)")
			}
			return nil
		},
	}
	cmd.Flags().IntVar(&batch, "batch", 0, "chunks embedded and stored per transaction (default 256)")
	cmd.Flags().BoolVar(&a.jsonOut, "json", false, "print the report as JSON")
	return cmd
}
