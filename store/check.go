package store

import (
	"context"
	"fmt"
)

// Checker is a Store that can verify a collection the way git fsck and
// SQLite's integrity check do, and rebuild the indexes it derives from the
// stored documents, pages, chunks and vectors. The embedded store
// implements it; other providers may.
type Checker interface {
	// Check verifies the collection. With opts.Repair it then rebuilds what
	// can be rebuilt and checks again; the report says what was found,
	// what was repaired and what is still wrong.
	Check(ctx context.Context, opts CheckOptions) (*CheckReport, error)
}

// CheckOptions shape a check.
type CheckOptions struct {
	// Repair rebuilds derived indexes (and drops rows no document owns)
	// when the check finds them wrong.
	Repair bool
	// Progress, when set, is called as each check starts, so that a long
	// check of a big collection is not silent.
	Progress func(CheckProgress)
}

// CheckProgress says which check runs: Done of Total checks have finished
// (Total counts the second pass after a repair too, once it is known).
type CheckProgress struct {
	Check       string
	Done, Total int
	// Repairing is set while the repair itself runs.
	Repairing bool
}

// Problem is one thing a check found wrong.
type Problem struct {
	// Check names the check that found it: "sqlite", "schema", "links",
	// "bm25", "vectors", ...
	Check string `json:"check"`
	// Message says what is wrong, naming the document, chunk or split.
	Message string `json:"message"`
	// Repairable says whether --repair can fix it: derived data can be
	// rebuilt, stored data can only be re-ingested from its source.
	Repairable bool `json:"repairable"`
}

func (p Problem) String() string { return p.Check + ": " + p.Message }

// CheckResult is the outcome of one named check.
type CheckResult struct {
	Name     string    `json:"name"`
	Problems []Problem `json:"problems"`
	// Truncated counts problems found beyond those listed.
	Truncated int `json:"truncated,omitempty"`
}

// OK reports whether the check found nothing wrong.
func (r CheckResult) OK() bool { return len(r.Problems) == 0 && r.Truncated == 0 }

// CheckReport is what a check found.
type CheckReport struct {
	// Checks are the checks run, in order, with what each found.
	Checks []CheckResult `json:"checks"`
	// Repaired names the indexes and records a repair rebuilt.
	Repaired []string `json:"repaired,omitempty"`
	// After holds the checks run again after a repair; nil without one.
	After []CheckResult `json:"after,omitempty"`
	// Counts of what the collection holds.
	Documents int `json:"documents"`
	Pages     int `json:"pages"`
	Chunks    int `json:"chunks"`
}

// OK reports whether the collection is sound: nothing was found wrong, or
// a repair fixed everything that was.
func (r *CheckReport) OK() bool {
	final := r.Checks
	if r.After != nil {
		final = r.After
	}
	for _, c := range final {
		if !c.OK() {
			return false
		}
	}
	return true
}

// Problems lists every problem found by the first pass.
func (r *CheckReport) Problems() []Problem {
	var out []Problem
	for _, c := range r.Checks {
		out = append(out, c.Problems...)
	}
	return out
}

// NotCheckableError reports a store that cannot check itself.
type NotCheckableError struct{ Store string }

func (e *NotCheckableError) Error() string {
	return fmt.Sprintf("the store %s cannot be checked by distill", e.Store)
}
