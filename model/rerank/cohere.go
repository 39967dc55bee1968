package rerank

import (
	"context"

	"github.com/distill-rag/distill/model"
)

// CohereStyle is a reranker behind the Cohere-style API that Cohere, Jina
// and vLLM serve: POST {url}/v1/rerank {"model", "query", "documents",
// "top_n"} → {"results": [{"index", "relevance_score"}]}.
type CohereStyle struct {
	*client
	model string
}

// openCohereStyle opens a provider whose target is the model (hosted APIs
// with a default URL) or, for a self-hosted server (defaultURL ""), the
// server's URL with the model as an option.
func openCohereStyle(defaultURL, keyEnv string, needsModel bool) model.RerankerOpener {
	return func(_ context.Context, u model.URI) (model.Reranker, error) {
		base, name := defaultURL, u.Options.Get("model")
		switch {
		case defaultURL == "":
			if u.Target == "" {
				return nil, &model.URIError{URI: u.Raw, Reason: "want the server's URL, e.g. " + u.Scheme + ":http://127.0.0.1:8000?model=BAAI/bge-reranker-v2-m3"}
			}
			base = u.Target
		default:
			if u.Target != "" {
				name = u.Target
			}
			if v := u.Options.Get("url"); v != "" {
				base = v
			}
		}
		if needsModel && name == "" {
			return nil, &model.URIError{URI: u.Raw, Reason: "want the model, e.g. " + u.Scheme + ":rerank-v3.5"}
		}
		base, err := baseURL(base, u.Raw)
		if err != nil {
			return nil, err
		}
		// Cohere takes at most 1,000 documents per request; fewer is
		// kinder to self-hosted servers.
		c, err := commonOptions(u, keyEnv, 256)
		if err != nil {
			return nil, err
		}
		c.endpoint = base + "/v1/rerank"
		return &CohereStyle{client: c, model: name}, nil
	}
}

type cohereRequest struct {
	Model           string   `json:"model,omitempty"`
	Query           string   `json:"query"`
	Documents       []string `json:"documents"`
	TopN            int      `json:"top_n"`
	ReturnDocuments bool     `json:"return_documents"`
}

type cohereResponse struct {
	Results []struct {
		Index          int     `json:"index"`
		RelevanceScore float64 `json:"relevance_score"`
	} `json:"results"`
}

// Rerank scores docs for query, in the order of docs.
func (c *CohereStyle) Rerank(ctx context.Context, query string, docs []string) ([]float64, error) {
	return c.inBatches(ctx, docs, func(ctx context.Context, batch []string) ([]indexScore, error) {
		var res cohereResponse
		if err := c.post(ctx, cohereRequest{Model: c.model, Query: query, Documents: batch, TopN: len(batch)}, &res); err != nil {
			return nil, err
		}
		out := make([]indexScore, len(res.Results))
		for i, r := range res.Results {
			out[i] = indexScore{r.Index, r.RelevanceScore}
		}
		return out, nil
	})
}
