#!/usr/bin/env python
"""Deep kernels layer by layer: ``DeepKernel.gram`` against a hand-written numpy recursion.

For ReLU and erf MLPs (NTK parameterisation, sigma_W = 1.3, sigma_b = 0.4) the NNGP and NTK Gram
matrices (``gram(X, which="both")``) of M points in d = 10, at depth 3 and 10, are timed (best of
``--repeat``) against a hand-written numpy recursion of the same kernels, in this process:

    K1 = sb^2 + sw^2 X X^T / d,
    K  <- sb^2 + sw^2 P(K_ii, K_ij, K_jj),   Theta <- K + sw^2 Theta P'(K_ii, K_ij, K_jj),

with the arc-cosine kernel for ReLU (P = sqrt(K_ii K_jj) (sin t + (pi - t) cos t) / (2 pi),
P' = (pi - t) / (2 pi), cos t = rho) and the arcsine kernel for erf
(P = (2/pi) arcsin(2 K_ij / sqrt((1 + 2 K_ii)(1 + 2 K_jj))),
P' = (4/pi) / sqrt((1 + 2 K_ii)(1 + 2 K_jj) - 4 K_ij^2)). It prints both times and their ratio, the first
call at depth 10 (building the kernel and compiling the layer map), and the agreement with the symbolic
form (``.nngp`` / ``.ntk``, the composed closed form, at depth 3 on 20 points) and with the hand recursion.

tanh (no closed form) at depth 3 on 50 points: the Gram matrices by the new numeric layer map (one
whitened tensor grid of Gauss-Legendre panels for every pair, pairs in chunks) against the previous path
(``_gram`` of ``evaluate_nngp`` and ``evaluate_ntk`` on all M^2 pairs with the kink-split panel rule
``gauss2_kinked`` per pair, reproduced here as ``old_tanh``): time, peak traced memory (tracemalloc), the
stated errors and the difference of the two. The old path takes ~40 s, so it runs in the full mode only;
``--quick`` runs it on 12 points.

Usage::

    python benchmarks/bench_deep_kernels.py [--quick] [--repeat R]
"""
from __future__ import annotations

import argparse
import platform
import sys
import time
import tracemalloc
import warnings

import numpy as np

from _common import clear_caches, independent  # benchmarks/ is on sys.path when run as a script

ind = independent()

SW, SB, D = 1.3, 0.4, 10


# ----------------------------------------------------------------------------- hand-written numpy recursions
# The textbook recursion and the arc-cosine / arcsine pair moments, as the tests use them (tests/independent.py,
# hand-written numpy that does not import nnsym).
def hand_gram(moments, X, depth, sw=SW, sb=SB):
    """NNGP and NTK Gram matrices by the layer-by-layer recursion, in numpy."""
    return ind.deep_gram(moments, X, depth, sw, sb)


def best(fn, repeat):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out


def rel(a, b):
    """Normwise relative difference max|a - b| / max|b| (elementwise it is large where a kernel value is
    near 0 by cancellation, for every evaluation order)."""
    return float(np.max(np.abs(a - b)) / np.max(np.abs(b)))


# ----------------------------------------------------------------------------- the previous numeric path
def old_tanh(K, X, values):
    """The pre-layer-map path: every pair of X (M^2 of them) through the kink-split panel rule of
    ``gauss2_kinked`` (10 and 7 nodes per panel), NNGP and NTK recursions run separately, the diagonal
    recomputed for every pair; returns (K, Theta, stated error of K, stated error of Theta)."""
    from nnsym.numeric.quadrature import PANEL_NODES, PANEL_NODES_CHECK, gauss1_kinked, gauss2_kinked

    f, fp = np.tanh, (lambda z: 1 - np.tanh(z) ** 2)
    spec = K.spec
    pairs = np.stack(np.broadcast_arrays(X[:, None, :], X[None, :, :]), axis=-2).reshape(-1, 2, X.shape[1])

    def pair(fun, a, c, b, n):
        sa, sb = np.sqrt(a), np.sqrt(b)
        rho = np.clip(c / (sa * sb), -1.0, 1.0)
        L = np.zeros(a.shape + (2, 2))
        L[:, 0, 0], L[:, 1, 0], L[:, 1, 1] = sa, sb * rho, sb * np.sqrt(1 - rho**2)
        return gauss2_kinked(lambda p, q: fun(p) * fun(q), np.zeros(a.shape + (2,)), L, [[], []], n)

    def run(which, n):
        x1, x2 = pairs[:, 0], pairs[:, 1]
        K11, K22, K12 = (spec.input_kernel(np.sum(a * b, -1), X.shape[1], values) for a, b in
                         ((x1, x1), (x2, x2), (x1, x2)))
        T12 = K12.copy()
        for l in range(1, spec.depth + 1):
            P = pair(f, K11, K12, K22, n)
            K12n = spec.kernel_step(l, P, values)
            if which == "ntk":
                T12 = spec.ntk_step(l, K12n, T12, pair(fp, K11, K12, K22, n), values)
            K12 = K12n
            sq = lambda kk: gauss1_kinked(lambda z: f(z) ** 2, np.zeros_like(kk), np.sqrt(kk), [], n)
            K11, K22 = spec.kernel_step(l, sq(K11), values), spec.kernel_step(l, sq(K22), values)
        return (K12 if which == "nngp" else T12).reshape(len(X), len(X))

    out = []
    for which in ("nngp", "ntk"):
        a, b = run(which, PANEL_NODES), run(which, PANEL_NODES_CHECK)
        out.append((a, float(np.max(np.abs(a - b)))))
    return out[0][0], out[1][0], out[0][1], out[1][1]


def traced(fn):
    """(seconds, peak traced MB, result) of fn()."""
    tracemalloc.start()
    t0 = time.perf_counter()
    out = fn()
    dt = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return dt, peak, out


# ----------------------------------------------------------------------------- main
def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer repeats; the old tanh path on 12 points")
    ap.add_argument("--repeat", type=int, default=None)
    args = ap.parse_args(argv)
    repeat = args.repeat or (2 if args.quick else 5)
    import sympy as sp

    import nnsym as ns

    print(f"python {platform.python_version()}, numpy {np.__version__}, sympy {sp.__version__}, "
          f"nnsym {getattr(ns, '__version__', '?')}; sigma_W = {SW}, sigma_b = {SB}, d = {D}")
    values = dict(sigma_W=SW, sigma_b=SB)
    rng = np.random.default_rng(0)
    acts = {"relu": (lambda z: sp.Max(0, z), ind.relu_moments), "erf": (sp.erf, ind.erf_moments)}
    sizes = (100, 2000)
    print("\nNNGP + NTK Gram matrices (gram(X, which='both')) vs the hand-written numpy recursion")
    print(f"{'act':5} {'depth':>5} {'M':>5} {'nnsym [ms]':>11} {'hand [ms]':>10} {'ratio':>6} {'rel. diff':>10}")
    for name, (f, moments) in acts.items():
        for depth in (3, 10):
            clear_caches()  # the first call from scratch: build, compile the layer map, a 100-point Gram matrix
            X0 = rng.normal(size=(100, D))
            t0 = time.perf_counter()
            K = ns.DeepKernel(f, depth, D)
            K.gram(X0, which="both", **values)
            first = time.perf_counter() - t0
            for M in sizes:
                X = rng.normal(size=(M, D))
                rep = max(1, repeat if M <= 100 else min(repeat, 3))
                tn, (G, T) = best(lambda: K.gram(X, which="both", **values), rep)
                th, (Gh, Th) = best(lambda: hand_gram(moments, X, depth), rep)
                off = ~np.eye(M, dtype=bool)  # the hand diagonal goes through rho = 1 - ulp: compare off it
                diff = max(rel(G[off], Gh[off]), rel(T[off], Th[off]))
                print(f"{name:5} {depth:>5} {M:>5} {1e3 * tn:>11.2f} {1e3 * th:>10.2f} {tn / th:>6.2f} {diff:>10.1e}")
            print(f"{name:5} {depth:>5}  first call, caches cleared (build, compile, 100-point Gram): {first:.3f} s")
        # agreement with the composed symbolic form at depth 3
        K = ns.DeepKernel(f, 3, D)
        X = rng.normal(size=(20, D))
        pairs = np.stack(np.broadcast_arrays(X[:, None], X[None, :]), axis=-2)
        G, T = K.gram(X, which="both", **values)
        off = ~np.eye(20, dtype=bool)
        agree = max(rel(G[off], K.nngp.evaluate(pairs, **values)[off]),
                    rel(T[off], K.ntk.evaluate(pairs, **values)[off]))
        print(f"{name:5}     3  gram vs the symbolic .nngp/.ntk (20 points, off the diagonal): "
              f"rel. diff {agree:.1e}")

    print("\ntanh, depth 3: NNGP + NTK Gram matrices by quadrature (new layer map vs the previous path)")
    Kt = ns.DeepKernel(sp.tanh, 3, D)
    for M in ((12,) if args.quick else (12, 50)):
        X = rng.normal(size=(M, D))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            tn, mn, (G, T) = traced(lambda: Kt.gram(X, which="both", **values))
        stated_new = [w.message.error for w in caught if isinstance(w.message, ns.NumericWarning)]
        to, mo, (Go, To, eo_k, eo_t) = traced(lambda: old_tanh(Kt, X, values))
        print(f"  M = {M:3}: new {tn:7.2f} s, peak {mn:7.1f} MB, "
              f"stated errors {stated_new[0]:.1e} / {stated_new[1]:.1e}")
        print(f"  M = {M:3}: old {to:7.2f} s, peak {mo:7.1f} MB, stated errors {eo_k:.1e} / {eo_t:.1e}")
        print(f"  M = {M:3}: speed-up {to / tn:.1f}x, memory {mo / max(mn, 1e-9):.1f}x less; "
              f"|new - old| = {np.max(np.abs(G - Go)):.1e} / {np.max(np.abs(T - To)):.1e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
