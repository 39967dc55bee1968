package model

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// FuzzParseURI checks that any string either parses or fails with a
// *URIError naming it, that a parsed URI has a lower-case scheme without
// ':' and a target taken from the URI, and that printing it back parses
// to the same URI. Seeds are in testdata/fuzz/FuzzParseURI.
func FuzzParseURI(f *testing.F) {
	for _, s := range []string{"ollama:mixtral", "openai:gpt-4o-mini?temperature=0.2&max_tokens=512", "tei:http://127.0.0.1:8080/embed?x=1", "none", "  Bedrock:anthropic.claude-v2  ", "a:b?c?d=e", ":x", "x:%zz"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		u, err := ParseURI(raw)
		if err != nil {
			var ue *URIError
			if !errors.As(err, &ue) || ue.URI != raw {
				t.Fatalf("ParseURI(%q): error %v is not a URIError naming the URI", raw, err)
			}
			return
		}
		if u.Scheme == "none" && u.Target == "" {
			return
		}
		if u.Scheme == "" || u.Scheme != strings.ToLower(u.Scheme) || strings.Contains(u.Scheme, ":") {
			t.Fatalf("ParseURI(%q): scheme %q", raw, u.Scheme)
		}
		if !strings.Contains(raw, u.Target) {
			t.Fatalf("ParseURI(%q): target %q is not from the URI", raw, u.Target)
		}
		// The query starts at the last '?', so always print one back.
		again := u.Scheme + ":" + u.Target + "?" + u.Options.Encode()
		v, err := ParseURI(again)
		if err != nil {
			t.Fatalf("ParseURI(%q) = %+v, printed back as %q, which does not parse: %v", raw, u, again, err)
		}
		if v.Scheme != u.Scheme || v.Target != u.Target || !reflect.DeepEqual(v.Options, u.Options) {
			t.Fatalf("ParseURI(%q) = %+v, but its print %q parses to %+v", raw, u, again, v)
		}
	})
}
