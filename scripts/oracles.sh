#!/usr/bin/env bash
# Install the reference implementations the tests and benchmarks compare against, from their
# registries, into .oracles/ (git-ignored; nothing of it is committed). Idempotent.
#   - npm @uniswap/v2-core@1.0.1: the Uniswap V2 pair/factory bytecode, run on revm
#   - npm synthetix@2.102.1: the StakingRewards bytecode (publish/deployed/mainnet), run on revm
#   - PyPI eth-account: independent EIP-712 digests and signatures
#   - PyPI uniswappy: the Python AMM simulator, a benchmark peer
#   - PyPI pandas: the ranking benchmark's peer
#   - PyPI numpy: the Monte Carlo benchmark's peer (scripts/mc_numpy.py)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
oracles="${GRANARY_ORACLES_DIR:-$root/.oracles}"
mkdir -p "$oracles"

# Both npm packages in one command: `npm install --no-save` of one removes the other.
v2="$oracles/node_modules/@uniswap/v2-core/build/UniswapV2Pair.json"
snx="$oracles/node_modules/synthetix/publish/deployed/mainnet/deployment.json"
if [ ! -f "$v2" ] || [ ! -f "$snx" ]; then
  echo "oracles: npm install @uniswap/v2-core@1.0.1 synthetix@2.102.1"
  npm install --no-save --no-audit --no-fund --prefix "$oracles" @uniswap/v2-core@1.0.1 synthetix@2.102.1 >/dev/null
fi
test -f "$v2" && test -f "$snx"

if [ ! -x "$oracles/venv/bin/python" ]; then
  echo "oracles: python venv"
  python3 -m venv "$oracles/venv"
fi
if ! "$oracles/venv/bin/python" -c 'import eth_account, uniswappy, pandas, numpy' 2>/dev/null; then
  echo "oracles: pip install eth-account uniswappy pandas numpy"
  "$oracles/venv/bin/pip" install --quiet --disable-pip-version-check 'eth-account==0.13.7' 'uniswappy==1.7.9' 'pandas==3.1.1' 'numpy==2.4.6'
fi
"$oracles/venv/bin/python" -c 'import eth_account, uniswappy, pandas, numpy'
echo "oracles: ready in $oracles"
