// Package envconfig reads distill's environment variables, one function
// per variable, so that each is parsed and documented in one place.
package envconfig

import (
	"fmt"
	"os"
	"strings"

	"github.com/dustin/go-humanize"
)

// DefaultCacheMax is the size cap of each cache when DISTILL_CACHE_MAX is
// not set: large enough for the answers and vectors of many collections,
// small enough not to fill a laptop's disk unnoticed.
const DefaultCacheMax = 1 << 30

// VarError is an environment variable with a value that cannot be used.
type VarError struct {
	Name, Value, Want string
}

func (e *VarError) Error() string {
	return fmt.Sprintf("$%s=%q: %s", e.Name, e.Value, e.Want)
}

// UserError marks it as the user's to fix.
func (e *VarError) UserError() {}

// CacheMax is $DISTILL_CACHE_MAX, the size cap of each of distill's caches
// (the LLM answer cache and the embedding cache), in bytes: a size such as
// "500MB" or "2GiB"; "0" or "off" means no cap. Unset means
// DefaultCacheMax.
func CacheMax() (int64, error) {
	v := strings.TrimSpace(os.Getenv("DISTILL_CACHE_MAX"))
	switch strings.ToLower(v) {
	case "":
		return DefaultCacheMax, nil
	case "0", "off", "none":
		return 0, nil
	}
	n, err := humanize.ParseBytes(v)
	if err != nil || n > 1<<62 {
		return 0, &VarError{Name: "DISTILL_CACHE_MAX", Value: v, Want: `want a size such as "500MB" or "2GiB", or "off"`}
	}
	return int64(n), nil
}
