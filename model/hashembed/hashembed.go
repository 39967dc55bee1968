// Package hashembed is a toy embedding model, "hash:DIM": each text becomes
// the hashed bag of its analyzed terms (stemmed, stop words removed), with
// log-scaled counts and random signs, in DIM dimensions, normalized. It is
// deterministic and needs no server, so tests and offline trials exercise
// dense and hybrid retrieval end to end; it captures word overlap only, not
// meaning, and is no substitute for a real model.
package hashembed

import (
	"context"
	"fmt"
	"hash/fnv"
	"math"
	"strconv"

	"github.com/distill-rag/distill/model"
	"github.com/distill-rag/distill/textproc"
)

func init() { model.RegisterEmbedder("hash", Open) }

// Embedder is the hashed bag-of-words model.
type Embedder struct {
	Dim int
}

// Open opens "hash:DIM".
func Open(_ context.Context, u model.URI) (model.Embedder, error) {
	dim, err := strconv.Atoi(u.Target)
	if err != nil || dim < 2 || dim > 1<<16 {
		return nil, &model.URIError{URI: u.Raw, Reason: "want hash:DIM with DIM a number of dimensions from 2 to 65536, e.g. hash:256"}
	}
	return &Embedder{Dim: dim}, nil
}

// Name is "hash:DIM".
func (e *Embedder) Name() string { return fmt.Sprintf("hash:%d", e.Dim) }

// Embed returns one vector per text; queries and documents embed alike.
func (e *Embedder) Embed(ctx context.Context, texts []string, _ model.Purpose) ([][]float32, error) {
	out := make([][]float32, len(texts))
	for i, t := range texts {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		out[i] = e.vector(t)
	}
	return out, nil
}

func (e *Embedder) vector(text string) []float32 {
	counts := map[string]int{}
	for _, term := range textproc.English.Terms(text) {
		counts[term]++
	}
	v := make([]float32, e.Dim)
	for term, n := range counts {
		h := fnv.New64a()
		h.Write([]byte(term))
		x := h.Sum64()
		w := float32(1 + math.Log(float64(n)))
		if x>>63 == 1 {
			w = -w
		}
		v[x%uint64(e.Dim)] += w
	}
	var norm float64
	for _, f := range v {
		norm += float64(f) * float64(f)
	}
	if norm > 0 {
		inv := float32(1 / math.Sqrt(norm))
		for i := range v {
			v[i] *= inv
		}
	}
	return v
}
