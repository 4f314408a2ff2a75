"""The ranking benchmark's peer: the same filter and sorts as granary_hub::rank over the same
100 000 opportunities, with pandas. Reads the CSV written by benches/rank.rs, prints JSON timings."""
import json
import statistics
import sys
import time

import pandas as pd

GRADES = "ABCDEF"


def main(path: str, runs: int) -> None:
    df = pd.read_csv(path)
    out = {"pandas_version": pd.__version__}
    for key, col in (("apy", "apy"), ("risk_adjusted_apy", "apy_risk_adjusted"), ("tvl", "tvl_usd")):
        times = []
        for _ in range(runs):
            t0 = time.perf_counter()
            kept = df[
                (df["tvl_usd"] >= 1_000_000.0)
                & (df["lockup_days"] <= 90)
                & (df["grade"] <= "C")
                & (df["chain"] != "bnb")
            ]
            ranked = kept.sort_values([col, "id"], ascending=[False, True], kind="stable")
            ids = ranked["id"].to_numpy()
            times.append(time.perf_counter() - t0)
        out[key] = {"median_s": statistics.median(times), "kept": int(len(ids)), "first": str(ids[0]) if len(ids) else None}
    print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 7)
