package server_test

import (
	"regexp"
	"strings"
	"testing"
)

func TestPageIsSelfContained(t *testing.T) {
	e := start(t)
	r := e.do("GET", "/", nil)
	r.ok(t, 200, nil)
	page := string(r.body)
	if ct := r.header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("content type %q", ct)
	}
	if csp := r.header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "connect-src 'self'") {
		t.Errorf("CSP %q lets the page load from elsewhere", csp)
	}
	// No external assets: no src or href leaves the page, no import.
	if m := regexp.MustCompile(`(?i)(src|href)\s*=\s*["']?(https?:)?//|@import|url\(`).FindString(page); m != "" {
		t.Errorf("the page loads something from outside: %q", m)
	}
	// The page calls these routes; each must exist in the API.
	for _, call := range []string{`"/v1/collections"`, `"/v1/techniques"`, `coll("/documents")`, `coll("/ask")`, `"/v1/jobs/"`, `stream: true`} {
		if !strings.Contains(page, call) {
			t.Errorf("the page does not call %s", call)
		}
	}
	for _, path := range []string{"/v1/collections", "/v1/techniques", "/v1/collections/{collection}/documents", "/v1/collections/{collection}/ask", "/v1/jobs/{job_id}", "/v1/collections/{collection}/documents/{doc_id}"} {
		if spec.Paths.Find(path) == nil {
			t.Errorf("the page calls %s, which the API does not have", path)
		}
	}
	// Other paths than / are not the page.
	e.do("GET", "/index.html", nil).ok(t, 404, nil)
}
