package compress

import (
	"github.com/distill-rag/distill/config"
)

func init() {
	Register("extract", buildExtract)
	Register("filter", buildFilter)
}

// Modes of the extract and filter stages.
const (
	modeAuto  = "auto"  // the LLM when one is configured, else local
	modeLLM   = "llm"   // the LLM; unavailable without one
	modeLocal = "local" // the deterministic offline method
)

type extractParams struct {
	config.Typed    `yaml:",inline"`
	Mode            string           `yaml:"mode"`
	sentenceOptions `yaml:",inline"` // local
	llmParams       `yaml:",inline"`
}

// buildExtract makes the LLM extractor when a model is configured (or
// mode: llm asks for it) and the offline sentence extractor otherwise.
func buildExtract(env Env, stage config.Stage) (Compressor, error) {
	p := extractParams{Mode: modeAuto, sentenceOptions: defaultSentenceOptions(), llmParams: defaultLLMParams()}
	if err := stage.Decode(&p); err != nil {
		return nil, err
	}
	useLLM, err := pickMode(env, stage, p.Mode)
	if err != nil || !useLLM {
		if err != nil {
			return nil, err
		}
		return p.sentenceOptions.build(stage)
	}
	if env.LLM == nil {
		return &Unavailable{Err: missingModel(stage, "llm")}, nil
	}
	c, err := newLLMCaller(env.LLM, stage, p.llmParams, DefaultExtractPrompt, chunkTokens)
	if err != nil {
		return nil, err
	}
	return &LLMExtractor{caller: c}, nil
}

type filterParams struct {
	config.Typed     `yaml:",inline"`
	Mode             string           `yaml:"mode"`
	relevanceOptions `yaml:",inline"` // local
	llmParams        `yaml:",inline"`
	// Undecided is what to do with a passage whose answer is neither YES
	// nor NO: keep or drop.
	Undecided string `yaml:"undecided"`
}

// filterTokens caps a filter's answer: the decisive word comes first, and
// a few more tokens let "Yes, although ..." through.
func filterTokens(string) int { return 16 }

// buildFilter makes the LLM filter when a model is configured (or mode:
// llm asks for it) and the offline relevance filter otherwise.
func buildFilter(env Env, stage config.Stage) (Compressor, error) {
	p := filterParams{Mode: modeAuto, relevanceOptions: defaultRelevanceOptions(), llmParams: defaultLLMParams(), Undecided: "keep"}
	if err := stage.Decode(&p); err != nil {
		return nil, err
	}
	if p.Undecided != "keep" && p.Undecided != "drop" {
		return nil, stage.ParamError("undecided", "must be keep or drop, got %q", p.Undecided)
	}
	useLLM, err := pickMode(env, stage, p.Mode)
	if err != nil || !useLLM {
		if err != nil {
			return nil, err
		}
		return p.relevanceOptions.build(stage)
	}
	if env.LLM == nil {
		return &Unavailable{Err: missingModel(stage, "llm")}, nil
	}
	c, err := newLLMCaller(env.LLM, stage, p.llmParams, DefaultFilterPrompt, filterTokens)
	if err != nil {
		return nil, err
	}
	return &LLMFilter{caller: c, KeepUndecided: p.Undecided == "keep"}, nil
}

func pickMode(env Env, stage config.Stage, mode string) (useLLM bool, err error) {
	switch mode {
	case modeAuto:
		return env.LLM != nil, nil
	case modeLLM:
		return true, nil
	case modeLocal:
		return false, nil
	}
	return false, stage.ParamError("mode", "must be auto, llm or local, got %q", mode)
}
