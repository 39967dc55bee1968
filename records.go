package distill

import (
	"context"
	"strings"
	"time"

	"github.com/distill-rag/distill/cost"
	"github.com/distill-rag/distill/ingest"
	"github.com/distill-rag/distill/technique"
)

// IngestRecords adds documents that are already text (such as a benchmark
// corpus) to the collection; see ingest.Ingester.Records.
func (e *Engine) IngestRecords(ctx context.Context, recs []ingest.Record, opts ingest.Options) (*ingest.Report, error) {
	in := ingest.Ingester{Store: e.store, Splits: e.splits}
	return in.Records(ctx, recs, opts)
}

// Retrieve runs a technique's retrieval and compression for question
// without composing an answer: the contexts and what they cost, with Mode
// "none" and an empty Answer. Retrieval evaluation uses it so that it does
// not pay for answers it does not read.
func (e *Engine) Retrieve(ctx context.Context, question, techniqueName string, opts ...QueryOption) (_ *Result, err error) {
	ctx, span := startSpan(ctx, "distill.retrieve", attrTechnique.String(techniqueName), attrQuestion.Int(len(question)))
	defer func() { endSpan(span, err) }()
	ctx, err = e.queryContext(ctx, opts)
	if err != nil {
		return nil, err
	}
	question = strings.TrimSpace(question)
	if question == "" {
		return nil, ErrEmptyQuestion
	}
	t, err := e.technique(techniqueName)
	if err != nil {
		return nil, err
	}
	if err := unavailable(t); err != nil {
		return nil, err
	}
	start := time.Now()
	run, err := t.Run(ctx, question)
	if err != nil {
		return nil, err
	}
	res := &Result{Question: question, Technique: t.Name, Mode: "none", Contexts: []Context{}}
	for i, p := range run.Contexts {
		res.Contexts = append(res.Contexts, Context{Rank: i + 1, Passage: p})
	}
	var usage cost.Usage
	for _, s := range run.Stages {
		usage = usage.Add(s.Usage)
	}
	res.Stats = Stats{
		Retrieved: run.Retrieved, ContextChars: technique.Chars(run.Contexts),
		LLMCalls: usage.Calls, PromptTokens: usage.PromptTokens, CompletionTokens: usage.CompletionTokens,
		TokensEstimated: usage.Estimated, LatencyMS: cost.Since(start), Stages: run.Stages,
	}
	return res, nil
}
