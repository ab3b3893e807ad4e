#!/usr/bin/env python
"""Erf 2-point kernel: nnsym versus sympy.stats.

nnsym: wall time (``time.perf_counter``, best of ``--repeat``, default 3) to derive the
2-point function of ``nnsym.zoo.erf_net(2)`` -- the arcsine kernel of docs/conventions.md -- each run
from cleared caches (sympy's and nnsym's) and a freshly built network. The result is
checked against that formula at a few points.

sympy.stats: the same Gaussian expectation (d = 2),

    E[erf(w1 x1 + w2 x2 + b) erf(w1 y1 + w2 y2 + b)],
    w_j ~ Normal(0, sigma_W^2/2),  b ~ Normal(0, sigma_b^2),

with ``sympy.stats.E`` in a separate process stopped after ``--sympy-timeout`` seconds
(default 120; ``--quick``: 10 s and one nnsym run). The report says whether sympy.stats
finished, and if so whether it left the expectation unevaluated (an Integral), and the
ratio of the two times (a lower bound when sympy.stats was stopped).

Usage::

    python benchmarks/bench_erf_kernel.py [--quick] [--sympy-timeout T] [--repeat R]
"""
from __future__ import annotations

import argparse
import math
import os
import platform
import sys
import time

D = 2
POINTS = [((0.3, -1.2), (0.8, 0.5)), ((1.0, 0.0), (1.0, 0.0)), ((-0.7, 0.4), (1.5, 2.0))]
SW, SB = 1.2, 0.5


# ----------------------------------------------------------------------------- nnsym side
from _common import clear_caches, time_in_subprocess  # noqa: E402  (benchmarks/ is on sys.path when run as a script)


def time_nnsym(repeat: int):
    import nnsym as ns

    times, corr = [], None
    for _ in range(repeat):
        net = ns.zoo.erf_net(D)
        clear_caches()
        start = time.perf_counter()
        corr = net.correlator(2)
        times.append(time.perf_counter() - start)
    return min(times), times, corr


def notes_erf(x, y):
    """docs/conventions.md: K = sb^2 + sW^2 (2/pi) arcsin(2 m(x,y)/sqrt((1 + 2 m(x,x))(1 + 2 m(y,y))))."""
    m = lambda u, v: SB**2 + SW**2 * sum(a * b for a, b in zip(u, v)) / D
    return SB**2 + SW**2 * 2 / math.pi * math.asin(2 * m(x, y) / math.sqrt((1 + 2 * m(x, x)) * (1 + 2 * m(y, y))))


# ----------------------------------------------------------------------------- sympy.stats side (child process)
def _sympy_stats_problem():
    import sympy as sp
    from sympy.stats import Normal

    sW, sb = sp.symbols("sigma_W sigma_b", positive=True)
    x = sp.symbols("x1:3", real=True)
    y = sp.symbols("y1:3", real=True)
    w = [Normal(f"w{j + 1}", 0, sW / sp.sqrt(D)) for j in range(D)]  # std sigma_W/sqrt(d)
    b = Normal("b", 0, sb)
    zx = sum(wj * xj for wj, xj in zip(w, x)) + b
    zy = sum(wj * yj for wj, yj in zip(w, y)) + b
    return sp.erf(zx) * sp.erf(zy), (x, y, sW, sb)


def _sympy_stats_worker(queue) -> None:
    try:
        import sympy as sp
        from sympy.stats import E

        expr, _ = _sympy_stats_problem()
        start = time.perf_counter()
        value = E(expr)
        elapsed = time.perf_counter() - start
        unevaluated = bool(value.has(sp.Integral)) or "Expectation" in str(value)
        queue.put(("unevaluated" if unevaluated else "ok", elapsed, str(value)))
    except BaseException as exc:  # report, never hang the parent
        queue.put(("error", 0.0, f"{type(exc).__name__}: {exc}"))


def time_sympy_stats(timeout: float):
    """(status, seconds, result text) of sympy.stats on the same problem, in a subprocess."""
    return time_in_subprocess(_sympy_stats_worker, timeout)


def _check_sympy_value(text: str) -> str:
    """If sympy.stats returned a closed form, compare it with docs/conventions.md at the points."""
    import sympy as sp

    _, (x, y, sW, sb) = _sympy_stats_problem()
    expr = sp.sympify(text, locals={s.name: s for s in (*x, *y, sW, sb)})
    errs = []
    for px, py in POINTS:
        sub = {sW: SW, sb: SB, **dict(zip(x, px)), **dict(zip(y, py))}
        val = float(sp.N(expr.subs(sub))) * SW**2 + SB**2  # readout variance sW^2/N times N, + bias
        errs.append(abs(val - notes_erf(px, py)))
    return f"max |difference| from docs/conventions.md at {len(POINTS)} points: {max(errs):.2e}"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="sympy.stats stopped after 10 s, one nnsym run")
    ap.add_argument("--sympy-timeout", type=float, default=None, help="seconds (default 120; --quick: 10)")
    ap.add_argument("--repeat", type=int, default=None, help="nnsym runs, best of (default 3; --quick: 1)")
    args = ap.parse_args(argv)
    timeout = args.sympy_timeout if args.sympy_timeout is not None else (10.0 if args.quick else 120.0)
    repeat = args.repeat if args.repeat is not None else (1 if args.quick else 3)

    import numpy as np
    import sympy

    import nnsym as ns

    print(f"python {platform.python_version()}, sympy {sympy.__version__}, nnsym {ns.__version__}, "
          f"{os.cpu_count()} cpus, {platform.machine()}")
    print(f"problem: 2-point function of zoo.erf_net(d={D}) = "
          "sb^2 + sW^2 E[erf(w.x + b) erf(w.y + b)], w ~ N(0, sW^2/d I), b ~ N(0, sb^2)")

    best, times, corr = time_nnsym(repeat)
    X = np.array([[px, py] for px, py in POINTS])
    got = corr.evaluate(X, sigma_W=SW, sigma_b=SB, N=10)
    err = max(abs(g - notes_erf(px, py)) for g, (px, py) in zip(got, POINTS))
    print(f"\nnnsym:       {best * 1e3:9.1f} ms  (best of {repeat}: {', '.join(f'{t * 1e3:.1f}' for t in times)} ms; "
          f"cleared caches, new network each run)")
    print(f"             exact: {corr.is_exact}, Integral left: {corr.expr.has(sympy.Integral)}, "
          f"max |difference| from docs/conventions.md at {len(POINTS)} points: {err:.1e}")
    print(f"             {corr.expr}")

    print(f"\nsympy.stats: E[erf(w1 x1 + w2 x2 + b) erf(w1 y1 + w2 y2 + b)] in a subprocess, timeout {timeout:g} s ...",
          flush=True)
    status, elapsed, text = time_sympy_stats(timeout)
    if status == "timeout":
        print(f"sympy.stats: did not finish within {timeout:g} s (stopped)")
        print(f"ratio:       sympy.stats / nnsym > {elapsed / best:,.0f}  (lower bound)")
    elif status == "error":
        print(f"sympy.stats: raised after {elapsed:.1f} s: {text[:300]}")
    elif status == "unevaluated":
        print(f"sympy.stats: finished in {elapsed:.1f} s but left the expectation unevaluated:")
        print(f"             {text[:300]}{' ...' if len(text) > 300 else ''}")
        print(f"ratio:       sympy.stats / nnsym = {elapsed / best:,.0f}  (and no closed form from sympy.stats)")
    else:
        print(f"sympy.stats: finished in {elapsed:.1f} s with a closed form: {text[:300]}")
        try:
            print(f"             {_check_sympy_value(text)}")
        except (ValueError, TypeError, ArithmeticError) as exc:  # sympify failed, or not a number at the points
            print(f"             (could not evaluate it: {type(exc).__name__}: {exc})")
        print(f"ratio:       sympy.stats / nnsym = {elapsed / best:,.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
