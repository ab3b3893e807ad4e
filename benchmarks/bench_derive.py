#!/usr/bin/env python
"""Derivation-time benchmark: nnsym versus sympy.stats.

Measures, with ``time.perf_counter`` and best of ``--repeat`` (default 3), the
wall time nnsym needs to derive the cos-net connected correlators G_c^(4) and
G_c^(6) in a general input dimension d, and the cos-net two-point neuron
expectation H^(2) in d = 2.  Every run starts from cleared caches (sympy's
cache, ``nnsym.clear_cache()`` when it exists, and every ``functools`` cache
found in the nnsym modules) and from a freshly built network.

Next to it sympy.stats computes the same H^(2) in d = 2,

    E[cos(b1 x1 + b2 x2 + c) cos(b1 y1 + b2 y2 + c)],
    b_j ~ Normal(0, sigma_b^2/2),  c ~ Uniform(-pi, pi),

with ``sympy.stats.E`` in a separate process that is stopped after
``--sympy-timeout`` seconds (default 120; ``--quick``: 10 s and one run).

Usage::

    python benchmarks/bench_derive.py [--quick] [--sympy-timeout T] [--repeat R]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time

TARGETS = {"G_c^(4)": 1.0, "G_c^(6)": 10.0}  # seconds, on the 2-core reference machine


# --------------------------------------------------------------------------
# nnsym side
# --------------------------------------------------------------------------

from _common import clear_caches, time_in_subprocess  # noqa: E402  (benchmarks/ is on sys.path when run as a script)


def time_nnsym(make_net, derive, repeat: int) -> tuple[float, list[float], object]:
    """Best-of-``repeat`` wall time of ``derive(make_net())`` from cleared caches."""
    times = []
    result = None
    for _ in range(repeat):
        net = make_net()
        clear_caches()
        start = time.perf_counter()
        result = derive(net)
        times.append(time.perf_counter() - start)
    return min(times), times, result


# --------------------------------------------------------------------------
# sympy.stats side (runs in a child process)
# --------------------------------------------------------------------------

def _sympy_stats_problem():
    import sympy as sp
    from sympy.stats import Normal, Uniform

    d = 2
    sigma_b = sp.Symbol("sigma_b", positive=True)
    x = sp.symbols(f"x1:{d + 1}", real=True)
    y = sp.symbols(f"y1:{d + 1}", real=True)
    b = [Normal(f"b{j + 1}", 0, sigma_b / sp.sqrt(d)) for j in range(d)]  # std sigma_b/sqrt(d)
    c = Uniform("c", -sp.pi, sp.pi)
    bx = sum(bj * xj for bj, xj in zip(b, x))
    by = sum(bj * yj for bj, yj in zip(b, y))
    return sp.cos(bx + c) * sp.cos(by + c), (x, y, sigma_b)


def _sympy_stats_worker(queue) -> None:
    try:
        from sympy.stats import E

        expr, _ = _sympy_stats_problem()
        start = time.perf_counter()
        value = E(expr)
        elapsed = time.perf_counter() - start
        queue.put(("ok", elapsed, str(value)))
    except BaseException as exc:  # report, do not hang the parent
        queue.put(("error", 0.0, f"{type(exc).__name__}: {exc}"))


def time_sympy_stats(timeout: float):
    """(status, seconds, result text) of sympy.stats on the same problem, in a subprocess."""
    return time_in_subprocess(_sympy_stats_worker, timeout)


def _compare_with_sympy(text: str, h2) -> str:
    """Numerical agreement of the sympy.stats result with nnsym's H^(2) at one point."""
    import numpy as np
    import sympy as sp

    _, (x, y, sigma_b) = _sympy_stats_problem()
    rng = np.random.default_rng(0)
    xv, yv = rng.uniform(-1, 1, 2), rng.uniform(-1, 1, 2)
    sb = 0.7
    expr = sp.sympify(text, locals={str(s): s for s in (*x, *y, sigma_b)})
    subs = {**dict(zip(x, xv)), **dict(zip(y, yv)), sigma_b: sb}
    ref = complex(sp.N(expr.subs(subs)))
    ours = float(np.asarray(h2.evaluate(np.array([[xv, yv]]), sigma_b=sb)).reshape(-1)[0])
    return f"sympy.stats {ref.real:.10g} vs nnsym {ours:.10g} (|diff| = {abs(ref - ours):.2e})"


# --------------------------------------------------------------------------

def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sympy-timeout", type=float, default=None,
                        help="seconds before the sympy.stats run is stopped (default 120)")
    parser.add_argument("--repeat", type=int, default=None,
                        help="runs per nnsym measurement, best is reported (default 3)")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: sympy.stats timeout 10 s, one run per measurement")
    args = parser.parse_args(argv)
    timeout = args.sympy_timeout if args.sympy_timeout is not None else (10.0 if args.quick else 120.0)
    repeat = args.repeat if args.repeat is not None else (1 if args.quick else 3)

    import sympy as sp

    import nnsym

    print(f"python {platform.python_version()}, sympy {sp.__version__}, "
          f"nnsym {getattr(nnsym, '__version__', '?')}, {os.cpu_count()} cores")
    print(f"nnsym: best of {repeat}, caches cleared before each run ({', '.join(clear_caches())})")
    print()

    d = sp.Symbol("d", positive=True, integer=True)
    rows = []
    for n in (4, 6):
        label = f"G_c^({n})"
        best, times, _ = time_nnsym(lambda: nnsym.zoo.cos_net(d),
                                    lambda net, n=n: net.correlator(n, connected=True), repeat)
        rows.append((f"cos-net {label}, general d", best, times, TARGETS[label]))
    best, times, h2 = time_nnsym(lambda: nnsym.zoo.cos_net(2),
                                 lambda net: net.neuron_correlator(2), repeat)
    rows.append(("cos-net H^(2), d = 2", best, times, None))

    print(f"{'quantity':<32} {'best':>10}  {'runs (s)':<28} target")
    for label, best, times, target in rows:
        runs = ", ".join(f"{t:.3f}" for t in times)
        tgt = "" if target is None else (
            f"< {target:g} s  {'MET' if best < target else 'MISSED'}")
        print(f"{label:<32} {best:>8.3f} s  {runs:<28} {tgt}")

    print()
    print(f"sympy.stats E[cos(b.x + c) cos(b.y + c)], d = 2 (timeout {timeout:g} s) ...",
          flush=True)
    status, elapsed, text = time_sympy_stats(timeout)
    if status == "ok" and "Integral" in text:
        print(f"sympy.stats: {elapsed:.3f} s, but it returned an unevaluated Integral "
              "(no closed form): did not finish the job")
    elif status == "ok":
        print(f"sympy.stats: {elapsed:.3f} s")
        try:
            print(f"  check: {_compare_with_sympy(text, h2)}")
        except (ValueError, TypeError, ArithmeticError) as exc:  # sympify failed, or not a number at the point
            print(f"  check: could not compare the results ({type(exc).__name__}: {exc})")
    elif status == "timeout":
        print(f"sympy.stats: did not finish in {timeout:g} s")
    else:
        print(f"sympy.stats: failed after {elapsed:.3f} s: {text}")

    if status != "error":
        lower = status == "timeout" or "Integral" in text
        bound = ">= " if lower else ""
        if status == "timeout":
            elapsed = max(elapsed, timeout)
        print()
        print("ratio sympy.stats time / nnsym time"
              + (" (lower bounds: sympy.stats did not finish)" if lower else ""))
        for label, best, _, _ in rows:
            ratio = elapsed / best if best > 0 else float("inf")
            print(f"  vs {label:<30} {bound}{ratio:,.0f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
