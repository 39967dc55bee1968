package sqlite

import (
	"reflect"
	"testing"
)

// FuzzBlock feeds the block decoder arbitrary blobs, as a damaged database
// would: it must fail cleanly or decode terms and postings that encode and
// decode back to the same block, and a lookup must agree with the walk.
func FuzzBlock(f *testing.F) {
	var sp segmentPostings
	for _, p := range []struct {
		term string
		p    posting
	}{{"alpha", posting{0, 2, 30}}, {"beta", posting{0, 1, 30}}, {"alpha", posting{7, 1, 12}}, {"gamma", posting{1 << 40, 9, 1 << 20}}} {
		sp.add(p.term, p.p)
	}
	for _, b := range sp.blocks() {
		f.Add(b.data)
	}
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})
	f.Add([]byte{1, 1, 'a', 1, 3, 0, 1, 1})
	f.Fuzz(func(t *testing.T, data []byte) {
		got := map[string][]posting{}
		var order []string
		var bad error
		err := eachBlockTerm(data, func(b blockTerm) bool {
			bt := struct {
				term     string
				count    int
				postings []byte
			}{string(b.term), b.count, b.postings}
			var ps []posting
			bad = decodePostings(bt.postings, bt.count, func(p posting) { ps = append(ps, p) })
			if _, dup := got[bt.term]; dup || (len(order) > 0 && bt.term <= order[len(order)-1]) {
				bad = errCorruptPostings // unordered terms are damage the check reports
			}
			got[bt.term] = ps
			order = append(order, bt.term)
			return bad == nil
		})
		// The merge's one-pass parser agrees with the walk on the block's
		// structure, and also refuses terms out of order.
		var walked []blockTerm
		werr := eachBlockTerm(data, func(bt blockTerm) bool { walked = append(walked, bt); return true })
		for i := 1; werr == nil && i < len(walked); i++ {
			if string(walked[i].term) <= string(walked[i-1].term) {
				werr = errCorruptPostings
			}
		}
		parsed, perr := parseBlock(data, nil)
		if (perr == nil) != (werr == nil) {
			t.Fatalf("parseBlock: %v; walk: %v", perr, werr)
		}
		if perr == nil && !reflect.DeepEqual(parsed, walked) {
			t.Fatalf("parseBlock found %v, the walk %v", parsed, walked)
		}
		if err != nil || bad != nil {
			return
		}
		for _, term := range order {
			bt, ok, err := lookupBlock(data, term)
			if err != nil || !ok || bt.count != len(got[term]) {
				t.Fatalf("lookup of %q: %+v, %v, %v; walk found %d postings", term, bt, ok, err, len(got[term]))
			}
		}
		var again segmentPostings
		for _, term := range order {
			for _, p := range got[term] {
				again.add(term, p)
			}
		}
		blocks := again.blocks()
		if len(order) > 0 && len(blocks) != 1 && len(data) <= blockTarget {
			t.Fatalf("%d terms re-encode into %d blocks", len(order), len(blocks))
		}
		for _, b := range blocks {
			walk := map[string][]posting{}
			if err := eachBlockTerm(b.data, func(bt blockTerm) bool {
				var ps []posting
				if err := decodePostings(bt.postings, bt.count, func(p posting) { ps = append(ps, p) }); err != nil {
					t.Fatalf("re-encoded postings of %q do not decode: %v", bt.term, err)
				}
				walk[string(bt.term)] = ps
				return true
			}); err != nil {
				t.Fatalf("re-encoded block does not decode: %v", err)
			}
			for term, ps := range walk {
				if !reflect.DeepEqual(got[term], ps) {
					t.Fatalf("postings of %q %v re-encode to %v", term, got[term], ps)
				}
			}
		}
	})
}
