#!/usr/bin/env bash
# The fusionmetrics connector beside contrib's spanmetrics connector on the
# same fusiongen spans (connector/fusionmetricsconnector/spanmetrics_bench_test.go):
# 5 interleaved repetitions of 1000 batches of 1000 spans each, then the
# medians per side and their ratio (fusionmetrics / spanmetrics).
set -euo pipefail
cd "$(dirname "$0")/.."
out="$(mktemp)"
trap 'rm -f "$out"' EXIT
# A module of its own (see its doc.go), so it runs from its folder.
(cd connector/fusionmetricsconnector/spanmetricsbench &&
  RED_ROUNDS="${RED_ROUNDS:-5}" go test -run='^$' -bench='^BenchmarkRED$' -benchmem -benchtime=1000x -count=1 .) | tee "$out"
awk '
  /^BenchmarkRED\// {
    split($1, name, "/"); side = name[2]
    for (i = 3; i < NF; i++) {
      if ($(i+1) == "ns/span") { ns[side] = ns[side] " " $i; round[side, name[3]] = $i; rounds[name[3]] = 1 }
      if ($(i+1) == "allocs/span") al[side] = al[side] " " $i
      if ($(i+1) == "cpu-ns/span") { cpu[side] = cpu[side] " " $i; cround[side, name[3]] = $i }
    }
  }
  function median(list,   v, n, i, j, t) {
    n = split(list, v, " ")
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (v[j] + 0 < v[i] + 0) { t = v[i]; v[i] = v[j]; v[j] = t }
    return (n % 2) ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
  }
  END {
    printf "\nmedians over %d repetitions\n", split(ns["fusionmetrics"], x, " ")
    printf "%-14s %10s %12s %12s\n", "connector", "ns/span", "cpu-ns/span", "allocs/span"
    for (s in ns) printf "%-14s %10.1f %12.1f %12.4f\n", s, median(ns[s]), median(cpu[s]), median(al[s])
    for (r in rounds) if ((("fusionmetrics", r) in round) && (("spanmetrics", r) in round)) ratios = ratios " " sprintf("%.2f", round["fusionmetrics", r] / round["spanmetrics", r])
    for (r in rounds) if ((("fusionmetrics", r) in cround) && (("spanmetrics", r) in cround)) cratios = cratios " " sprintf("%.2f", cround["fusionmetrics", r] / cround["spanmetrics", r])
    printf "per-round ratios fusionmetrics/spanmetrics, ns/span:%s (median %.2fx); cpu-ns/span:%s (median %.2fx)\n", ratios, median(ratios), cratios, median(cratios)
    printf "ratio of medians fusionmetrics/spanmetrics: ns/span %.2fx, cpu-ns/span %.2fx, allocs/span %.3fx (target <= 0.5x)\n",
      median(ns["fusionmetrics"]) / median(ns["spanmetrics"]), median(cpu["fusionmetrics"]) / median(cpu["spanmetrics"]), median(al["fusionmetrics"]) / median(al["spanmetrics"])
  }' "$out"
