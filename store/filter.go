package store

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/distill-rag/distill/document"
)

// Op is a filter condition's comparison.
type Op string

// The comparisons a condition can make.
const (
	OpEq   Op = "="
	OpNe   Op = "!="
	OpGe   Op = ">="
	OpLe   Op = "<="
	OpGt   Op = ">"
	OpLt   Op = "<"
	OpGlob Op = "~"
)

// Built-in filter keys; any other key names a --meta field.
const (
	KeySource   = "source"
	KeyDocID    = "doc_id"
	KeyPage     = "page"
	KeyType     = "type"
	KeyIngested = "ingested"
)

// BuiltinKeys are the keys every document has.
var BuiltinKeys = []string{KeySource, KeyDocID, KeyPage, KeyType, KeyIngested}

// Cond is one parsed condition: KEY OP VALUE.
type Cond struct {
	Expr  string // as written
	Key   string
	Op    Op
	Value string
	// For <, <=, >, >=: the value as a number or a date (IsDate).
	Num    float64
	Date   time.Time
	IsDate bool
	glob   *regexp.Regexp
}

// Filter is a conjunction of conditions on documents (source, doc_id, type,
// ingested, meta keys) and pages (page). The zero or nil Filter matches
// everything.
type Filter struct {
	Conds []Cond
}

// FilterError is a malformed filter expression, or a key no document has.
type FilterError struct {
	Expr   string
	Key    string
	Reason string
}

func (e *FilterError) Error() string {
	if e.Key != "" {
		return fmt.Sprintf("filter %q: key %q %s", e.Expr, e.Key, e.Reason)
	}
	return fmt.Sprintf("filter %q: %s", e.Expr, e.Reason)
}

// UserError marks the error as the user's to fix.
func (e *FilterError) UserError() {}

// Empty reports whether f has no conditions (matches everything).
func (f *Filter) Empty() bool { return f == nil || len(f.Conds) == 0 }

// String lists the conditions as written, ANDed.
func (f *Filter) String() string {
	if f.Empty() {
		return ""
	}
	var s []string
	for _, c := range f.Conds {
		s = append(s, c.Expr)
	}
	return strings.Join(s, " AND ")
}

var keyPattern = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.\-]*$`)

// ParseFilter parses expressions (ANDed) of the form KEY=VALUE, KEY!=VALUE,
// KEY>=N, KEY<=N, KEY>N, KEY<N (N a number or an ISO date) and KEY~GLOB
// (* any run of characters, '/' included; ? one character; [...] a class).
// No expressions yield a nil Filter.
func ParseFilter(exprs []string) (*Filter, error) {
	if len(exprs) == 0 {
		return nil, nil
	}
	f := &Filter{}
	for _, e := range exprs {
		c, err := parseCond(e)
		if err != nil {
			return nil, err
		}
		f.Conds = append(f.Conds, c)
	}
	return f, nil
}

func parseCond(expr string) (Cond, error) {
	i := strings.IndexAny(expr, "!=<>~")
	if i < 0 {
		return Cond{}, &FilterError{Expr: expr, Reason: "has no operator: write KEY=VALUE, KEY!=VALUE, KEY>=N, KEY<=N, KEY>N, KEY<N or KEY~GLOB"}
	}
	key := strings.TrimSpace(expr[:i])
	rest := expr[i:]
	var op Op
	switch {
	case strings.HasPrefix(rest, "!="):
		op = OpNe
	case strings.HasPrefix(rest, ">="):
		op = OpGe
	case strings.HasPrefix(rest, "<="):
		op = OpLe
	case rest[0] == '=':
		op = OpEq
	case rest[0] == '>':
		op = OpGt
	case rest[0] == '<':
		op = OpLt
	case rest[0] == '~':
		op = OpGlob
	default:
		return Cond{}, &FilterError{Expr: expr, Reason: "has no operator: '!' must be followed by '='"}
	}
	value := strings.TrimSpace(rest[len(op):])
	if key == "" {
		return Cond{}, &FilterError{Expr: expr, Reason: "has no key before " + string(op)}
	}
	if !keyPattern.MatchString(key) {
		return Cond{}, &FilterError{Expr: expr, Key: key, Reason: "is not a valid key (letters, digits, _ . -)"}
	}
	c := Cond{Expr: expr, Key: key, Op: op, Value: value}
	switch op {
	case OpGe, OpLe, OpGt, OpLt:
		if n, ok := parseNumber(value); ok {
			c.Num = n
		} else if t, ok := parseDate(value); ok {
			c.Date, c.IsDate = t, true
		} else {
			return Cond{}, &FilterError{Expr: expr, Key: key, Reason: fmt.Sprintf("compares with %s %q, which is neither a number nor an ISO date (2006-01-02)", op, value)}
		}
		if key == KeyIngested && !c.IsDate {
			return Cond{}, &FilterError{Expr: expr, Key: key, Reason: "is a date: compare it with an ISO date (2006-01-02)"}
		}
		if key == KeyPage && c.IsDate {
			return Cond{}, &FilterError{Expr: expr, Key: key, Reason: "is a number"}
		}
	case OpGlob:
		re, err := compileGlob(value)
		if err != nil {
			return Cond{}, &FilterError{Expr: expr, Key: key, Reason: "has a malformed glob: " + err.Error()}
		}
		c.glob = re
	case OpEq, OpNe:
		if key == KeyPage {
			if _, ok := parseNumber(value); !ok {
				return Cond{}, &FilterError{Expr: expr, Key: key, Reason: fmt.Sprintf("is a number, not %q", value)}
			}
		}
	}
	return c, nil
}

func parseNumber(s string) (float64, bool) {
	n, err := strconv.ParseFloat(s, 64)
	return n, err == nil
}

// parseDate reads an ISO date or date-time.
func parseDate(s string) (time.Time, bool) {
	for _, layout := range []string{"2006-01-02", time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// compileGlob turns a glob into an anchored regexp.
func compileGlob(g string) (*regexp.Regexp, error) {
	var b strings.Builder
	b.WriteString(`^`)
	for i := 0; i < len(g); i++ {
		switch ch := g[i]; ch {
		case '*':
			b.WriteString(`.*`)
		case '?':
			b.WriteString(`.`)
		case '[':
			j := strings.IndexByte(g[i+1:], ']')
			if j < 0 {
				return nil, fmt.Errorf("unclosed [ in %q", g)
			}
			class := g[i+1 : i+1+j]
			if strings.HasPrefix(class, "!") {
				class = "^" + class[1:]
			}
			b.WriteString("[" + strings.ReplaceAll(class, `\`, `\\`) + "]")
			i += j + 1
		case '\\':
			if i+1 < len(g) {
				i++
				b.WriteString(regexp.QuoteMeta(string(g[i])))
			} else {
				b.WriteString(`\\`)
			}
		default:
			b.WriteString(regexp.QuoteMeta(string(ch)))
		}
	}
	b.WriteString(`$`)
	return regexp.Compile(b.String())
}

// match compares a field's value with the condition; a field a document
// does not have matches only !=.
func (c *Cond) match(v string, has bool) bool {
	if !has {
		return c.Op == OpNe
	}
	switch c.Op {
	case OpEq, OpNe:
		eq := v == c.Value
		if !eq {
			a, ok1 := parseNumber(v)
			b, ok2 := parseNumber(c.Value)
			eq = ok1 && ok2 && a == b
		}
		return eq == (c.Op == OpEq)
	case OpGlob:
		return c.glob.MatchString(v)
	}
	var cmp int
	if c.IsDate {
		t, ok := parseDate(v)
		if !ok {
			return false
		}
		cmp = t.Compare(c.Date)
	} else {
		n, ok := parseNumber(v)
		if !ok {
			return false
		}
		switch {
		case n < c.Num:
			cmp = -1
		case n > c.Num:
			cmp = 1
		}
	}
	switch c.Op {
	case OpGe:
		return cmp >= 0
	case OpLe:
		return cmp <= 0
	case OpGt:
		return cmp > 0
	default:
		return cmp < 0
	}
}

func (c *Cond) docValue(d *DocumentInfo) (string, bool) {
	switch c.Key {
	case KeySource:
		return d.Source, true
	case KeyDocID:
		return d.ID, true
	case KeyType:
		return d.Type, true
	case KeyIngested:
		return d.Ingested.UTC().Format(time.RFC3339Nano), true
	}
	v, ok := d.Meta[c.Key]
	return v, ok
}

// MatchDocument reports whether a document passes the document-level
// conditions (every key but page).
func (f *Filter) MatchDocument(d DocumentInfo) bool {
	if f == nil {
		return true
	}
	for i := range f.Conds {
		c := &f.Conds[i]
		if c.Key == KeyPage {
			continue
		}
		if !c.match(c.docValue(&d)) {
			return false
		}
	}
	return true
}

// HasPage reports whether f has page conditions.
func (f *Filter) HasPage() bool {
	if f == nil {
		return false
	}
	for _, c := range f.Conds {
		if c.Key == KeyPage {
			return true
		}
	}
	return false
}

// MatchPage reports whether a page number passes the page conditions.
func (f *Filter) MatchPage(n int) bool {
	if f == nil {
		return true
	}
	for i := range f.Conds {
		c := &f.Conds[i]
		if c.Key == KeyPage && !c.match(strconv.Itoa(n), true) {
			return false
		}
	}
	return true
}

// Check fails with a *FilterError naming a key that is neither built in
// nor a meta key of any of docs.
func (f *Filter) Check(docs []DocumentInfo) error {
	if f == nil {
		return nil
	}
	known := map[string]bool{}
	for _, k := range BuiltinKeys {
		known[k] = true
	}
	for _, d := range docs {
		for k := range d.Meta {
			known[k] = true
		}
	}
	for _, c := range f.Conds {
		if !known[c.Key] {
			keys := make([]string, 0, len(known))
			for k := range known {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			return &FilterError{Expr: c.Expr, Key: c.Key, Reason: "is not a key of any document (keys: " + strings.Join(keys, ", ") + ")"}
		}
	}
	return nil
}

// FilterSearcher is a store that applies a filter inside its searches: the
// top k are the best k chunks that pass the filter, not the passing part of
// the unfiltered top k. Both built-in stores implement it.
type FilterSearcher interface {
	// SearchTextFiltered is SearchText over the chunks f allows; it fails
	// with a *FilterError for a key no document has.
	SearchTextFiltered(ctx context.Context, split, query string, k int, f *Filter) ([]document.Passage, error)
	// SearchVectorFiltered is SearchVector over the chunks f allows.
	SearchVectorFiltered(ctx context.Context, split string, vec []float32, k int, f *Filter) ([]document.Passage, error)
}

type filterKey struct{}

// WithFilter returns a context whose searches apply f. The engine sets it
// for one query; retrievers read it with FilterFrom and pass it to the
// store, so that retrievers built once per technique need no per-query
// state.
func WithFilter(ctx context.Context, f *Filter) context.Context {
	if f.Empty() {
		return ctx
	}
	return context.WithValue(ctx, filterKey{}, f)
}

// FilterFrom returns the filter WithFilter set, or nil.
func FilterFrom(ctx context.Context) *Filter {
	f, _ := ctx.Value(filterKey{}).(*Filter)
	return f
}

// NoFilterError reports a store that cannot apply filters.
type NoFilterError struct{ Store string }

func (e *NoFilterError) Error() string {
	return fmt.Sprintf("this store (%s) cannot apply filters", e.Store)
}

// UserError marks the error as the user's to fix.
func (e *NoFilterError) UserError() {}
