package cli

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/distill-rag/distill"
	"github.com/distill-rag/distill/demo"
	"github.com/distill-rag/distill/ingest"
	"github.com/distill-rag/distill/loader"
)

func (a *app) demoCmd() *cobra.Command {
	var (
		offline    bool
		keep       bool
		techniques string
	)
	cmd := &cobra.Command{
		Use:   "demo [--offline]",
		Short: "Ingest a sample corpus and compare every technique on it",
		Long: `Ingest a sample corpus into a temporary collection and compare every
technique on sample questions. Online, the corpus is the four Amazon
shareholder letters (2019-2022) of the original study, downloaded from
amazon's investor site; with --offline, or when they cannot be downloaded,
it is a bundled set of fictional shareholder letters (CC0).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			work, err := os.MkdirTemp("", "distill-demo-")
			if err != nil {
				return err
			}
			if keep {
				fmt.Fprintf(a.stderr, "distill: keeping the demo collection in %s\n", work)
			} else {
				defer os.RemoveAll(work)
			}
			files := work + "/files"
			if err := os.MkdirAll(files, 0o755); err != nil {
				return err
			}
			if !offline {
				fmt.Fprintln(a.stderr, "Downloading the Amazon shareholder letters 2019-2022 (use --offline to skip)…")
			}
			if !loader.PDFReaderCompiled() {
				fmt.Fprintln(a.stderr, "distill: "+loader.PreparingPDF)
			}
			corpus, err := demo.Prepare(ctx, files, !offline, nil)
			if err != nil {
				return err
			}
			if corpus.Note != "" {
				fmt.Fprintln(a.stderr, "distill: "+corpus.Note)
			}
			db := a.db
			if db == "" {
				db = work + "/collection"
			}
			eng, err := distill.Open(ctx, distill.Options{DB: db, Create: true, ConfigFile: a.configFile, Models: a.models, NoCache: a.noCache})
			if err != nil {
				return err
			}
			defer eng.Close()
			for _, l := range corpus.Letters {
				rep, err := eng.Ingest(ctx, []string{l.Path}, ingest.Options{Pages: l.Pages})
				if err != nil {
					return err
				}
				for _, f := range rep.Files {
					if f.Status == ingest.Failed {
						return f.Err()
					}
					if !a.jsonOut {
						note := ""
						if l.Note != "" {
							note = "; " + l.Note
						}
						fmt.Fprintf(a.stdout, "ingested %s (%s, %s%s)\n", f.Source[len(files)+1:], plural(f.Pages, "page", "pages"), plural(f.Chunks, "chunk", "chunks"), note)
					}
				}
			}
			if !a.jsonOut {
				runnable := 0
				for _, t := range eng.Techniques() {
					if t.Unavailable == "" {
						runnable++
					}
				}
				fmt.Fprintf(a.stdout, "\nComparing %s on %s.\n\n", plural(runnable, "technique", "techniques"), plural(len(corpus.Questions), "question", "questions"))
			}
			return a.compare(cmd, eng, corpus.Questions, splitList(techniques))
		},
	}
	cmd.Flags().BoolVar(&offline, "offline", false, "use the bundled letters; no network")
	cmd.Flags().BoolVar(&keep, "keep", false, "keep the temporary collection and files")
	cmd.Flags().StringVar(&techniques, "techniques", "", "comma-separated techniques (default: all)")
	cmd.RegisterFlagCompletionFunc("techniques", a.completeTechniqueList)
	cmd.Flags().BoolVar(&a.jsonOut, "json", false, "print one JSON object per question")
	return cmd
}
