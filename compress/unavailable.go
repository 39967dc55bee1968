package compress

import (
	"context"
	"fmt"
	"strings"

	"github.com/distill-rag/distill/config"
	"github.com/distill-rag/distill/document"
)

// MissingModelError says that a stage needs a model that is not configured.
// Techniques with such a stage still load, so that the offline default
// keeps working; they fail with this error when asked, and are left out
// when every technique is compared.
type MissingModelError struct {
	Stage   string // configuration path: "techniques.rerank.compressors[0]"
	Type    string // the stage's type
	Model   string // "reranker", "language model", "embedding model"
	Flag    string // "--rerank"
	Env     string // "DISTILL_RERANK"
	Example string // a URI to show
}

func (e *MissingModelError) Error() string {
	subject := e.Stage
	if rest, ok := strings.CutPrefix(e.Stage, "techniques."); ok {
		name, _, _ := strings.Cut(rest, ".")
		subject = fmt.Sprintf("technique %q", name)
	}
	article := "a"
	if strings.ContainsRune("aeiou", rune(e.Model[0])) {
		article = "an"
	}
	return fmt.Sprintf("%s needs %s %s for its %s stage: give one with %s URI or $%s (e.g. %s %s)", subject, article, e.Model, e.Type, e.Flag, e.Env, e.Flag, e.Example)
}

// UserError marks the error as the user's to fix.
func (e *MissingModelError) UserError() {}

// missingModel says a stage needs a model: kind is "llm", "embed" or "rerank".
func missingModel(stage config.Stage, kind string) *MissingModelError {
	e := &MissingModelError{Stage: stage.Path, Type: stage.Type}
	switch kind {
	case "llm":
		e.Model, e.Flag, e.Env, e.Example = "language model", "--llm", "DISTILL_LLM", "ollama:mixtral"
	case "embed":
		e.Model, e.Flag, e.Env, e.Example = "embedding model", "--embed", "DISTILL_EMBED", "tei:http://127.0.0.1:8080"
	default:
		e.Model, e.Flag, e.Env, e.Example = "reranker", "--rerank", "DISTILL_RERANK", "tei:http://127.0.0.1:8081"
	}
	return e
}

// Unavailable stands for a compressor whose model is not configured.
type Unavailable struct{ Err error }

// Compress fails with the reason the compressor is unavailable.
func (u *Unavailable) Compress(context.Context, string, []document.Passage) ([]document.Passage, Report, error) {
	return nil, Report{}, u.Err
}

// Unavailable returns why the compressor cannot run.
func (u *Unavailable) Unavailable() error { return u.Err }
