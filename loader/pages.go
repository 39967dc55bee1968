package loader

import (
	"fmt"
	"strconv"
	"strings"
)

// PageRange is a set of page numbers written like "1-3,5,9-": ranges and
// single pages, counting from 1; an open end runs to the last page.
type PageRange struct {
	spans []pageSpan
}

type pageSpan struct{ from, to int } // to == 0: open end

// ParsePageRange parses a page range; "" means every page.
func ParsePageRange(s string) (PageRange, error) {
	var r PageRange
	s = strings.TrimSpace(s)
	if s == "" {
		return r, nil
	}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		from, to, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(strings.TrimSpace(from))
		if err != nil || a < 1 {
			return r, fmt.Errorf("bad page range %q: %q is not a page number from 1", s, part)
		}
		span := pageSpan{a, a}
		if isRange {
			span.to = 0
			if t := strings.TrimSpace(to); t != "" {
				b, err := strconv.Atoi(t)
				if err != nil || b < a {
					return r, fmt.Errorf("bad page range %q: %q does not end at a page at or after %d", s, part, a)
				}
				span.to = b
			}
		}
		r.spans = append(r.spans, span)
	}
	return r, nil
}

// All reports whether the range keeps every page.
func (r PageRange) All() bool { return len(r.spans) == 0 }

// Contains reports whether page n is kept.
func (r PageRange) Contains(n int) bool {
	if r.All() {
		return true
	}
	for _, s := range r.spans {
		if n >= s.from && (s.to == 0 || n <= s.to) {
			return true
		}
	}
	return false
}

// Last returns the last page kept, or 0 when the range is open-ended.
func (r PageRange) Last() int {
	last := 0
	for _, s := range r.spans {
		if s.to == 0 {
			return 0
		}
		last = max(last, s.to)
	}
	return last
}

func (r PageRange) String() string {
	var parts []string
	for _, s := range r.spans {
		switch {
		case s.to == s.from:
			parts = append(parts, strconv.Itoa(s.from))
		case s.to == 0:
			parts = append(parts, fmt.Sprintf("%d-", s.from))
		default:
			parts = append(parts, fmt.Sprintf("%d-%d", s.from, s.to))
		}
	}
	return strings.Join(parts, ",")
}
