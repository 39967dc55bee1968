package onnx

import (
	"context"
	"math"
	"testing"

	"github.com/distill-rag/distill/internal/testsupport/onnxgen"
	"github.com/distill-rag/distill/model"
)

func TestQuick(t *testing.T) {
	dir := t.TempDir()
	m := onnxgen.New(onnxgen.Tiny())
	if err := m.Write(dir, onnxgen.Files{Pooling: "cls", Normalize: false}); err != nil {
		t.Fatal(err)
	}
	e, err := OpenEmbedder(context.Background(), "x", dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	texts := []string{"The cat sat on the mat.", "revenue grew"}
	vecs, err := e.Embed(context.Background(), texts, model.ForDocuments)
	if err != nil {
		t.Fatal(err)
	}
	for i, text := range texts {
		ids, types := m.Encode(text, 0)
		want := m.HiddenStates(ids, types)[0]
		var md float64
		for k := range want {
			md = math.Max(md, math.Abs(want[k]-float64(vecs[i][k])))
		}
		t.Logf("%d ids=%v maxdiff=%g got=%v", i, ids, md, vecs[i][:4])
	}
}
