#!/usr/bin/env bash
# Property-based tests of the HTTP API from its own OpenAPI document: schemathesis (PyPI, pinned)
# generates requests for every operation that `granary up` documents, valid and invalid, and
# checks each answer: no 5xx, a status the document lists, the content type and the body schema
# it declares, invalid input refused with a 4xx and valid input accepted.
#
#   GRANARY_BIN                 the `granary` binary to run (default: target/debug/granary;
#                               CARGO_TARGET_DIR is honoured)
#   SCHEMATHESIS_MAX_EXAMPLES   generated cases per operation and phase (default 30)
#   SCHEMATHESIS_SEED           the generator's seed (default fixed, so CI runs are repeatable)
#   GRANARY_ORACLES_DIR         where the venv lives (default .oracles/, git-ignored)
#
# Starts its own server on a fresh temporary data folder and a free loopback port, with the clock
# paused; stops that server (and only it) on exit. Exits non-zero on any failure.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
oracles="${GRANARY_ORACLES_DIR:-$root/.oracles}"
venv="$oracles/schemathesis-venv"
version="4.32.5"
target="${CARGO_TARGET_DIR:-$root/target}"
bin="${GRANARY_BIN:-$target/debug/granary}"
max_examples="${SCHEMATHESIS_MAX_EXAMPLES:-30}"
seed="${SCHEMATHESIS_SEED:-20240212}"

if [ ! -x "$bin" ]; then
  echo "schemathesis: no granary binary at $bin: build it (cargo build -p granary-cli) or set GRANARY_BIN" >&2
  exit 2
fi

if [ ! -x "$venv/bin/python" ]; then
  echo "schemathesis: python venv in $venv"
  mkdir -p "$oracles"
  python3 -m venv "$venv"
fi
if [ "$("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("schemathesis"))' 2>/dev/null)" != "$version" ]; then
  echo "schemathesis: pip install schemathesis==$version"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$version"
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/granary-schemathesis.XXXXXX")"
pid=""
stop() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap stop EXIT

# Port 0: the system picks a free port, and the server prints the address it bound, so there
# is no window in which another process could take a port chosen in advance.
"$bin" --data-dir "$work/data" up --addr 127.0.0.1:0 --paused >"$work/up.log" 2>&1 &
pid=$!

base=""
for _ in $(seq 1 600); do
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "schemathesis: granary up exited before serving:" >&2
    cat "$work/up.log" >&2
    exit 1
  fi
  base="$(sed -n 's|^granary is up: \(http://127\.0\.0\.1:[0-9]*\)/$|\1|p' "$work/up.log" | head -n 1)"
  if [ -n "$base" ] && "$venv/bin/python" - "$base/api/health" <<'EOF' 2>/dev/null; then
import sys, json, urllib.request
with urllib.request.urlopen(sys.argv[1], timeout=5) as r:
    sys.exit(0 if json.load(r).get("status") == "ok" else 1)
EOF
    break
  fi
  base=""
  sleep 0.2
done
if [ -z "$base" ]; then
  echo "schemathesis: granary up did not answer /api/health within 120 s:" >&2
  cat "$work/up.log" >&2
  exit 1
fi
echo "schemathesis: granary up at $base (data in $work/data)"

# The checks, and the few per-operation settings, are in scripts/schemathesis.toml.
status=0
# --exclude-path /api/events: the SSE stream never ends (it sends keep-alives forever), so a
# request to it cannot complete; tests/api.rs reads it with a timeout instead.
# Run from the temporary folder: nothing (caches, reports) lands in the work tree.
(
  cd "$work"
  "$venv/bin/schemathesis" --config-file "$root/scripts/schemathesis.toml" run "$base/api/openapi.json" \
    --url "$base" \
    --exclude-path /api/events \
    --max-examples "$max_examples" \
    --seed "$seed" \
    --generation-database none \
    --workers 2 \
    --request-timeout 120 \
    --warnings off
) >"$work/schemathesis.log" 2>&1 || status=$?
cat "$work/schemathesis.log"

# One line for CI logs, from schemathesis' own summary.
tested="$(sed -n 's/^ *Tested: *\([0-9]*\).*/\1/p' "$work/schemathesis.log" | tail -n 1)"
cases="$(sed -n '/^Test cases:/{n;s/^ *//;p;}' "$work/schemathesis.log" | tail -n 1)"
if [ "$status" -eq 0 ]; then
  echo "schemathesis: passed: ${tested:-?} operations, ${cases:-no test cases} (max $max_examples examples per operation, seed $seed)"
else
  echo "schemathesis: FAILED (exit $status): ${tested:-?} operations, ${cases:-no test cases} (seed $seed)" >&2
fi
exit "$status"
