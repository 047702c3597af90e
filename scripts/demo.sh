#!/usr/bin/env bash
# make demo: start otelcol-fusion on scripts/demo-config.yaml (the default
# config's pipelines on ports of their own) with a fresh store, send the demo
# shop's traffic (cmd/fusiondemo: a healthy baseline, then a slow payment
# gateway), run the seed queries through the fusionql CLI, end with the
# diagnosis of the injected fault, and stop the collector.
set -euo pipefail
cd "$(dirname "$0")/.."

data_dir=./data/demo
rm -rf "$data_dir"
mkdir -p "$data_dir"
log="$data_dir/collector.log"

echo "== starting otelcol-fusion (scripts/demo-config.yaml, store in $data_dir, log in $log)"
OTELFUSION_DATA_DIR="$data_dir" ./bin/otelcol-fusion --config scripts/demo-config.yaml >"$log" 2>&1 &
collector=$!
stop_collector() {
  if kill -0 "$collector" 2>/dev/null; then
    echo "== stopping otelcol-fusion"
    kill -INT "$collector"
    wait "$collector" || true
  fi
}
trap stop_collector EXIT

# The demo's services name no tenant, so the receiver files their data under
# tenant "default"; every query names that tenant (the query API requires one).
tenant=default

windows="$data_dir/windows.env"
./bin/fusiondemo --fused http://127.0.0.1:14319/v1/fused --health http://127.0.0.1:14133/ --query http://127.0.0.1:14320/v1/query --tenant "$tenant" \
  --windows-file "$windows" || { echo "--- collector log (tail) ---"; tail -n 40 "$log"; exit 1; }

seed="SELECT span.operation, log.level, metric.value FROM traces JOIN logs ON traces.trace_id = logs.trace_id AND logs.timestamp BETWEEN traces.start_time AND traces.end_time JOIN metrics ON traces.service_name = metrics.service_name WHERE span.duration_ns > 1000000000 AND log.level = 'ERROR' LIMIT 100;"
diagnostic="SELECT t.service_name, t.operation, t.duration_ns, l.body, m.name, m.value FROM traces t JOIN logs l ON t.trace_id = l.trace_id AND ABS(t.start_time - l.timestamp) < INTERVAL '200ms' JOIN metrics m ON m.service_name = t.service_name AND m.timestamp BETWEEN t.start_time - INTERVAL '1m' AND t.end_time + INTERVAL '1m' WHERE t.duration_ns > 1000000000 AND l.level IN ('ERROR', 'WARN') LIMIT 10;"

echo
echo "== fusionql '$seed'"
./bin/fusionql --endpoint http://127.0.0.1:14320 --tenant "$tenant" "$seed"
echo
echo "== fusionql '$diagnostic'"
./bin/fusionql --endpoint http://127.0.0.1:14320 --tenant "$tenant" "$diagnostic"

# The baseline and incident windows fusiondemo sent its traffic in.
# shellcheck disable=SC1090
. "$windows"
echo
echo "== fusionql diagnose --service frontend --window $DIAGNOSE_WINDOW --baseline $DIAGNOSE_BASELINE --end $DIAGNOSE_END --explain"
./bin/fusionql diagnose --endpoint http://127.0.0.1:14320 --tenant "$tenant" --service frontend \
  --window "$DIAGNOSE_WINDOW" --baseline "$DIAGNOSE_BASELINE" --end "$DIAGNOSE_END" --limit 5 --explain
