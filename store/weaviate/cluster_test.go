package weaviate_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/distill-rag/distill/document"
	"github.com/distill-rag/distill/internal/testsupport/weaviatetest"
)

// TestClusterSurvivesNodeLoss runs a three-node Weaviate cluster on
// loopback with every class replicated three times, streams queries of
// every kind through node0, kills node0 — the node distill talks to — in
// the middle of the stream, and checks that every query before and after
// answers, with the same results: the store moves on to the next node of
// its URI and the replicas there hold everything.
func TestClusterSurvivesNodeLoss(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a three-node cluster")
	}
	ctx := context.Background()
	nodes := weaviatetest.StartCluster(t, 3)
	uri := fmt.Sprintf("weaviate:http://127.0.0.1:%d,127.0.0.1:%d,127.0.0.1:%d?collection=%s&grpc=%d,%d,%d&replicas=3&consistency=QUORUM",
		nodes[0].HTTP, nodes[1].HTTP, nodes[2].HTTP, weaviatetest.Collection(t), nodes[0].GRPC, nodes[1].GRPC, nodes[2].GRPC)
	s := openWeaviate(t, uri, true)
	for i := 0; i < 6; i++ {
		doc, pages := corpusDoc(i, 3, "")
		writeDoc(t, s, doc, pages, true)
	}

	type query struct {
		name string
		run  func() ([]document.Passage, error)
	}
	var queries []query
	for _, q := range []string{"zeppelin airship", "glacier crevasse", "clarinet oboe", "magma", "harbor beacon", "cider"} {
		queries = append(queries,
			query{"bm25 " + q, func() ([]document.Passage, error) { return s.SearchText(ctx, "chunks", q, 4) }},
			query{"dense " + q, func() ([]document.Passage, error) { return s.SearchVector(ctx, "chunks", embed(q), 4) }},
			query{"parents " + q, func() ([]document.Passage, error) {
				children, err := s.SearchText(ctx, "children", q, 4)
				if err != nil {
					return nil, err
				}
				return s.Parents(ctx, ids(children))
			}},
		)
	}
	queries = append(queries, query{"documents", func() ([]document.Passage, error) {
		docs, err := s.Documents(ctx)
		out := make([]document.Passage, len(docs))
		for i, d := range docs {
			out[i] = document.Passage{ChunkID: d.ID, Source: d.Source}
		}
		return out, err
	}})
	describe := func(ps []document.Passage) string {
		var b strings.Builder
		for _, p := range ps {
			fmt.Fprintf(&b, "%s|%s;", p.ChunkID, p.Text)
		}
		return b.String()
	}
	want := make([]string, len(queries))
	for i, q := range queries {
		got, err := q.run()
		if err != nil || len(got) == 0 {
			t.Fatalf("%s before the failure: %v, %v", q.name, got, err)
		}
		want[i] = describe(got)
	}

	var (
		answered, afterKill atomic.Int64
		killed              atomic.Bool
		mu                  sync.Mutex
		failures            []string
	)
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for round := 0; ; round++ {
			for i, q := range queries {
				select {
				case <-stop:
					return
				default:
				}
				got, err := q.run()
				answered.Add(1)
				if killed.Load() {
					afterKill.Add(1)
				}
				if err != nil || describe(got) != want[i] {
					mu.Lock()
					failures = append(failures, fmt.Sprintf("round %d (node0 killed: %v) %s: err %v, results changed: %v", round, killed.Load(), q.name, err, describe(got) != want[i]))
					mu.Unlock()
				}
			}
		}
	}()
	waitFor := func(n int64, counter *atomic.Int64) {
		deadline := time.Now().Add(2 * time.Minute)
		for counter.Load() < n && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
	}
	waitFor(int64(2*len(queries)), &answered)
	nodes[0].Kill()
	killed.Store(true)
	waitFor(int64(4*len(queries)), &afterKill)
	close(stop)
	<-done

	if afterKill.Load() < int64(4*len(queries)) {
		t.Errorf("only %d queries answered after the kill", afterKill.Load())
	}
	if len(failures) > 0 {
		t.Fatalf("%d of %d queries failed or changed:\n%s", len(failures), answered.Load(), strings.Join(failures[:min(len(failures), 20)], "\n"))
	}
	t.Logf("%d queries answered, %d after node0 was killed, all with the same results", answered.Load(), afterKill.Load())

	// Writes go on with two of three replicas (QUORUM), once the two
	// remaining nodes have elected a Raft leader.
	doc, pages := corpusDoc(7, 1, "narwhal")
	writeDoc(t, s, doc, pages, true)
	got, err := s.SearchText(ctx, "chunks", "narwhal", 5)
	if err != nil || len(got) == 0 || !slices.ContainsFunc(got, func(p document.Passage) bool { return p.DocID == doc.ID }) {
		t.Fatalf("write after the failure not found: %v, %v", ids(got), err)
	}
}
