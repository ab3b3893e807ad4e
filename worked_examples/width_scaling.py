r"""
Non-Gaussianity falls like 1/N
==============================

For i.i.d. neurons and a readout of variance :math:`\sigma^2/N`, cumulants of the sum
:math:`\phi = \sum_{i\le N} a_ih_i` add, so (docs/conventions.md, "Correlators at finite N")

.. math:: G_c^{(4)}(x_1, \dots, x_4) = N\,\kappa_4\big(ah(x_1), \dots, ah(x_4)\big)
          = \frac1N\Big[\gamma_a^4H^{(4)} - \sigma_a^4\big(H^{12}H^{34} + H^{13}H^{24} + H^{14}H^{23}\big)\Big]
          \propto \frac1N,

the interactions vanish at infinite width (the central limit theorem) and the network field
theory becomes the free (Gaussian-process) one. nnsym's exact :math:`G_c^{(4)}` is symbolic in
:math:`N`; here it is checked against Monte Carlo estimates from *whole width-N networks*
(``method="network"``: fresh networks at each width, so the :math:`1/N` is measured, not built in),
for the cos-net and the two-layer ReLU net of the NN-QFT paper in :math:`d = 1`, and the slope of
:math:`\log|G_c^{(4)}|` against :math:`\log N` is fitted to the Monte Carlo points.
"""

# %%
# The exact width dependence
# --------------------------
import os
import pathlib
import warnings

import matplotlib.pyplot as plt
import numpy as np
import sympy as sp

import nnsym as ns
import nnsym.plot

OUT = pathlib.Path(os.environ.get("NNSYM_EXAMPLES_OUT", "build/examples"))  # where the plot is written
warnings.simplefilter("ignore", ns.NumericWarning)  # the ReLU G_c^(4) is a Gaussian expectation done by quadrature

NETS = {
    "cos-net": (ns.zoo.cos_net(1), np.array([[0.0], [0.1], [0.2], [0.3]]), dict(sigma_a=1.0, sigma_b=1.0), 1_500_000),
    "ReLU net": (ns.zoo.relu_net(1), np.array([[0.2], [0.4], [0.6], [0.8]]), dict(sigma_W=1.0, sigma_b=1.0), 1_000_000),
}
WIDTHS = (1, 2, 4, 8, 16, 32)
for name, (net, X, values, _) in NETS.items():
    G4 = net.correlator(4, connected=True)
    N = net.width
    exactly_one_over_N = N not in sp.expand(N * G4.expr).free_symbols
    print(f"{name}: N G_c^(4) is free of N (G_c^(4) is exactly proportional to 1/N): {exactly_one_over_N};  "
          f"N G_c^(4) at the points {X.ravel().tolist()} = {float(G4.evaluate(X[None], N=1, **values)[0]):.5f}")

# %%
# Monte Carlo at each width, and the fitted slope
# -----------------------------------------------
# Each width gets its own seed, so the points are independent. The slope is a weighted least-squares
# fit of :math:`\log|G_c^{(4)}|` on :math:`\log N`, with :math:`\sigma_{\log} = \sigma/|G|`.
fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
for ax, (name, (net, X, values, samples)) in zip(axes, NETS.items()):
    G4 = net.correlator(4, connected=True)
    exact = np.array([G4.evaluate(X[None], N=n, **values)[0] for n in WIDTHS])
    runs = [ns.monte_carlo(net, 4, X[None], connected=True, samples=samples, seed=1000 + n, method="network",
                           N=n, **values) for n in WIDTHS]
    mean, stderr = np.array([r.mean[0] for r in runs]), np.array([r.stderr[0] for r in runs])
    print(f"{name}: {samples:,} networks per width")
    print(f"{'N':>4} {'exact':>10} {'Monte Carlo':>22} {'z':>6}")
    for n, ex, m, s in zip(WIDTHS, exact, mean, stderr):
        print(f"{n:4d} {ex:10.5f} {m:10.5f} ± {s:.5f} {(m - ex) / s:+6.2f}")
    logN, logG, w = np.log(WIDTHS), np.log(np.abs(mean)), np.abs(mean) / stderr
    (slope, intercept), cov = np.polyfit(logN, logG, 1, w=w, cov="unscaled")
    chi2 = np.sum((w * (logG - slope * logN - intercept)) ** 2)
    print(f"fitted slope d log|G_c^(4)| / d log N = {slope:+.3f} ± {np.sqrt(cov[0, 0]):.3f}  "
          f"(z vs -1: {(slope + 1) / np.sqrt(cov[0, 0]):+.2f}; chi^2 = {chi2:.1f} for {len(logN) - 2} dof)\n")

    grid = np.geomspace(WIDTHS[0], WIDTHS[-1], 100)
    ax.loglog(grid, exact[0] * WIDTHS[0] / grid, "-", color="C0", lw=1.8, label=r"exact $G_c^{(4)}$ ($\propto 1/N$)")
    ax.errorbar(WIDTHS, mean, yerr=stderr, fmt="o", color="C3", ms=5, capsize=3,
                label=f"Monte Carlo, {samples:,} width-N networks")
    ax.loglog(grid, np.exp(intercept) * grid**slope, "--", color="0.4", lw=1.2,
              label=f"fit: slope {slope:+.3f} ± {np.sqrt(cov[0, 0]):.3f}")
    ax.set_xticks(WIDTHS, [str(n) for n in WIDTHS])
    ax.set(xlabel="width $N$", ylabel=r"$G_c^{(4)}(x_1, \ldots, x_4)$")
    ax.set_title(f"{name}, points {X.ravel().tolist()}", fontsize="medium")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(frameon=False)
fig.tight_layout()
print("plot:", *nnsym.plot.save(fig, OUT / "width_scaling.png"))
