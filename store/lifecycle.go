package store

import (
	"context"
	"sync"
)

// Destroyer is a Store that can remove its whole collection: every
// document, index and file the store made for it, so that the name can be
// created again from nothing. Destroy closes the store; files a user put
// beside a collection stay. Both stores distill ships implement it.
type Destroyer interface {
	Destroy(ctx context.Context) error
}

// Prober says whether a collection exists at a URI of its scheme, without
// opening or creating it.
type Prober func(ctx context.Context, uri string) (bool, error)

var (
	probersMu sync.RWMutex
	probers   = map[string]Prober{}
)

// RegisterProber makes Exists answer for a URI scheme.
func RegisterProber(scheme string, p Prober) {
	probersMu.Lock()
	defer probersMu.Unlock()
	if _, dup := probers[scheme]; dup {
		panic("store: RegisterProber called twice for scheme " + scheme)
	}
	probers[scheme] = p
}

// Exists reports whether the collection at uri exists. A scheme without a
// prober is opened (without Create) to find out.
func Exists(ctx context.Context, uri string) (bool, error) {
	scheme, target := ParseURI(uri)
	probersMu.RLock()
	p, ok := probers[scheme]
	probersMu.RUnlock()
	if ok {
		return p(ctx, target)
	}
	st, err := Open(ctx, uri, Options{})
	if err != nil {
		return false, nil
	}
	return true, st.Close()
}
