package distill

import (
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/distill-rag/distill/cost"
)

// WriteMarkdown writes comparisons as the study's comparison table:
// techniques as columns, questions as rows, each cell the technique's
// answer with what it cost; then the totals per technique and stage.
func WriteMarkdown(w io.Writer, cmps []*Comparison) error {
	if len(cmps) == 0 {
		return nil
	}
	var techs []string
	seen := map[string]bool{}
	for _, c := range cmps {
		for _, r := range c.Results {
			if !seen[r.Technique] {
				seen[r.Technique] = true
				techs = append(techs, r.Technique)
			}
		}
	}
	var b strings.Builder
	row := func(cells ...string) {
		b.WriteString("| " + strings.Join(cells, " | ") + " |\n")
	}
	rule := func(n int) { row(strings.Split(strings.Repeat("---,", n), ",")[:n]...) }

	row(append([]string{"Question"}, techs...)...)
	rule(len(techs) + 1)
	for _, c := range cmps {
		cells := []string{mdCell(c.Question)}
		for _, t := range techs {
			r := find(c, t)
			if r == nil {
				cells = append(cells, "")
				continue
			}
			cell := mdCell(r.Answer)
			if src := sources(r); src != "" {
				cell += "<br><sub>" + mdCell(src) + "</sub>"
			}
			cells = append(cells, cell+"<br><sub>"+mdCell(figures(r))+"</sub>")
		}
		row(cells...)
	}

	// Totals: what each technique cost over all the questions.
	fmt.Fprintf(&b, "\n**Cost over %s**\n\n", count(len(cmps), "question"))
	row(append([]string{""}, techs...)...)
	rule(len(techs) + 1)
	type total struct {
		usage         cost.Usage
		before, after int
		latency       float64
		uncompressed  int
		invented      int
		n             int
	}
	totals := make([]total, len(techs))
	for i, t := range techs {
		for _, c := range cmps {
			r := find(c, t)
			if r == nil {
				continue
			}
			tt := &totals[i]
			tt.n++
			tt.latency += r.Stats.LatencyMS
			tt.after += r.Stats.ContextChars
			for _, s := range r.Stats.Stages {
				tt.usage = tt.usage.Add(s.Usage)
				tt.uncompressed += s.Uncompressed
				tt.invented += s.InventedChars
				if s.Name == "retrieve" {
					tt.before += s.CharsOut
				}
			}
		}
	}
	line := func(label string, f func(total) string) {
		cells := []string{label}
		for _, t := range totals {
			cells = append(cells, f(t))
		}
		row(cells...)
	}
	line("LLM calls", func(t total) string { return num(t.usage.Calls) })
	line("cached LLM calls", func(t total) string { return num(t.usage.Cached) })
	line("prompt tokens", func(t total) string { return tokens(t.usage.PromptTokens, t.usage.Estimated) })
	line("completion tokens", func(t total) string { return tokens(t.usage.CompletionTokens, t.usage.Estimated) })
	line("rerank / embed calls", func(t total) string { return num(t.usage.RerankCalls) + " / " + num(t.usage.EmbedCalls) })
	line("context chars retrieved", func(t total) string { return num(t.before) })
	line("context chars answered from", func(t total) string { return num(t.after) })
	line("chunks left uncompressed", func(t total) string { return num(t.uncompressed) })
	line("invented chars dropped", func(t total) string { return num(t.invented) })
	line("mean latency", func(t total) string {
		if t.n == 0 {
			return ""
		}
		return millis(t.latency / float64(t.n))
	})
	if anyEstimated(cmps) {
		b.WriteString("\n~ tokens counted locally (cl100k_base), not reported by the provider.\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func find(c *Comparison, technique string) *Result {
	for _, r := range c.Results {
		if r.Technique == technique {
			return r
		}
	}
	return nil
}

func anyEstimated(cmps []*Comparison) bool {
	for _, c := range cmps {
		for _, r := range c.Results {
			if r.Stats.TokensEstimated {
				return true
			}
		}
	}
	return false
}

// sources lists the contexts an answer's [n] cite, by file name and page:
// "[1] letter-2021.pdf p. 3; [2] letter-2022.pdf p. 1".
func sources(r *Result) string {
	refs := make([]string, 0, len(r.Contexts))
	for _, c := range r.Contexts {
		ref := fmt.Sprintf("[%d] %s", c.Rank, filepath.Base(c.Source))
		if c.Page > 0 {
			ref += fmt.Sprintf(" p. %d", c.Page)
		}
		refs = append(refs, ref)
	}
	return strings.Join(refs, "; ")
}

// figures sums up a result in one line.
func figures(r *Result) string {
	parts := []string{count(len(r.Contexts), "context"), count(r.Stats.ContextChars, "char")}
	calls := count(r.Stats.LLMCalls, "LLM call")
	if r.Stats.CachedCalls > 0 {
		calls += fmt.Sprintf(" (+%d cached)", r.Stats.CachedCalls)
	}
	parts = append(parts, calls)
	if t := r.Stats.PromptTokens + r.Stats.CompletionTokens; t > 0 {
		parts = append(parts, tokens(t, r.Stats.TokensEstimated)+" tokens")
	}
	parts = append(parts, millis(r.Stats.LatencyMS))
	return strings.Join(parts, " · ")
}

// mdCell makes text safe inside a table cell: no line breaks, pipes or
// tags.
func mdCell(s string) string {
	s = strings.TrimSpace(s)
	s = strings.NewReplacer("\\", "\\\\", "|", "\\|", "<", "&lt;", ">", "&gt;", "\r", "").Replace(s)
	return strings.ReplaceAll(s, "\n", "<br>")
}

func num(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func tokens(n int, estimated bool) string {
	if estimated && n > 0 {
		return "~" + num(n)
	}
	return num(n)
}

func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return num(n) + " " + noun + "s"
}

func millis(v float64) string {
	if v < 10 {
		return fmt.Sprintf("%.1f ms", v)
	}
	if v < 10000 {
		return fmt.Sprintf("%.0f ms", v)
	}
	return fmt.Sprintf("%.1f s", v/1000)
}
