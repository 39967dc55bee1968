package server

import (
	"net/http"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/distill-rag/distill"
	"github.com/distill-rag/distill/ingest"
)

// metrics are the server's Prometheus metrics, in a registry of its own so
// that two servers in one process (tests) do not share counts.
type metrics struct {
	reg       *prometheus.Registry
	requests  *prometheus.CounterVec
	latency   *prometheus.HistogramVec
	inflight  prometheus.Gauge
	llmCalls  *prometheus.CounterVec
	llmTokens *prometheus.CounterVec
	answers   *prometheus.CounterVec
	files     *prometheus.CounterVec
	pages     prometheus.Counter
	chunks    prometheus.Counter
	bytes     prometheus.Counter
	jobs      prometheus.Gauge
	handler   http.Handler
}

func newMetrics() *metrics {
	m := &metrics{reg: prometheus.NewRegistry()}
	f := func(c prometheus.Collector) { m.reg.MustRegister(c) }
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "distill_http_requests_total",
		Help: "HTTP requests by route and status code."}, []string{"route", "code"})
	m.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "distill_http_request_duration_seconds",
		Help:    "HTTP request latency by route (streams: until the last event).",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120}}, []string{"route"})
	m.inflight = prometheus.NewGauge(prometheus.GaugeOpts{Name: "distill_http_requests_in_flight", Help: "Requests being served."})
	m.llmCalls = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "distill_llm_calls_total",
		Help: "Language model calls made to answer requests, by provider and model."}, []string{"provider", "model"})
	m.llmTokens = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "distill_llm_tokens_total",
		Help: "Language model tokens by provider, model and kind (prompt or completion)."}, []string{"provider", "model", "kind"})
	m.answers = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "distill_answers_total",
		Help: "Answers given, by technique and mode (extractive or llm)."}, []string{"technique", "mode"})
	m.files = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "distill_ingest_files_total",
		Help: "Files ingested, by outcome (added, updated, unchanged, failed)."}, []string{"status"})
	m.pages = prometheus.NewCounter(prometheus.CounterOpts{Name: "distill_ingest_pages_total", Help: "Pages written by ingestion."})
	m.chunks = prometheus.NewCounter(prometheus.CounterOpts{Name: "distill_ingest_chunks_total", Help: "Chunks written by ingestion."})
	m.bytes = prometheus.NewCounter(prometheus.CounterOpts{Name: "distill_ingest_bytes_total", Help: "Bytes of files read by ingestion."})
	m.jobs = prometheus.NewGauge(prometheus.GaugeOpts{Name: "distill_ingest_jobs_running", Help: "Ingestion jobs running."})
	for _, c := range []prometheus.Collector{m.requests, m.latency, m.inflight, m.llmCalls, m.llmTokens, m.answers,
		m.files, m.pages, m.chunks, m.bytes, m.jobs,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})} {
		f(c)
	}
	m.handler = promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
	return m
}

func (m *metrics) serve(w http.ResponseWriter, r *http.Request) { m.handler.ServeHTTP(w, r) }

// observeAnswer counts an answer and the model calls it took. llm is the
// engine's model name ("ollama:mixtral"); its scheme is the provider.
func (m *metrics) observeAnswer(llm string, res *distill.Result) {
	m.answers.WithLabelValues(res.Technique, res.Mode).Inc()
	if res.Stats.LLMCalls == 0 {
		return
	}
	provider, _, _ := strings.Cut(llm, ":")
	if provider == "" {
		provider = "unknown"
	}
	m.llmCalls.WithLabelValues(provider, llm).Add(float64(res.Stats.LLMCalls))
	m.llmTokens.WithLabelValues(provider, llm, "prompt").Add(float64(res.Stats.PromptTokens))
	m.llmTokens.WithLabelValues(provider, llm, "completion").Add(float64(res.Stats.CompletionTokens))
}

// observeIngest counts one ingested file.
func (m *metrics) observeIngest(f ingest.FileResult) {
	m.files.WithLabelValues(string(f.Status)).Inc()
	if f.Status == ingest.Added || f.Status == ingest.Updated {
		m.pages.Add(float64(f.Pages))
		m.chunks.Add(float64(f.Chunks))
	}
	m.bytes.Add(float64(f.Bytes))
}
