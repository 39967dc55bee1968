// Package faults holds no code, only tests: every model provider family
// (OpenAI-compatible, Ollama, TEI, SageMaker, Bedrock, rerankers) called
// through a fault-injecting proxy (internal/testsupport/faultproxy) in
// front of its fake server, to show bounded retries, errors that name the
// provider, endpoint and status, streams cut mid-answer failing rather
// than hanging or passing as whole, cancellation reaching the request in
// flight, and no goroutine left behind.
package faults
