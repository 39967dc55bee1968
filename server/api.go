package server

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/distill-rag/distill"
	"github.com/distill-rag/distill/ingest"
	"github.com/distill-rag/distill/store"
)

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// readyz is ready when the server is not stopping and its default
// collection answers.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	if s.stopping.Load() {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "stopping"})
		return
	}
	c, release, err := s.cols.acquire(r.Context(), s.cfg.DefaultCollection)
	if err == nil {
		_, err = c.eng.Store().Splits(r.Context())
		release()
	}
	if err != nil {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "reason": err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

// withCollection runs fn with the collection the path names.
func (s *Server) withCollection(w http.ResponseWriter, r *http.Request, fn func(c *collection) error) {
	c, release, err := s.cols.acquire(r.Context(), r.PathValue("collection"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	defer release()
	if err := fn(c); err != nil {
		s.writeError(w, r, err)
	}
}

// techniquesBody is `distill techniques --json`.
type techniquesBody struct {
	Techniques []distill.TechniqueInfo `json:"techniques"`
}

func (s *Server) listTechniques(w http.ResponseWriter, r *http.Request) {
	c, release, err := s.cols.acquire(r.Context(), s.cfg.DefaultCollection)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	defer release()
	writeJSON(w, http.StatusOK, techniquesBody{c.eng.Techniques()})
}

// CollectionInfo describes a collection.
type CollectionInfo struct {
	Name      string `json:"name"`
	Default   bool   `json:"default"`
	Documents int    `json:"documents"`
	Pages     int    `json:"pages"`
	Chunks    int    `json:"chunks"`
}

func (s *Server) collectionInfo(r *http.Request, c *collection) (CollectionInfo, error) {
	docs, err := c.eng.Documents(r.Context())
	if err != nil {
		return CollectionInfo{}, err
	}
	info := CollectionInfo{Name: c.name, Default: c.name == s.cfg.DefaultCollection, Documents: len(docs)}
	for _, d := range docs {
		info.Pages += d.Pages
		info.Chunks += d.Chunks
	}
	return info, nil
}

func (s *Server) listCollections(w http.ResponseWriter, r *http.Request) {
	names, err := s.cols.names()
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := struct {
		Collections []CollectionInfo `json:"collections"`
	}{[]CollectionInfo{}}
	for _, name := range names {
		c, release, err := s.cols.acquire(r.Context(), name)
		if err != nil {
			continue // deleted meanwhile
		}
		info, err := s.collectionInfo(r, c)
		release()
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		out.Collections = append(out.Collections, info)
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) createCollection(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Name string `json:"name"`
	}
	if err := decodeJSON(r, &req, true); err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.cols.create(r.Context(), req.Name); err != nil {
		s.writeError(w, r, err)
		return
	}
	c, release, err := s.cols.acquire(r.Context(), req.Name)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	defer release()
	info, err := s.collectionInfo(r, c)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Location", "/v1/collections/"+req.Name)
	writeJSON(w, http.StatusCreated, info)
}

func (s *Server) getCollection(w http.ResponseWriter, r *http.Request) {
	s.withCollection(w, r, func(c *collection) error {
		info, err := s.collectionInfo(r, c)
		if err == nil {
			writeJSON(w, http.StatusOK, info)
		}
		return err
	})
}

func (s *Server) deleteCollection(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("collection")
	if name == s.cfg.DefaultCollection {
		s.writeError(w, r, conflict("the default collection %q cannot be deleted; delete its documents instead", name))
		return
	}
	if err := s.cols.remove(r.Context(), name); err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"deleted": name})
}

func (s *Server) listDocuments(w http.ResponseWriter, r *http.Request) {
	s.withCollection(w, r, func(c *collection) error {
		docs, err := c.eng.Documents(r.Context())
		if err == nil {
			writeJSON(w, http.StatusOK, struct {
				Documents []store.DocumentInfo `json:"documents"`
			}{docs})
		}
		return err
	})
}

// findDocument returns the document with the id in the path.
func findDocument(r *http.Request, c *collection) (store.DocumentInfo, error) {
	id := r.PathValue("doc_id")
	docs, err := c.eng.Documents(r.Context())
	if err != nil {
		return store.DocumentInfo{}, err
	}
	for _, d := range docs {
		if d.ID == id {
			return d, nil
		}
	}
	return store.DocumentInfo{}, notFound("no document %q in collection %q", id, c.name)
}

func (s *Server) getDocument(w http.ResponseWriter, r *http.Request) {
	s.withCollection(w, r, func(c *collection) error {
		d, err := findDocument(r, c)
		if err == nil {
			writeJSON(w, http.StatusOK, d)
		}
		return err
	})
}

func (s *Server) deleteDocument(w http.ResponseWriter, r *http.Request) {
	s.withCollection(w, r, func(c *collection) error {
		d, err := findDocument(r, c)
		if err != nil {
			return err
		}
		if _, err := c.eng.Store().Delete(r.Context(), d.ID); err != nil {
			return err
		}
		// `distill rm --json`
		writeJSON(w, http.StatusOK, struct {
			Removed []store.DocumentInfo `json:"removed"`
		}{[]store.DocumentInfo{d}})
		return nil
	})
}

// PageText is one page of a document, for showing a passage in place.
type PageText struct {
	DocID  string `json:"doc_id"`
	Source string `json:"source"`
	Page   int    `json:"page"`
	Text   string `json:"text"`
}

func (s *Server) getPage(w http.ResponseWriter, r *http.Request) {
	s.withCollection(w, r, func(c *collection) error {
		d, err := findDocument(r, c)
		if err != nil {
			return err
		}
		n, err := strconv.Atoi(r.PathValue("page"))
		if err != nil || n < 1 {
			return badRequest("page %q: want a page number from 1", r.PathValue("page"))
		}
		text, err := c.eng.Store().Page(r.Context(), d.ID, n)
		if errors.Is(err, store.ErrNotFound) {
			return notFound("document %q has no page %d", d.ID, n)
		}
		if err == nil {
			writeJSON(w, http.StatusOK, PageText{DocID: d.ID, Source: d.Source, Page: n, Text: text})
		}
		return err
	})
}

// addDocuments ingests uploaded files, texts or allowed server paths.
// Small uploads are ingested before the answer (200 with the report of
// `distill ingest --json`); large ones, and server paths, become a job
// (202 with the job to poll). ?async=true or false decides instead.
//
// The body is received without holding the collection, so that deleting
// it does not wait for a slow client; the ingest then holds it, under the
// collection's write context, which a delete ends: an upload answered 200
// is stored, and one the delete overtook fails with 409.
func (s *Server) addDocuments(w http.ResponseWriter, r *http.Request) {
	var async bool
	switch v := r.URL.Query().Get("async"); v {
	case "":
	case "true", "1", "false", "0":
		async = v == "true" || v == "1"
	default:
		s.writeError(w, r, badRequest("async=%q: want true or false", v))
		return
	}
	name := r.PathValue("collection")
	_, release, err := s.cols.acquire(r.Context(), name)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	release()
	// Refuse a job before receiving its body when none can start.
	if (async || (r.URL.Query().Get("async") == "" && r.ContentLength > s.cfg.SyncUpload)) && s.jobs.full(s.cfg.MaxJobs) {
		s.writeError(w, r, tooManyJobs(s.cfg.MaxJobs))
		return
	}
	u, err := s.readUpload(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if r.URL.Query().Get("async") == "" {
		async = u.bytes > s.cfg.SyncUpload || len(u.paths) > 0
	}
	if !async {
		// Wait for a turn before holding the collection: a delete does
		// not wait for uploads queued behind others.
		turn, err := s.ingests.acquire(r)
		if err != nil {
			u.cleanup()
			s.writeError(w, r, err)
			return
		}
		defer turn()
	}
	c, release, err := s.cols.acquire(r.Context(), name)
	if err != nil {
		u.cleanup()
		s.writeError(w, r, err)
		return
	}
	defer release()
	observe := func(p ingest.Progress) { s.metrics.observeIngest(p.File) }
	if !async {
		defer u.cleanup()
		opts := u.opts
		opts.Progress = observe
		ctx, done := c.writeContext(r.Context())
		defer done()
		rep, err := c.eng.Ingest(ctx, append(u.files, u.paths...), opts)
		if err = writeError(ctx, err); err != nil {
			s.writeError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, rep)
		// Send the answer while still holding the collection: a delete
		// waiting for it answers only after the client has its 200.
		http.NewResponseController(w).Flush()
		return
	}
	// The job holds the collection until it ends, so that deleting the
	// collection stops it and waits for it.
	job, err := s.startIngestJob(c, u, observe)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Location", "/v1/jobs/"+job.ID)
	writeJSON(w, http.StatusAccepted, job)
}

func (s *Server) startIngestJob(c *collection, u *upload, observe func(ingest.Progress)) (*Job, error) {
	if s.stopping.Load() {
		u.cleanup()
		return nil, &apiError{Status: http.StatusServiceUnavailable, Type: typeUnavailable, Message: "the server is stopping"}
	}
	if err := s.cols.startJob(c); err != nil {
		u.cleanup()
		return nil, err
	}
	files := len(u.files)
	if len(u.paths) > 0 {
		// A server path may be a directory: count the files it holds.
		walked, _ := ingest.Walk(u.paths)
		files += len(walked)
	}
	job, err := s.jobs.start(s.cfg.MaxJobs, c.name, files, u.bytes, func(progress func(ingest.Progress)) (*ingest.Report, error) {
		defer func() {
			u.cleanup()
			s.metrics.jobs.Dec()
			s.cols.endJob(c)
		}()
		opts := u.opts
		opts.Progress = func(p ingest.Progress) {
			observe(p)
			progress(p)
		}
		ctx, done := c.writeContext(s.base)
		defer done()
		rep, err := c.eng.Ingest(ctx, append(u.files, u.paths...), opts)
		return rep, writeError(ctx, err)
	})
	if err != nil {
		u.cleanup()
		s.cols.endJob(c)
		return nil, err
	}
	s.metrics.jobs.Inc()
	return job, nil
}

func (s *Server) getJob(w http.ResponseWriter, r *http.Request) {
	j, ok := s.jobs.get(r.PathValue("job_id"))
	if !ok {
		s.writeError(w, r, notFound("no job %q (jobs are kept in memory for an hour after they finish)", r.PathValue("job_id")))
		return
	}
	writeJSON(w, http.StatusOK, j)
}

// askRequest is the body of POST ask.
type askRequest struct {
	Question  string   `json:"question"`
	Technique string   `json:"technique"`
	Stream    bool     `json:"stream"`
	Where     []string `json:"where"`
}

// defaultTechnique is the CLI's.
const defaultTechnique = "parent"

func (s *Server) ask(w http.ResponseWriter, r *http.Request) {
	var req askRequest
	if err := decodeJSON(r, &req, true); err != nil {
		s.writeError(w, r, err)
		return
	}
	if req.Technique == "" {
		req.Technique = defaultTechnique
	}
	where, err := parseWhere(req.Where)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.withCollection(w, r, func(c *collection) error {
		if !req.Stream {
			res, err := c.eng.Ask(r.Context(), req.Question, req.Technique, distill.Where(where))
			if err != nil {
				return err
			}
			s.metrics.observeAnswer(c.eng.LLMName(), res)
			writeJSON(w, http.StatusOK, res)
			return nil
		}
		return s.streamAsk(w, r, c.eng, req.Question, req.Technique, distill.Where(where))
	})
}

// compareRequest is the body of POST compare.
type compareRequest struct {
	Question   string   `json:"question"`
	Techniques []string `json:"techniques"`
	Where      []string `json:"where"`
}

func (s *Server) compare(w http.ResponseWriter, r *http.Request) {
	var req compareRequest
	if err := decodeJSON(r, &req, true); err != nil {
		s.writeError(w, r, err)
		return
	}
	where, err := parseWhere(req.Where)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.withCollection(w, r, func(c *collection) error {
		cmp, err := c.eng.Compare(r.Context(), req.Question, req.Techniques, distill.Where(where))
		if err != nil {
			return err
		}
		for _, res := range cmp.Results {
			s.metrics.observeAnswer(c.eng.LLMName(), res)
		}
		writeJSON(w, http.StatusOK, cmp)
		return nil
	})
}

// parseWhere parses a request's "where" filter expressions.
func parseWhere(exprs []string) (*store.Filter, error) {
	f, err := distill.ParseWhere(exprs)
	if err != nil {
		return nil, err // a *store.FilterError: 400 invalid_filter
	}
	return f, nil
}

// trimmed reports whether s has anything but spaces.
func trimmed(s string) bool { return strings.TrimSpace(s) != "" }
