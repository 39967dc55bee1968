package cli

import (
	"io"
	"os"
	"strconv"

	"golang.org/x/term"
)

// style colours output for a terminal: bold names and headings, dim
// costs, red errors. It is off when the output is not a terminal, when
// NO_COLOR is set (https://no-color.org) or TERM is "dumb".
type style struct{ on bool }

func styleFor(w io.Writer) style {
	return style{on: isTerminal(w) && os.Getenv("NO_COLOR") == "" && os.Getenv("TERM") != "dumb"}
}

func (s style) sgr(code, text string) string {
	if !s.on || text == "" {
		return text
	}
	return "\x1b[" + code + "m" + text + "\x1b[0m"
}

func (s style) bold(text string) string { return s.sgr("1", text) }
func (s style) dim(text string) string  { return s.sgr("2", text) }
func (s style) red(text string) string  { return s.sgr("31", text) }

// Widths human output is laid out for: the terminal's, within bounds that
// keep lines readable; 80 when the output is not a terminal, or $COLUMNS
// when set (as shells and `watch` do).
const (
	minWidth     = 40
	maxWidth     = 120
	defaultWidth = 80
)

// width is the width of human output. Main sets it once from stdout,
// before any command runs.
var width = defaultWidth

func outputWidth(w io.Writer) int {
	n := 0
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		if cols, _, err := term.GetSize(int(f.Fd())); err == nil {
			n = cols
		}
	}
	if n == 0 {
		if c, err := strconv.Atoi(os.Getenv("COLUMNS")); err == nil && c > 0 {
			n = c
		}
	}
	if n == 0 {
		return defaultWidth
	}
	return min(max(n, minWidth), maxWidth)
}
