package ann

import (
	"math"
	"testing"
)

func TestVectorReturnsNormalizedCopy(t *testing.T) {
	ix := New(3, Parameters{})
	if err := ix.Add(7, []float32{3, 0, 4}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		key  int64
		want []float32
		ok   bool
	}{
		{7, []float32{0.6, 0, 0.8}, true},
		{8, nil, false},
	}
	for _, tt := range tests {
		got, ok := ix.Vector(tt.key)
		if ok != tt.ok || len(got) != len(tt.want) {
			t.Fatalf("Vector(%d) = %v, %v", tt.key, got, ok)
		}
		for i := range got {
			if math.Abs(float64(got[i]-tt.want[i])) > 1e-6 {
				t.Fatalf("Vector(%d) = %v, want %v", tt.key, got, tt.want)
			}
		}
	}
	v, _ := ix.Vector(7)
	v[0] = 42
	if again, _ := ix.Vector(7); again[0] == 42 {
		t.Fatal("Vector returns the index's own array")
	}
	ix.Delete(7)
	if _, ok := ix.Vector(7); ok {
		t.Fatal("a deleted key still has a vector")
	}
}
