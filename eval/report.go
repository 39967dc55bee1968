package eval

import (
	"fmt"
	"math"
	"time"
	"unicode/utf8"

	"github.com/distill-rag/distill"
	"github.com/distill-rag/distill/cost"
)

// Report is the outcome of an evaluation: a summary per technique and the
// per-question detail the HTML report drills into.
type Report struct {
	Kind    string    `json:"kind"` // "beir" or "qa"
	Dataset string    `json:"dataset"`
	Queries int       `json:"queries"`
	Created time.Time `json:"created"`
	// Metrics are the quality measures reported, in display order; Quality
	// is the one the quality-versus-cost chart plots.
	Metrics   []string          `json:"metrics"`
	Quality   string            `json:"quality"`
	Results   []TechniqueResult `json:"results"`
	Questions []Question        `json:"questions"`
	Skipped   string            `json:"skipped,omitempty"` // Skipped.Summary of the input
	Judge     string            `json:"judge,omitempty"`
	JudgeCost Usage             `json:"judge_cost"`
	Notes     []string          `json:"notes,omitempty"`
}

// TechniqueResult summarizes one technique over all questions.
type TechniqueResult struct {
	Technique   string             `json:"technique"`
	Description string             `json:"description,omitempty"`
	Values      map[string]float64 `json:"values"` // mean of each metric over the questions it applies to
	P50MS       float64            `json:"p50_ms"`
	P95MS       float64            `json:"p95_ms"`
	Cost        Cost               `json:"cost"`
}

// Cost is what a technique spent per question, on average, as the
// technique's stats report it (retrieval, compression and answer stages).
type Cost struct {
	LLMCalls         float64 `json:"llm_calls"`
	PromptTokens     float64 `json:"prompt_tokens"`
	CompletionTokens float64 `json:"completion_tokens"`
	TokensEstimated  bool    `json:"tokens_estimated,omitempty"`
	Retrieved        float64 `json:"retrieved"`
	Contexts         float64 `json:"contexts"`
	ContextChars     float64 `json:"context_chars"`
	// StageMS is the mean latency of each stage ("retrieve",
	// "compress:extract", "answer").
	StageMS map[string]float64 `json:"stage_ms"`
}

// Tokens is prompt plus completion tokens per question.
func (c Cost) Tokens() float64 { return c.PromptTokens + c.CompletionTokens }

// Usage is a judge's total spend.
type Usage struct {
	Calls            int `json:"llm_calls"`
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
}

// Question is one question's outcome with every technique.
type Question struct {
	ID        string   `json:"id"`
	Question  string   `json:"question"`
	Answers   []string `json:"answers,omitempty"`
	Reference string   `json:"reference,omitempty"`
	Relevant  int      `json:"relevant,omitempty"` // judged relevant documents (BEIR)
	Runs      []Run    `json:"runs"`
}

// Run is one technique's outcome for one question.
type Run struct {
	Technique string             `json:"technique"`
	Answer    string             `json:"answer,omitempty"`
	Values    map[string]float64 `json:"values"`
	LatencyMS float64            `json:"latency_ms"`
	Contexts  []ContextView      `json:"contexts"`
	// More is how many further contexts the technique used that the
	// report leaves out.
	More int `json:"more,omitempty"`
}

// ContextView is a context as the report shows it.
type ContextView struct {
	Rank   int     `json:"rank"`
	Source string  `json:"source"`
	Page   int     `json:"page,omitempty"`
	Doc    string  `json:"doc,omitempty"`   // corpus document id (BEIR)
	Grade  int     `json:"grade,omitempty"` // its judged relevance (BEIR)
	Hit    bool    `json:"hit,omitempty"`   // holds an expected answer (QA)
	Score  float64 `json:"score"`
	Text   string  `json:"text"`
	Cut    bool    `json:"cut,omitempty"` // the text is shortened
}

// Report limits for the per-question detail, which would otherwise grow
// with the corpus (bm25-doc returns 100 whole documents per query).
const (
	DefaultReportContexts = 5
	reportTextChars       = 500
)

func contextView(c distill.Context, max int) ContextView {
	v := ContextView{Rank: c.Rank, Source: c.Source, Page: c.Page, Score: round(c.Score, 4), Text: c.Text}
	if utf8.RuneCountInString(v.Text) > max {
		v.Text = string([]rune(v.Text)[:max]) + "…"
		v.Cut = true
	}
	return v
}

// summarizer gathers one technique's per-question figures.
type summarizer struct {
	values    map[string][]float64
	latencies []float64
	cost      Cost
	stages    map[string]float64
	n         int
}

func newSummarizer() *summarizer {
	return &summarizer{values: map[string][]float64{}, stages: map[string]float64{}}
}

func (s *summarizer) add(res *distill.Result, values map[string]float64) {
	s.n++
	for k, v := range values {
		s.values[k] = append(s.values[k], v)
	}
	s.latencies = append(s.latencies, res.Stats.LatencyMS)
	st := res.Stats
	s.cost.LLMCalls += float64(st.LLMCalls)
	s.cost.PromptTokens += float64(st.PromptTokens)
	s.cost.CompletionTokens += float64(st.CompletionTokens)
	s.cost.TokensEstimated = s.cost.TokensEstimated || st.TokensEstimated
	s.cost.Retrieved += float64(st.Retrieved)
	s.cost.Contexts += float64(len(res.Contexts))
	s.cost.ContextChars += float64(st.ContextChars)
	for _, stage := range st.Stages {
		s.stages[stage.Name] += stage.LatencyMS
	}
}

func (s *summarizer) result(name, description string) TechniqueResult {
	r := TechniqueResult{Technique: name, Description: description, Values: map[string]float64{}}
	for k, vs := range s.values {
		r.Values[k] = round(mean(vs), 4)
	}
	r.P50MS = round(Percentile(s.latencies, 50), 2)
	r.P95MS = round(Percentile(s.latencies, 95), 2)
	if s.n > 0 {
		n := float64(s.n)
		c := s.cost
		r.Cost = Cost{
			LLMCalls: round(c.LLMCalls/n, 2), PromptTokens: round(c.PromptTokens/n, 1), CompletionTokens: round(c.CompletionTokens/n, 1),
			TokensEstimated: c.TokensEstimated, Retrieved: round(c.Retrieved/n, 2), Contexts: round(c.Contexts/n, 2),
			ContextChars: round(c.ContextChars/n, 1), StageMS: map[string]float64{},
		}
		for k, v := range s.stages {
			r.Cost.StageMS[k] = round(v/n, 3)
		}
	}
	return r
}

func round(v float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(v*p) / p
}

// selectTechniques finds the named techniques. With no names it takes
// every technique that can run with the configured models and notes the
// ones left out (e.g. rerank without a reranker); a named technique that
// cannot run fails when it is run, with its reason.
func selectTechniques(all []distill.TechniqueInfo, names []string) ([]distill.TechniqueInfo, []string, error) {
	if len(names) == 0 {
		var out []distill.TechniqueInfo
		var notes []string
		for _, t := range all {
			if t.Unavailable != "" {
				notes = append(notes, fmt.Sprintf("technique %s left out: %s", t.Name, t.Unavailable))
				continue
			}
			out = append(out, t)
		}
		return out, notes, nil
	}
	byName := map[string]distill.TechniqueInfo{}
	var known []string
	for _, t := range all {
		byName[t.Name] = t
		known = append(known, t.Name)
	}
	var out []distill.TechniqueInfo
	for _, n := range names {
		t, ok := byName[n]
		if !ok {
			return nil, nil, &distill.UnknownTechniqueError{Name: n, Known: known}
		}
		out = append(out, t)
	}
	return out, nil, nil
}

func (u Usage) add(v cost.Usage) Usage {
	return Usage{Calls: u.Calls + v.Calls, PromptTokens: u.PromptTokens + v.PromptTokens, CompletionTokens: u.CompletionTokens + v.CompletionTokens}
}
