#!/usr/bin/env python3
"""Time uniswappy's Uniswap V2 pool (integer mode) on a fixed swap sequence.

Usage: uniswappy_swaps.py SEQUENCE_FILE [--reps N]

SEQUENCE_FILE holds, one per line:
    pool R0 R1              the initial reserves (first line)
    swap DIR AMOUNT_IN      DIR 0 = token0 in, 1 = token1 in; amounts are integers in wei

Each repetition builds a fresh pool (uniswappy's "GWEI" precision: integer amounts, no float
conversion), adds R0/R1 of liquidity, then runs every swap through
`UniswapExchange.swap_exact_tokens_for_tokens(amount_in, 0, token_in, user)`, the package's
lightest V2 swap path. Only the swap loop is timed. Prints one JSON object on stdout:
    {"swaps", "reps", "seconds" (each rep), "ops_per_s" (median rep), "reserves" (after a rep),
     "uniswappy_version"}

Installs nothing: if uniswappy is missing it says so on stderr and exits with status 3.
"""

import json
import statistics
import sys
import time


def load_sequence(path):
    r0 = r1 = None
    swaps = []
    with open(path, encoding="ascii") as f:
        for line in f:
            parts = line.split()
            if not parts:
                continue
            if parts[0] == "pool":
                r0, r1 = int(parts[1]), int(parts[2])
            elif parts[0] == "swap":
                swaps.append((int(parts[1]), int(parts[2])))
            else:
                raise ValueError(f"bad line in {path}: {line!r}")
    if r0 is None:
        raise ValueError(f"{path} has no 'pool' line")
    return r0, r1, swaps


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    reps = 1
    if "--reps" in argv:
        reps = int(argv[argv.index("--reps") + 1])
    try:
        import uniswappy
        from uniswappy.cpt.factory import UniswapFactory
        from uniswappy.erc import ERC20
        from uniswappy.utils.data import UniswapExchangeData
    except ImportError as e:
        print(
            f"uniswappy is not installed for {sys.executable} ({e}); "
            "install it with: pip install uniswappy",
            file=sys.stderr,
        )
        return 3
    try:
        from importlib.metadata import version

        uniswappy_version = version("uniswappy")
    except Exception:  # noqa: BLE001 - only informational
        uniswappy_version = getattr(uniswappy, "__version__", "unknown")

    r0, r1, swaps = load_sequence(argv[1])
    user = "user"
    seconds = []
    reserves = None
    for rep in range(reps):
        tkn0 = ERC20("TKN0", "0x01")
        tkn1 = ERC20("TKN1", "0x02")
        data = UniswapExchangeData(
            tkn0=tkn0,
            tkn1=tkn1,
            symbol="LP",
            address="0x011",
            precision=UniswapExchangeData.TYPE_GWEI,
        )
        lp = UniswapFactory("factory", "0x2").deploy(data)
        lp.add_liquidity(user, r0, r1, r0, r1)
        tokens = (tkn0, tkn1)
        swap = lp.swap_exact_tokens_for_tokens
        start = time.perf_counter()
        for direction, amount_in in swaps:
            swap(amount_in, 0, tokens[direction], user)
        seconds.append(time.perf_counter() - start)
        reserves = [str(lp.reserve0), str(lp.reserve1)]
    median = statistics.median(seconds)
    print(
        json.dumps(
            {
                "swaps": len(swaps),
                "reps": reps,
                "seconds": seconds,
                "ops_per_s": len(swaps) / median,
                "reserves": reserves,
                "uniswappy_version": uniswappy_version,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
