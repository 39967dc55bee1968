#!/usr/bin/env bash
# The test command: every package's tests with the race detector, then each
# fuzz target for a short run (FUZZTIME, default 3s). A longer fuzz run:
#   go test -run '^$' -fuzz '^FuzzSplit$' -fuzztime 10m ./split
set -euo pipefail
cd "$(dirname "$0")/.."

go vet ./...
go test -race -count=1 -timeout 30m ./...

fuzztime="${FUZZTIME:-3s}"
for pkg in $(go list ./...); do
	for target in $(go test -list '^Fuzz' "$pkg" 2>/dev/null | grep '^Fuzz' || true); do
		echo "fuzz $pkg $target ($fuzztime)"
		go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" "$pkg" >/dev/null
	done
done
echo "all tests passed"
