r"""
The density of field values at finite N
=======================================

The cos-net in :math:`d = 1` (:math:`\sigma_a = \sigma_b = 1`),
:math:`\phi(x) = \sum_{i\le N} a_i\cos(b_ix + c_i)`, is Gaussian only as :math:`N\to\infty`. At finite
:math:`N` the density of :math:`\phi(x)` is known exactly (docs/conventions.md, "Density of field values
and the Edgeworth series"):

.. math:: \chi_1(t) = E_{b,c}\Big[e^{-\sigma_a^2t^2\cos^2(bx + c)/(2N)}\Big],\qquad
          p_N(\Phi) = \frac{1}{2\pi}\int dt\;\chi_1(t)^N\,e^{-it\Phi},

the readout integrated first; nnsym computes the inversion by a trapezoidal sum with a stated error.
The Edgeworth series to order :math:`1/N`, with :math:`\kappa_4 = G_c^{(4)}(x, x, x, x) = 3\sigma_a^4/(8N)`
and :math:`z = (\phi - m)/\sigma`,

.. math:: p = \frac{\varphi(z)}{\sigma}\Big[1 + \frac{\kappa_3}{6\sigma^3}He_3(z) + \frac{\kappa_4}{24\sigma^4}He_4(z)
          + \frac{\kappa_3^2}{72\sigma^6}He_6(z)\Big],

and the Gaussian (NNGP) density are its approximations. Each is compared with a histogram of
:math:`2\times10^5` sampled networks: the :math:`L_1` distance over the cells, the histogram's own
:math:`L_1` noise (mean :math:`\pm` sd for a histogram drawn from the density itself), the z-score of the
distance against that noise, and the Kolmogorov distance with its p-value. Last, the joint density
of :math:`(\phi(0), \phi(0.8))` at :math:`N = 20` against a two-dimensional histogram.

The exact density matches the histograms at every :math:`N` (:math:`|z| < 5`); the Gaussian does not at
:math:`N = 2` and 5, and the Edgeworth series is much closer than the Gaussian at :math:`N = 5` (but not
at :math:`N = 2`: it is an asymptotic series).

Run alone: ``python worked_examples/field_density.py [--samples 200000]``.
"""

# %%
# One point, three widths
# -----------------------
import argparse
import os
import pathlib
import time

import matplotlib.pyplot as plt
import numpy as np

import nnsym as ns
import nnsym.plot
from nnsym.analysis.field_density import (
    compare_with_monte_carlo,
    edgeworth_density,
    field_density,
    gaussian_density,
    l1_distance,
)

OUT = pathlib.Path(os.environ.get("NNSYM_EXAMPLES_OUT", "build/examples"))  # where the plot is written
parser = argparse.ArgumentParser(description="The density of field values at finite N")
parser.add_argument("--samples", type=int, default=200_000, help="sampled networks per histogram")
SAMPLES = parser.parse_known_args()[0].samples

VALUES = dict(sigma_a=1.0, sigma_b=1.0)
net = ns.zoo.cos_net(1)
x = 0.3
one = {}
for N in (2, 5, 20):
    t0 = time.time()
    dens = [field_density(net, [x], N=N, **VALUES), edgeworth_density(net, [x], order=1, N=N, **VALUES),
            gaussian_density(net, [x], N=N, **VALUES)]
    cmp = compare_with_monte_carlo(dens, net, samples=SAMPLES, seed=N)
    exact = dens[0]
    print(cmp)
    print(f"  exact density: stated error {exact.error:.1e} (truncation {exact.error_budget['truncation']:.1e}, "
          f"|chi_N| ~ |t|^-{exact.details['tail_power']:.1f}), rule {exact.details['rule']}")
    print("  L1 distance from the exact density: edgeworth-1 {:.4f}, gaussian {:.4f}   [{:.1f} s]\n".format(
        l1_distance(dens[1], exact)[0], l1_distance(dens[2], exact)[0], time.time() - t0))
    one[N] = (dens, cmp)

# %%
# Two points: the joint density of :math:`(\phi(0), \phi(0.8))` at :math:`N = 20`
# -------------------------------------------------------------------------------
t0 = time.time()
X = np.array([[0.0], [0.8]])
two = [field_density(net, X, N=20, **VALUES), edgeworth_density(net, X, order=1, N=20, **VALUES),
       gaussian_density(net, X, N=20, **VALUES)]
cmp2 = compare_with_monte_carlo(two, net, samples=SAMPLES, seed=120)
print(cmp2)
print(f"  exact density: stated error {two[0].error:.1e}; L1 distance from it: edgeworth-1 "
      f"{l1_distance(two[1], two[0])[0]:.4f}, gaussian {l1_distance(two[2], two[0])[0]:.4f}   "
      f"[{time.time() - t0:.1f} s]")

# %%
# The plot
# --------
# The histograms of sampled networks (grey) with the exact density (black), the Edgeworth series
# (dashed) and the Gaussian (dotted); right, the contours of the exact and the Gaussian joint density.
fig, axes = plt.subplots(1, len(one) + 1, figsize=(4.2 * (len(one) + 1), 3.6))
for ax, (N, (dens, cmp)) in zip(axes, one.items()):
    edges = cmp.edges[0]
    width = np.diff(edges)
    ax.bar(edges[:-1], cmp.counts[1:-1] / cmp.samples / width, width=width, align="edge", color="0.85",
           label=f"{cmp.samples} networks")
    for dens_k, style in zip(dens, ("k-", "C0--", "C3:")):
        ax.plot(dens_k.grid, dens_k.values, style, label=dens_k.label)
    ax.set_title(rf"cos-net, $N = {N}$: $p(\phi(0.3))$")
    ax.set_xlim(edges[0], edges[-1])
    ax.set_xlabel(r"$\phi(0.3)$")
axes[0].legend(fontsize=8)
exact, gauss = two[0], two[2]
ax = axes[-1]
g1, g2 = exact.grid
levels = exact.values.max() * np.array([0.01, 0.05, 0.2, 0.4, 0.6, 0.8, 0.95])  # well above the stated error
ax.contour(g1, g2, exact.values.T, levels=levels, colors="k", linewidths=1)
ax.contour(g1, g2, gauss.values.T, levels=levels, colors="C3", linestyles=":", linewidths=1)
ax.set_title(rf"$N = {exact.N}$: $p(\phi(0), \phi(0.8))$" "\nexact (black), Gaussian (red dotted)", fontsize=9)
ax.set_xlabel(r"$\phi(0)$")
ax.set_ylabel(r"$\phi(0.8)$")
fig.tight_layout()
print("plot:", *nnsym.plot.save(fig, OUT / "field_density.png"))
