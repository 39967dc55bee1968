package store

import (
	"fmt"
	"strconv"
	"strings"
)

// ChunkID is the public id of a chunk: document id, split and position.
// Every store uses it, so that a chunk keeps its id across stores
// (distill migrate).
func ChunkID(docID, split string, seq int) string {
	return docID + ":" + split + ":" + strconv.Itoa(seq)
}

// ParseChunkID splits a public chunk id.
func ParseChunkID(id string) (docID, split string, seq int, err error) {
	first := strings.IndexByte(id, ':')
	last := strings.LastIndexByte(id, ':')
	if first <= 0 || last <= first+1 {
		return "", "", 0, fmt.Errorf("malformed chunk id %q (want DOC:SPLIT:N)", id)
	}
	seq, err = strconv.Atoi(id[last+1:])
	if err != nil || seq < 0 {
		return "", "", 0, fmt.Errorf("malformed chunk id %q (want DOC:SPLIT:N)", id)
	}
	return id[:first], id[first+1 : last], seq, nil
}
