package sqlite

import (
	"reflect"
	"testing"
)

// FuzzDecodePostings feeds the posting-list decoder arbitrary blobs, as a
// damaged database would: it must fail cleanly or decode postings that
// encode and decode back to the same postings.
func FuzzDecodePostings(f *testing.F) {
	var b postingsBuilder
	for _, p := range []posting{{1, 2, 30}, {7, 1, 12}, {1 << 40, 9, 1 << 20}} {
		b.add(p)
	}
	f.Add(b.bytes())
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})
	f.Fuzz(func(t *testing.T, data []byte) {
		var got []posting
		if err := decodePostings(data, func(p posting) { got = append(got, p) }); err != nil {
			return
		}
		if postingsCount(data) != len(got) {
			t.Fatalf("count %d, decoded %d", postingsCount(data), len(got))
		}
		var b postingsBuilder
		for _, p := range got {
			b.add(p)
		}
		var again []posting
		if err := decodePostings(b.bytes(), func(p posting) { again = append(again, p) }); err != nil {
			t.Fatalf("re-encoded postings do not decode: %v", err)
		}
		if !reflect.DeepEqual(got, again) {
			t.Fatalf("postings %v re-encode to %v", got, again)
		}
	})
}
