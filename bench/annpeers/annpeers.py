#!/usr/bin/env python3
"""Recall/latency curves of hnswlib and FAISS HNSW on the vectors distill's
ANN benchmark generated, for comparison with distill's own curve.

  DISTILL_BENCH_VECTORS=100000 DISTILL_BENCH_KEEP=/tmp/annbench \
      go test -run - -bench Search ./ann        # distill's curve; saves the data
  python3 bench/annpeers/annpeers.py /tmp/annbench   # the peers on the same data

(scripts/bench-ann.sh runs both.) The directory holds vectors.f32 and
queries.f32, little-endian float32, unit vectors, the same the Go benchmark
searched; the graphs are built with distill's defaults (M 32,
efConstruction 128, inner product). Queries run one at a time on one
thread; recall@10 is against an exact inner-product scan. Libraries that
are not installed are skipped with a note (Debian: python3-hnswlib,
python3-faiss, python3-numpy).
"""
import os
import sys
import time

import numpy as np

M, EF_CONSTRUCTION, K = 32, 128, 10
EF_SEARCH = [16, 32, 64, 128, 256]


def rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def load(directory):
    queries = np.fromfile(os.path.join(directory, "queries.f32"), dtype="<f4")
    vectors = np.fromfile(os.path.join(directory, "vectors.f32"), dtype="<f4")
    # The dimension is what makes both files whole numbers of vectors; the
    # Go benchmark writes 200 queries.
    dim = queries.size // 200
    return vectors.reshape(-1, dim), queries.reshape(-1, dim)


def truth(vectors, queries):
    out = []
    for q in queries:
        scores = vectors @ q
        top = np.argpartition(-scores, K)[:K]
        out.append(set(top[np.argsort(-scores[top])].tolist()))
    return out


def curve(name, search, set_ef, queries, exact, build_s, mem):
    rows = []
    for ef in EF_SEARCH:
        set_ef(ef)
        lat, hits = [], 0
        for q, t in zip(queries, exact):
            start = time.perf_counter()
            ids = search(q)
            lat.append(time.perf_counter() - start)
            hits += len(t & set(int(i) for i in ids[:K]))
        lat.sort()
        rows.append((name, ef, hits / (K * len(queries)), lat[len(lat) // 2] * 1e3, lat[len(lat) * 99 // 100] * 1e3, build_s, mem))
    return rows


def run_hnswlib(vectors, queries, exact):
    try:
        import hnswlib
    except ImportError:
        print("hnswlib: not installed (apt-get install python3-hnswlib)", file=sys.stderr)
        return []
    before = rss_bytes()
    start = time.perf_counter()
    index = hnswlib.Index(space="ip", dim=vectors.shape[1])
    index.init_index(max_elements=len(vectors), M=M, ef_construction=EF_CONSTRUCTION, random_seed=42)
    index.add_items(vectors, np.arange(len(vectors)))
    build = time.perf_counter() - start
    mem = rss_bytes() - before
    index.set_num_threads(1)
    return curve("hnswlib", lambda q: index.knn_query(q, k=K)[0][0], index.set_ef, queries, exact, build, mem)


def run_faiss(vectors, queries, exact):
    try:
        import faiss
    except ImportError:
        print("faiss: not installed (apt-get install python3-faiss)", file=sys.stderr)
        return []
    before = rss_bytes()
    start = time.perf_counter()
    index = faiss.IndexHNSWFlat(vectors.shape[1], M, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = EF_CONSTRUCTION
    index.add(np.ascontiguousarray(vectors))
    build = time.perf_counter() - start
    mem = rss_bytes() - before
    faiss.omp_set_num_threads(1)

    def set_ef(ef):
        index.hnsw.efSearch = ef

    def search(q):
        return index.search(q.reshape(1, -1), K)[1][0]

    return curve("faiss-hnsw", search, set_ef, queries, exact, build, mem)


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    vectors, queries = load(sys.argv[1])
    exact = truth(vectors, queries)
    raw = vectors.nbytes
    print(f"# {len(vectors)} vectors x {vectors.shape[1]}, {len(queries)} queries, M {M}, efConstruction {EF_CONSTRUCTION}, load {' '.join(open('/proc/loadavg').read().split()[:3])}")
    print()
    print("| library | efSearch | recall@10 | p50 ms | p99 ms | build s | index memory / raw float32 |")
    print("|---|---|---|---|---|---|---|")
    rows = run_hnswlib(vectors, queries, exact)
    rows += run_faiss(vectors, queries, exact)
    for name, ef, recall, p50, p99, build, mem in rows:
        print(f"| {name} | {ef} | {recall:.3f} | {p50:.3f} | {p99:.3f} | {build:.1f} | {mem / raw:.2f} |")


if __name__ == "__main__":
    main()
