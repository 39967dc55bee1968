package store

import (
	"context"
	"encoding/json"
)

// ParentsFirst orders splits so that every parent comes before the splits
// cut from it; splits caught in a cycle are left out (config validation
// reports cycles).
func ParentsFirst(splits []Split) []Split {
	var out []Split
	placed := map[string]bool{}
	for len(out) < len(splits) {
		progress := false
		for _, sp := range splits {
			if !placed[sp.Name] && (sp.Parent == "" || placed[sp.Parent]) {
				out = append(out, sp)
				placed[sp.Name] = true
				progress = true
			}
		}
		if !progress {
			break
		}
	}
	return out
}

// EncodeMeta is how stores keep a document's metadata: a JSON object, "{}"
// when empty.
func EncodeMeta(m map[string]string) string {
	if len(m) == 0 {
		return "{}"
	}
	b, _ := json.Marshal(m)
	return string(b)
}

// DecodeMeta reads what EncodeMeta wrote; anything else gives no metadata.
func DecodeMeta(s string) map[string]string {
	var m map[string]string
	if s != "" && s != "{}" {
		_ = json.Unmarshal([]byte(s), &m)
	}
	return m
}

// Resplitter is a Store whose splits can change after it was built. A
// resplit rewrites every document from its stored pages, each in its own
// transaction, so that it is atomic per document and resumable.
type Resplitter interface {
	// StartResplit records target as the collection's splits and returns
	// the sources of the documents still built with other ones: all of
	// them when the splits change now, those an interrupted run left when
	// it resumes, none when target is in force and nothing is pending.
	// Writers then chunk with target; Begin on a pending document's source
	// rewrites it.
	StartResplit(ctx context.Context, target []Split) (pending []string, err error)
	// FinishResplit ends the run once no document is pending.
	FinishResplit(ctx context.Context) error
}
