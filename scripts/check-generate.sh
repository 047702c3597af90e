#!/usr/bin/env bash
# Regenerates the ocb output into a scratch folder and fails if it differs
# from the committed distro/, so the manifest and the sources never drift.
set -euo pipefail
cd "$(dirname "$0")/.."
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
sed "s#output_path: ./distro#output_path: $scratch#" builder-config.yaml > "$scratch/builder-config.yaml"
go tool builder --config "$scratch/builder-config.yaml" --skip-get-modules --skip-compilation >"$scratch/builder.log" 2>&1 || {
  cat "$scratch/builder.log"; exit 1; }
status=0
for f in "$scratch"/*.go; do
  name="$(basename "$f")"
  if ! diff -u "distro/$name" "$f"; then
    status=1
  fi
done
for f in distro/*.go; do
  [ -e "$scratch/$(basename "$f")" ] || { echo "distro/$(basename "$f") is not produced by ocb"; status=1; }
done
if [ "$status" -ne 0 ]; then
  echo "distro/ is out of date with builder-config.yaml: run 'make generate' and commit" >&2
fi
exit "$status"
