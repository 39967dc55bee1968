package retrieve

import (
	"context"

	"github.com/distill-rag/distill/config"
	"github.com/distill-rag/distill/document"
)

func init() { Register("parent", buildParent) }

// Parent is the parent document retriever: it searches small child chunks,
// which match a question precisely, and returns the larger parents they were
// cut from, which carry the context an answer needs. Parents come in the
// rank order of their best child, each once, scored by that child.
type Parent struct {
	Children Retriever
	Store    ParentFinder
	ParentK  int // at most this many parents; 0 for all
}

// Retrieve returns the distinct parents of the best children.
func (r *Parent) Retrieve(ctx context.Context, query string) ([]document.Passage, error) {
	children, err := r.Children.Retrieve(ctx, query)
	if err != nil || len(children) == 0 {
		return nil, err
	}
	ids := make([]string, len(children))
	for i, c := range children {
		ids[i] = c.ChunkID
	}
	parents, err := r.Store.Parents(ctx, ids)
	if err != nil {
		return nil, err
	}
	return DistinctParents(children, parents, r.ParentK), nil
}

// DistinctParents keeps the first occurrence of each parent, scored by the
// child that found it, up to k (0: no limit). parents[i] is the parent of
// children[i], or a zero Passage for a child without one.
func DistinctParents(children, parents []document.Passage, k int) []document.Passage {
	var out []document.Passage
	seen := map[string]bool{}
	for i, p := range parents {
		if p.ChunkID == "" || seen[p.ChunkID] {
			continue
		}
		seen[p.ChunkID] = true
		if i < len(children) {
			p.Score = children[i].Score
		}
		out = append(out, p)
		if k > 0 && len(out) == k {
			break
		}
	}
	return out
}

type parentParams struct {
	config.Typed `yaml:",inline"`
	Split        string `yaml:"split"`
	ChildK       int    `yaml:"child_k"`
	ParentK      int    `yaml:"parent_k"`
	Search       string `yaml:"search"` // how children are searched: auto, bm25, dense, hybrid
}

func buildParent(env Env, stage config.Stage) (Retriever, error) {
	p := parentParams{ChildK: 4, Search: "auto"}
	if err := stage.Decode(&p); err != nil {
		return nil, err
	}
	if p.Split == "" {
		return nil, stage.ParamError("split", "is required: the split of the children")
	}
	if p.ChildK <= 0 {
		return nil, stage.ParamError("child_k", "must be a positive number of children, got %d", p.ChildK)
	}
	if p.ParentK < 0 {
		return nil, stage.ParamError("parent_k", "must be 0 (all) or a positive number of parents, got %d", p.ParentK)
	}
	childStage := stage
	childStage.Type = p.Search
	childStage.Node = syntheticStage(stage, p.Search, p.Split, p.ChildK)
	children, err := Build(env, childStage)
	if err != nil {
		return nil, err
	}
	return &Parent{Children: children, Store: env.Store, ParentK: p.ParentK}, nil
}
