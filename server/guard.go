package server

import (
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// guard decides whether a request may reach a route at all, before the
// API key is checked, so that a web page the user visits cannot drive a
// server on localhost:
//
//   - A request whose Origin is neither the server's own nor one of
//     Config.CORSOrigins is refused with 403. Browsers send Origin with
//     every cross-origin request that can change anything (and with
//     same-origin POSTs), so this refuses form posts and fetches from
//     other sites; curl and SDKs send none and pass.
//   - A keyless server answers only Host names that are loopback names or
//     addresses (403 otherwise): a DNS-rebinding page reaches 127.0.0.1
//     under its own name, which this refuses.
//
// It answers CORS preflights (OPTIONS with Origin) itself. ok is false when
// it wrote the answer.
func (s *Server) guard(w http.ResponseWriter, r *http.Request, allow string) (ok bool) {
	if len(s.keys) == 0 && !s.hostAllowed(r.Host) {
		s.writeError(w, r, &apiError{Status: http.StatusForbidden, Type: typePermission, Code: "host_not_allowed",
			Message: "Host " + quoteHost(r.Host) + " is not a loopback name or address: a server without API keys answers only localhost, 127.0.0.1 and ::1 (this refuses DNS rebinding); give the server an API key to serve other names"})
		return false
	}
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	cors := slices.Contains(s.cfg.CORSOrigins, origin) || slices.Contains(s.cfg.CORSOrigins, "*")
	if !cors && !sameOrigin(origin, r.Host) {
		s.writeError(w, r, &apiError{Status: http.StatusForbidden, Type: typePermission, Code: "origin_not_allowed",
			Message: "requests from web pages of origin " + origin + " are refused; start distill serve with --cors-origin " + origin + " to allow them"})
		return false
	}
	if cors {
		h := w.Header()
		h.Set("Access-Control-Allow-Origin", origin)
		h.Add("Vary", "Origin")
		h.Set("Access-Control-Expose-Headers", "Location, Retry-After")
	}
	if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
		if cors {
			h := w.Header()
			h.Set("Access-Control-Allow-Methods", allow)
			h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type")
			h.Set("Access-Control-Max-Age", "600")
		}
		w.WriteHeader(http.StatusNoContent)
		return false
	}
	return true
}

// sameOrigin reports whether an Origin header names the server the
// request came to (the same host and port as its Host header).
func sameOrigin(origin, host string) bool {
	u, err := url.Parse(origin)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return false // including "null", sent by sandboxed frames and file: pages
	}
	return strings.EqualFold(withPort(u.Host, u.Scheme), withPort(host, u.Scheme))
}

func withPort(host, scheme string) string {
	if _, _, err := net.SplitHostPort(host); err == nil {
		return host
	}
	if scheme == "https" {
		return net.JoinHostPort(strings.Trim(host, "[]"), "443")
	}
	return net.JoinHostPort(strings.Trim(host, "[]"), "80")
}

// hostAllowed reports whether a keyless server answers a Host header:
// loopback names and addresses, and, when the server was told to listen
// beyond loopback without a key (InsecureNoKey), any IP address, which a
// rebinding page cannot send either (its requests carry its own name).
func (s *Server) hostAllowed(host string) bool {
	h := host
	if hh, _, err := net.SplitHostPort(host); err == nil {
		h = hh
	}
	h = strings.TrimSuffix(strings.ToLower(strings.Trim(h, "[]")), ".")
	if h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return true
	}
	ip := net.ParseIP(h)
	if ip == nil {
		return false
	}
	return ip.IsLoopback() || s.cfg.InsecureNoKey
}

func quoteHost(h string) string {
	if h == "" {
		return "(none)"
	}
	return "\"" + h + "\""
}
