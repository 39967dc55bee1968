package server

import (
	_ "embed"
	"net/http"
)

// openapiJSON describes every route; a test holds it to the route table
// and validates the responses of the HTTP tests against it.
//
//go:embed openapi.json
var openapiJSON []byte

// pageHTML is the web page: one file, no external assets.
//
//go:embed web/index.html
var pageHTML []byte

// OpenAPI returns the OpenAPI 3 document of the API.
func OpenAPI() []byte { return append([]byte(nil), openapiJSON...) }

func (s *Server) openAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Write(openapiJSON)
}

func (s *Server) page(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	// Everything the page needs is inline; nothing else may load.
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	w.Write(pageHTML)
}
