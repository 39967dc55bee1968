package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/distill-rag/distill"
)

func (a *app) askCmd() *cobra.Command {
	var tech string
	cmd := &cobra.Command{
		Use:   "ask [--technique T] QUESTION",
		Short: "Answer a question from the collection with one technique",
		Example: `  distill ask "What were the highlights of 2022?"
  distill ask --technique extract --json "Why is the company successful?"`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			eng, err := a.open(cmd.Context(), false)
			if err != nil {
				return err
			}
			defer eng.Close()
			res, err := eng.Ask(cmd.Context(), strings.Join(args, " "), tech)
			if err != nil {
				return err
			}
			if a.jsonOut {
				return writeJSON(a.stdout, res)
			}
			a.printResult(res)
			return nil
		},
	}
	cmd.Flags().StringVarP(&tech, "technique", "t", "parent", "technique to use (see distill techniques)")
	cmd.Flags().BoolVar(&a.jsonOut, "json", false, "print the result as JSON")
	return cmd
}

func (a *app) printResult(r *distill.Result) {
	w := a.stdout
	fmt.Fprintf(w, "%s\n\n", wrap(r.Answer, width, ""))
	if len(r.Contexts) > 0 {
		fmt.Fprintln(w, "Sources:")
		for _, c := range r.Contexts {
			fmt.Fprintf(w, "  [%d] %s  (score %.2f)\n", c.Rank, sourceRef(c, false), c.Score)
			fmt.Fprintf(w, "      %s\n", shorten(c.Text, width-8))
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "%s · %s · %s\n", r.Technique, r.Mode, statsLine(r))
}
