package model_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/distill-rag/distill/internal/testsupport/fakemodel"
	"github.com/distill-rag/distill/model"
	_ "github.com/distill-rag/distill/model/tei"
)

// BenchmarkIngestEmbedding embeds 10,000 chunks on a fake TEI server that
// takes 50 ms per request, once one batch at a time and once as distill
// does (batches of 32, 8 in flight), and reports both times. The goal is
// under a quarter of the one-at-a-time time.
func BenchmarkIngestEmbedding(b *testing.B) {
	const chunks, batch = 10000, 32
	texts := make([]string, chunks)
	for i := range texts {
		texts[i] = fmt.Sprintf("chunk %d of a shareholder letter about revenue, customers and the long term", i)
	}
	srv := fakemodel.TEI(b, fakemodel.Latency(50*time.Millisecond), fakemodel.Dim(64))
	ctx := context.Background()
	for b.Loop() {
		one, err := model.OpenEmbedder(ctx, srv.URI("")+"?concurrency=1")
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		for i := 0; i < chunks; i += batch {
			if _, err := one.Embed(ctx, texts[i:min(i+batch, chunks)], model.ForDocuments); err != nil {
				b.Fatal(err)
			}
		}
		sequential := time.Since(start)

		emb, err := model.OpenEmbedder(ctx, srv.URI(""))
		if err != nil {
			b.Fatal(err)
		}
		start = time.Now()
		vecs, err := emb.Embed(ctx, texts, model.ForDocuments)
		if err != nil || len(vecs) != chunks {
			b.Fatalf("%d vectors, %v", len(vecs), err)
		}
		batched := time.Since(start)
		b.ReportMetric(sequential.Seconds(), "s-one-batch-at-a-time")
		b.ReportMetric(batched.Seconds(), "s-distill")
		b.ReportMetric(batched.Seconds()/sequential.Seconds(), "ratio")
		if batched*4 >= sequential {
			b.Errorf("distill took %v, not under a quarter of the one-at-a-time %v", batched, sequential)
		}
	}
}
