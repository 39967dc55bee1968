package fakellm

import (
	"context"
	"sync"

	"github.com/distill-rag/distill/model"
)

// Engines open models by URI; Register makes a fake (or any model a test
// builds) available to them as "fakellm:NAME".
func init() {
	model.RegisterLLM("fakellm", func(_ context.Context, u model.URI) (model.LLM, error) {
		registryMu.Lock()
		defer registryMu.Unlock()
		m, ok := registry[u.Target]
		if !ok {
			return nil, &model.URIError{URI: u.Raw, Reason: "no fake model registered under this name"}
		}
		return m, nil
	})
}

var (
	registryMu sync.Mutex
	registry   = map[string]model.LLM{}
)

// Register makes m available as "fakellm:name" and returns that URI.
func Register(name string, m model.LLM) string {
	registryMu.Lock()
	defer registryMu.Unlock()
	registry[name] = m
	return "fakellm:" + name
}
