package server

import (
	"context"
	"net/http"

	"github.com/distill-rag/distill"
	"github.com/distill-rag/distill/mcpserver"
)

// mcpHandler serves the MCP tools over streamable HTTP for the default
// collection, or the one ?collection= names; /mcp is behind the API keys
// like every other route.
func (s *Server) mcpHandler() http.HandlerFunc {
	h := mcpserver.NewHTTPHandler(func(r *http.Request) (string, mcpserver.Options) {
		name := mcpCollection(r, s.cfg.DefaultCollection)
		return name, mcpserver.Options{AllowWrites: s.cfg.MCPAllowWrites, Version: s.cfg.Version, DefaultTechnique: defaultTechnique,
			Acquire: func(ctx context.Context) (*distill.Engine, func(), error) {
				c, release, err := s.cols.acquire(ctx, name)
				if err != nil {
					return nil, nil, err
				}
				return c.eng, release, nil
			}}
	})
	return func(w http.ResponseWriter, r *http.Request) {
		// An unknown collection is a 404 here rather than an error in
		// every tool call.
		_, release, err := s.cols.acquire(r.Context(), mcpCollection(r, s.cfg.DefaultCollection))
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		release()
		h.ServeHTTP(w, r)
	}
}

func mcpCollection(r *http.Request, def string) string {
	if name := r.URL.Query().Get("collection"); name != "" {
		return name
	}
	return def
}
