#!/usr/bin/env python
"""Monte Carlo benchmark: nnsym's estimators against a naive one, throughput, memory.

1. **Time-to-error** (seconds x stderr^2, averaged over 4 point sets) of the
   cos-net connected four-point function G_c^(4) in d = 2 at N = 10, 100, 1000:

   * naive: a straightforward vectorised whole-network numpy estimator written
     here: draw (S, N) a, b, c; phi(x) = sum_i a_i cos(b_i.x + c_i) at the 16
     points; the joint 4th cumulant by plug-in moments; stderr by batch means
     (32 batches);
   * nnsym ``monte_carlo(method="neuron")`` and ``monte_carlo(method="network")``.

   Prints naive/neuron (target >= 10^4 at N = 100; theory ~N^3) and
   naive/network (should be >= ~1).

2. **Throughput**: neuron evaluations per second of ``monte_carlo`` (neuron
   estimator, G_c^(4) at 4 point sets, 10^6 draws; each distinct input evaluated once per
   neuron) as a fraction of numpy's raw ``np.cos`` on an array of as many elements (target
   >= 80% with the other core busy: ``--busy``), in interleaved rounds, wall and CPU time; the
   same for the Gauss-net against ``np.exp``, and the fused numba loop (``fused=True``) when
   numba is installed. With ``--profile``, or when the cos-net fraction is below 50%, a cProfile
   summary follows.

3. **Peak memory** (peak RSS of a fresh subprocess: VmHWM after resetting the
   high-water mark, since ``ru_maxrss`` starts at the parent's peak after
   fork/exec on Linux; ``resource.getrusage`` where /proc is missing) of a
   10^8-draw run (neuron estimator, cos-net G^(2) at one point set; ``--quick``:
   10^7), target < 1 GB; the wall time too. If the target is missed, the same
   run is repeated with ``gc.collect()`` after every block (a diagnostic
   monkeypatch in the subprocess, nnsym itself is not changed).

4. **Fixed cost per call** at n = 2..8 (cos-net G^(n), one point set, 2048 draws): the estimate
   and all 32 jackknife replicas in one pass over the set partitions, against one pass per
   replica (the code before issue 13, re-created here by swapping ``jackknife_replicas``);
   target < 300 ms at n = 8. Same numbers checked bit for bit.

5. **Network estimator on the NN-QFT paper's layout**: 126 four-point tuples of 6 distinct
   inputs (G_c^(4), N = 10): each distinct input evaluated once per network, against every
   point of every tuple evaluated on its own (the layout before issue 13, re-created by swapping
   ``BlockWork.distinct_points``); target >= 10x, same bits.

6. **float32 vs float64** (opt-in ``dtype="float32"``): time, the stated rounding error, and the
   actual difference on the same draws, for the cos-net and the Gauss-net (neuron estimator).

Part 2 also measures the Gauss-net against raw ``np.exp``; ``--busy`` keeps the other core busy
with a spinning subprocess while parts 2 and 6 run (the issue's condition for the >= 0.8 target).

Every number is measured in this run. Usage::

    python benchmarks/bench_montecarlo.py [--quick] [--profile] [--skip-memory] [--busy]
"""
from __future__ import annotations

import argparse
import contextlib
import cProfile
import io
import itertools
import os
import platform
import pstats
import subprocess
import sys
import textwrap
import time
import warnings

import numpy as np

import nnsym as ns

SA, SB, D = 1.0, 0.7, 2
X4 = np.array([  # 4 point sets of 4 points in d = 2
    [[0.0, 0.0], [0.3, -0.2], [0.6, 0.5], [-0.4, 0.9]],
    [[0.1, 0.2], [0.1, 0.2], [-0.5, 0.3], [0.8, -0.6]],
    [[0.5, -0.5], [-0.2, 0.1], [0.0, 0.7], [0.3, 0.3]],
    [[-0.6, 0.2], [0.4, 0.4], [0.2, -0.8], [-0.1, -0.1]],
])


# ----------------------------------------------------------------------------- naive estimator
def _partitions(items):
    if not items:
        yield []
        return
    first, rest = items[0], items[1:]
    for p in _partitions(rest):
        yield [[first]] + p
        for i in range(len(p)):
            yield p[:i] + [[first] + p[i]] + p[i + 1:]


_PARTS4 = list(_partitions([0, 1, 2, 3]))
_MOEBIUS = {1: 1.0, 2: -1.0, 3: 2.0, 4: -6.0}  # (-1)^(k-1) (k-1)!


def _cumulant4(m):
    """Joint 4th cumulant from raw moments m[mask] (arrays over point sets)."""
    out = 0.0
    for p in _PARTS4:
        term = _MOEBIUS[len(p)]
        for B in p:
            term = term * m[sum(1 << k for k in B)]
        out = out + term
    return out


def naive_estimate(N, X, S, seed=0, batches=32, chunk_elems=1 << 22):
    """Whole-network Monte Carlo of G_c^(4): S networks of width N, plug-in
    cumulant, stderr by batch means. Returns (mean, stderr) over the point sets."""
    rng = np.random.default_rng(seed)
    P = X.shape[0]
    pts = X.reshape(P * 4, D)
    per_batch = S // batches
    chunk = max(1, min(per_batch, chunk_elems // (N * P * 4)))
    masks = range(1, 16)
    batch_m = np.zeros((batches, 16, P))
    for bi in range(batches):
        done = 0
        while done < per_batch:
            s = min(chunk, per_batch - done)
            a = rng.normal(0.0, SA / np.sqrt(N), (s, N))
            b = rng.normal(0.0, SB / np.sqrt(D), (s, N, D))
            c = rng.uniform(-np.pi, np.pi, (s, N))
            phi = np.einsum("sn,snm->sm", a, np.cos(b @ pts.T + c[:, :, None]))  # (s, 16)
            Y = phi.reshape(s, P, 4)
            for mask in masks:
                prod = np.ones((s, P))
                for k in range(4):
                    if mask >> k & 1:
                        prod = prod * Y[:, :, k]
                batch_m[bi, mask] += prod.sum(axis=0)
            done += s
    batch_m /= per_batch
    batch_m[:, 0] = 1.0
    per_batch_est = np.array([_cumulant4(batch_m[bi]) for bi in range(batches)])
    mean = _cumulant4(batch_m.mean(axis=0))
    stderr = per_batch_est.std(axis=0, ddof=1) / np.sqrt(batches)
    return mean, stderr


# ----------------------------------------------------------------------------- part 1
def time_to_error(quick):
    net = ns.zoo.cos_net(D)
    corr = net.correlator(4, connected=True)
    print("\n1. Time-to-error (s x stderr^2, mean over 4 point sets) for cos-net G_c^(4), d = 2")
    work = 4 * 10**5 if quick else 4 * 10**6  # naive: networks x width
    neuron_samples = 2 * 10**5 if quick else 10**6
    hdr = (f"  {'N':>5} {'estimator':>9} {'draws':>10} {'time [s]':>9} {'rms z':>6} "
           f"{'stderr^2':>10} {'time x se^2':>12} {'naive / this':>13}")
    print(hdr)
    results = {}
    for N in (10, 100, 1000):
        vals = dict(sigma_a=SA, sigma_b=SB, N=N)
        exact = corr.evaluate(X4, **vals)
        # >= 256 networks per batch: with fewer, batch means (and the jackknife)
        # underestimate the stderr of a 4th cumulant (measured: by ~1.5x at 64 per batch)
        S = max(32 * (64 if quick else 256), work // N)
        rows = []
        t = time.perf_counter()
        m, se = naive_estimate(N, X4, S, seed=1)
        rows.append(("naive", S, time.perf_counter() - t, m, se))
        for method, samples in (("neuron", neuron_samples), ("network", S)):
            ns.monte_carlo(net, 4, X4, connected=True, samples=2048, method=method, **vals)  # compile/warm
            t = time.perf_counter()
            est = ns.monte_carlo(net, 4, X4, connected=True, samples=samples, seed=1, method=method, **vals)
            rows.append((method, samples, time.perf_counter() - t, est.mean, est.stderr))
        tte = {name: el * np.mean(se**2) for name, _, el, _, se in rows}
        for name, draws, el, m, se in rows:
            rz = np.sqrt(np.mean(((m - exact) / se) ** 2))
            ratio = tte["naive"] / tte[name]
            print(f"  {N:>5} {name:>9} {draws:>10,} {el:>9.2f} {rz:>6.2f} {np.mean(se**2):>10.2e} "
                  f"{tte[name]:>12.3e} {ratio:>13.3g}")
        results[N] = (tte["naive"] / tte["neuron"], tte["naive"] / tte["network"])
    print("  summary:")
    losses = [N for N, (_, r_net) in results.items() if r_net < 0.8]
    for N, (r_neu, r_net) in results.items():
        extra = ""
        if N == 100:
            extra = f"   (target >= 1e4: {'OK' if r_neu >= 1e4 else 'MISSED'})"
        print(f"    N = {N:>4}: naive/neuron = {r_neu:10.3g}  (N^3 = {N**3:.0e}){extra};"
              f"  naive/network = {r_net:6.3g}  ({'OK' if r_net >= 0.8 else 'LOSES'})")
    if losses:
        _network_breakdown(net, 100 if 100 in losses else losses[0], quick)
    return results


def _network_breakdown(net, N, quick):
    """Per-draw cost of the network estimator's field values vs the naive numpy form."""
    from nnsym.sampling.moments import BLOCK_ELEMENTS
    from nnsym.sampling.sampler import NetworkSampler

    vals = dict(sigma_a=SA, sigma_b=SB, N=N)
    sampler = NetworkSampler(net, vals, D)
    P = X4.shape[0]
    pts = X4.reshape(P * 4, D)
    S = max(1, BLOCK_ELEMENTS // (P * 4 * N))
    reps = 5 if quick else 20
    rng = np.random.default_rng(0)
    t = time.perf_counter()
    for _ in range(reps):
        sampler.field_values(rng, S, pts)
    t_eng = (time.perf_counter() - t) / (reps * S)
    t = time.perf_counter()
    for _ in range(reps):
        a = rng.normal(0.0, SA / np.sqrt(N), (S, N))
        b = rng.normal(0.0, SB / np.sqrt(D), (S, N, D))
        c = rng.uniform(-np.pi, np.pi, (S, N))
        np.einsum("sn,snm->sm", a, np.cos(b @ pts.T + c[:, :, None]))
    t_naive = (time.perf_counter() - t) / (reps * S)
    print(f"  network estimator at N = {N}: field values cost {t_eng * 1e6:.0f} us per network in "
          f"NetworkSampler.field_values vs {t_naive * 1e6:.0f} us in the naive numpy form "
          f"(b @ x.T, einsum over neurons): {t_eng / t_naive:.1f}x")


# ----------------------------------------------------------------------------- part 2
def throughput(quick, profile):
    print(f"\n2. Throughput: neuron evaluations per second vs raw np.cos{' (other core busy)' if BUSY else ''}")
    net = ns.zoo.cos_net(D)
    vals = dict(sigma_a=SA, sigma_b=SB, N=10)
    samples = 2 * 10**5 if quick else 10**6
    kw = dict(connected=True, samples=samples, seed=2, method="neuron", **vals)
    ns.monte_carlo(net, 4, X4, **{**kw, "samples": 4096})  # compile/warm
    est = ns.monte_carlo(net, 4, X4, **kw)
    evals = est.neuron_evaluations  # each distinct input once per neuron
    arr = np.random.default_rng(0).uniform(-10, 10, evals)
    gauss = ns.zoo.gauss_net(D)
    gkw = dict(connected=True, samples=samples, seed=2, method="neuron", sigma_a=SA, sigma_b=SB, sigma_c=0.5, N=10)
    ns.monte_carlo(gauss, 4, X4, **{**gkw, "samples": 4096})
    # interleaved rounds, the best of each (wall and CPU time): on a shared machine the load moves
    # between rounds, not between the two things compared
    runs = {"mc": lambda: ns.monte_carlo(net, 4, X4, **kw), "cos": lambda: np.cos(arr),
            "gauss": lambda: ns.monte_carlo(gauss, 4, X4, **gkw), "exp": lambda: np.exp(arr)}
    from nnsym.sampling.fused import numba_available

    if numba_available():
        ns.monte_carlo(net, 4, X4, fused=True, **{**kw, "samples": 4096})  # compile
        runs["fused"] = lambda: ns.monte_carlo(net, 4, X4, fused=True, **kw)
    wall = dict.fromkeys(runs, float("inf"))
    cpu = dict.fromkeys(runs, float("inf"))
    for _ in range(3 if quick else 5):
        for key, fn in runs.items():
            t, c = time.perf_counter(), time.process_time()
            fn()
            wall[key] = min(wall[key], time.perf_counter() - t)
            cpu[key] = min(cpu[key], time.process_time() - c)
    best, t_cos = wall["mc"], wall["cos"]
    rate_mc, rate_cos = evals / best, evals / t_cos
    frac = rate_mc / rate_cos
    print(f"  monte_carlo (neuron, G_c^(4), 4 point sets, {samples:,} draws = {evals:,} neuron evaluations): "
          f"{best:.3f} s -> {rate_mc / 1e6:.1f} M evals/s")
    print(f"  np.cos on {evals:,} float64: {t_cos:.3f} s -> {rate_cos / 1e6:.1f} M evals/s")
    print(f"  fraction of the np.cos floor: {100 * frac:.1f}% (CPU time: {100 * cpu['cos'] / cpu['mc']:.1f}%)   "
          f"(target >= 80% with the other core busy: {'OK' if frac >= 0.8 else 'MISSED'}"
          f"{'' if BUSY else ', run with --busy for that condition'})")
    if "fused" in runs:
        print(f"  fused numba loop (fused=True): {wall['fused']:.3f} s -> fraction of the np.cos floor "
              f"{100 * t_cos / wall['fused']:.1f}% (CPU time: {100 * cpu['cos'] / cpu['fused']:.1f}%)")
    else:
        print("  fused numba loop: numba not installed (pip install 'nnsym[numba]'), skipped")
    print(f"  Gauss-net, same layout: {wall['gauss']:.3f} s; np.exp on {evals:,} float64: {wall['exp']:.3f} s -> "
          f"fraction of the np.exp floor {100 * wall['exp'] / wall['gauss']:.1f}% "
          f"(CPU time: {100 * cpu['exp'] / cpu['gauss']:.1f}%)")
    if profile or frac < 0.5:
        pr = cProfile.Profile()
        pr.enable()
        ns.monte_carlo(net, 4, X4, **kw)
        pr.disable()
        buf = io.StringIO()
        pstats.Stats(pr, stream=buf).sort_stats("tottime").print_stats(14)
        lines = [ln for ln in buf.getvalue().splitlines() if ln.strip()]
        start = next(i for i, ln in enumerate(lines) if "ncalls" in ln)
        print("  cProfile of one run, by own time (tottime):")
        for ln in lines[start:start + 15]:
            print("    " + ln[:150])
        print("  time split, measured piece by piece:")
        _breakdown(net, vals, samples, t_cos)
    return frac


def _breakdown(net, vals, samples, t_cos):
    """Where a neuron-estimator run spends its time, block by block as the engine
    does it (same block sizes): parameter draws, the lambdified neuron, a*h and the
    subset sums, the per-block law-parameter lookups."""
    from nnsym.sampling.moments import BLOCK_ELEMENTS, block_layout, subset_sums
    from nnsym.sampling.sampler import NetworkSampler

    P, n = X4.shape[:2]
    pts = X4.reshape(P * n, D)
    sampler = NetworkSampler(net, vals, D)
    if sorted(str(p) for p in sampler.params) != ["b", "c"]:
        print("    (unexpected parameters; breakdown skipped)")
        return
    sizes = block_layout(samples, 32, max(1, BLOCK_ELEMENTS // (P * n)))
    rng = np.random.default_rng(0)
    acc = dict.fromkeys(["draw", "kernel", "sub", "param", "cos"], 0.0)

    def tick(key, t0):
        acc[key] += time.perf_counter() - t0

    for S in sizes:
        t = time.perf_counter()
        a = rng.normal(0, SA / np.sqrt(10), (S, 1))
        b = rng.normal(0, SB / np.sqrt(D), (S, 1, D))
        c = rng.uniform(-np.pi, np.pi, (S, 1))
        tick("draw", t)
        drawn = {"b": b, "c": c}
        t = time.perf_counter()
        h = sampler.neuron_kernel(*[drawn[str(p)] for p in sampler.params], pts, *sampler.hyper_values)
        tick("kernel", t)
        t = time.perf_counter()
        Y = (a * h).reshape(S, P, n)
        subset_sums(Y)
        tick("sub", t)
        t = time.perf_counter()
        for p in [net.readout] + sampler.params:
            p.law.numeric_params(sampler.values)
        tick("param", t)
        t = time.perf_counter()
        np.cos(h)
        tick("cos", t)
    tot = acc["draw"] + acc["kernel"] + acc["sub"] + acc["param"]
    # t_cos: np.cos on one array of all the evaluations (the headline floor); the
    # block-wise np.cos above is faster (blocks stay in cache)
    print(f"    ({len(sizes)} blocks of {sizes[0]:,} draws x {P * n} points)")
    print(f"    parameter draws (rng)                         : {acc['draw']:.3f} s")
    print(f"    lambdified neuron cos(b.x + c)                : {acc['kernel']:.3f} s"
          f"   [np.cos alone on the same blocks: {acc['cos']:.3f} s]")
    print(f"    a*h and subset sums (15 products + sums)      : {acc['sub']:.3f} s")
    print(f"    law parameter lookups (numeric_params)        : {acc['param']:.3f} s")
    print(f"    sum of the pieces                             : {tot:.3f} s")
    print(f"    -> the pieces are ~{100 * t_cos / tot:.0f}% of the np.cos floor")


# ----------------------------------------------------------------------------- part 3
_MEM_CHILD = textwrap.dedent("""
    import gc, resource, sys, time
    import numpy as np
    import nnsym as ns
    import nnsym.sampling.montecarlo as mc
    if {patch_gc}:
        _orig = mc.subset_sums_point_major
        def _patched(*args, **kw):
            out = _orig(*args, **kw)
            gc.collect()
            return out
        mc.subset_sums_point_major = _patched
    net = ns.zoo.cos_net(2)
    X = np.array([[[0.1, 0.2], [0.4, -0.3]]])
    vals = dict(sigma_a=1.0, sigma_b=0.7, N=10)
    exact = net.correlator(2).evaluate(X, **vals)
    ns.monte_carlo(net, 2, X, samples=4096, **vals)

    def status(key):  # KiB, Linux
        try:
            for line in open("/proc/self/status"):
                if line.startswith(key + ":"):
                    return int(line.split()[1])
        except OSError:
            return None

    # ru_maxrss (and VmHWM) start at the parent's high-water mark after fork/exec on
    # Linux: reset the high-water mark to the current RSS first (clear_refs 5)
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        how = "VmHWM"
    except OSError:
        how = "ru_maxrss (may include the parent's peak)"
    base = status("VmRSS") or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t = time.perf_counter()
    est = ns.monte_carlo(net, 2, X, samples={samples}, seed=0, **vals)
    el = time.perf_counter() - t
    peak = status("VmHWM") if how == "VmHWM" else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(peak, base, el, float(est.mean[0]), float(est.stderr[0]), float(exact[0]), how.replace(" ", "_"))
""")


def _mem_run(samples, patch_gc=False):
    code = _MEM_CHILD.format(samples=samples, patch_gc=patch_gc)
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=3600)
    if res.returncode != 0:
        raise RuntimeError(res.stderr)
    peak, base, el, mean, se, exact, how = res.stdout.split()
    return (int(peak) / 1024, int(base) / 1024, float(el), float(mean), float(se), float(exact),  # MiB (Linux: KiB)
            how.replace("_", " "))


def memory(quick):
    samples = 10**7 if quick else 10**8
    print(f"\n3. Peak memory of a {samples:.0e}-draw run (neuron estimator, cos-net G^(2), one point set, subprocess)")
    peak, base, el, mean, se, exact, how = _mem_run(samples)
    ok = peak < 1024
    print(f"  peak RSS {peak:.0f} MiB [{how}] (RSS after imports and warm-up: {base:.0f} MiB; "
          f"the run adds {peak - base:.0f} MiB);"
          f" holding the draws would take {samples * 2 * 8 / 2**20:,.0f} MiB")
    print(f"  time {el:.1f} s ({samples * 2 / el / 1e6:.1f} M neuron evals/s); "
          f"estimate {mean:.6f} +- {se:.1e} vs exact {exact:.6f} (z = {(mean - exact) / se:+.2f})")
    print(f"  target < 1 GB: {'OK' if ok else 'MISSED'}")
    if not ok or (peak - base) > 256:
        p2, b2, el2, *_ = _mem_run(samples, patch_gc=True)
        print(f"  diagnostic, same run with gc.collect() after each block: peak RSS {p2:.0f} MiB "
              f"(run adds {p2 - b2:.0f} MiB), time {el2:.1f} s")
        if (p2 - b2) < 0.5 * (peak - base):
            print("  -> finished blocks stay alive until the cyclic GC runs (a reference cycle: the recursive "
                  "closure in montecarlo.subset_sums holds Y)")
    return peak


# ----------------------------------------------------------------------------- parts 4-6
BUSY = False  # --busy: a spinning subprocess keeps the other core busy during parts 2 and 6


@contextlib.contextmanager
def other_core_busy(on):
    """A subprocess spinning on one core while the block runs (when ``on``); stopped by its handle."""
    proc = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if on else None
    try:
        time.sleep(0.2 if on else 0.0)
        yield
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(5)


def _timed(fn):
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def _per_replica_jackknife(total, batch_sums, n, connected, method, N, bias_moments):
    """The jackknife before issue 13: one pass over the set partitions per replica."""
    from nnsym.sampling.moments import estimate_from_moments

    est = estimate_from_moments(total / total[0], n, connected, method, N, bias_moments)
    jk = np.array([estimate_from_moments((total - b) / (total[0] - b[0]), n, connected, method, N, bias_moments)
                   for b in batch_sums])
    P = total.shape[-1]
    return np.broadcast_to(est, (P,)), np.broadcast_to(jk, (len(batch_sums), P))


def _every_point(self):
    """The layout before issue 13: every point of every set evaluated on its own."""
    P, n, d = self.X.shape
    return self.X.reshape(P * n, d), np.arange(P * n).reshape(P, n)


@contextlib.contextmanager
def _swapped(obj, name, value):
    old = getattr(obj, name)
    setattr(obj, name, value)
    try:
        yield
    finally:
        setattr(obj, name, old)


def fixed_cost(quick):
    import nnsym.sampling.montecarlo as mc

    print("\n4. Fixed cost per monte_carlo call (cos-net G^(n), 1 point set, 2048 draws, 32 jackknife batches)")
    print(f"  {'n':>3} {'one pass [ms]':>14} {'per replica [ms]':>17} {'ratio':>7}  same bits")
    net = ns.zoo.cos_net(D)
    vals = dict(sigma_a=SA, sigma_b=SB, N=10)
    out = {}
    for n in range(2, 9):
        X = 0.4 * np.random.default_rng(n).normal(size=(1, n, D))
        kw = dict(samples=2048, seed=1, **vals)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ns.monte_carlo(net, n, X, **kw)  # compile/warm
            new = min(_timed(lambda: ns.monte_carlo(net, n, X, **kw)) for _ in range(1 if n == 8 else 3))
            est = ns.monte_carlo(net, n, X, **kw)
            if quick and n > 6:
                old, same = float("nan"), "(skipped in --quick)"
            else:
                with _swapped(mc, "jackknife_replicas", _per_replica_jackknife):
                    old = _timed(lambda: ns.monte_carlo(net, n, X, **kw))
                    ref = ns.monte_carlo(net, n, X, **kw)
                same = np.array_equal(ref.mean, est.mean) and np.array_equal(ref.stderr, est.stderr)
        out[n] = new
        print(f"  {n:>3} {1e3 * new:>14.1f} {1e3 * old:>17.1f} {old / new:>7.1f}  {same}")
    print(f"  n = 8: {1e3 * out[8]:.0f} ms (target < 300 ms: {'OK' if out[8] < 0.3 else 'MISSED'})")
    return out


def paper_tuples(quick):
    import nnsym.sampling.montecarlo as mc

    print("\n5. Network estimator on the paper's layout: 126 four-point tuples of 6 distinct inputs, G_c^(4), N = 10")
    net = ns.zoo.cos_net(D)
    pts = 0.5 * np.random.default_rng(1).normal(size=(6, D))
    X = pts[np.array(list(itertools.combinations_with_replacement(range(6), 4)))]
    samples = 2**12 if quick else 2**14
    kw = dict(connected=True, samples=samples, seed=3, method="network", sigma_a=SA, sigma_b=SB, N=10)
    ns.monte_carlo(net, 4, X, **{**kw, "samples": 2048})
    t_new = min(_timed(lambda: ns.monte_carlo(net, 4, X, **kw)) for _ in range(3))
    new = ns.monte_carlo(net, 4, X, **kw)
    with _swapped(mc.BlockWork, "distinct_points", _every_point):
        t_old = min(_timed(lambda: ns.monte_carlo(net, 4, X, **kw)) for _ in range(1 if quick else 2))
        old = ns.monte_carlo(net, 4, X, **kw)
    same = np.array_equal(new.mean, old.mean) and np.array_equal(new.stderr, old.stderr)
    print(f"  every point evaluated ({old.neuron_evaluations // samples // 10} per network): "
          f"{1e6 * t_old / samples:.1f} us per network")
    print(f"  distinct inputs once  ({new.neuron_evaluations // samples // 10} per network):   "
          f"{1e6 * t_new / samples:.1f} us per network")
    ratio = t_old / t_new
    print(f"  speed-up {ratio:.1f}x (target >= 10x: {'OK' if ratio >= 10 else 'MISSED'}); same bits: {same}")
    return ratio


def precision(quick):
    print(f"\n6. float32 vs float64 (neuron estimator, G_c^(4), 4 point sets, same draws)"
          f"{' (other core busy)' if BUSY else ''}")
    samples = 2 * 10**5 if quick else 10**6
    print(f"  {'network':>9} {'t64 [s]':>8} {'t32 [s]':>8} {'speed-up':>9} {'stderr':>9} {'rounding err':>13} "
          f"{'|f32 - f64|':>12}")
    for name, net, vals in (("cos", ns.zoo.cos_net(D), dict(sigma_a=SA, sigma_b=SB, N=10)),
                            ("gauss", ns.zoo.gauss_net(D), dict(sigma_a=SA, sigma_b=SB, sigma_c=0.5, N=10))):
        kw = dict(connected=True, samples=samples, seed=4, method="neuron", **vals)
        for dt in ("float64", "float32"):
            ns.monte_carlo(net, 4, X4, dtype=dt, **{**kw, "samples": 4096})
        t64 = min(_timed(lambda: ns.monte_carlo(net, 4, X4, **kw)) for _ in range(3))
        t32 = min(_timed(lambda: ns.monte_carlo(net, 4, X4, dtype="float32", **kw)) for _ in range(3))
        e64 = ns.monte_carlo(net, 4, X4, **kw)
        e32 = ns.monte_carlo(net, 4, X4, dtype="float32", **kw)
        diff = np.max(np.abs(e32.mean - e64.mean))
        print(f"  {name:>9} {t64:>8.3f} {t32:>8.3f} {t64 / t32:>8.1f}x {np.max(e64.stderr):>9.2e} "
              f"{np.max(e32.rounding_error):>13.2e} {diff:>12.2e}"
              f"{'' if np.all(np.abs(e32.mean - e64.mean) <= e32.rounding_error) else '  (EXCEEDS the stated error)'}")
    arr = np.random.default_rng(0).uniform(-10, 10, 10**7)
    a32 = arr.astype(np.float32)
    t64 = min(_timed(lambda: np.cos(arr)) for _ in range(3))
    t32 = min(_timed(lambda: np.cos(a32)) for _ in range(3))
    print(f"  raw np.cos on 10^7 values: float64 {t64:.3f} s, float32 {t32:.3f} s ({t64 / t32:.1f}x)")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="smoke run (< 1 min): fewer draws, 10^7-draw memory run")
    ap.add_argument("--profile", action="store_true", help="always print the cProfile summary of part 2")
    ap.add_argument("--skip-memory", action="store_true", help="skip part 3")
    ap.add_argument("--busy", action="store_true", help="keep the other core busy during parts 2 and 6")
    args = ap.parse_args(argv)
    global BUSY
    BUSY = args.busy
    # warm-up calls use few draws, and the Gauss-net's few-draw runs are flagged as heavy-tailed:
    # expected here, not news
    warnings.filterwarnings("ignore", message="only .* draws per jackknife batch")
    warnings.filterwarnings("ignore", category=ns.UnreliableErrorWarning)
    print(f"python {platform.python_version()}, numpy {np.__version__}, {os.cpu_count()} cpu(s)"
          f"{', QUICK' if args.quick else ''}")
    t0 = time.perf_counter()
    time_to_error(args.quick)
    with other_core_busy(BUSY):
        throughput(args.quick, args.profile)
    if not args.skip_memory:
        memory(args.quick)
    fixed_cost(args.quick)
    paper_tuples(args.quick)
    with other_core_busy(BUSY):
        precision(args.quick)
    print(f"\ntotal {time.perf_counter() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
