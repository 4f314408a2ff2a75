#!/usr/bin/env python3
"""The Monte Carlo benchmark's peer: the lab's `lp` strategy on GBM paths in float numpy.

Usage: mc_numpy.py [--paths N] [--days D] [--steps-per-day S] [--seed K] [--sigma S_YEAR]
                   [--fee-bps F] [--volume V] [--deposit USD] [--pool-usd USD] [--start PRICE]

Vectorised across paths, one Python iteration per time step (the pool's state depends on the
step before, so time cannot be vectorised):
  * GBM: log p += sigma_step * z (zero drift), z from numpy's default generator (PCG64);
  * arbitrage to the edge of the no-arbitrage band [gamma*m, m/gamma] in closed form: the
    positive root of g*d^2 + (1+g)*r_in*d - r_in*q = 0 (the same quadratic as
    granary_lab::arbitrage::edge_amount, in floats, without the integer fix-up), then the swap
    out = d*g*r_out/(r_in + g*d);
  * fee accrual: the noise traders' 4 price-neutral round trips a day, at the steps where the lab
    runs them; each trip's two legs of l = volume/4 of a reserve grow both reserves by
    (1 + l)/(1 + g*l), the exact constant-product growth of sqrt(k) for two such legs;
  * the LP's value (its share of the reserves at market) at the end of every day.
Prints one JSON object: {"seconds", "path_steps_per_s", "p50", "mean", "numpy_version", ...}.
Only the simulation loop is timed (allocation and the final statistics are outside).
"""

import argparse
import json
import sys
import time


def main(argv):
    ap = argparse.ArgumentParser()
    ap.add_argument("--paths", type=int, default=10_000)
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--steps-per-day", type=int, default=24)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--sigma", type=float, default=0.8)
    ap.add_argument("--fee-bps", type=int, default=30)
    ap.add_argument("--volume", type=float, default=0.2)
    ap.add_argument("--deposit", type=float, default=10_000.0)
    ap.add_argument("--pool-usd", type=float, default=1_000_000.0)
    ap.add_argument("--start", type=float, default=2000.0)
    a = ap.parse_args(argv[1:])
    try:
        import numpy as np
    except ImportError as e:
        print(f"numpy is not installed for {sys.executable} ({e}); run scripts/oracles.sh", file=sys.stderr)
        return 3

    P, spd, days = a.paths, a.steps_per_day, a.days
    n = days * spd
    g = 1.0 - a.fee_bps / 10_000.0
    sig = a.sigma / np.sqrt(365.0) / np.sqrt(spd)
    trips_per_day = 4
    leg = a.volume / trips_per_day
    trip_growth = (1.0 + leg) / (1.0 + g * leg)
    rng = np.random.default_rng(a.seed)
    share = a.deposit / a.pool_usd
    x = np.full(P, a.pool_usd / 2.0 / a.start)
    y = np.full(P, a.pool_usd / 2.0)
    logp = np.zeros(P)
    daily = np.empty((days + 1, P))
    daily[0] = share * (x * a.start + y)

    t0 = time.perf_counter()
    for i in range(1, n + 1):
        logp += sig * rng.standard_normal(P)
        m = a.start * np.exp(logp)
        # Sell token 0 where the pool's price y/x is above m/g; token 1 where below g*m.
        q0 = (g / m) * y - x
        q1 = (g * m) * x - y
        s0 = q0 > 0
        s1 = q1 > 0
        lin0 = (1.0 + g) * x
        d0 = np.where(s0, 2.0 * x * q0 / (lin0 + np.sqrt(lin0 * lin0 + 4.0 * g * x * np.maximum(q0, 0.0))), 0.0)
        lin1 = (1.0 + g) * y
        d1 = np.where(s1, 2.0 * y * q1 / (lin1 + np.sqrt(lin1 * lin1 + 4.0 * g * y * np.maximum(q1, 0.0))), 0.0)
        out0 = d0 * g * y / (x + g * d0)  # token 1 out for d0 of token 0 in
        out1 = d1 * g * x / (y + g * d1)  # token 0 out for d1 of token 1 in
        x = x + d0 - out1
        y = y + d1 - out0
        trips = (i * trips_per_day) // spd - ((i - 1) * trips_per_day) // spd
        if trips:
            grow = trip_growth**trips
            x *= grow
            y *= grow
        if i % spd == 0:
            daily[i // spd] = share * (x * m + y)
    seconds = time.perf_counter() - t0

    final = daily[-1]
    print(
        json.dumps(
            {
                "paths": P,
                "days": days,
                "steps_per_day": spd,
                "seconds": seconds,
                "path_steps_per_s": P * n / seconds,
                "p50": float(np.percentile(final, 50)),
                "mean": float(final.mean()),
                "numpy_version": np.__version__,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
