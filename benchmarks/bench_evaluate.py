#!/usr/bin/env python
"""Evaluation benchmark: per-call fixed cost of ``Correlator.evaluate``, compiled kernels of 10^6
operations, and the small-d scalar product of the Monte Carlo kernels.

Prints, measured in this one process (ratios are what to read; absolute times move with load):

1. the per-call cost of ``Correlator.evaluate`` at a handful (4) of point sets for the cos-net
   G_c^(4) (against a hand-written numpy G_c^(4) and against the compiled kernel called directly)
   and G_c^(8) (``--quick``: G_c^(6)) against its compiled kernel: the fixed cost of ``evaluate``
   beyond the kernel's own;
2. throughput of G_c^(4) on 10^5 point tuples against the hand-written numpy;
3. compile time of a synthetic sum of 10^6 (``--quick``: 10^5) operations (products of exp and cos
   of point differences), and its agreement with numpy evaluating the same terms directly;
4. a cos-neuron sum over 10^6 draws with ``_nn_dot`` at inner dimension d = 2 (broadcast
   multiply-adds) against the same with a BLAS matmul: wall (best, median) and CPU time, since
   OpenBLAS's threads keep spinning after the matmul and slow the numpy work that follows.

Usage::

    python benchmarks/bench_evaluate.py [--quick]
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
import time
import warnings

import numpy as np
import sympy as sp

import nnsym as ns
from nnsym.numeric.kernels import compile_kernel, point_arrays, straight_line_kernel, tree_size_exceeds

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_kernels import handwritten  # noqa: E402  (the hand-written numpy G_c^(4))

from _common import independent  # noqa: E402

ind = independent()  # tests/independent.py: the synthetic long sum and its terms in numpy

VALUES = dict(sigma_a=1.0, sigma_b=0.7, N=10)


def best_time(fn, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def fixed_cost(n: int, repeat: int) -> None:
    net = ns.zoo.cos_net(2)
    t = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the cost warning of a large n
        G = net.correlator(n, connected=True)
    t_derive = time.perf_counter() - t
    X = np.random.default_rng(0).normal(size=(4, n, 2))
    t = time.perf_counter()
    G.evaluate(X, **VALUES)
    t_first = time.perf_counter() - t
    hyper = G.free_parameters
    kernel = compile_kernel(list(G.points) + hyper, G.expr)
    args = point_arrays(G.points, X) + [VALUES[s.name] for s in hyper]
    t_eval = best_time(lambda: G.evaluate(X, **VALUES), repeat)
    t_kernel = best_time(lambda: kernel(*args), repeat)
    print(f"cos-net G_c^({n}), d = 2, 4 point sets (derived in {t_derive:.1f} s, first evaluate {t_first:.2f} s):")
    print(f"  Correlator.evaluate       : {t_eval * 1e3:9.3f} ms")
    print(f"  its kernel, called direct : {t_kernel * 1e3:9.3f} ms   evaluate / kernel = {t_eval / t_kernel:.2f}x")
    if n == 4:
        t_hand = best_time(lambda: handwritten(X), repeat)
        print(f"  hand-written numpy        : {t_hand * 1e3:9.3f} ms   evaluate / hand   = {t_eval / t_hand:.2f}x")
        np.testing.assert_allclose(G.evaluate(X, **VALUES), handwritten(X), rtol=1e-12)
        Xb = np.random.default_rng(1).normal(size=(10**5, 4, 2))
        t_eval = best_time(lambda: G.evaluate(Xb, **VALUES), 3)
        t_hand = best_time(lambda: handwritten(Xb), 3)
        print(f"  10^5 tuples: evaluate {t_eval * 1e3:.1f} ms, hand-written {t_hand * 1e3:.1f} ms, "
              f"ratio {t_eval / t_hand:.2f}x")


def direct_sum(params, X) -> tuple:
    """The synthetic sum evaluated term by term in numpy (X: (8, P)); returns it and the sum of |terms|."""
    terms = ind.synthetic_sum_terms(params, X)
    return terms.sum(axis=0), np.abs(terms).sum(axis=0)


def operations(expr) -> int:
    """Operations of ``expr`` as ``count_ops`` counts them (one per function, one per binary + or *),
    by an explicit stack."""
    ops, stack = 0, [expr]
    while stack:
        e = stack.pop()
        if e.args:
            ops += max(1, len(e.args) - 1)
            stack.extend(e.args)
    return ops


def huge_kernel(quick: bool) -> None:
    terms = 9_000 if quick else 90_000
    xs = sp.symbols("x_1:9", real=True)
    t = time.perf_counter()
    expr, params = ind.synthetic_sum(terms, xs)
    t_build = time.perf_counter() - t
    ops = operations(expr)
    t = time.perf_counter()
    try:
        fn = compile_kernel(list(xs), expr)
        status = "compiled"
    except RecursionError:
        fn, status = None, "RecursionError"
    t_compile = time.perf_counter() - t
    print(f"synthetic sum of {terms:,} products exp * cos, {ops:,} operations (built in {t_build:.1f} s; "
          f"straight-line code: {tree_size_exceeds(expr, 20_000)}):")
    print(f"  compile_kernel            : {status} in {t_compile:.1f} s")
    if fn is not None:
        X = np.random.default_rng(2).normal(size=(8, 5))
        t = time.perf_counter()
        got = fn(*X)
        t_call = time.perf_counter() - t
        want, scale = direct_sum(params, X)
        print(f"  one call at 5 point sets  : {t_call * 1e3:.0f} ms; max |kernel - numpy term by term| / sum|terms| = "
              f"{np.max(np.abs(got - want) / scale):.1e}")
    _ = straight_line_kernel  # the code path compile_kernel takes above LARGE_KERNEL_NODES


def small_dot(repeat: int) -> None:
    from nnsym.numeric import kernels

    rng = np.random.default_rng(3)
    w = rng.normal(size=(10**6, 1, 2))   # 10^6 draws of a weight vector in d = 2
    b = rng.normal(size=(10**6, 1))      # and of a bias
    x = rng.normal(size=(4, 2))          # 4 input points
    np.testing.assert_allclose(kernels._nn_dot(w, x), w[..., 0, :] @ x.T, rtol=1e-13, atol=1e-15)
    print("cos-neuron sum over 10^6 draws at 4 points, sum_s cos(W_s.x + b_s), d = 2 "
          "(best / median wall ms, CPU ms per call; OpenBLAS threads spin after a matmul):")
    variants = (("broadcast multiply-add", lambda: kernels._nn_dot(w, x)), ("BLAS matmul", lambda: w[..., 0, :] @ x.T))
    for label, dot in variants:
        walls = []
        cpu = time.process_time()
        for _ in range(repeat):
            t = time.perf_counter()
            np.cos(dot() + b).sum(axis=0)
            walls.append(time.perf_counter() - t)
        cpu = (time.process_time() - cpu) / repeat
        print(f"  {label:24s}: {min(walls) * 1e3:7.1f} / {np.median(walls) * 1e3:7.1f} ms wall, "
              f"{cpu * 1e3:7.1f} ms CPU")
        if label.startswith("broadcast"):
            first = (np.median(walls), cpu)
    print(f"  ratio broadcast / matmul  : {first[0] / np.median(walls):.2f}x median wall, {first[1] / cpu:.2f}x CPU")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="G_c^(6) instead of G_c^(8), 10^5-op synthetic sum")
    args = ap.parse_args(argv)
    repeat = 50 if args.quick else 200
    print(f"python {platform.python_version()}, numpy {np.__version__}, sympy {sp.__version__}, "
          f"{os.cpu_count()} cpu(s)")
    fixed_cost(4, repeat)
    fixed_cost(6 if args.quick else 8, 5 if args.quick else 20)
    huge_kernel(args.quick)
    small_dot(5 if args.quick else 15)
    return 0


if __name__ == "__main__":
    sys.exit(main())
