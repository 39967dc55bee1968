package tei_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/distill-rag/distill/internal/testsupport/fakemodel"
	"github.com/distill-rag/distill/model"
	_ "github.com/distill-rag/distill/model/tei"
)

func TestEmbedBatchesWithinServerLimit(t *testing.T) {
	srv := fakemodel.TEI(t, fakemodel.Dim(6), fakemodel.MaxBatch(32))
	// batch_size=64 asks for more than TEI takes by default; the provider keeps to 32.
	emb, err := model.OpenEmbedder(context.Background(), srv.URI("")+"?batch_size=64&query_prefix=query:+")
	if err != nil {
		t.Fatal(err)
	}
	texts := make([]string, 70)
	for i := range texts {
		texts[i] = "text " + strings.Repeat("x", i)
	}
	vecs, err := emb.Embed(context.Background(), texts, model.ForDocuments)
	if err != nil {
		t.Fatal(err)
	}
	if len(vecs) != 70 || srv.EmbedCalls() != 3 {
		t.Fatalf("%d vectors in %d calls, want 70 in 3", len(vecs), srv.EmbedCalls())
	}
	for i := range texts {
		if want := fakemodel.Vector(texts[i], 6); vecs[i][0] != want[0] || vecs[i][5] != want[5] {
			t.Fatalf("vector %d out of order", i)
		}
	}
	if _, err := emb.Embed(context.Background(), []string{"who"}, model.ForQuery); err != nil {
		t.Fatal(err)
	}
	if body := srv.Last().JSON(); srv.Last().Path != "/embed" || body["inputs"].([]any)[0] != "query: who" || body["truncate"] != true {
		t.Errorf("request %s %v, want /embed with the query prefix", srv.Last().Path, body)
	}
}

func TestErrors(t *testing.T) {
	srv := fakemodel.TEI(t, fakemodel.Faults(fakemodel.Status(429, "0"), fakemodel.Truncated))
	emb, err := model.OpenEmbedder(context.Background(), srv.URI(""))
	if err != nil {
		t.Fatal(err)
	}
	_, err = emb.Embed(context.Background(), []string{"a"}, model.ForDocuments)
	var me *model.Error
	if !errors.As(err, &me) || me.Provider != "tei" || me.Endpoint != srv.URL+"/embed" || !strings.Contains(err.Error(), "malformed") {
		t.Errorf("error %v, want a malformed answer from tei %s/embed after the 429 retry", err, srv.URL)
	}
	if srv.Calls() != 2 {
		t.Errorf("%d calls, want 2", srv.Calls())
	}
	if _, err := model.OpenEmbedder(context.Background(), "tei:localhost:8080"); err == nil {
		t.Error("tei: without http:// was accepted")
	}
}
