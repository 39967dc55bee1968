package distill

import (
	"fmt"

	"github.com/distill-rag/distill/answer"
	"github.com/distill-rag/distill/config"
	"github.com/distill-rag/distill/model"
	"github.com/distill-rag/distill/model/embedcache"
)

// withConfig fills what flags and environment left empty from the
// configuration file's models section.
func (m Models) withConfig(c config.Models) Models {
	pick := func(v, fromFile string) string {
		if v != "" {
			return v
		}
		return fromFile
	}
	return Models{LLM: pick(m.LLM, c.LLM), Embed: pick(m.Embed, c.Embed), Rerank: pick(m.Rerank, c.Rerank)}
}

// embedCacheOption opens the persistent embedding cache for the embedder
// (see package embedcache); a cache that cannot be opened is a warning,
// since it only saves time.
func (e *Engine) embedCacheOption() []model.OpenOption {
	path := embedcache.DefaultPath()
	if path == "" {
		return nil
	}
	c, err := embedcache.Open(path)
	if err != nil {
		e.warnings = append(e.warnings, fmt.Sprintf("embedding cache off: %v", err))
		return nil
	}
	e.embedCache = c
	return []model.OpenOption{model.WithEmbedCache(c)}
}

// llmAnswerer answers with the language model, from the prompt file when
// the configuration names one.
func llmAnswerer(llm model.LLM, promptFile string) (answer.Answerer, error) {
	prompt := answer.Prompt{Text: answer.DefaultPrompt}
	if promptFile != "" {
		var err error
		if prompt, err = answer.LoadPrompt(promptFile); err != nil {
			return nil, err
		}
	}
	return answer.NewLLM(llm, prompt), nil
}
