#!/usr/bin/env python
r"""Array backends side by side: numpy, and every optional backend that loads here (JAX, CuPy).

For each backend (``numpy`` always; ``jax`` if JAX is installed, on its default device: CPU, GPU
or TPU; ``cupy`` if a CuPy backend module is registered), in one process:

1. **Monte Carlo**: ``monte_carlo`` with the neuron estimator, cos-net :math:`G^{(4)}_c` in d = 2 at
   4 point sets (10^6 draws; ``--quick``: 2*10^5): the first call (which compiles, for JAX) and the
   best of R later calls, as neuron evaluations per second (draws x points).
2. **Kernel**: the cos-net :math:`G^{(4)}_c` and erf-net :math:`G^{(2)}` closed forms compiled by the
   backend (``backend.compile``) and evaluated at 10^6 point sets (``--quick``: 10^5) already on the
   backend's device; timed until the result is ready (a sum brought to the host), as point sets per
   second.
3. **Subset sums** of one block of draws (:math:`\sum_s\prod_{k\in B}Y_{s,k}` for every subset
   :math:`B`), generic (``nnsym.sampling.moments.subset_sums`` on the backend's arrays) and, where
   the backend has one, its fused version (JAX: one XLA computation).

Every row prints its ratio to numpy measured in the same run (> 1: faster than numpy). The
script runs unchanged on a GPU machine; a backend that cannot load is listed with the reason.
No thresholds.

Usage::

    python benchmarks/bench_backends.py [--quick] [--repeat R] [--backends numpy jax ...]
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
from nnsym.numeric.kernels import ones_symbols, point_arrays
from nnsym.sampling.backends import get_backend

CANDIDATES = ("numpy", "jax", "cupy")
COS = dict(sigma_a=1.0, sigma_b=0.7, N=10)
ERF = dict(sigma_W=1.3, sigma_b=0.4, N=5)
X4 = np.array([  # 4 point sets of 4 points in d = 2 (as in bench_montecarlo.py)
    [[0.0, 0.0], [0.3, -0.2], [0.6, 0.5], [-0.4, 0.9]],
    [[0.1, 0.2], [0.1, 0.2], [-0.5, 0.3], [0.8, -0.6]],
    [[0.5, -0.5], [-0.2, 0.1], [0.0, 0.7], [0.3, 0.3]],
    [[-0.6, 0.2], [0.4, 0.4], [0.2, -0.8], [-0.1, -0.1]],
])


def load_backends(names) -> tuple[list, list]:
    """The backends that load here, and (name, reason) for those that do not."""
    loaded, missing = [], []
    for name in names:
        if name == "cupy":  # no CuPy backend ships with nnsym yet: use one if a module registered it
            try:
                import importlib

                importlib.import_module("nnsym.sampling.cupy_backend")
            except ImportError as exc:
                missing.append((name, f"no CuPy backend module ({exc})"))
                continue
        try:
            loaded.append(get_backend(name))
        except (ImportError, ValueError) as exc:
            missing.append((name, str(exc)))
    return loaded, missing


def device_of(backend) -> str:
    """Where the backend computes (for the header)."""
    if backend.name == "jax":
        import jax

        dev = jax.devices()[0]
        kind = getattr(dev, "device_kind", dev)
        return f"jax {jax.__version__}, {dev.platform}: {kind}, x64={jax.config.jax_enable_x64}"
    if backend.name == "cupy":
        import cupy

        return f"cupy {cupy.__version__}, {cupy.cuda.runtime.getDeviceProperties(0)['name'].decode()}"
    return f"numpy {np.__version__}, cpu"


def best_of(fn, repeat: int) -> tuple[float, float]:
    """(first call, best of ``repeat`` later calls), seconds."""
    t = time.perf_counter()
    fn()
    first = time.perf_counter() - t
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return first, best


# ----------------------------------------------------------------------------- Monte Carlo
def bench_monte_carlo(backends, samples: int, repeat: int) -> None:
    net = ns.zoo.cos_net(2)
    P, n = X4.shape[:2]
    print(f"\n1. monte_carlo, neuron estimator, cos-net G_c^(4), d = 2, {P} point sets, {samples:.0e} draws")
    print(f"{'backend':<8} {'first [s]':>10} {'best [s]':>10} {'evals/s':>10} {'vs numpy':>9}  estimate (point set 0)")
    base = None
    for be in backends:
        out = {}

        def run():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                out["est"] = ns.monte_carlo(net, n, X4, connected=True, samples=samples, seed=1, backend=be, **COS)

        first, best = best_of(run, repeat)
        rate = samples * P * n / best
        base = rate if be.name == "numpy" else base
        est = out["est"]
        print(f"{be.name:<8} {first:>10.3f} {best:>10.3f} {rate:>10.2e} {rate / base:>8.2f}x  "
              f"{est.mean[0]:.5f} +- {est.stderr[0]:.5f}")


# ----------------------------------------------------------------------------- kernels
def kernel_case(corr, X, values):
    """The correlator's closed form as kernel arguments, and their numpy values at ``X``."""
    expr = corr.expr
    ones = ones_symbols(expr)
    hyper = sorted(expr.free_symbols - set(corr.points) - set(ones), key=sp.default_sort_key)
    inputs = point_arrays(corr.points, X) + [np.ones(X.shape[-1])] * len(ones) + [float(values[h.name]) for h in hyper]
    return list(corr.points) + ones + hyper, expr, inputs


def bench_kernels(backends, points: int, repeat: int) -> None:
    rng = np.random.default_rng(0)
    cases = [("cos-net G_c^(4)", ns.zoo.cos_net(2).correlator(4, connected=True), COS, 4),
             ("erf-net G^(2)", ns.zoo.erf_net(2).correlator(2), ERF, 2)]
    print(f"\n2. compiled kernels at {points:.0e} point sets in d = 2 "
          "(inputs on the device; timed to a result on the host)")
    print(f"{'kernel':<16} {'backend':<8} {'first [s]':>10} {'best [s]':>10} {'sets/s':>10} {'vs numpy':>9} "
          f"{'max |diff| vs numpy':>20}")
    for label, corr, values, n in cases:
        X = 0.8 * rng.normal(size=(points, n, 2))
        args, expr, inputs = kernel_case(corr, X, values)
        base = ref = None
        for be in backends:
            kernel = be.compile(args, expr)
            dev = [be.xp.asarray(a) if isinstance(a, np.ndarray) else a for a in inputs]
            out = {}

            def run():
                res = kernel(*dev)
                out["sum"] = float(be.asnumpy(res.sum()))  # waits for the device
                out["res"] = res

            first, best = best_of(run, repeat)
            rate = points / best
            values_here = be.asnumpy(out["res"])
            if be.name == "numpy":
                base, ref = rate, values_here
            diff = float(np.max(np.abs(values_here - ref)))
            print(f"{label:<16} {be.name:<8} {first:>10.3f} {best:>10.4f} {rate:>10.2e} {rate / base:>8.2f}x "
                  f"{diff:>20.1e}")


# ----------------------------------------------------------------------------- subset sums
def bench_subset_sums(backends, draws: int, repeat: int) -> None:
    from nnsym.sampling.moments import subset_sums

    P, n = X4.shape[:2]
    Y = np.random.default_rng(0).normal(size=(draws, P, n))
    print(f"\n3. subset sums of one block ({draws} draws, {P} point sets, n = {n}): the generic "
          "moments.subset_sums on the backend's arrays, and the backend's own fused version if it has one")
    print(f"{'backend':<8} {'variant':<8} {'first [s]':>10} {'best [s]':>10} {'vs numpy':>9}")
    base = None
    for be in backends:
        Yd = be.xp.asarray(Y)
        variants = [("generic", lambda: subset_sums(Yd, np.empty((2, P)), be.xp))]
        if callable(getattr(be, "subset_sums", None)):
            variants.append(("fused", lambda: be.subset_sums(Yd, np.empty((2, P)))))
        for label, fn in variants:
            first, best = best_of(lambda: be.asnumpy(fn()), repeat)
            base = best if be.name == "numpy" else base
            print(f"{be.name:<8} {label:<8} {first:>10.4f} {best:>10.4f} {base / best:>8.2f}x")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="2*10^5 draws, 10^5 point sets, 2 repeats")
    ap.add_argument("--repeat", type=int, default=None, help="best of R later calls (default 5; --quick 2)")
    ap.add_argument("--backends", nargs="+", default=list(CANDIDATES), help="backends to try (default: all)")
    args = ap.parse_args(argv)
    repeat = args.repeat or (2 if args.quick else 5)
    names = ["numpy"] + [b for b in args.backends if b != "numpy"]  # numpy first: the baseline
    backends, missing = load_backends(names)
    print(f"python {platform.python_version()}, nnsym {ns.__version__}, {os.cpu_count()} cpu(s), {platform.machine()}")
    for be in backends:
        print(f"  {be.name:<6} {device_of(be)}")
    for name, why in missing:
        print(f"  {name:<6} skipped: {why}")
    bench_monte_carlo(backends, 2 * 10**5 if args.quick else 10**6, repeat)
    bench_kernels(backends, 10**5 if args.quick else 10**6, repeat)
    bench_subset_sums(backends, 2 * 10**5 // 32 if args.quick else 10**6 // 32, repeat)
    return 0


if __name__ == "__main__":
    sys.exit(main())
