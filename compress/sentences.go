package compress

import (
	"context"
	"strconv"

	"github.com/distill-rag/distill/config"
	"github.com/distill-rag/distill/document"
	"github.com/distill-rag/distill/textproc"
)

func init() { Register("sentences", buildSentences) }

// Sentences is the offline extractor: from each passage it keeps the
// sentences that share enough of the question's weight, merged into spans
// that keep their offsets in the page. A passage with no such sentence is
// dropped, as the LLM extractor drops a chunk it answers NO_OUTPUT for.
// It is deterministic and costs no model call.
type Sentences struct {
	// MinCoverage is the share of the question's term weight a sentence
	// must hold to be kept.
	MinCoverage float64
	// Context keeps this many sentences on each side of a kept one.
	Context int
}

type sentenceParams struct {
	config.Typed    `yaml:",inline"`
	sentenceOptions `yaml:",inline"`
}

type sentenceOptions struct {
	MinCoverage float64 `yaml:"min_coverage"`
	Context     int     `yaml:"context"`
}

func defaultSentenceOptions() sentenceOptions { return sentenceOptions{MinCoverage: 0.2} }

func buildSentences(_ Env, stage config.Stage) (Compressor, error) {
	p := sentenceParams{sentenceOptions: defaultSentenceOptions()}
	if err := stage.Decode(&p); err != nil {
		return nil, err
	}
	return p.build(stage)
}

func (p sentenceOptions) build(stage config.Stage) (*Sentences, error) {
	if p.MinCoverage <= 0 || p.MinCoverage > 1 {
		return nil, stage.ParamError("min_coverage", "must be in (0, 1], got %g", p.MinCoverage)
	}
	if p.Context < 0 {
		return nil, stage.ParamError("context", "must be 0 or more sentences, got %d", p.Context)
	}
	return &Sentences{MinCoverage: p.MinCoverage, Context: p.Context}, nil
}

type sentence struct {
	span  document.Span // in the page
	terms textproc.TermSet
}

// Compress keeps the relevant sentences of each passage.
func (s *Sentences) Compress(_ context.Context, query string, passages []document.Passage) ([]document.Passage, Report, error) {
	q := textproc.ContentTerms(query)
	per := make([][]sentence, len(passages))
	var all []textproc.TermSet
	for i, p := range passages {
		for _, pc := range p.Pieces() {
			for _, ss := range textproc.Sentences(pc.Text) {
				terms := textproc.ContentTerms(pc.Text[ss.Start:ss.End])
				per[i] = append(per[i], sentence{span: document.Span{Start: pc.Start + ss.Start, End: pc.Start + ss.End}, terms: terms})
				all = append(all, terms)
			}
		}
	}
	weights := textproc.QueryWeights(q, all)
	var out []document.Passage
	var rep Report
	for i, p := range passages {
		keep := make([]bool, len(per[i]))
		any := false
		for j, sn := range per[i] {
			if textproc.Coverage(weights, sn.terms) >= s.MinCoverage {
				for k := max(0, j-s.Context); k <= min(len(keep)-1, j+s.Context); k++ {
					keep[k] = true
				}
				any = true
			}
		}
		if !any {
			continue
		}
		var spans []document.Span
		for j, sn := range per[i] {
			if !keep[j] {
				continue
			}
			if n := len(spans); n > 0 && keep[j-1] && contiguous(p, spans[n-1].End, sn.span.Start) {
				spans[n-1].End = sn.span.End
				continue
			}
			spans = append(spans, sn.span)
		}
		out = append(out, p.Cut(spans))
	}
	if dropped := len(passages) - len(out); dropped > 0 {
		rep.Notes = append(rep.Notes, pluralize(dropped, "passage")+" had no relevant sentence and were dropped")
	}
	return out, rep, nil
}

func pluralize(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}

// contiguous reports whether page offsets a and b lie in the same piece of p,
// so that the sentences ending at a and starting at b can be one span.
func contiguous(p document.Passage, a, b int) bool {
	for _, pc := range p.Pieces() {
		if a >= pc.Start && a <= pc.End && b >= pc.Start && b <= pc.End {
			return true
		}
	}
	return false
}
