r"""
Cos-net and Gauss-net: one free theory, two interacting ones
============================================================

Two different architectures (docs/conventions.md, "Cos-net" and "Gauss-net"),

.. math::

    h_{\cos}(x) = \cos(b\cdot x + c),\qquad
    h_{\rm Gauss}(x) = \frac{e^{b\cdot x + c}}{\sqrt{e^{2(\sigma_c^2 + \sigma_b^2|x|^2/d)}}},

with :math:`b\sim\mathcal N(0, \sigma_b^2 I_d/d)`, have the *same* two-point function at every
width,

.. math:: G^{(2)}(x_1, x_2) = \frac{\sigma_a^2}{2}\,e^{-\sigma_b^2|x_1-x_2|^2/(2d)},

so at :math:`N\to\infty`, where both are Gaussian processes, they are the same free theory. At
finite :math:`N` their connected four-point functions differ:

.. math::

    G_{c,\cos}^{(4)} &= \frac{\sigma_a^4}{8N}\Big[3\big(g_{+\!+\!-\!-} + g_{+\!-\!+\!-} + g_{+\!-\!-\!+}\big)
        - 2\big(g_{12}g_{34} + g_{13}g_{24} + g_{14}g_{23}\big)\Big],\\
    G_{c,\rm Gauss}^{(4)} &= \frac{\sigma_a^4}{4N}\Big[3e^{4\sigma_c^2}
        e^{-\frac{\sigma_b^2}{2d}(\sum_k|x_k|^2 - 2\sum_{k<l}x_k\cdot x_l)}
        - g_{12}g_{34} - g_{13}g_{24} - g_{14}g_{23}\Big],

with :math:`g(v) = e^{-\sigma_b^2|v|^2/(2d)}`. The cos-net's is translation invariant (a shift is
absorbed into the uniform phase), the Gauss-net's is not. Below nnsym derives all four functions
from the architectures, proves the two-point functions equal, and checks every number against
sampled networks.
"""

# %%
# The two networks, in general dimension :math:`d`
# ------------------------------------------------
import os
import pathlib

import matplotlib.pyplot as plt
import numpy as np
import sympy as sp

import nnsym as ns
import nnsym.plot
from nnsym.testing import assert_correlator_equal

OUT = pathlib.Path(os.environ.get("NNSYM_EXAMPLES_OUT", "build/examples"))  # where the plot is written

d = sp.Symbol("d", positive=True, integer=True)
cos_net, gauss_net = ns.zoo.cos_net(d), ns.zoo.gauss_net(d)
G2_cos, G2_gauss = cos_net.correlator(2), gauss_net.correlator(2)
print("cos-net   G^(2) =", G2_cos.expr)
print("Gauss-net G^(2) =", G2_gauss.expr)
print("G2_cos - G2_gauss =", sp.simplify(G2_cos.expr - G2_gauss.expr))
print("assert_correlator_equal:", assert_correlator_equal(G2_cos, G2_gauss))

# %%
# The same free theory: :math:`G^{(2)}` against Monte Carlo
# ---------------------------------------------------------
# In :math:`d = 2` at width :math:`N = 10`, each network's two-point function is compared with
# :math:`10^5` sampled neurons (``nnsym.validate``: z-score per point set, one Bonferroni verdict).
VALUES = dict(sigma_a=1.0, sigma_b=0.7, N=10)
GAUSS = dict(VALUES, sigma_c=0.3)
cos2, gauss2 = ns.zoo.cos_net(2), ns.zoo.gauss_net(2)
rng = np.random.default_rng(1)
X2 = rng.normal(size=(4, 2, 2)) * 0.6
for name, net, values in (("cos-net", cos2, VALUES), ("Gauss-net", gauss2, GAUSS)):
    print(name)
    print(ns.validate(net, 2, X2, samples=100_000, seed=1, **values))

# %%
# Two different interacting theories: :math:`G_c^{(4)}`
# -----------------------------------------------------
G4_cos = cos_net.correlator(4, connected=True)
G4_gauss = gauss_net.correlator(4, connected=True)
print("cos-net   G_c^(4) =", G4_cos.expr)
print("Gauss-net G_c^(4) =", G4_gauss.expr)
print("translation invariant at finite N: cos-net", G4_cos.is_translation_invariant().holds,
      "| Gauss-net", G4_gauss.is_translation_invariant().holds)

# %%
# Their difference at a few point sets, exact and from :math:`10^6` sampled neurons per network
# (independent seeds, so the standard error of the difference is the two added in quadrature).
X4 = rng.normal(size=(4, 4, 2)) * 0.5
rep_cos = ns.validate(cos2, 4, X4, connected=True, samples=1_000_000, seed=2, **VALUES)
rep_gauss = ns.validate(gauss2, 4, X4, connected=True, samples=1_000_000, seed=3, **GAUSS)
print(rep_cos)
print(rep_gauss)
print(f"{'#':>3} {'exact cos - Gauss':>18} {'MC cos - Gauss':>24} {'z':>7}")
for i in range(len(X4)):
    exact = rep_cos.exact[i] - rep_gauss.exact[i]
    mc = rep_cos.mean[i] - rep_gauss.mean[i]
    se = np.hypot(rep_cos.stderr[i], rep_gauss.stderr[i])
    print(f"{i:>3} {exact:>18.6f} {mc:>14.6f} ± {se:.6f} {(mc - exact) / se:>+7.2f}")

# %%
# The plot: equal :math:`G^{(2)}`, different :math:`G_c^{(4)}`
# ------------------------------------------------------------
# Left: :math:`G^{(2)}(0, t e_1)` of both networks (one line, since they are equal) with Monte Carlo
# points of each. Right: :math:`G_c^{(4)}` of a fixed configuration shifted by :math:`s e_1`: the
# cos-net's is flat (translation invariant), the Gauss-net's is not.
ts = np.linspace(0.0, 3.0, 13)
line2 = np.zeros((len(ts), 2, 2))
line2[:, 1, 0] = ts
base = np.array([[0.0, 0.0], [0.4, 0.2], [-0.3, 0.3], [0.2, -0.4]])
shifts = np.linspace(-1.0, 1.0, 11)
line4 = base[None] + shifts[:, None, None] * np.array([1.0, 0.0])
fine = np.linspace(shifts[0], shifts[-1], 200)
line4_fine = base[None] + fine[:, None, None] * np.array([1.0, 0.0])
t_fine = np.linspace(0.0, 3.0, 200)
line2_fine = np.zeros((len(t_fine), 2, 2))
line2_fine[:, 1, 0] = t_fine

fig, (ax2, ax4) = plt.subplots(1, 2, figsize=(10, 4))
ax2.plot(t_fine, cos2.correlator(2).evaluate(line2_fine, **VALUES), "k-", label="exact (both nets)")
for k, (name, net, values) in enumerate((("cos-net", cos2, VALUES), ("Gauss-net", gauss2, GAUSS))):
    est = ns.monte_carlo(net, 2, line2, samples=100_000, seed=10 + k, **values)
    ax2.errorbar(ts + 0.03 * (2 * k - 1), est.mean, yerr=est.stderr, fmt="o", ms=4, capsize=2,
                 color=f"C{k}", label=f"{name}, Monte Carlo")
    exact4 = net.correlator(4, connected=True).evaluate(line4_fine, **values)
    ax4.plot(fine, exact4, "-", color=f"C{k}", label=f"{name}, exact")
    est4 = ns.monte_carlo(net, 4, line4, connected=True, samples=400_000, seed=20 + k, **values)
    ax4.errorbar(shifts, est4.mean, yerr=est4.stderr, fmt="o", ms=4, capsize=2, color=f"C{k}",
                 label=f"{name}, Monte Carlo")
    z4 = (est4.mean - net.correlator(4, connected=True).evaluate(line4, **values)) / est4.stderr
    print(f"{name}: G_c^(4) along the shift, max |z| = {np.max(np.abs(z4)):.2f} over {len(shifts)} points")
ax2.set(xlabel="$t$", ylabel=r"$G^{(2)}(0, t e_1)$", title=r"$G^{(2)}$: the same free theory ($d=2$)")
ax2.legend()
ax4.set(xlabel="shift $s$", ylabel=r"$G_c^{(4)}(x_1 + s e_1, \ldots, x_4 + s e_1)$",
        title=r"$G_c^{(4)}$ at $N = 10$: different interactions")
ax4.legend()
fig.tight_layout()
print("plot:", *nnsym.plot.save(fig, OUT / "cos_gauss_duality.png"))
