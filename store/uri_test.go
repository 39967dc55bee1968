package store

import (
	"strings"
	"testing"
)

func TestParseURI(t *testing.T) {
	tests := []struct{ uri, scheme, target string }{
		{"/home/me/notes", "sqlite", "/home/me/notes"},
		{"notes", "sqlite", "notes"},
		{"./a:b", "sqlite", "./a:b"},
		{"sqlite:/data/coll", "sqlite", "/data/coll"},
		{"file:/data/coll", "sqlite", "/data/coll"},
		{"file:relative/dir", "sqlite", "relative/dir"},
		{`C:\Users\me\coll`, "sqlite", `C:\Users\me\coll`},
		{"dir.v2:x", "sqlite", "dir.v2:x"},
		{"weaviate:http://localhost:8080/Letters", "weaviate", "weaviate:http://localhost:8080/Letters"},
		{"", "sqlite", ""},
	}
	for _, tt := range tests {
		t.Run(tt.uri, func(t *testing.T) {
			if scheme, target := ParseURI(tt.uri); scheme != tt.scheme || target != tt.target {
				t.Errorf("ParseURI(%q) = %q, %q; want %q, %q", tt.uri, scheme, target, tt.scheme, tt.target)
			}
		})
	}
}

// FuzzParseURI checks that any string parses to a scheme without the
// characters of a path, and that nothing is invented: the target is the
// URI or what follows its scheme. Seeds are in testdata/fuzz/FuzzParseURI.
func FuzzParseURI(f *testing.F) {
	f.Add("weaviate:http://localhost:8080/Letters?tenant=a")
	f.Add("file:/tmp/x")
	f.Fuzz(func(t *testing.T, uri string) {
		scheme, target := ParseURI(uri)
		if scheme == "" || strings.ContainsAny(scheme, `:/\.`) {
			t.Fatalf("ParseURI(%q) gives scheme %q", uri, scheme)
		}
		switch {
		case target == uri:
			if scheme != "sqlite" && !strings.HasPrefix(uri, scheme+":") {
				t.Fatalf("ParseURI(%q) = %q, %q: the scheme is not the URI's", uri, scheme, target)
			}
		case scheme == "sqlite" && (uri == "sqlite:"+target || uri == "file:"+target):
		default:
			t.Fatalf("ParseURI(%q) = %q, %q", uri, scheme, target)
		}
		if s2, t2 := ParseURI(scheme + ":" + target); scheme == "sqlite" && (s2 != "sqlite" || t2 != target) {
			t.Fatalf("sqlite:%s parses to %q, %q", target, s2, t2)
		}
	})
}
