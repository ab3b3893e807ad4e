r"""The tests of the NN-QFT paper (Halverson, Maiti, Stoner, arXiv:2008.08601), done exactly.

Run:  python worked_examples/nn_qft_paper.py [--out nn_qft_paper.png] [--samples 20000] [--quick]

The paper's settings: d = 1, sigma_W = sigma_b = 1, widths 2 ... 1000, six input points per network
(erf: -1 ... 1; ReLU, with and without biases: 0.2 ... 1.2; Gauss-net: 0.01 x the erf set), all sorted tuples of them
(126 four-tuples, 462 six-tuples). The two-layer erf and ReLU networks are ns.zoo.erf_net / relu_net;
the paper's Gauss-net is written here with the public API (its output bias included).

1. m_n(N) = < |G^(n) - G_GP^(n)| / |G_GP^(n)| >_tuples for n = 4, 6 against the width: exact
   (nnsym's correlators, every width at once) and from sampled networks with jackknife errors and the
   noise floor <sigma_G / |G_GP|> under which a Monte Carlo m_n cannot fall. m_4 is exactly
   proportional to 1/N; the measured m_n follows it until it reaches the noise floor.
2. The quartic coupling of the ReLU net against the cutoff Lambda of the box [-Lambda, Lambda]
   (the integral over all of R diverges: nnsym refuses it), in both conventions
   (lambda_nnqft = -lambda_nnsym / 24).
3. The six-point test on all 462 tuples (erf: --erf-points K for the tuples of the first K points only,
   its G^(6) being quadrature): G^(6) against the free prediction sum_15 KKK and the
   first-order quartic one sum_15 KKK + sum_15 K V, with V the exact G_c^(4) and the local vertex
   -lambda int prod K_EFT; the remainder with the exact vertex is G_c^(6) ~ N^-2.
"""
import argparse
import time
import warnings

import numpy as np
import sympy as sp

import nnsym as ns

WIDTHS = [2, 3, 4, 5, 10, 20, 50, 100, 500, 1000]
XSET1 = [-1.0, -0.6, -0.2, 0.2, 0.6, 1.0]
POINTS = {"erf": XSET1, "relu": [0.2, 0.4, 0.6, 0.8, 1.0, 1.2], "gauss": [0.01 * x for x in XSET1]}
CUTOFFS = [7, 10, 20, 50, 100, 300, 1000]


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
POINTS["relu, no bias"] = POINTS["relu"]


def deviations(samples: int, widths, orders) -> dict:
    print("1. m_n(N) = <|G^(n) - G_GP^(n)| / |G_GP^(n)|>: exact and Monte Carlo "
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
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ns.errors.UnreliableErrorWarning)
                mc = ns.gaussian_deviation_monte_carlo(net, P, n, N, samples=samples, seed=N, exact=dev,
                                                       **NET_VALUES[name])
            z = (mc["m"] - exact) / mc["stderr"]
            flag = f"  share {100 * mc['max_draw_share']:3.0f}%" + ("  UNRELIABLE" if not mc["reliable"] else "")
            rows.append((N, exact, err, mc["m"], mc["stderr"], mc["noise_floor"]))
            print(f"     N = {N:5d}: exact m = {exact:.4e} (+- {err:.1e})   MC m = {mc['m']:.4e} +- {mc['stderr']:.1e}"
                  f"  (z = {z:+.1f})   floor = {mc['noise_floor']:.1e}"
                  f"   G^(n) per tuple: max|z| = {mc['max_abs_z']:.1f}"
                  f"{flag}")
        out[(name, n)] = np.array(rows)
    return out


def coupling_vs_cutoff(cutoffs) -> np.ndarray:
    print("2. ReLU-net quartic coupling against the cutoff (mean over the 126 sorted four-tuples, N = 1)")
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
        rows.append((L, v, e, q))
        print(f"   Lambda = {L:6g}: lambda_nnsym * N = {v:+.6e} (+- {e:.1e})   lambda_nnqft * N = {q:+.6e}")
    return np.array(rows)


def six_point(name: str, widths, region, n_points: int = 6) -> dict:
    net, P = NETS[name](), np.array(POINTS[name][:n_points])[:, None]
    X6 = ns.sorted_tuples(P, 6)
    t0 = time.time()
    exact = ns.six_point_prediction(net, X6, vertex="exact", **NET_VALUES[name])
    t1 = time.time()
    local = ns.six_point_prediction(net, X6, vertex="local", region=region, **NET_VALUES[name])
    print(f"3. {name}-net six-point test on {len(X6)} tuples (exact vertex {t1 - t0:.0f} s, local vertex "
          f"{time.time() - t1:.0f} s; local lambda * N = {local.coupling:+.4e}, region {region})")
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


def plot(path, dev, lam, six):
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("(matplotlib is not installed: no plot; pip install matplotlib)")
        return
    fig, ax = plt.subplots(1, 3, figsize=(15, 4.2))
    for (name, n), r in dev.items():
        line, = ax[0].loglog(r[:, 0], r[:, 1], "-", label=f"{name} n={n} exact")
        ax[0].errorbar(r[:, 0], r[:, 3], yerr=r[:, 4], fmt="o", color=line.get_color(), ms=4)
        ax[0].loglog(r[:, 0], r[:, 5], ":", color=line.get_color(), lw=1)
    ax[0].set(xlabel="width N", ylabel="m_n", title="deviation from the GP (dots: MC, dotted: MC noise floor)")
    ax[0].legend(fontsize=7)
    ax[1].loglog(lam[:, 0], -lam[:, 1], "o-")
    ax[1].set(xlabel="cutoff Lambda", ylabel="-lambda_nnsym * N", title="ReLU-net quartic coupling (box [-L, L])")
    for name, r in six.items():
        ax[2].loglog(r[:, 0], r[:, 1], "o-", label=f"{name}: free")
        ax[2].loglog(r[:, 0], r[:, 2], "s-", label=f"{name}: free + exact V")
        ax[2].loglog(r[:, 0], r[:, 3], "^--", label=f"{name}: free + local V")
    ax[2].set(xlabel="width N", ylabel="<|1 - prediction/G6|>", title="six-point test")
    ax[2].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    print(f"plot: {path}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="nn_qft_paper.png", help="the PNG plot (default: ./nn_qft_paper.png)")
    ap.add_argument("--samples", type=int, default=20_000, help="sampled networks per width (default 20000)")
    ap.add_argument("--quick", action="store_true", help="fewer widths, no ReLU or erf six-point test (about a minute)")
    ap.add_argument("--erf-points", type=int, default=6,
                    help="the erf six-point test on the tuples of the first K input points (default 6: all 462; "
                         "its G^(6) is quadrature, 0 skips it)")
    args = ap.parse_args()
    warnings.simplefilter("ignore", ns.NumericWarning)
    t0 = time.time()
    widths = [2, 10, 100, 1000] if args.quick else WIDTHS
    orders = [("erf", 4), ("relu", 4), ("relu, no bias", 4), ("gauss", 4), ("gauss", 6)]
    orders += [] if args.quick else [("erf", 6), ("relu", 6), ("relu, no bias", 6)]
    dev = deviations(args.samples, widths, orders)
    lam = coupling_vs_cutoff(CUTOFFS[:3] if args.quick else CUTOFFS)
    six = {"gauss": six_point("gauss", widths, "R^d")}
    if not args.quick:
        six["relu"] = six_point("relu", widths, (-10.0, 10.0))
        six["relu, no bias"] = six_point("relu, no bias", widths, (-10.0, 10.0))
    if args.erf_points and not args.quick:
        six["erf"] = six_point("erf", widths, (-10.0, 10.0), args.erf_points)
    plot(args.out, dev, lam, six)
    print(f"total {time.time() - t0:.0f} s")


if __name__ == "__main__":
    main()
