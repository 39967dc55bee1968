package cli

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/distill-rag/distill"
)

func (a *app) askCmd() *cobra.Command {
	var tech string
	var stream bool
	var where []string
	cmd := &cobra.Command{
		Use:   "ask [--technique T] QUESTION",
		Short: "Answer a question from the collection with one technique",
		Example: `  distill ask "What were the highlights of 2022?"
  distill ask --technique extract --json "Why is the company successful?"
  distill ask --where year>=2021 --where 'source~*/letters/*' "What grew?"`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if stream && a.jsonOut {
				return &flagError{cmd: cmd.CommandPath(), err: fmt.Errorf("--stream prints the answer as it is written; it does not go with --json")}
			}
			f, err := parseWhere(cmd, where)
			if err != nil {
				return err
			}
			eng, err := a.open(cmd.Context(), false)
			if err != nil {
				return err
			}
			defer eng.Close()
			if stream {
				return a.askStream(cmd.Context(), eng, strings.Join(args, " "), tech, distill.Where(f))
			}
			res, err := eng.Ask(cmd.Context(), strings.Join(args, " "), tech, distill.Where(f))
			if err != nil {
				return err
			}
			if err := a.emptyCollection(cmd.Context(), eng, res); err != nil {
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
	cmd.RegisterFlagCompletionFunc("technique", a.completeTechnique)
	cmd.Flags().BoolVar(&a.jsonOut, "json", false, "print the result as JSON")
	cmd.Flags().BoolVar(&stream, "stream", false, "print the answer as the model writes it")
	addWhere(cmd, &where)
	return cmd
}

// askStream prints the answer's text as it arrives, then its sources.
func (a *app) askStream(ctx context.Context, eng *distill.Engine, question, tech string, opts ...distill.QueryOption) error {
	res, err := eng.AskStream(ctx, question, tech, func(tok string) error {
		_, err := io.WriteString(a.stdout, tok)
		return err
	}, opts...)
	if err != nil {
		fmt.Fprintln(a.stdout)
		return err
	}
	fmt.Fprint(a.stdout, "\n\n")
	if err := a.emptyCollection(ctx, eng, res); err != nil {
		return err
	}
	a.printDetails(res)
	return nil
}

// emptyCollection turns "no answer" from a collection with no document
// into the error that says so. It asks the store only when nothing was
// retrieved, so a normal answer costs nothing more.
func (a *app) emptyCollection(ctx context.Context, eng *distill.Engine, results ...*distill.Result) error {
	for _, r := range results {
		if len(r.Contexts) > 0 {
			return nil
		}
	}
	if empty, err := eng.Empty(ctx); err != nil || !empty {
		return err
	}
	return &exitError{code: 1, msg: "the collection " + homeRelative(eng.DB()) + " is empty: add documents with distill ingest PATH"}
}

func (a *app) printResult(r *distill.Result) {
	fmt.Fprintf(a.stdout, "%s\n\n", wrap(r.Answer, width, ""))
	a.printDetails(r)
}

// printDetails prints a result's sources and what it cost.
func (a *app) printDetails(r *distill.Result) {
	w := a.stdout
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
