#!/usr/bin/env bash
# Every benchmark with its peers in one run, into docs/PERFORMANCE.md: installs the peers from
# their registries (scripts/oracles.sh: npm @uniswap/v2-core, PyPI uniswappy, pandas, numpy into
# .oracles/, never committed), then runs `granary bench all`. Arguments go to it:
#   scripts/bench.sh             # the full run (the figures to publish; run it on a quiet machine)
#   scripts/bench.sh --quick     # a short run that checks everything works
# The store benchmark's PostgreSQL rows need a server at $GRANARY_BENCH_PG (default
# postgres://postgres@127.0.0.1:5432/postgres); without one they are skipped.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
scripts/oracles.sh
exec cargo run --release -p granary-cli -- bench all "$@"
