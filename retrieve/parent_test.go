package retrieve

import (
	"fmt"
	"strings"
	"testing"

	"github.com/distill-rag/distill/document"
)

func TestDistinctParents(t *testing.T) {
	child := func(id string, score float64) document.Passage { return document.Passage{ChunkID: id, Score: score} }
	parent := func(id string) document.Passage { return document.Passage{ChunkID: id, Text: "parent " + id} }
	children := []document.Passage{child("c1", 9), child("c2", 8), child("c3", 7), child("c4", 6), child("c5", 5)}
	parents := []document.Passage{parent("P2"), parent("P1"), parent("P2"), {}, parent("P3")}
	tests := []struct {
		k    int
		want string
	}{
		{0, "P2:9 P1:8 P3:5"},
		{2, "P2:9 P1:8"},
		{1, "P2:9"},
	}
	for _, tt := range tests {
		var got []string
		for _, p := range DistinctParents(children, parents, tt.k) {
			got = append(got, fmt.Sprintf("%s:%g", p.ChunkID, p.Score))
		}
		if strings.Join(got, " ") != tt.want {
			t.Errorf("k=%d: got %v, want %s", tt.k, got, tt.want)
		}
	}
}
