package bedrock_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests when one leaves a goroutine behind
// (a request still in flight, a stream never closed, a retry timer).
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
