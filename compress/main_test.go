package compress

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the tests when one leaves a goroutine behind: an LLM call
// still in flight after its stage returned, a timed-out call not given up.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
