package rerank

import (
	"context"
	"errors"
	"net/http"
	"regexp"
	"strconv"

	"github.com/distill-rag/distill/model"
)

// TEI is a reranker served by Hugging Face Text Embeddings Inference:
// POST {url}/rerank {"query", "texts"} → [{"index", "score"}].
type TEI struct {
	*client
	truncate bool
}

func openTEI(_ context.Context, u model.URI) (model.Reranker, error) {
	if u.Target == "" {
		return nil, &model.URIError{URI: u.Raw, Reason: "want the server's URL, e.g. tei:http://127.0.0.1:8080"}
	}
	base, err := baseURL(u.Target, u.Raw)
	if err != nil {
		return nil, err
	}
	// TEI's default max_client_batch_size is 32.
	c, err := commonOptions(u, "", 32)
	if err != nil {
		return nil, err
	}
	c.endpoint = base + "/rerank"
	t := &TEI{client: c, truncate: true}
	if v := u.Options.Get("truncate"); v != "" {
		if t.truncate, err = strconv.ParseBool(v); err != nil {
			return nil, &model.URIError{URI: u.Raw, Reason: "truncate=" + v + ": want true or false"}
		}
	}
	return t, nil
}

type teiRequest struct {
	Query     string   `json:"query"`
	Texts     []string `json:"texts"`
	Truncate  bool     `json:"truncate"`
	RawScores bool     `json:"raw_scores"`
}

type teiResult struct {
	Index int     `json:"index"`
	Score float64 `json:"score"`
}

// batchLimit finds the server's limit in TEI's refusal of a large batch.
var batchLimit = regexp.MustCompile(`maximum allowed batch size (\d+)`)

// Rerank scores docs for query, in the order of docs. When the server
// refuses a batch as too large, it learns the server's limit and retries.
func (t *TEI) Rerank(ctx context.Context, query string, docs []string) ([]float64, error) {
	scores, err := t.rerank(ctx, query, docs)
	var me *model.Error
	if errors.As(err, &me) && me.Status == http.StatusRequestEntityTooLarge {
		if m := batchLimit.FindStringSubmatch(me.Message); m != nil {
			if n, _ := strconv.Atoi(m[1]); n > 0 && int64(n) < t.batch.Load() {
				t.batch.Store(int64(n))
				return t.rerank(ctx, query, docs)
			}
		}
	}
	return scores, err
}

func (t *TEI) rerank(ctx context.Context, query string, docs []string) ([]float64, error) {
	return t.inBatches(ctx, docs, func(ctx context.Context, batch []string) ([]indexScore, error) {
		var res []teiResult
		if err := t.post(ctx, teiRequest{Query: query, Texts: batch, Truncate: t.truncate}, &res); err != nil {
			return nil, err
		}
		out := make([]indexScore, len(res))
		for i, r := range res {
			out[i] = indexScore{r.Index, r.Score}
		}
		return out, nil
	})
}
