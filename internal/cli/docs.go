package cli

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/distill-rag/distill"
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
			ts, err := distill.ListTechniques(cmd.Context(), distill.Options{DB: a.db, Store: a.store, ConfigFile: a.configFile, Models: a.models})
			if err != nil {
				return err
			}
			if a.jsonOut {
				return writeJSON(a.stdout, struct {
					Techniques []distill.TechniqueInfo `json:"techniques"`
				}{ts})
			}
			name := 0
			for _, t := range ts {
				name = max(name, utf8.RuneCountInString(t.Name))
			}
			indent := strings.Repeat(" ", name+2)
			unavailable := 0
			for _, t := range ts {
				stages := t.Retriever
				if len(t.Compressors) > 0 {
					stages += " → " + strings.Join(t.Compressors, " → ")
				}
				if t.Unavailable != "" {
					stages += " (unavailable)"
					unavailable++
				}
				for i, line := range strings.Split(wrap(stages, width-len(indent), ""), "\n") {
					line = strings.Replace(line, "(unavailable)", a.style.dim("(unavailable)"), 1)
					if i == 0 {
						fmt.Fprintf(a.stdout, "%s%s%s\n", a.style.bold(t.Name), indent[utf8.RuneCountInString(t.Name):], line)
					} else {
						fmt.Fprintf(a.stdout, "%s%s\n", indent, line)
					}
				}
				if t.Description != "" {
					fmt.Fprintln(a.stdout, wrap(t.Description, width, indent))
				}
				if t.Unavailable != "" {
					fmt.Fprintln(a.stdout, wrap("unavailable: "+t.Unavailable, width, indent))
				}
			}
			if unavailable > 0 {
				fmt.Fprintln(a.stdout)
				fmt.Fprintln(a.stdout, wrap(plural(unavailable, "technique is", "techniques are")+" unavailable with the models in force; distill compare leaves them out.", width, ""))
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&a.jsonOut, "json", false, "print as JSON")
	return cmd
}
