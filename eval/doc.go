// Package eval measures techniques: ranking metrics on BEIR-format
// benchmarks (with trec_eval's definitions), answer metrics on question
// sets, an optional LLM judge in the spirit of ragas, latency and cost
// summaries, and self-contained HTML reports. It runs everything through
// the distill Engine, so techniques, models and cost accounting are the
// ones the command line and the server use.
package eval
