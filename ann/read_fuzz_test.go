package ann

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

// FuzzRead: any bytes either load as an index that can be searched, or
// fail with ErrCorrupt; nothing panics.
func FuzzRead(f *testing.F) {
	for _, storage := range []Storage{Float32, Int8} {
		g := newEmbeddings(4, 2, 1)
		ix := New(4, Parameters{Seed: 1, Storage: storage})
		for i := 0; i < 12; i++ {
			ix.Add(int64(i), g.next())
		}
		var buf bytes.Buffer
		if err := ix.Write(&buf, []byte("meta")); err != nil {
			f.Fatal(err)
		}
		f.Add(buf.Bytes())
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		// A reader that tells its length (as files do) and one that does
		// not take different allocation paths; both must agree.
		ix, _, err := Read(bytes.NewReader(data))
		_, _, errStream := Read(io.MultiReader(bytes.NewReader(data)))
		if (err == nil) != (errStream == nil) {
			t.Fatalf("sized reader: %v, stream: %v", err, errStream)
		}
		if err != nil {
			if !errors.Is(err, ErrCorrupt) || !errors.Is(errStream, ErrCorrupt) {
				t.Fatalf("error not marked corrupt: %v / %v", err, errStream)
			}
			return
		}
		q := make([]float32, ix.Dim())
		q[0] = 1
		ix.Search(q, 5)
		ix.SearchExact(q, 5)
	})
}
