r"""
The tests of the NN-QFT paper, done exactly
===========================================

The NN-QFT paper (Halverson, Maiti, Stoner, arXiv:2008.08601) tests its networks in two ways
(docs/conventions.md, "Gaussianity at finite width and the six-point test"). The paper's settings:
:math:`d = 1`, :math:`\sigma_W = \sigma_b = 1`, six input points per network (erf: :math:`-1 \dots 1`; ReLU,
with and without biases: :math:`0.2 \dots 1.2`; Gauss-net: :math:`0.01\times` the erf set), all sorted tuples
of them (126 four-tuples, 462 six-tuples). The two-layer erf and ReLU networks are ``ns.zoo.erf_net`` /
``relu_net``; the paper's Gauss-net is written here with the public API (its output bias included).

1. The deviation from the Gaussian process against the width, exact (nnsym's correlators, every
   width at once) and from sampled networks, with jackknife errors and the noise floor
   :math:`\langle\sigma_{\hat G}/|G_{\rm GP}|\rangle` under which a Monte Carlo :math:`m_n` cannot fall:

   .. math:: m_n(N) = \Big\langle\frac{|G^{(n)} - G^{(n)}_{\rm GP}|}{|G^{(n)}_{\rm GP}|}\Big\rangle_{\rm tuples},
             \qquad G^{(n)}_{\rm GP} = \sum_{\rm pairings}\prod K.

   :math:`m_4` is exactly proportional to :math:`1/N`; the measured :math:`m_n` follows it until it reaches
   the noise floor.
2. The quartic coupling of the ReLU net against the cutoff :math:`\Lambda` of the box :math:`[-\Lambda, \Lambda]`
   (the integral over all of :math:`\mathbb R` diverges: nnsym refuses it), in both conventions,
   :math:`\lambda_{\rm nn\text{-}qft} = -\lambda_{\rm nnsym}/24`.
3. The six-point test: :math:`G^{(6)}` against the free prediction :math:`\sum_{15}KKK` and the first-order
   quartic one :math:`\sum_{15}KKK + \sum_{15}KV`, with :math:`V` the exact :math:`G_c^{(4)}` or the local
   vertex :math:`-\lambda\int\prod K_{\rm EFT}`; the remainder with the exact vertex is
   :math:`G_c^{(6)}\sim N^{-2}`.

By default this runs a reduced version in under a minute: 4 widths instead of 10 (Monte Carlo at
:math:`N\le 100`), :math:`m_6` only for the Gauss-net, 4 cutoffs, the six-point test of the Gauss-net on
all 462 tuples and of the erf net on the 28 tuples of the first 3 input points (its :math:`G^{(6)}` is
quadrature of six-dimensional orthant moments), and the ReLU six-point tests, with and without biases,
only in the full run. ``NNSYM_FULL=1`` (or ``--full``) runs the paper's full settings, about 8 minutes
on 2 cores.

Run alone: ``python worked_examples/nn_qft_paper.py [--full] [--samples 20000] [--erf-points K]``.
"""

# %%
# Settings and the three analyses
# -------------------------------
import argparse
import os
import pathlib
import time
import warnings

import matplotlib.pyplot as plt
import numpy as np
import sympy as sp

import nnsym as ns
import nnsym.plot

OUT = pathlib.Path(os.environ.get("NNSYM_EXAMPLES_OUT", "build/examples"))  # where the plot is written
parser = argparse.ArgumentParser(description="The tests of the NN-QFT paper, done exactly")
parser.add_argument("--full", action="store_true", help="the paper's full settings (also NNSYM_FULL=1; ~8 min)")
parser.add_argument("--samples", type=int, default=20_000, help="sampled networks per width (default 20000)")
parser.add_argument("--erf-points", type=int, default=None,
                    help="the erf six-point test on the tuples of the first K input points (default 3, full: 6; "
                         "0 skips it)")
args = parser.parse_known_args()[0]
FULL = args.full or os.environ.get("NNSYM_FULL", "") not in ("", "0")

WIDTHS = [2, 3, 4, 5, 10, 20, 50, 100, 500, 1000] if FULL else [2, 10, 100, 1000]
MC_WIDTHS = WIDTHS if FULL else [2, 10, 100]  # sampling N = 1000 networks is the costly part
ORDERS = [("erf", 4), ("relu", 4), ("relu, no bias", 4), ("gauss", 4), ("gauss", 6)]
ORDERS += [("erf", 6), ("relu", 6), ("relu, no bias", 6)] if FULL else []
CUTOFFS = [7, 10, 20, 50, 100, 300, 1000] if FULL else [7, 20, 100, 1000]
SIX_POINT_INPUTS = {"gauss": 6, "relu": 6 if FULL else 0, "relu, no bias": 6 if FULL else 0,
                    "erf": args.erf_points if args.erf_points is not None else (6 if FULL else 3)}
print(f"{'full' if FULL else 'reduced'} run: widths {WIDTHS} (Monte Carlo at {MC_WIDTHS}, {args.samples} networks "
      f"each), orders {ORDERS}, cutoffs {CUTOFFS},\n  six-point test on the first K inputs {SIX_POINT_INPUTS} "
      "(0: skipped)")

XSET1 = [-1.0, -0.6, -0.2, 0.2, 0.6, 1.0]
POINTS = {"erf": XSET1, "relu": [0.2, 0.4, 0.6, 0.8, 1.0, 1.2], "gauss": [0.01 * x for x in XSET1]}
POINTS["relu, no bias"] = POINTS["relu"]


def paper_gauss_net() -> ns.Network:
    r"""The paper's Gauss-net in d = 1: h(x) = exp(W0 x + b0) / sqrt(exp(2 (sigma_b^2 + sigma_W^2 x^2))),
    W1 ~ N(0, sigma_W^2/N), W0 ~ N(0, sigma_W^2), b0 ~ N(0, sigma_b^2), output bias b1 ~ N(0, sigma_b^2)."""
    N = sp.Symbol("N", positive=True, integer=True)
    sW, sb = sp.symbols("sigma_W sigma_b", positive=True)
    x = ns.Input("x", 1)
    W0, b0 = ns.Normal("W0", 0, sW**2), ns.Normal("b0", 0, sb**2)
    h = sp.exp(W0 * x + b0) / sp.sqrt(sp.exp(2 * (sb**2 + sW**2 * x**2)))
    return ns.Network(h, readout=ns.Normal("W1", 0, sW**2 / N), width=N, input=x, bias=ns.Normal("b1", 0, sb**2))


NETS = {"erf": lambda: ns.zoo.erf_net(1), "relu": lambda: ns.zoo.relu_net(1),
        "relu, no bias": lambda: ns.zoo.relu_net(1), "gauss": paper_gauss_net}
VALUES = dict(sigma_W=1.0, sigma_b=1.0)
NET_VALUES = {name: dict(VALUES, sigma_b=0.0) if "no bias" in name else VALUES for name in NETS}
warnings.simplefilter("ignore", ns.NumericWarning)
T_START = time.time()


def deviations(samples: int, widths, mc_widths, orders) -> dict:
    print("m_n(N) = <|G^(n) - G_GP^(n)| / |G_GP^(n)|>: exact and Monte Carlo "
          f"({samples} networks per width; floor = noise floor of the Monte Carlo m_n; share = largest share of one "
          "network in the second moment of a product, UNRELIABLE above 80%)")
    out = {}
    for name, n in orders:
        net, P = NETS[name](), np.array(POINTS[name])[:, None]
        t0 = time.time()
        dev = ns.gaussian_deviation(net, ns.sorted_tuples(P, n), **NET_VALUES[name])
        print(f"   {name}-net, n = {n}: exact parts in {time.time() - t0:.1f} s")
        rows = []
        for N in widths:
            exact, err = dev.m(N)
            if N not in mc_widths:
                rows.append((N, exact, err, np.nan, np.nan, np.nan))
                print(f"     N = {N:5d}: exact m = {exact:.4e} (N m = {N * exact:.4g})")
                continue
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ns.errors.UnreliableErrorWarning)
                mc = ns.gaussian_deviation_monte_carlo(net, P, n, N, samples=samples, seed=N, exact=dev,
                                                       **NET_VALUES[name])
            z = (mc["m"] - exact) / mc["stderr"]
            flag = f"  share {100 * mc['max_draw_share']:3.0f}%" + ("  UNRELIABLE" if not mc["reliable"] else "")
            rows.append((N, exact, err, mc["m"], mc["stderr"], mc["noise_floor"]))
            print(f"     N = {N:5d}: exact m = {exact:.4e} (N m = {N * exact:.4g})   MC m = {mc['m']:.4e} "
                  f"+- {mc['stderr']:.1e}  (z = {z:+.1f})   floor = {mc['noise_floor']:.1e}"
                  f"   G^(n) per tuple: max|z| = {mc['max_abs_z']:.1f}{flag}")
        out[(name, n)] = np.array(rows)
    return out


def coupling_vs_cutoff(cutoffs) -> np.ndarray:
    print("ReLU-net quartic coupling against the cutoff (mean over the 126 sorted four-tuples, N = 1)")
    net, P = ns.zoo.relu_net(1), np.array(POINTS["relu"])[:, None]
    X4 = ns.sorted_tuples(P, 4)
    try:
        ns.quartic_coupling(net, X4[:1], region="R^d", N=1, **VALUES)
    except ns.DivergentExpectation as e:
        print(f"   over all of R: refused ({str(e).splitlines()[0][:100]}...)")
    rows = []
    for L in cutoffs:
        lam = ns.quartic_coupling(net, X4, region=(-L, L), N=1, **VALUES)
        v, e = float(np.mean(lam.value)), float(np.mean(lam.error))
        q = float(np.mean(lam.to("nn-qft").value))
        slope = f"   d log|lambda| / d log Lambda = {np.log(v / rows[-1][1]) / np.log(L / rows[-1][0]):+.2f}" \
            if rows else ""
        rows.append((L, v, e, q))
        print(f"   Lambda = {L:6g}: lambda_nnsym * N = {v:+.6e} (+- {e:.1e})   lambda_nnqft * N = {q:+.6e}{slope}")
    return np.array(rows)


def six_point(name: str, widths, region, n_points: int = 6) -> np.ndarray:
    net, P = NETS[name](), np.array(POINTS[name][:n_points])[:, None]
    X6 = ns.sorted_tuples(P, 6)
    t0 = time.time()
    exact = ns.six_point_prediction(net, X6, vertex="exact", **NET_VALUES[name])
    t1 = time.time()
    local = ns.six_point_prediction(net, X6, vertex="local", region=region, **NET_VALUES[name])
    print(f"{name}-net six-point test on {len(X6)} tuples of the first {n_points} inputs "
          f"(exact vertex {t1 - t0:.0f} s, local vertex {time.time() - t1:.0f} s; "
          f"local lambda * N = {local.coupling:+.4e}, region {region})")
    print("     mean |1 - prediction/G6|:      free    free+exact V   free+local V   max|G_c^(6)|/G6 "
          "  identity residual")
    rows = []
    for N in widths:
        de, dl = exact.deviations(N), local.deviations(N)
        G6 = exact.full.at(N)[0]
        rem = np.max(np.abs(exact.remainder(N) / G6))
        res = np.max(np.abs(exact.identity_residual(N) / G6))
        rows.append((N, de["free"], de["free+quartic"], dl["free+quartic"], rem))
        print(f"     N = {N:5d}:                     {de['free']:.3e}   {de['free+quartic']:.3e}      "
              f"{dl['free+quartic']:.3e}      {rem:.3e}         {res:.1e}")
    return np.array(rows)


# %%
# 1. The deviation from the Gaussian process
# ------------------------------------------
# :math:`N m_4` is constant: :math:`m_4\propto 1/N` exactly. The Monte Carlo :math:`m_4` of the erf and ReLU
# nets sits at its noise floor (about 0.024 at :math:`2\times10^4` networks), while every tuple's
# :math:`G^{(4)}` agrees with the exact value. The paper's Gauss-net has heavy-tailed (lognormal)
# products: its sampled :math:`m_6` is far below the exact one, and one network can hold most of the
# second moment.
dev = deviations(args.samples, WIDTHS, MC_WIDTHS, ORDERS)
erf_m4 = dev[("erf", 4)]
print(f"\nerf:  N m_4 = {erf_m4[0, 0] * erf_m4[0, 1]:.4f} at every N;  "
      f"ReLU: {WIDTHS[0] * dev[('relu', 4)][0, 1]:.4f};  "
      f"ReLU without biases: {WIDTHS[0] * dev[('relu, no bias', 4)][0, 1]:.4f}")
g6 = dev[("gauss", 6)]
row10 = g6[list(g6[:, 0]).index(10)]
print(f"Gauss-net at N = 10: exact m_6 = {row10[1]:.1f}, Monte Carlo {row10[3]:.2f} +- {row10[4]:.2f} "
      f"(z = {(row10[3] - row10[1]) / row10[4]:+.0f})")

# %%
# 2. The ReLU coupling against the box cutoff
# -------------------------------------------
# It falls like :math:`\Lambda^{-5}` at large :math:`\Lambda`: the integral of four kernels that each grow
# like :math:`|y|` is what runs, not the interaction.
lam = coupling_vs_cutoff(CUTOFFS)

# %%
# 3. The six-point test
# ---------------------
# The exact vertex leaves :math:`G_c^{(6)}\sim N^{-2}`; the local :math:`\phi^4` vertex (:math:`\lambda` measured
# on :math:`[-10, 10]`) leaves an :math:`O(1/N)` non-local part. For erf that part is most of the interaction:
# the local vertex gains only a third of the way over the free prediction (about a quarter on all 462
# tuples of the full run). The Gauss-net at the paper's :math:`\sigma_b = 1` is far from Gaussian even at
# :math:`N = 1000`. The full run adds the ReLU net (the local vertex leaves :math:`O(1/N)`) and the ReLU
# net without biases, whose local and exact vertices agree (about 15 s each).
six = {}
for name, region in (("gauss", "R^d"), ("relu", (-10.0, 10.0)), ("relu, no bias", (-10.0, 10.0)),
                     ("erf", (-10.0, 10.0))):
    if SIX_POINT_INPUTS[name]:
        six[name] = six_point(name, WIDTHS, region, SIX_POINT_INPUTS[name])
if "erf" in six:
    r = six["erf"][list(six["erf"][:, 0]).index(10)]
    print(f"\nerf at N = 10: the local vertex reduces the deviation of the free prediction by "
          f"{100 * (1 - r[3] / r[1]):.0f}%, the exact vertex by {100 * (1 - r[2] / r[1]):.2f}%")
for name, r in six.items():
    slope = np.log(r[-1, 4] / r[-2, 4]) / np.log(r[-1, 0] / r[-2, 0])
    print(f"{name}: max|G_c^(6)|/G6 falls like N^{slope:.2f} between N = {int(r[-2, 0])} and {int(r[-1, 0])}")

# %%
# The plot
# --------
fig, ax = plt.subplots(1, 3, figsize=(15, 4.2))
for (name, n), r in dev.items():
    line, = ax[0].loglog(r[:, 0], r[:, 1], "-", label=f"{name} n={n} exact")
    ax[0].errorbar(r[:, 0], r[:, 3], yerr=r[:, 4], fmt="o", color=line.get_color(), ms=4)
    ax[0].loglog(r[:, 0], r[:, 5], ":", color=line.get_color(), lw=1)
ax[0].set(xlabel="width $N$", ylabel="$m_n$", title="deviation from the GP (dots: MC, dotted: MC noise floor)")
ax[0].legend(fontsize=7)
ax[1].loglog(lam[:, 0], -lam[:, 1], "o-")
ax[1].set(xlabel=r"cutoff $\Lambda$", ylabel=r"$-\lambda_{\rm nnsym} N$",
          title=r"ReLU-net quartic coupling (box $[-\Lambda, \Lambda]$)")
for k, (name, r) in enumerate(six.items()):
    ax[2].loglog(r[:, 0], r[:, 1], "o-", color=f"C{k}", label=f"{name}: free")
    ax[2].loglog(r[:, 0], r[:, 2], "s-", color=f"C{k}", mfc="none", label=f"{name}: free + exact V")
    ax[2].loglog(r[:, 0], r[:, 3], "^--", color=f"C{k}", label=f"{name}: free + local V")
ax[2].set(xlabel="width $N$", ylabel=r"$\langle|1 - {\rm prediction}/G^{(6)}|\rangle$", title="six-point test")
ax[2].legend(fontsize=7)
fig.tight_layout()
print("plot:", *nnsym.plot.save(fig, OUT / "nn_qft_paper.png"))
print(f"total {time.time() - T_START:.0f} s")
