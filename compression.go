package distill

import (
	"github.com/distill-rag/distill/model"
	"github.com/distill-rag/distill/model/llmcache"
)

// openCache puts the LLM cache in front of the language model for the
// compression and filter stages. A cache that cannot be opened is a
// warning, not a failure: it only costs calls.
//
// Both the answering model and the cached one are traced: every call is a
// span with its tokens, and a cache hit shows as distill.cache.hit.
func (e *Engine) openCache(opts Options) {
	raw := e.llm
	e.llm = model.TraceLLM(raw)
	e.compressLLM = e.llm
	if raw == nil || opts.NoCache {
		return
	}
	dir := opts.CacheDir
	if dir == "" {
		dir = llmcache.DefaultDir()
	}
	c, err := llmcache.Open(dir)
	if err != nil {
		e.warnings = append(e.warnings, err.Error()+"; compression calls are not cached")
		return
	}
	e.compressLLM = model.TraceLLM(c.Wrap(raw))
}

// available lists the techniques that can run with the configured models,
// in configuration order.
func (e *Engine) available() []string {
	var out []string
	for _, name := range e.order {
		if e.techniques[name].Unavailable() == nil {
			out = append(out, name)
		}
	}
	return out
}
