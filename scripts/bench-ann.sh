#!/usr/bin/env bash
# distill's ANN index against hnswlib and FAISS HNSW on the same generated
# vectors: distill's recall/latency curve from the Go benchmark, then the
# peers' from bench/annpeers/annpeers.py on the data the benchmark kept.
#   N=100000 scripts/bench-ann.sh
# Needs python3-numpy, and python3-hnswlib and python3-faiss for the peers
# (Debian packages; a missing one is skipped with a note).
set -euo pipefail
cd "$(dirname "$0")/.."
n="${N:-100000}"
dir="${DIR:-${TMPDIR:-/tmp}/distill-annbench-$n}"
echo "# distill (go test -bench Search ./ann, $n vectors, data kept in $dir)"
DISTILL_BENCH_VECTORS="$n" DISTILL_BENCH_KEEP="$dir" DISTILL_BENCH_EF="${EF:-16,32,64,128,256}" \
	go test -run '^$' -bench Search -benchtime "${QUERIES:-1000}x" ./ann | grep -E 'Benchmark|recall'
echo
# Debian's python3, where its python3-* packages are installed.
"${PYTHON:-/usr/bin/python3}" bench/annpeers/annpeers.py "$dir"
