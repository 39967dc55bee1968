package hashembed

import (
	"context"
	"errors"
	"math"
	"testing"

	"github.com/distill-rag/distill/model"
)

func cos(a, b []float32) float64 {
	var s float64
	for i := range a {
		s += float64(a[i]) * float64(b[i])
	}
	return s
}

func TestVectorsAreDeterministicUnitAndLexical(t *testing.T) {
	ctx := context.Background()
	e, err := model.OpenEmbedder(ctx, "hash:128")
	if err != nil {
		t.Fatal(err)
	}
	if e.Name() != "hash:128" {
		t.Fatalf("Name = %q", e.Name())
	}
	texts := []string{"Solar lanterns were recalled.", "The lantern recall", "A warehouse in Krakow", "", "Solar lanterns were recalled."}
	vs, err := e.Embed(ctx, texts, model.ForDocuments)
	if err != nil || len(vs) != len(texts) {
		t.Fatalf("Embed: %d vectors, %v", len(vs), err)
	}
	for i, v := range vs {
		if len(v) != 128 {
			t.Fatalf("vector %d has %d dims", i, len(v))
		}
		norm := cos(v, v)
		if want := map[bool]float64{true: 0, false: 1}[texts[i] == ""]; math.Abs(norm-want) > 1e-5 {
			t.Fatalf("vector %d has squared norm %v, want %v", i, norm, want)
		}
	}
	if cos(vs[0], vs[4]) < 0.9999 {
		t.Fatal("the same text embeds differently")
	}
	// Stemming makes "lantern recall" overlap with "lanterns were recalled".
	if near, far := cos(vs[0], vs[1]), cos(vs[0], vs[2]); near <= far || near < 0.5 {
		t.Fatalf("similarity to a paraphrase %.3f, to an unrelated text %.3f", near, far)
	}
}

func TestOpenRejectsBadDimensions(t *testing.T) {
	for _, uri := range []string{"hash:", "hash:x", "hash:1", "hash:70000"} {
		var ue *model.URIError
		if _, err := model.OpenEmbedder(context.Background(), uri); !errors.As(err, &ue) {
			t.Fatalf("%s: %v", uri, err)
		}
	}
}
