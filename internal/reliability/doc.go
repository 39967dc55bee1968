// Package reliability holds the end-to-end reliability tests: they run the
// distill binary as child processes on one collection, kill it at random
// moments (crash_test.go) and run several at once (concurrency_test.go),
// and verify with distill check and distill ls that nothing was corrupted,
// lost or left half-written. It has no code of its own.
package reliability
