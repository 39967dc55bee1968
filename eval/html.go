package eval

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"math"
	"strings"
)

//go:embed report.html.tmpl
var reportHTML string

var reportTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"metric": formatMetric,
	"ms":     func(v float64) string { return fmt.Sprintf("%.1f ms", v) },
	"num":    func(v float64) string { return formatNumber(v) },
	"label":  metricLabel,
	"lower":  strings.ToLower,
	"list":   func(s ...string) []string { return s },
	"values": formatValues,
}).Parse(reportHTML))

// WriteHTML writes the report as one self-contained HTML page: the metric
// table, a quality-versus-cost chart (inline SVG), and each question's
// outcome per technique with the contexts it used. It loads nothing from
// elsewhere: no scripts, styles or fonts.
func WriteHTML(w io.Writer, r *Report) error {
	return reportTemplate.Execute(w, newPage(r))
}

type page struct {
	*Report
	Rows  []row
	Chart chart
}

type row struct {
	TechniqueResult
	Cells  []cell
	Tokens string
}

type cell struct {
	Value string
	Sort  float64
	Best  bool
}

func newPage(r *Report) page {
	p := page{Report: r}
	best := map[string]float64{}
	for _, m := range r.Metrics {
		lowerBetter := m == FirstHitRank
		for _, t := range r.Results {
			v, ok := t.Values[m]
			if b, seen := best[m]; ok && (!seen || lowerBetter && v < b || !lowerBetter && v > b) {
				best[m] = v
			}
		}
	}
	for _, t := range r.Results {
		rw := row{TechniqueResult: t, Tokens: formatNumber(t.Cost.Tokens())}
		if t.Cost.TokensEstimated {
			rw.Tokens = "~" + rw.Tokens
		}
		for _, m := range r.Metrics {
			v, ok := t.Values[m]
			if !ok {
				rw.Cells = append(rw.Cells, cell{Value: "–", Sort: math.Inf(-1)})
				continue
			}
			rw.Cells = append(rw.Cells, cell{Value: formatMetric(m, v), Sort: v, Best: len(r.Results) > 1 && v == best[m]})
		}
		p.Rows = append(p.Rows, rw)
	}
	p.Chart = newChart(r)
	return p
}

// chart is the quality-versus-cost scatter, laid out for SVG.
type chart struct {
	Width, Height         float64
	Left, Right, Top, Bot float64
	XLabel, YLabel        string
	XTicks, YTicks        []tick
	Points                []point
}

type tick struct {
	Pos   float64
	Label string
}

type point struct {
	Technique  string
	X, Y       float64
	Cost, Qual string
	LabelX     float64
	LabelY     float64
	Anchor     string
}

func newChart(r *Report) chart {
	c := chart{Width: 640, Height: 360, Left: 70, Right: 610, Top: 20, Bot: 310}
	useTokens := false
	for _, t := range r.Results {
		useTokens = useTokens || t.Cost.Tokens() > 0
	}
	costOf := func(t TechniqueResult) float64 { return t.Cost.ContextChars }
	c.XLabel = "context characters per question (log scale when wide)"
	if useTokens {
		costOf = func(t TechniqueResult) float64 { return t.Cost.Tokens() }
		c.XLabel = "LLM tokens per question (log scale when wide)"
	}
	c.YLabel = metricLabel(r.Quality)
	if len(r.Results) == 0 {
		return c
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, t := range r.Results {
		lo, hi = math.Min(lo, costOf(t)), math.Max(hi, costOf(t))
	}
	logScale := lo > 0 && hi/lo > 20
	scale := func(v float64) float64 { return v }
	if logScale {
		scale = math.Log10
	}
	slo, shi := scale(lo), scale(hi)
	if shi-slo < 1e-9 {
		slo, shi = slo-1, shi+1
		if !logScale && slo < 0 {
			slo, shi = 0, 2*shi
		}
	}
	pad := (shi - slo) * 0.08
	slo, shi = slo-pad, shi+pad
	x := func(v float64) float64 { return c.Left + (scale(v)-slo)/(shi-slo)*(c.Right-c.Left) }
	ymax := 0.0
	for _, t := range r.Results {
		ymax = math.Max(ymax, t.Values[r.Quality])
	}
	if r.Quality == FirstHitRank {
		ymax = math.Max(1, math.Ceil(ymax))
	} else {
		// a tenth above the best, so that close values stay apart
		ymax = math.Min(1, math.Max(0.1, math.Ceil(ymax*10+0.5)/10))
	}
	y := func(v float64) float64 { return c.Bot - v/ymax*(c.Bot-c.Top) }
	for i := 0; i <= 4; i++ {
		v := ymax * float64(i) / 4
		c.YTicks = append(c.YTicks, tick{Pos: y(v), Label: formatMetric(r.Quality, v)})
	}
	for _, v := range xTicks(slo, shi, logScale) {
		c.XTicks = append(c.XTicks, tick{Pos: x(v), Label: formatNumber(v)})
	}
	for _, t := range r.Results {
		p := point{Technique: t.Technique, X: x(costOf(t)), Y: y(t.Values[r.Quality]), Cost: formatNumber(costOf(t)), Qual: formatMetric(r.Quality, t.Values[r.Quality])}
		p.LabelX, p.LabelY, p.Anchor = p.X+9, p.Y+4, "start"
		if p.X > c.Right-90 {
			p.LabelX, p.Anchor = p.X-9, "end"
		}
		// move a label below any earlier one it would overlap
		for moved := true; moved; {
			moved = false
			for _, q := range c.Points {
				if math.Abs(q.LabelY-p.LabelY) < 13 && math.Abs(q.LabelX-p.LabelX) < 90 {
					p.LabelY = q.LabelY + 13
					moved = true
				}
			}
		}
		c.Points = append(c.Points, p)
	}
	return c
}

func formatMetric(name string, v float64) string {
	if name == FirstHitRank {
		return fmt.Sprintf("%.2f", v)
	}
	return fmt.Sprintf("%.3f", v)
}

func formatNumber(v float64) string {
	switch {
	case v == 0:
		return "0"
	case math.Abs(v) >= 10000:
		return fmt.Sprintf("%.0fk", v/1000)
	case math.Abs(v) >= 100:
		return fmt.Sprintf("%.0f", v)
	case math.Abs(v) >= 10:
		return fmt.Sprintf("%.1f", v)
	default:
		return fmt.Sprintf("%.2f", v)
	}
}

func metricLabel(m string) string {
	switch m {
	case NDCG10:
		return "nDCG@10"
	case Recall10:
		return "Recall@10"
	case Recall100:
		return "Recall@100"
	case MRR10:
		return "MRR@10"
	case MAP100:
		return "MAP@100"
	case HitRate:
		return "context hit rate"
	case FirstHitRank:
		return "first hit rank"
	case Containment:
		return "answer containment"
	case F1:
		return "token F1"
	case Faithfulness:
		return "faithfulness"
	case AnswerRelevancy:
		return "answer relevancy"
	}
	return m
}

// formatValues shows the metrics a run has, in report order, with labels;
// "–" when it has none of them.
func formatValues(metrics []string, values map[string]float64) string {
	var parts []string
	for _, m := range metrics {
		if v, ok := values[m]; ok {
			parts = append(parts, metricLabel(m)+" "+formatMetric(m, v))
		}
	}
	if len(parts) == 0 {
		return "–"
	}
	return strings.Join(parts, " · ")
}

// xTicks are round values across a scaled range [lo, hi]: 1, 2 and 5
// times powers of ten on a log scale, five even steps otherwise.
func xTicks(lo, hi float64, logScale bool) []float64 {
	var out []float64
	if !logScale {
		for i := 0; i <= 4; i++ {
			out = append(out, lo+(hi-lo)*float64(i)/4)
		}
		return out
	}
	for e := math.Floor(lo); e <= math.Ceil(hi); e++ {
		for _, m := range []float64{1, 2, 5} {
			v := m * math.Pow(10, e)
			if s := math.Log10(v); s >= lo && s <= hi {
				out = append(out, v)
			}
		}
	}
	return out
}
