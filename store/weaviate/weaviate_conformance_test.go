package weaviate_test

import (
	"context"
	"testing"

	"github.com/distill-rag/distill/internal/testsupport/weaviatetest"
	"github.com/distill-rag/distill/store"
	"github.com/distill-rag/distill/store/storetest"
	"github.com/distill-rag/distill/store/weaviate"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, storetest.Harness{
		Open: func(t *testing.T, opts store.Options) store.Store {
			uri := weaviatetest.Shared(t).URI(weaviatetest.Collection(t))
			cfg, err := weaviate.ParseURI(uri)
			if err != nil {
				t.Fatal(err)
			}
			s, err := weaviate.OpenConfig(context.Background(), cfg, opts)
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
	})
}
