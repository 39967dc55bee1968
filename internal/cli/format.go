package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/distill-rag/distill"
)

// wrap breaks text into lines of at most w characters, each prefixed by indent.
func wrap(text string, w int, indent string) string {
	var b strings.Builder
	for i, para := range strings.Split(text, "\n") {
		if i > 0 {
			b.WriteString("\n")
		}
		line := indent
		empty := true
		for _, word := range strings.FieldsFunc(para, func(r rune) bool { return r == ' ' || r == '\t' }) {
			if !empty && utf8.RuneCountInString(line)+1+utf8.RuneCountInString(word) > w {
				b.WriteString(line)
				b.WriteString("\n")
				line, empty = indent, true
			}
			if !empty {
				line += " "
			}
			line += word
			empty = false
		}
		b.WriteString(line)
	}
	return b.String()
}

// homeRelative shows a path under the home directory as ~/..., as help
// text does, so that it fits and reads the same for every user.
func homeRelative(path string) string {
	home, err := os.UserHomeDir()
	if err != nil || home == "" || home == "/" {
		return path
	}
	if rel, err := filepath.Rel(home, path); err == nil && !strings.HasPrefix(rel, "..") {
		return filepath.Join("~", rel)
	}
	return path
}

// fitLines wraps only the lines of text longer than w, keeping each one's
// indentation, so that code samples in help text keep their shape.
func fitLines(text string, w int) string {
	lines := strings.Split(text, "\n")
	for i, line := range lines {
		if utf8.RuneCountInString(line) > w {
			indent := line[:len(line)-len(strings.TrimLeft(line, " \t"))]
			lines[i] = wrap(line, w, indent)
		}
	}
	return strings.Join(lines, "\n")
}

// shorten cuts s to n characters with an ellipsis, on one line.
func shorten(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return strings.TrimSpace(string(r[:n-1])) + "…"
}

// displayPath shows a source relative to the working directory when it is
// below it, else as given.
func displayPath(source string) string {
	if wd, err := os.Getwd(); err == nil {
		if rel, err := filepath.Rel(wd, source); err == nil && !strings.HasPrefix(rel, "..") {
			return rel
		}
	}
	return source
}

// sourceRef is "file.pdf p.3".
func sourceRef(c distill.Context, short bool) string {
	name := displayPath(c.Source)
	if short {
		name = filepath.Base(c.Source)
	}
	if c.Page > 0 {
		return fmt.Sprintf("%s\u00a0p.%d", name, c.Page) // a no-break space keeps the page with its file
	}
	return name
}

// thousands formats n with thousands separators.
func thousands(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

func ms(v float64) string {
	switch {
	case v < 10:
		return fmt.Sprintf("%.1f ms", v)
	case v < 10000:
		return fmt.Sprintf("%.0f ms", v)
	default:
		return fmt.Sprintf("%.1f s", v/1000)
	}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return thousands(n) + " " + many
}

// statsLine sums up a result's cost on one line.
func statsLine(r *distill.Result) string {
	parts := []string{
		plural(len(r.Contexts), "context", "contexts"),
		plural(r.Stats.ContextChars, "char", "chars"),
		plural(r.Stats.LLMCalls, "LLM call", "LLM calls"),
	}
	if r.Stats.CachedCalls > 0 {
		parts[2] += fmt.Sprintf(" (+%s cached)", thousands(r.Stats.CachedCalls))
	}
	if tokens := r.Stats.PromptTokens + r.Stats.CompletionTokens; tokens > 0 {
		t := plural(tokens, "token", "tokens")
		if r.Stats.TokensEstimated {
			t = "~" + t
		}
		parts = append(parts, t)
	}
	parts = append(parts, ms(r.Stats.LatencyMS))
	return strings.Join(parts, " · ")
}

// rule is a horizontal line with a label, as wide as the terminal.
func rule(label string) string {
	head := "── " + label + " "
	n := width - utf8.RuneCountInString(head)
	if n < 3 {
		n = 3
	}
	return head + strings.Repeat("─", n)
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// table prints rows with columns padded; numeric columns (right) align right.
func table(w io.Writer, header []string, right []bool, rows [][]string) {
	widths := make([]int, len(header))
	for i, h := range header {
		widths[i] = utf8.RuneCountInString(h)
	}
	for _, r := range rows {
		for i, c := range r {
			widths[i] = max(widths[i], utf8.RuneCountInString(c))
		}
	}
	line := func(cells []string) {
		var b strings.Builder
		for i, c := range cells {
			pad := strings.Repeat(" ", widths[i]-utf8.RuneCountInString(c))
			if i > 0 {
				b.WriteString("  ")
			}
			if right[i] {
				b.WriteString(pad + c)
			} else {
				b.WriteString(c + pad)
			}
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
	line(header)
	for _, r := range rows {
		line(r)
	}
}
