#!/usr/bin/env python
"""Before/after benchmark: this checkout against an earlier revision, in one process.

The package at git revision ``--ref`` (default ``HEAD``) is unpacked into a temporary
directory as ``nnsym_base`` (nnsym imports itself only relatively, so both versions
load side by side). Each case is then timed alternately with the two versions, best
of ``--repeat``, from cleared caches (sympy's and the functools caches of the version
being timed), and the ratio ``now / base`` is printed. Interleaving the two in one
process keeps the ratio meaningful on a noisy machine.

Cases are things that were right before and must not become slower (issue 8 asks
for at most 10%): derivations of zoo correlators, the erf kernel, compiled kernels
on many point sets, the erf-net's six-point quadrature, and the neuron Monte Carlo estimator.

Usage::

    python benchmarks/bench_before_after.py [--ref REV] [--repeat R] [--quick]
"""
from __future__ import annotations

import argparse
import importlib
import os
import subprocess
import sys
import tempfile
import time
import warnings

_REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def clear(pkg_name: str) -> None:
    from sympy.core.cache import clear_cache

    clear_cache()
    for name, module in list(sys.modules.items()):
        if module is None or not (name == pkg_name or name.startswith(pkg_name + ".")):
            continue
        for obj in list(vars(module).values()):
            if getattr(obj, "__module__", None) != name:
                continue
            members = [getattr(v, "__func__", v) for v in vars(obj).values()] if isinstance(obj, type) else []
            for cand in [obj] + members:
                fn = getattr(cand, "cache_clear", None)
                if callable(fn):
                    fn()


def cases(quick: bool):
    import numpy as np

    rng = np.random.default_rng(0)
    X4 = rng.normal(size=(10**4 if quick else 10**5, 4, 3))
    X2 = rng.normal(size=(10**4, 2, 2))
    X_mc = rng.normal(size=(3, 4, 2))

    def derive(builder, n, connected, d="d"):
        def run(ns):
            import sympy as sp

            dd = sp.Symbol("d", positive=True, integer=True) if d == "d" else d
            getattr(ns.zoo, builder)(dd).correlator(n, connected=connected)
        return run

    def kernel(ns):
        G = ns.zoo.cos_net(3).correlator(4, connected=True)
        G.evaluate(X4, sigma_a=1.0, sigma_b=0.7, N=10)

    def erf_kernel(ns):
        G = ns.zoo.erf_net(2).correlator(2)
        G.evaluate(X2, sigma_W=1.2, sigma_b=0.4, N=10)

    def uniform_phase(ns):
        import sympy as sp

        x = ns.Input("x", 1)
        b, c = ns.Uniform("b", -1, 1), ns.Uniform("c", -sp.pi, sp.pi)
        ns.Network(sp.cos(b * x + c) * b**2, ns.Normal("a", 0, 1), 5, x).correlator(4, connected=True)

    X6 = np.array([[[-1.0], [-1.0], [-1.0], [-0.6], [-0.6], [-0.6]], [[-1.0], [-0.6], [-0.2], [0.2], [0.6], [1.0]]])

    def erf_six(ns):  # quadrature: 6-dimensional orthant moments of the erf pre-activations
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ns.zoo.erf_net(1).correlator(6).evaluate(X6, sigma_W=1.0, sigma_b=1.0, N=10)

    def mc(ns):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ns.monte_carlo(ns.zoo.cos_net(2), 4, X_mc, connected=True, samples=2 * 10**5, seed=0,
                           sigma_a=1.0, sigma_b=0.7, N=10)

    out = [
        ("derive cos-net G_c^(4), general d", derive("cos_net", 4, True)),
        ("derive gauss-net G_c^(4), general d", derive("gauss_net", 4, True)),
        ("derive relu-net G^(2), d = 2", derive("relu_net", 2, False, 2)),
        ("derive uniform b^2 cos(bx + c) G_c^(4)", uniform_phase),
        ("evaluate cos-net G_c^(4) kernel", kernel),
        ("evaluate erf-net G^(2) kernel", erf_kernel),
        ("evaluate erf-net G^(6) at 2 six-tuples (quadrature)", erf_six),
        ("monte_carlo cos-net G_c^(4), 2e5 neurons", mc),
    ]
    if not quick:
        out.insert(1, ("derive cos-net G_c^(6), general d", derive("cos_net", 6, True)))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ref", default="HEAD", help="the baseline git revision (default HEAD)")
    ap.add_argument("--repeat", type=int, default=3, help="best of R alternating runs (default 3)")
    ap.add_argument("--quick", action="store_true", help="fewer and smaller cases")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        archive = subprocess.run(["git", "-C", _REPO, "archive", args.ref, "nnsym"], check=True,
                                 capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", tmp], input=archive, check=True)
        os.rename(os.path.join(tmp, "nnsym"), os.path.join(tmp, "nnsym_base"))
        sys.path.insert(0, tmp)  # the baseline package, importable as nnsym_base
        base = importlib.import_module("nnsym_base")
        now = importlib.import_module("nnsym")  # the working tree (pip install -e .)
        if not os.path.abspath(now.__file__).startswith(os.path.join(_REPO, "")):
            sys.exit(f"nnsym is imported from {now.__file__}, not from this checkout: pip install -e {_REPO}")
        rev = subprocess.run(["git", "-C", _REPO, "rev-parse", "--short", args.ref], capture_output=True,
                             text=True).stdout.strip()
        print(f"baseline: {args.ref} ({rev}); now: working tree")
        print(f"{'case':45s} {'base [s]':>9s} {'now [s]':>9s} {'now/base':>9s}")
        worst = 0.0
        for name, fn in cases(args.quick):
            best = {"base": float("inf"), "now": float("inf")}
            for _ in range(args.repeat):
                for tag, pkg in (("base", base), ("now", now)):
                    clear(pkg.__name__)
                    t0 = time.perf_counter()
                    fn(pkg)
                    best[tag] = min(best[tag], time.perf_counter() - t0)
            ratio = best["now"] / best["base"]
            worst = max(worst, ratio)
            print(f"{name:45s} {best['base']:9.3f} {best['now']:9.3f} {ratio:9.2f}")
        print(f"worst ratio now/base: {worst:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
