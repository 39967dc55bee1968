package bench

import (
	"fmt"
	"io"
	"strings"
)

// Markdown writes the report as a markdown document.
func (r *Report) Markdown(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# distill benchmark report\n\n")
	fmt.Fprintf(&b, "Run %s on %s; sizes %v chunks, %d repetitions, %d queries per technique.\n",
		r.Started.UTC().Format("2006-01-02 15:04 UTC"), r.Machine, r.Options.Sizes, r.Options.Reps, r.Options.Queries)
	for _, s := range r.Sections {
		fmt.Fprintf(&b, "\n## %s\n\n", s.Title)
		if s.Note != "" {
			fmt.Fprintf(&b, "%s\n\n", s.Note)
		}
		b.WriteString("| " + strings.Join(s.Header, " | ") + " |\n")
		b.WriteString("|" + strings.Repeat(" --- |", len(s.Header)) + "\n")
		for _, row := range s.Rows {
			b.WriteString("| " + strings.Join(row, " | ") + " |\n")
		}
		if len(s.Rows) == 0 {
			b.WriteString("| " + strings.Repeat("– | ", len(s.Header)) + "\n")
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
