package cli

import (
	"errors"
	"fmt"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/distill-rag/distill/store"
)

func (a *app) migrateCmd() *cobra.Command {
	var to string
	cmd := &cobra.Command{
		Use:   "migrate --to STORE",
		Short: "Copy the collection, with its vectors, to another store",
		Long: `Copy every document of the collection (--db or --store) with its pages,
chunks and vectors into another store, created when it does not exist:
nothing is loaded or embedded again. Each document appears in the
destination whole or not at all; documents already there with the same
source are replaced, so an interrupted migration can simply be run again.`,
		Example: `  distill migrate --to 'weaviate:http://127.0.0.1:8080?collection=Letters'
  distill --store 'weaviate:http://127.0.0.1:8080?collection=Letters' \
    migrate --to ./letters-copy`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if to == "" {
				return &flagError{cmd: "distill migrate", err: errors.New("--to is required: the store to copy into")}
			}
			eng, err := a.open(cmd.Context(), false)
			if err != nil {
				return err
			}
			defer eng.Close()
			var progress func(store.CopyProgress)
			var bar *progressbar.ProgressBar
			if !a.jsonOut && isTerminal(a.stderr) {
				bar = progressbar.NewOptions(-1, progressbar.OptionSetWriter(a.stderr), progressbar.OptionSetDescription("copying"),
					progressbar.OptionShowCount(), progressbar.OptionClearOnFinish(), progressbar.OptionSetWidth(30))
				progress = func(p store.CopyProgress) {
					bar.ChangeMax(p.Total)
					bar.Describe(shorten(displayPath(p.Document.Source), 30))
					bar.Set(p.Done)
				}
			}
			rep, err := eng.Migrate(cmd.Context(), to, progress)
			if bar != nil {
				bar.Finish()
			}
			if err != nil {
				return err
			}
			if a.jsonOut {
				return writeJSON(a.stdout, struct {
					From string `json:"from"`
					To   string `json:"to"`
					store.CopyReport
				}{eng.DB(), to, rep})
			}
			fmt.Fprintf(a.stdout, "copied %s (%s, %s, %s) from %s to %s\n", plural(rep.Documents, "document", "documents"),
				plural(rep.Pages, "page", "pages"), plural(rep.Chunks, "chunk", "chunks"), plural(rep.Vectors, "vector", "vectors"), eng.DB(), to)
			return nil
		},
	}
	cmd.Flags().StringVar(&to, "to", "", "the store to copy into: a directory, or a URI such as weaviate:http://HOST:PORT?collection=NAME")
	cmd.Flags().BoolVar(&a.jsonOut, "json", false, "print as JSON")
	return cmd
}
