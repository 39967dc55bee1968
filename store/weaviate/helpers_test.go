package weaviate_test

import (
	"context"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/weaviate/weaviate/entities/models"

	"github.com/distill-rag/distill/document"
	"github.com/distill-rag/distill/ingest"
	"github.com/distill-rag/distill/internal/testsupport/weaviatetest"
	"github.com/distill-rag/distill/store"
	"github.com/distill-rag/distill/store/sqlite"
	"github.com/distill-rag/distill/store/weaviate"
	"github.com/distill-rag/distill/textproc"
)

func TestMain(m *testing.M) { weaviatetest.Main(m) }

var testSplits = []store.Split{
	{Name: "chunks", Size: 300, Overlap: 30, Search: true},
	{Name: "parents", Size: 600, Overlap: 60, Search: false},
	{Name: "children", Size: 150, Overlap: 30, Parent: "parents", Search: true},
}

const dim = 64

// embed is a deterministic stand-in for an embedding model: hashed bag of
// analyzed terms, normalized, so texts that share words are close.
func embed(text string) []float32 {
	v := make([]float32, dim)
	for _, t := range textproc.English.Terms(text) {
		h := fnv.New32a()
		h.Write([]byte(t))
		x := h.Sum32()
		v[x%dim] += 1
		v[(x/dim)%dim] += 0.5
	}
	var n float64
	for _, x := range v {
		n += float64(x * x)
	}
	if n == 0 {
		v[0] = 1
		return v
	}
	for i := range v {
		v[i] = float32(float64(v[i]) / math.Sqrt(n))
	}
	return v
}

var filler = strings.Fields(`the report covers quarterly revenue customers growth
operations team product market shipping cloud services retail stores investment
infrastructure employees safety logistics pricing inventory selection delivery
regions partners sellers devices content advertising subscriptions margins`)

// topics give each document words no other document has, so a query for
// them has one right answer.
var topics = [][]string{
	{"zeppelin", "hydrogen", "airship"},
	{"glacier", "moraine", "crevasse"},
	{"saxophone", "clarinet", "oboe"},
	{"volcano", "magma", "caldera"},
	{"lighthouse", "harbor", "beacon"},
	{"orchard", "pear", "cider"},
}

// corpusDoc makes a document of pages of sentences: filler words with the
// document's topic words mixed in.
func corpusDoc(i, pages int, version string) (document.Document, []document.Page) {
	r := rand.New(rand.NewPCG(uint64(i)+1, 7))
	source := fmt.Sprintf("/corpus/doc%02d.txt", i)
	doc := document.Document{ID: document.IDFor(source), Source: source, Title: fmt.Sprintf("Document %d", i), Type: "text",
		Hash: fmt.Sprintf("hash-%d-%s", i, version), Size: 1000, Meta: map[string]string{"version": version}}
	topic := topics[i%len(topics)]
	var out []document.Page
	for p := 1; p <= pages; p++ {
		var b strings.Builder
		for s := 0; s < 14; s++ {
			n := 6 + r.IntN(8)
			for w := 0; w < n; w++ {
				if w > 0 {
					b.WriteByte(' ')
				}
				if r.IntN(5) == 0 {
					b.WriteString(topic[r.IntN(len(topic))])
				} else {
					b.WriteString(filler[r.IntN(len(filler))])
				}
			}
			if version != "" && s == 3 {
				b.WriteString(" " + version)
			}
			b.WriteString(". ")
		}
		out = append(out, document.Page{Number: p, Text: b.String()})
	}
	return doc, out
}

// chunksWithVectors cuts a page into the test splits and embeds the
// searched ones.
func chunksWithVectors(text string, vectors bool) []store.Chunk {
	chunks := ingest.Chunks(testSplits, text)
	if vectors {
		for i := range chunks {
			if chunks[i].Split != "parents" {
				chunks[i].Vector = embed(text[chunks[i].Start:chunks[i].End])
			}
		}
	}
	return chunks
}

func writeDoc(t testing.TB, s store.Store, doc document.Document, pages []document.Page, vectors bool) {
	t.Helper()
	ctx := context.Background()
	w, err := begin(ctx, s, doc, vectors)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pages {
		if err := w.AddPage(ctx, p, chunksWithVectors(p.Text, vectors)); err != nil {
			w.Rollback()
			t.Fatal(err)
		}
	}
	if err := w.Commit(ctx); err != nil {
		t.Fatal(err)
	}
}

// testModel names the test embedding.
const testModel = "test-hash-64"

// begin starts a document, with the test model's vectors when asked.
func begin(ctx context.Context, s store.Store, doc document.Document, vectors bool) (store.DocumentWriter, error) {
	if vectors {
		return s.(store.VectorWriter).BeginVectors(ctx, doc, testModel)
	}
	return s.Begin(ctx, doc)
}

func openWeaviate(t testing.TB, uri string, create bool) *weaviate.Store {
	t.Helper()
	cfg, err := weaviate.ParseURI(uri)
	if err != nil {
		t.Fatal(err)
	}
	s, err := weaviate.OpenConfig(context.Background(), cfg, store.Options{Create: create, Splits: testSplits})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// newWeaviate opens a new collection on the shared server.
func newWeaviate(t testing.TB, opts ...string) (*weaviate.Store, string) {
	t.Helper()
	var nonEmpty []string
	for _, o := range opts {
		if o != "" {
			nonEmpty = append(nonEmpty, o)
		}
	}
	uri := weaviatetest.Shared(t).URI(weaviatetest.Collection(t), nonEmpty...)
	return openWeaviate(t, uri, true), uri
}

func newSQLite(t testing.TB) *sqlite.Store {
	t.Helper()
	s, err := sqlite.OpenStore(context.Background(), t.TempDir()+"/c", store.Options{Create: true, Splits: testSplits})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func ids(ps []document.Passage) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.ChunkID
	}
	return out
}

func sharedNode(t testing.TB) *weaviatetest.Node { return weaviatetest.Shared(t) }

// weaviateSuffix makes class names of one test unique.
func weaviateSuffix(t testing.TB) string {
	return strings.TrimPrefix(weaviatetest.Collection(t), "T")
}

// foreignClass is a class another program made under a name distill uses.
func foreignClass(name string) *models.Class {
	return &models.Class{Class: name, Properties: []*models.Property{{Name: "body", DataType: []string{"text"}}}}
}
