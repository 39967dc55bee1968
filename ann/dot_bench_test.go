package ann

import (
	"math/rand/v2"
	"testing"
)

func BenchmarkDot1024(b *testing.B) {
	for _, n := range []int{1, 20000} {
		vecs := make([]float32, n*1024)
		for i := range vecs {
			vecs[i] = rand.Float32()
		}
		q := vecs[:1024:1024]
		b.Run(map[int]string{1: "cached", 20000: "memory"}[n], func(b *testing.B) {
			r := rand.New(rand.NewPCG(1, 1))
			var s float32
			for i := 0; i < b.N; i++ {
				j := r.IntN(n)
				s += dot(q, vecs[j*1024:(j+1)*1024])
			}
			_ = s
		})
	}
}
