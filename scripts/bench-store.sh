#!/usr/bin/env bash
# bench-store: the store's figures in one run.
#  1. Ingest at batch 1000, spans, logs and points apart, rows per second of
#     wall time and per CPU-second (rows per core), checkpoint included:
#     this tree and BENCH_BASE (the main before columnar ingest) side by
#     side, interleaved, BENCH_ROUNDS rounds, medians.
#  2. dedup_spans' cost onto 1M stored spans.
#  3. The seed join over BENCH_SPANS spans + as many logs + a tenth as many
#     points (100M + 100M + 10M), data kept in BENCH_DIR between runs.
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
BASE=${BENCH_BASE:-1539b1f}
ROUNDS=${BENCH_ROUNDS:-3}
SPANS=${BENCH_SPANS:-100000000}
DIR=${BENCH_DIR:-$PWD/data/bench}
work=$(mktemp -d)
trap 'git worktree remove --force "$work/base" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT

echo "== building the benchmark of this tree and of $BASE"
$GO test -c -o "$work/head.test" ./pkg/fusionstore/
git worktree add --detach -q "$work/base" "$BASE"
# The same benchmark source on both sides: only the store differs.
cp pkg/fusionstore/store_bench_test.go "$work/base/pkg/fusionstore/store_bench_test.go"
(cd "$work/base" && $GO test -c -o "$work/base.test" ./pkg/fusionstore/)

echo "== ingest, batch 1000, $ROUNDS interleaved rounds"
for round in $(seq "$ROUNDS"); do
  for side in base head; do
    (cd "$work" && ./$side.test -test.run='^$' -test.bench='^BenchmarkStoreIngest$' -test.benchtime=300x) |
      awk -v side="$side" '/^BenchmarkStoreIngest\// {
        split($1, n, "/"); sub(/-[0-9]+$/, "", n[2])
        for (i = 3; i < NF; i++) { if ($(i+1) == "rows/s") w = $i; if ($(i+1) == "rows/cpu-s") c = $i }
        print side, n[2], w, c }' >> "$work/ingest.txt"
  done
done
awk -v base="$BASE" '
  { key = $1 " " $2; wall[key] = wall[key] " " $3; cpu[key] = cpu[key] " " $4 }
  function median(list,   a, n, i, j, t) {
    n = split(list, a, " ")
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
  }
  END {
    printf "%-7s %16s %16s %16s %16s %8s\n", "signal", base " rows/s", base " rows/cpu-s", "this rows/s", "this rows/cpu-s", "x cpu"
    split("spans logs points", sig, " ")
    for (i = 1; i <= 3; i++) {
      s = sig[i]; bw = median(wall["base " s]); bc = median(cpu["base " s]); hw = median(wall["head " s]); hc = median(cpu["head " s])
      printf "%-7s %16.0f %16.0f %16.0f %16.0f %8.2f\n", s, bw, bc, hw, hc, hc / bc
    }
  }' "$work/ingest.txt"

echo "== dedup_spans, batch 1000 onto 1M stored spans"
(cd "$work" && ./head.test -test.run='^$' -test.bench='^BenchmarkStoreIngestDedup$' -test.benchtime=200x) | grep '^Benchmark'

echo "== seed join over $SPANS spans, $SPANS logs, $((SPANS / 10)) points (data in $DIR)"
mkdir -p "$DIR"
(cd "$work" && FUSION_BENCH_DIR="$DIR" FUSION_BENCH_SPANS="$SPANS" FUSION_BENCH_LOGS="$SPANS" FUSION_BENCH_POINTS=$((SPANS / 10)) \
  ./head.test -test.run='^$' -test.bench='^BenchmarkSeedJoin$' -test.benchtime=5x -test.timeout=90m -test.v) |
  grep -E '^(Benchmark|    store_bench)'
