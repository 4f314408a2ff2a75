#!/usr/bin/env python3
"""Replay an LP's pool history on uniswappy's Uniswap V2 exchange (integer mode).

Usage: uniswappy_lp.py TRACE_FILE

TRACE_FILE holds, one per line:
    pool R0 R1              the LP's first mint (token0, token1), in base units (first line)
    swap DIR AMOUNT_IN      DIR 0 = token0 in, 1 = token1 in

The pool is built as in crates/conformance/scripts/uniswappy_swaps.py: `UniswapExchangeData` with
the "GWEI" precision (integers, no float conversion), `add_liquidity(R0, R1)` by the LP, then
every swap through `swap_exact_tokens_for_tokens(amount_in, 0, token_in, trader)`. Prints one
JSON object: {"outs": [...], "reserves": [r0, r1], "collected_fee": [f0, f1], "supply",
"lp_liquidity", "uniswappy_version"} with every integer as a decimal string.

Installs nothing: if uniswappy is missing it says so on stderr and exits with status 3.
"""

import json
import sys


def main(argv):
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        from uniswappy.cpt.factory import UniswapFactory
        from uniswappy.erc import ERC20
        from uniswappy.utils.data import UniswapExchangeData
    except ImportError as e:
        print(f"uniswappy is not installed for {sys.executable} ({e}); run scripts/oracles.sh", file=sys.stderr)
        return 3
    from importlib.metadata import version

    r0 = r1 = None
    swaps = []
    with open(argv[1], encoding="ascii") as f:
        for line in f:
            parts = line.split()
            if not parts:
                continue
            if parts[0] == "pool":
                r0, r1 = int(parts[1]), int(parts[2])
            elif parts[0] == "swap":
                swaps.append((int(parts[1]), int(parts[2])))
            else:
                raise ValueError(f"bad line: {line!r}")
    tkn0 = ERC20("TKN0", "0x01")
    tkn1 = ERC20("TKN1", "0x02")
    data = UniswapExchangeData(
        tkn0=tkn0, tkn1=tkn1, symbol="LP", address="0x011", precision=UniswapExchangeData.TYPE_GWEI
    )
    pool = UniswapFactory("factory", "0x2").deploy(data)
    pool.add_liquidity("lp", r0, r1, r0, r1)
    tokens = (tkn0, tkn1)
    outs = []
    for direction, amount_in in swaps:
        outs.append(str(pool.swap_exact_tokens_for_tokens(amount_in, 0, tokens[direction], "trader")))
    print(
        json.dumps(
            {
                "outs": outs,
                "reserves": [str(pool.reserve0), str(pool.reserve1)],
                "collected_fee": [str(pool.collected_fee0), str(pool.collected_fee1)],
                "supply": str(pool.total_supply),
                "lp_liquidity": str(pool.get_liquidity_from_provider("lp")),
                "uniswappy_version": version("uniswappy"),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
