package cli

import (
	"bufio"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/distill-rag/distill"
)

func (a *app) compareCmd() *cobra.Command {
	var (
		techniques string
		questions  string
		where      []string
	)
	cmd := &cobra.Command{
		Use:   "compare [--techniques a,b] [--questions FILE] [QUESTION...]",
		Short: "Answer questions with every technique, side by side",
		Example: `  distill compare "How did the freight business evolve?"
  distill compare --techniques regular,parent --questions questions.txt
  distill compare --markdown --questions questions.txt > comparison.md`,
		RunE: func(cmd *cobra.Command, args []string) error {
			qs := append([]string(nil), args...)
			if questions != "" {
				more, err := readQuestions(questions)
				if err != nil {
					return err
				}
				qs = append(qs, more...)
			}
			if a.jsonOut && a.markdown {
				return &flagError{cmd: "distill compare", err: fmt.Errorf("--json and --markdown cannot be used together")}
			}
			if len(qs) == 0 {
				return &flagError{cmd: "distill compare", err: fmt.Errorf("no question: give one as an argument or a file with --questions")}
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
			return a.compare(cmd, eng, qs, splitList(techniques), distill.Where(f))
		},
	}
	cmd.Flags().StringVar(&techniques, "techniques", "", "comma-separated techniques (default: all)")
	cmd.RegisterFlagCompletionFunc("techniques", a.completeTechniqueList)
	cmd.Flags().StringVar(&questions, "questions", "", "file with one question per line")
	cmd.Flags().BoolVar(&a.jsonOut, "json", false, "print one JSON object per question")
	cmd.Flags().BoolVar(&a.markdown, "markdown", false, "print a Markdown table: techniques as columns, questions as rows, answers and costs")
	addWhere(cmd, &where)
	return cmd
}

func (a *app) compare(cmd *cobra.Command, eng *distill.Engine, questions, techniques []string, opts ...distill.QueryOption) error {
	var all []*distill.Comparison
	for i, q := range questions {
		cmp, err := eng.Compare(cmd.Context(), q, techniques, opts...)
		if err != nil {
			return err
		}
		if i == 0 {
			if err := a.emptyCollection(cmd.Context(), eng, cmp.Results...); err != nil {
				return err
			}
		}
		if a.markdown {
			all = append(all, cmp)
			continue
		}
		if a.jsonOut {
			if err := writeJSON(a.stdout, cmp); err != nil {
				return err
			}
			continue
		}
		if i > 0 {
			fmt.Fprintln(a.stdout)
		}
		a.printComparison(cmp)
	}
	if a.markdown {
		return distill.WriteMarkdown(a.stdout, all)
	}
	return nil
}

func (a *app) printComparison(cmp *distill.Comparison) {
	w := a.stdout
	fmt.Fprintln(w, a.style.bold(wrap("Q: "+cmp.Question, width, "")))
	for _, r := range cmp.Results {
		fmt.Fprintln(w)
		fmt.Fprintln(w, a.style.bold(rule(r.Technique)))
		fmt.Fprintln(w, wrap(r.Answer, width, ""))
		if len(r.Contexts) > 0 {
			var refs []string
			for _, c := range r.Contexts {
				refs = append(refs, fmt.Sprintf("[%d]\u00a0%s", c.Rank, sourceRef(c, true)))
			}
			fmt.Fprintln(w, wrap("Sources: "+strings.Join(refs, " · "), width, ""))
		}
		fmt.Fprintln(w, a.style.dim(statsLine(r)))
		for _, note := range faultNotes(r) {
			fmt.Fprintln(w, wrap("! "+note, width, "  "))
		}
	}
	fmt.Fprintln(w)
	a.printCostTables(cmp)
}

// readQuestions reads one question per line, skipping blanks and # comments.
func readQuestions(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, &flagError{cmd: "distill compare", err: fmt.Errorf("--questions: %w", err)}
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("--questions %s: %w", path, err)
	}
	if len(out) == 0 {
		return nil, &flagError{cmd: "distill compare", err: fmt.Errorf("--questions %s: no questions in the file", path)}
	}
	return out, nil
}
