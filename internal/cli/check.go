package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/distill-rag/distill/store"
)

func (a *app) checkCmd() *cobra.Command {
	var repair bool
	cmd := &cobra.Command{
		Use:   "check [--repair]",
		Short: "Verify the collection, and rebuild its indexes with --repair",
		Long: `Verify the collection the way git fsck and SQLite's integrity check do:
the database file, every chunk's page, document and parent, and the search
indexes against the stored text. It prints what is wrong and exits with
status 1. With --repair, the indexes are rebuilt from the stored data and
the collection is checked again; the exit status is 0 when nothing is left
wrong. Damage to stored text cannot be repaired: remove the document
(distill rm) and ingest it again.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			eng, err := a.open(cmd.Context(), false)
			if err != nil {
				return err
			}
			defer eng.Close()
			// A big collection takes minutes to check; on a terminal
			// the step and the time passing show that it is working.
			bar := a.spinner("checking")
			rep, err := eng.Check(cmd.Context(), store.CheckOptions{Repair: repair, Progress: func(p store.CheckProgress) {
				verb := "checking"
				if p.Repairing {
					verb = "repairing"
				}
				bar.describe(fmt.Sprintf("%s %s (%d of %d)", verb, p.Check, p.Done+1, p.Total))
			}})
			bar.finish()
			if rep != nil {
				a.printCheck(rep, eng.DB())
			}
			if err != nil {
				return err
			}
			if !rep.OK() {
				return &exitError{code: 1, msg: "the collection has problems"}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&repair, "repair", false, "rebuild the derived indexes from the stored data")
	cmd.Flags().BoolVar(&a.jsonOut, "json", false, "print the report as JSON")
	return cmd
}

func (a *app) printCheck(rep *store.CheckReport, db string) {
	if a.jsonOut {
		writeJSON(a.stdout, struct {
			OK bool `json:"ok"`
			*store.CheckReport
		}{rep.OK(), rep})
		return
	}
	w := a.stdout
	printResults := func(results []store.CheckResult) (problems, repairable int) {
		for _, c := range results {
			if c.OK() {
				fmt.Fprintf(w, "%-8s ok\n", c.Name)
				continue
			}
			n := len(c.Problems) + c.Truncated
			problems += n
			fmt.Fprintf(w, "%-8s %s\n", c.Name, plural(n, "problem", "problems"))
			for _, p := range c.Problems {
				fmt.Fprintf(w, "  %s\n", p.Message)
				if p.Repairable {
					repairable++
				}
			}
			if c.Truncated > 0 {
				fmt.Fprintf(w, "  ... and %d more\n", c.Truncated)
				repairable++
			}
		}
		return problems, repairable
	}
	problems, repairable := printResults(rep.Checks)
	summary := fmt.Sprintf("%s, %s, %s in %s", plural(rep.Documents, "document", "documents"), plural(rep.Pages, "page", "pages"), plural(rep.Chunks, "chunk", "chunks"), db)
	if rep.After == nil {
		switch {
		case problems == 0:
			fmt.Fprintf(w, "%s: ok\n", summary)
		case repairable > 0:
			fmt.Fprintf(w, "%s: %s; run distill check --repair to rebuild what can be rebuilt\n", summary, plural(problems, "problem", "problems"))
		default:
			fmt.Fprintf(w, "%s: %s\n", summary, plural(problems, "problem", "problems"))
		}
		return
	}
	for _, r := range rep.Repaired {
		fmt.Fprintf(w, "repaired %s\n", r)
	}
	fmt.Fprintln(w, "checked again:")
	left, _ := printResults(rep.After)
	if left == 0 {
		fmt.Fprintf(w, "%s: ok after repair\n", summary)
	} else {
		fmt.Fprintf(w, "%s: %s left after repair\n", summary, plural(left, "problem", "problems"))
	}
}
