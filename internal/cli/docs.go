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

// confirmRemoveAbove is how many documents rm removes on a terminal
// without asking: a directory or a mistyped path can match hundreds.
const confirmRemoveAbove = 10

func (a *app) rmCmd() *cobra.Command {
	var yes bool
	cmd := &cobra.Command{
		Use:   "rm DOC_ID|PATH...",
		Short: "Remove documents (by id, source path, or a directory of sources)",
		Long: `Remove documents, with their chunks, vectors and index entries, named by
document id (see distill ls), by source path, or by a directory: every
document ingested from under it. On a terminal, removing more than ` + fmt.Sprint(confirmRemoveAbove) + `
documents asks first; --yes skips the question.`,
		Example: `  distill rm 3d7128539c745fdb
  distill rm ~/letters/2021.pdf
  distill rm ~/letters --yes`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return &exitError{code: 2, msg: "rm needs what to remove: a document id, a source path or a directory (distill ls lists them)"}
			}
			return nil
		},
		ValidArgsFunction: a.completeSources,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			eng, err := a.open(ctx, false)
			if err != nil {
				return err
			}
			defer eng.Close()
			match, err := eng.Matching(ctx, args...)
			if err != nil {
				return err
			}
			if len(match) == 0 {
				if a.jsonOut {
					writeJSON(a.stdout, struct {
						Removed []store.DocumentInfo `json:"removed"`
					}{[]store.DocumentInfo{}})
				}
				return &exitError{code: 1, msg: "no document matches " + strings.Join(args, ", ")}
			}
			if len(match) > confirmRemoveAbove && !yes && isTerminal(a.stdin) && isTerminal(a.stderr) {
				ok, err := a.confirm(fmt.Sprintf("Remove %s (%s)?", plural(len(match), "document", "documents"), plural(chunkCount(match), "chunk", "chunks")))
				if err != nil {
					return err
				}
				if !ok {
					return &exitError{code: 1, msg: "nothing removed"}
				}
			}
			// Remove exactly what was matched (and confirmed), by id.
			ids := make([]string, len(match))
			for i, d := range match {
				ids[i] = d.ID
			}
			gone, err := eng.Remove(ctx, ids...)
			if err != nil {
				return err
			}
			if gone == nil {
				gone = []store.DocumentInfo{}
			}
			if a.jsonOut {
				return writeJSON(a.stdout, struct {
					Removed []store.DocumentInfo `json:"removed"`
				}{gone})
			}
			for _, d := range gone {
				fmt.Fprintf(a.stdout, "removed  %s  %s\n", d.ID, displayPath(d.Source))
			}
			fmt.Fprintf(a.stdout, "%s removed (%s)\n", plural(len(gone), "document", "documents"), plural(chunkCount(gone), "chunk", "chunks"))
			return nil
		},
	}
	cmd.Flags().BoolVar(&a.jsonOut, "json", false, "print as JSON")
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "remove without asking, however many documents match")
	return cmd
}

func chunkCount(docs []store.DocumentInfo) int {
	n := 0
	for _, d := range docs {
		n += d.Chunks
	}
	return n
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
