package server_test

import (
	"runtime/debug"
	"testing"

	"github.com/distill-rag/distill/server"
)

func TestTuneGC(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	t.Setenv("GOGC", "")
	if got := server.TuneGC(); got != server.LatencyGCPercent || debug.SetGCPercent(server.LatencyGCPercent) != server.LatencyGCPercent {
		t.Fatalf("without GOGC, TuneGC = %d, want %d in effect", got, server.LatencyGCPercent)
	}
	debug.SetGCPercent(150) // as if the runtime had read GOGC=150
	t.Setenv("GOGC", "150")
	if got := server.TuneGC(); got != 150 || debug.SetGCPercent(150) != 150 {
		t.Fatalf("with GOGC=150, TuneGC = %d and changed the target", got)
	}
}
