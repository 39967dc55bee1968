// Package technique owns running a technique: the retriever and the
// compressors a configuration names, applied in order, with what each
// stage cost.
package technique

import (
	"context"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/distill-rag/distill/compress"
	"github.com/distill-rag/distill/config"
	"github.com/distill-rag/distill/cost"
	"github.com/distill-rag/distill/document"
	"github.com/distill-rag/distill/retrieve"
)

// Technique is a built pipeline.
type Technique struct {
	Name        string
	Description string
	Retriever   retrieve.Retriever
	Compressors []Compressor
	Spec        config.Technique
}

// Compressor is a built compressor and the type it was configured as.
type Compressor struct {
	Type string
	compress.Compressor
}

// Build makes the technique a configuration describes.
func Build(spec config.Technique, renv retrieve.Env, cenv compress.Env) (*Technique, error) {
	r, err := retrieve.Build(renv, spec.Retriever)
	if err != nil {
		return nil, err
	}
	t := &Technique{Name: spec.Name, Description: spec.Description, Retriever: r, Spec: spec}
	for _, cs := range spec.Compressors {
		c, err := compress.Build(cenv, cs)
		if err != nil {
			return nil, err
		}
		t.Compressors = append(t.Compressors, Compressor{Type: cs.Type, Compressor: c})
	}
	return t, nil
}

// Run is the outcome of running a technique's stages.
type Run struct {
	Retrieved int // passages the retriever returned
	Contexts  []document.Passage
	Stages    []cost.Stage
}

// Run retrieves and compresses the context for question.
func (t *Technique) Run(ctx context.Context, question string) (*Run, error) {
	start := time.Now()
	passages, err := t.Retriever.Retrieve(ctx, question)
	if err != nil {
		return nil, fmt.Errorf("technique %s: retrieve: %w", t.Name, err)
	}
	run := &Run{Retrieved: len(passages)}
	run.Stages = append(run.Stages, cost.Stage{
		Name: "retrieve", Out: len(passages), CharsOut: Chars(passages), LatencyMS: cost.Since(start),
	})
	for _, c := range t.Compressors {
		start := time.Now()
		in := passages
		out, rep, err := c.Compress(ctx, question, in)
		if err != nil {
			return nil, fmt.Errorf("technique %s: compress (%s): %w", t.Name, c.Type, err)
		}
		passages = out
		run.Stages = append(run.Stages, cost.Stage{
			Name: "compress:" + c.Type, Usage: rep.Usage, In: len(in), Out: len(out),
			CharsIn: Chars(in), CharsOut: Chars(out), LatencyMS: cost.Since(start), Notes: rep.Notes,
			Uncompressed: rep.Uncompressed, InventedChars: rep.InventedChars,
		})
	}
	run.Contexts = passages
	return run, nil
}

// Chars is the total length of the passages' text in characters.
func Chars(ps []document.Passage) int {
	n := 0
	for _, p := range ps {
		n += utf8.RuneCountInString(p.Text)
	}
	return n
}
