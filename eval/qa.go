package eval

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/distill-rag/distill"
)

// QAItem is one line of a question set.
type QAItem struct {
	Line      int      `json:"-"`
	ID        string   `json:"id"`
	Question  string   `json:"question"`
	Answers   []string `json:"answers"`   // exact strings a good context or answer contains
	Reference string   `json:"reference"` // a reference answer in free text
}

// QASet is a question set as read.
type QASet struct {
	Name    string
	Items   []QAItem
	Skipped Skipped
}

// LoadQA reads a question set: one JSON object per line with "question"
// and "answers" (a list of exact strings) and/or "reference" (free text).
// Bad lines fail with file and line when strict, else are skipped and
// counted.
func LoadQA(ctx context.Context, path string, strict bool) (*QASet, error) {
	f, err := openData(path, path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ReadQA(ctx, f, path, strict)
}

// ReadQA reads a question set from r, named file in errors: JSON lines as
// LoadQA reads them, or a JSON array of the same objects (as an HTTP body
// may hold it). Errors in an array name the line the item starts on and
// its index.
func ReadQA(ctx context.Context, r io.Reader, file string, strict bool) (*QASet, error) {
	set := &QASet{Name: filepath.Base(file)}
	br := bufio.NewReaderSize(r, 1<<20)
	if first, err := firstByte(br); err == nil && first == '[' {
		if err := readQAArray(ctx, br, file, strict, set); err != nil {
			return nil, err
		}
	} else if err := readQALines(ctx, br, file, strict, set); err != nil {
		return nil, err
	}
	if len(set.Items) == 0 {
		return nil, &DataError{File: file, Msg: "holds no questions"}
	}
	return set, nil
}

// firstByte peeks at the first byte that is not white space, consuming
// nothing, so that line numbers stay the body's.
func firstByte(br *bufio.Reader) (byte, error) {
	for n := 1; ; n++ {
		b, err := br.Peek(n)
		if len(b) < n {
			return 0, err
		}
		if c := b[n-1]; c != ' ' && c != '\t' && c != '\r' && c != '\n' {
			return c, nil
		}
	}
}

func readQALines(ctx context.Context, br *bufio.Reader, file string, strict bool, set *QASet) error {
	lr := &lineReader{file: file, r: br, strict: strict, skipped: &set.Skipped}
	for {
		line, err := lr.next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if strings.TrimSpace(line) == "" {
			continue
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		var it QAItem
		dec := json.NewDecoder(bytes.NewReader([]byte(line)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&it); err != nil {
			if err := lr.bad("not a question object: %v", jsonReason(err)); err != nil {
				return err
			}
			continue
		}
		if err := set.add(it, lr.line, lr.bad, ""); err != nil {
			return err
		}
	}
}

// readQAArray reads a JSON array of question objects. A malformed array
// fails even when not strict: past a syntax error nothing can be trusted.
func readQAArray(ctx context.Context, br *bufio.Reader, file string, strict bool, set *QASet) error {
	var seen bytes.Buffer // what the decoder consumed, to count lines
	dec := json.NewDecoder(io.TeeReader(br, &seen))
	lineAt := func(off int64) int {
		b := seen.Bytes()
		return 1 + bytes.Count(b[:min(int(off), len(b))], []byte("\n"))
	}
	fail := func(err error) error {
		return &DataError{File: file, Line: lineAt(dec.InputOffset()), Msg: "not a JSON array of question objects: " + jsonReason(err)}
	}
	if _, err := dec.Token(); err != nil { // [
		return fail(err)
	}
	for i := 0; dec.More(); i++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return fail(err)
		}
		start := dec.InputOffset() - int64(len(raw))
		line := lineAt(start)
		bad := func(format string, args ...any) error {
			e := DataError{File: file, Line: line, Msg: fmt.Sprintf("item %d: ", i) + fmt.Sprintf(format, args...)}
			if strict {
				return &e
			}
			set.Skipped.Lines = append(set.Skipped.Lines, e)
			return nil
		}
		var it QAItem
		item := json.NewDecoder(bytes.NewReader(raw))
		item.DisallowUnknownFields()
		if err := item.Decode(&it); err != nil {
			if err := bad("not a question object: %v", jsonReason(err)); err != nil {
				return err
			}
			continue
		}
		if err := set.add(it, line, bad, strconv.Itoa(i)); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil { // ]
		return fail(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return &DataError{File: file, Line: lineAt(dec.InputOffset()), Msg: "more after the JSON array"}
	}
	return nil
}

// add checks an item and keeps it, or reports it through bad; id is the
// item's id when it has none (its line when empty).
func (set *QASet) add(it QAItem, line int, bad func(string, ...any) error, id string) error {
	it.Line = line
	it.Question = strings.TrimSpace(it.Question)
	var answers []string
	for _, a := range it.Answers {
		if strings.TrimSpace(a) != "" {
			answers = append(answers, a)
		}
	}
	it.Answers = answers
	switch {
	case it.Question == "":
		return bad(`no "question"`)
	case len(it.Answers) == 0 && strings.TrimSpace(it.Reference) == "":
		return bad(`needs "answers" (exact strings) or a "reference" answer`)
	}
	if it.ID == "" {
		it.ID = id
		if id == "" {
			it.ID = strconv.Itoa(line)
		}
	}
	set.Items = append(set.Items, it)
	return nil
}

// QA metric names, in report order.
const (
	HitRate         = "hit_rate"
	FirstHitRank    = "first_hit_rank"
	Containment     = "containment"
	F1              = "f1"
	Faithfulness    = "faithfulness"
	AnswerRelevancy = "answer_relevancy"
)

// Asker is what a question-set evaluation needs from the engine.
type Asker interface {
	Ask(ctx context.Context, question, technique string, opts ...distill.QueryOption) (*distill.Result, error)
	Techniques() []distill.TechniqueInfo
}

// QAOptions shape a question-set run.
type QAOptions struct {
	RunOptions
	// Judge, when set, rates each answer's faithfulness and relevancy.
	Judge *Judge
}

// RunQA asks every question with each technique and measures contexts and
// answers: whether an expected string is in the context (and at which
// rank), the context size, whether the answer contains an expected string,
// its token F1 against the reference, and with a judge its faithfulness
// and relevancy.
func RunQA(ctx context.Context, eng Asker, set *QASet, opts QAOptions) (*Report, error) {
	techs, left, err := selectTechniques(eng.Techniques(), opts.Techniques)
	if err != nil {
		return nil, err
	}
	keep := opts.Contexts
	if keep <= 0 {
		keep = DefaultReportContexts
	}
	rep := &Report{Kind: "qa", Dataset: set.Name, Queries: len(set.Items), Created: time.Now().UTC(), Skipped: set.Skipped.Summary(), Notes: left}
	var hasAnswers, hasReference bool
	for _, it := range set.Items {
		hasAnswers = hasAnswers || len(it.Answers) > 0
		hasReference = hasReference || it.Reference != ""
	}
	if hasAnswers {
		rep.Metrics = append(rep.Metrics, HitRate, FirstHitRank, Containment)
	}
	rep.Metrics = append(rep.Metrics, F1)
	if opts.Judge != nil {
		rep.Metrics = append(rep.Metrics, Faithfulness, AnswerRelevancy)
		rep.Judge = opts.Judge.LLM.Name()
		rep.Notes = append(rep.Notes, opts.Judge.note())
	}
	rep.Quality = F1
	if hasAnswers {
		rep.Quality = HitRate
	}
	if !hasReference {
		rep.Notes = append(rep.Notes, "no question has a reference answer: F1 is taken against the best of the expected strings")
	}
	sums := make([]*summarizer, len(techs))
	for i := range sums {
		sums[i] = newSummarizer()
	}
	for qi, it := range set.Items {
		q := Question{ID: it.ID, Question: it.Question, Answers: it.Answers, Reference: it.Reference}
		for ti, t := range techs {
			res, err := eng.Ask(ctx, it.Question, t.Name, distill.Where(opts.Where))
			if err != nil {
				return nil, fmt.Errorf("technique %s, %s:%d: %w", t.Name, set.Name, it.Line, err)
			}
			values := map[string]float64{}
			run := Run{Technique: t.Name, Answer: res.Answer, LatencyMS: round(res.Stats.LatencyMS, 2)}
			firstHit := 0
			for _, c := range res.Contexts {
				hit := len(it.Answers) > 0 && containsAny(c.Text, it.Answers)
				if hit && firstHit == 0 {
					firstHit = c.Rank
				}
				if len(run.Contexts) < keep {
					v := contextView(c, reportTextChars)
					v.Hit = hit
					run.Contexts = append(run.Contexts, v)
				} else {
					run.More++
				}
			}
			if len(it.Answers) > 0 {
				values[HitRate] = b2f(firstHit > 0)
				if firstHit > 0 {
					values[FirstHitRank] = float64(firstHit)
				}
				values[Containment] = b2f(res.Answer != "" && containsAny(res.Answer, it.Answers))
			}
			refs := it.Answers
			if it.Reference != "" {
				refs = []string{it.Reference}
			}
			values[F1] = bestF1(res.Answer, refs)
			if opts.Judge != nil && strings.TrimSpace(res.Answer) != "" {
				var contexts []string
				for _, c := range res.Contexts {
					contexts = append(contexts, c.Text)
				}
				v, usage, err := opts.Judge.Faithfulness(ctx, it.Question, res.Answer, contexts)
				rep.JudgeCost = rep.JudgeCost.add(usage)
				if err != nil {
					return nil, fmt.Errorf("judge, technique %s, %s:%d: %w", t.Name, set.Name, it.Line, err)
				}
				if v >= 0 {
					values[Faithfulness] = v
				}
				v, usage, err = opts.Judge.Relevancy(ctx, it.Question, res.Answer)
				rep.JudgeCost = rep.JudgeCost.add(usage)
				if err != nil {
					return nil, fmt.Errorf("judge, technique %s, %s:%d: %w", t.Name, set.Name, it.Line, err)
				}
				values[AnswerRelevancy] = v
			}
			sums[ti].add(res, values)
			run.Values = roundAll(values)
			q.Runs = append(q.Runs, run)
		}
		rep.Questions = append(rep.Questions, q)
		if opts.Progress != nil {
			opts.Progress(qi+1, len(set.Items))
		}
	}
	for i, t := range techs {
		rep.Results = append(rep.Results, sums[i].result(t.Name, t.Description))
	}
	return rep, nil
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// normalizeMatch prepares text for answer matching: lower case, with runs
// of white space as one space, so line breaks in a PDF do not hide a match.
func normalizeMatch(s string) string {
	return strings.Join(strings.Fields(strings.ToLower(s)), " ")
}

func containsAny(text string, answers []string) bool {
	t := normalizeMatch(text)
	for _, a := range answers {
		if a := normalizeMatch(a); a != "" && strings.Contains(t, a) {
			return true
		}
	}
	return false
}

// answerTokens are SQuAD's normalized tokens: lower case, without
// punctuation and the articles a, an, the.
func answerTokens(s string) []string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsPunct(r) || unicode.IsSymbol(r) {
			return ' '
		}
		return unicode.ToLower(r)
	}, s)
	var out []string
	for _, w := range strings.Fields(s) {
		if w != "a" && w != "an" && w != "the" {
			out = append(out, w)
		}
	}
	return out
}

// TokenF1 is SQuAD's token F1 between an answer and a reference.
func TokenF1(answer, reference string) float64 {
	a, r := answerTokens(answer), answerTokens(reference)
	if len(a) == 0 || len(r) == 0 {
		return b2f(len(a) == len(r))
	}
	count := map[string]int{}
	for _, w := range r {
		count[w]++
	}
	common := 0
	for _, w := range a {
		if count[w] > 0 {
			count[w]--
			common++
		}
	}
	if common == 0 {
		return 0
	}
	p := float64(common) / float64(len(a))
	rc := float64(common) / float64(len(r))
	return 2 * p * rc / (p + rc)
}

func bestF1(answer string, refs []string) float64 {
	best := 0.0
	for _, r := range refs {
		best = max(best, TokenF1(answer, r))
	}
	return best
}

// QAJSON is the --json shape of a question-set report: per technique the
// mean of each metric (absent when it does not apply), latency and cost.
type QAJSON struct {
	Dataset   string         `json:"dataset"`
	Questions int            `json:"questions"`
	Skipped   string         `json:"skipped,omitempty"`
	Judge     string         `json:"judge,omitempty"`
	JudgeCost *Usage         `json:"judge_cost,omitempty"`
	Results   []QAJSONResult `json:"results"`
}

// QAJSONResult is one technique's line of QAJSON.
type QAJSONResult struct {
	Technique        string   `json:"technique"`
	HitRate          *float64 `json:"hit_rate,omitempty"`
	FirstHitRank     *float64 `json:"first_hit_rank,omitempty"`
	ContextChars     float64  `json:"context_chars"`
	Containment      *float64 `json:"containment,omitempty"`
	F1               *float64 `json:"f1,omitempty"`
	Faithfulness     *float64 `json:"faithfulness,omitempty"`
	AnswerRelevancy  *float64 `json:"answer_relevancy,omitempty"`
	P50MS            float64  `json:"p50_ms"`
	P95MS            float64  `json:"p95_ms"`
	LLMCalls         float64  `json:"llm_calls"`
	PromptTokens     float64  `json:"prompt_tokens"`
	CompletionTokens float64  `json:"completion_tokens"`
}

// QAJSON returns the report in its --json shape.
func (r *Report) QAJSON() QAJSON {
	out := QAJSON{Dataset: r.Dataset, Questions: r.Queries, Skipped: r.Skipped, Judge: r.Judge, Results: []QAJSONResult{}}
	if r.Judge != "" {
		c := r.JudgeCost
		out.JudgeCost = &c
	}
	for _, t := range r.Results {
		get := func(k string) *float64 {
			if v, ok := t.Values[k]; ok {
				return &v
			}
			return nil
		}
		out.Results = append(out.Results, QAJSONResult{
			Technique: t.Technique, HitRate: get(HitRate), FirstHitRank: get(FirstHitRank), ContextChars: t.Cost.ContextChars,
			Containment: get(Containment), F1: get(F1), Faithfulness: get(Faithfulness), AnswerRelevancy: get(AnswerRelevancy),
			P50MS: t.P50MS, P95MS: t.P95MS, LLMCalls: t.Cost.LLMCalls, PromptTokens: t.Cost.PromptTokens, CompletionTokens: t.Cost.CompletionTokens,
		})
	}
	return out
}
