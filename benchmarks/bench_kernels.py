#!/usr/bin/env python
"""Kernel benchmark: ``Correlator.evaluate`` versus hand-written numpy.

Evaluates the cos-net connected four-point function G_c^(4) in d = 2 on
``--points`` (default 10^6) random point tuples, once through nnsym
(``net.correlator(4, connected=True).evaluate(X, ...)``, compiled once, then
timed) and once through a hand-written numpy expression of the docs/conventions.md formula

    G_c^(4) = sigma_a^4/(8N) [ 3 (g(x1+x2-x3-x4) + g(x1-x2+x3-x4) + g(x1-x2-x3+x4))
                               - 2 (g(x1-x2) g(x3-x4) + g(x1-x3) g(x2-x4) + g(x1-x4) g(x2-x3)) ],
    g(v) = exp(-sigma_b^2 |v|^2 / (2d)).

Prints the best-of-``--repeat`` times and their ratio (target: nnsym within 1.5x
of the hand-written expression) and asserts the two agree to 1e-12 relative.

Usage::

    python benchmarks/bench_kernels.py [--quick] [--points P] [--repeat R]
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
import time

import numpy as np

import nnsym as ns

TARGET = 1.5
SA, SB, NN = 1.0, 0.7, 10


def handwritten(X, sa=SA, sb=SB, N=NN):
    """The cos-net G_c^(4) of docs/conventions.md, written directly in numpy."""
    d = X.shape[-1]
    k = sb**2 / (2 * d)
    x1, x2, x3, x4 = X[..., 0, :], X[..., 1, :], X[..., 2, :], X[..., 3, :]

    def g(v):
        return np.exp(-k * np.sum(v * v, axis=-1))

    return sa**4 / (8 * N) * (
        3 * (g(x1 + x2 - x3 - x4) + g(x1 - x2 + x3 - x4) + g(x1 - x2 - x3 + x4))
        - 2 * (g(x1 - x2) * g(x3 - x4) + g(x1 - x3) * g(x2 - x4) + g(x1 - x4) * g(x2 - x3))
    )


def best_time(fn, repeat):
    best = float("inf")
    out = None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="10^5 point tuples, 3 repeats")
    ap.add_argument("--points", type=int, default=None, help="number of point tuples (default 10^6)")
    ap.add_argument("--repeat", type=int, default=None, help="best of R runs (default 7; --quick 3)")
    args = ap.parse_args(argv)
    P = args.points or (10**5 if args.quick else 10**6)
    repeat = args.repeat or (3 if args.quick else 7)

    print(f"python {platform.python_version()}, numpy {np.__version__}, {os.cpu_count()} cpu(s)")
    X = np.random.default_rng(0).normal(size=(P, 4, 2))
    net = ns.zoo.cos_net(2)
    corr = net.correlator(4, connected=True)
    vals = dict(sigma_a=SA, sigma_b=SB, N=NN)
    corr.evaluate(X[:10], **vals)  # compile once (cached on the correlator)

    t_ns, out_ns = best_time(lambda: corr.evaluate(X, **vals), repeat)
    t_np, out_np = best_time(lambda: handwritten(X), repeat)
    np.testing.assert_allclose(out_ns, out_np, rtol=1e-12, atol=1e-15 * np.max(np.abs(out_np)))
    ratio = t_ns / t_np
    print(f"cos-net G_c^(4), d = 2, {P:,} point tuples (best of {repeat}):")
    print(f"  nnsym Correlator.evaluate : {t_ns * 1e3:9.1f} ms")
    print(f"  hand-written numpy        : {t_np * 1e3:9.1f} ms")
    verdict = "OK" if ratio <= TARGET else "MISSED"
    print(f"  ratio nnsym / hand-written: {ratio:9.2f}x   (target <= {TARGET}x: {verdict})")
    print(f"  max |difference|          : {np.max(np.abs(out_ns - out_np)):.2e} (results agree to 1e-12 relative)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
