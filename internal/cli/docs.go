package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/distill-rag/distill/config"
	"github.com/distill-rag/distill/store"
)

func (a *app) lsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "ls",
		Short: "List the documents in the collection",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			eng, err := a.open(cmd.Context(), false)
			if err != nil {
				return err
			}
			defer eng.Close()
			docs, err := eng.Documents(cmd.Context())
			if err != nil {
				return err
			}
			if a.jsonOut {
				return writeJSON(a.stdout, struct {
					Documents []store.DocumentInfo `json:"documents"`
				}{docs})
			}
			if len(docs) == 0 {
				fmt.Fprintln(a.stdout, "The collection is empty. Add documents with: distill ingest PATH")
				return nil
			}
			var rows [][]string
			pages, chunks := 0, 0
			for _, d := range docs {
				rows = append(rows, []string{d.ID, shorten(displayPath(d.Source), 44), thousands(d.Pages), thousands(d.Chunks)})
				pages += d.Pages
				chunks += d.Chunks
			}
			table(a.stdout, []string{"doc_id", "source", "pages", "chunks"}, []bool{false, false, true, true}, rows)
			fmt.Fprintf(a.stdout, "%s, %s, %s in %s\n", plural(len(docs), "document", "documents"), plural(pages, "page", "pages"), plural(chunks, "chunk", "chunks"), eng.DB())
			return nil
		},
	}
	cmd.Flags().BoolVar(&a.jsonOut, "json", false, "print as JSON")
	return cmd
}

func (a *app) rmCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "rm DOC_ID|PATH...",
		Short: "Remove documents (by id, source path, or a directory of sources)",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			eng, err := a.open(cmd.Context(), false)
			if err != nil {
				return err
			}
			defer eng.Close()
			gone, err := eng.Remove(cmd.Context(), args...)
			if err != nil {
				return err
			}
			if a.jsonOut {
				if gone == nil {
					gone = []store.DocumentInfo{}
				}
				return writeJSON(a.stdout, struct {
					Removed []store.DocumentInfo `json:"removed"`
				}{gone})
			}
			for _, d := range gone {
				fmt.Fprintf(a.stdout, "removed  %s  %s\n", d.ID, displayPath(d.Source))
			}
			if len(gone) == 0 {
				return &exitError{code: 1, msg: "no document matches " + strings.Join(args, ", ")}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&a.jsonOut, "json", false, "print as JSON")
	return cmd
}

func (a *app) techniquesCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "techniques",
		Short: "List the configured techniques",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := config.Load(a.configFile)
			if err != nil {
				return err
			}
			type info struct {
				Name        string   `json:"name"`
				Description string   `json:"description"`
				Retriever   string   `json:"retriever"`
				Compressors []string `json:"compressors"`
			}
			var ts []info
			for _, t := range cfg.Techniques {
				i := info{Name: t.Name, Description: t.Description, Retriever: t.Retriever.Type, Compressors: []string{}}
				for _, c := range t.Compressors {
					i.Compressors = append(i.Compressors, c.Type)
				}
				ts = append(ts, i)
			}
			if a.jsonOut {
				return writeJSON(a.stdout, struct {
					Techniques []info `json:"techniques"`
				}{ts})
			}
			for _, t := range ts {
				stages := t.Retriever
				if len(t.Compressors) > 0 {
					stages += " → " + strings.Join(t.Compressors, " → ")
				}
				fmt.Fprintf(a.stdout, "%-10s %s\n", t.Name, stages)
				fmt.Fprintln(a.stdout, wrap(t.Description, width, "           "))
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&a.jsonOut, "json", false, "print as JSON")
	return cmd
}
