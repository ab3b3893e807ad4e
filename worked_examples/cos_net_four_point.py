r"""
The cos-net four-point function in general dimension
====================================================

The cos-net (docs/conventions.md, "Cos-net"),

.. math:: \phi(x) = \sum_{i\le N} a_i\cos(b_i\cdot x + c_i),\qquad a\sim\mathcal N(0, \sigma_a^2/N),\quad
          b\sim\mathcal N(0, \sigma_b^2 I_d/d),\quad c\sim U[-\pi, \pi],

has :math:`G^{(2)} = \frac{\sigma_a^2}{2}g(x_1 - x_2)` with :math:`g(v) = e^{-\sigma_b^2|v|^2/(2d)}` and the
connected four-point function

.. math:: G_c^{(4)} = \frac{\sigma_a^4}{8N}\Big[3\big(g(x_1{+}x_2{-}x_3{-}x_4) + g(x_1{-}x_2{+}x_3{-}x_4)
          + g(x_1{-}x_2{-}x_3{+}x_4)\big) - 2\big(g_{12}g_{34} + g_{13}g_{24} + g_{14}g_{23}\big)\Big].

nnsym derives both from the architecture, with :math:`d` a symbol. They are checked here three
ways: against a Monte Carlo estimate written out in numpy (independent of nnsym's sampler), with
``nnsym.validate`` at random point sets, and along a line of point sets.
"""

# %%
# The exact correlators, symbolic in :math:`d`
# --------------------------------------------
import os
import pathlib

import matplotlib.pyplot as plt
import numpy as np
import sympy as sp

import nnsym as ns
import nnsym.plot

OUT = pathlib.Path(os.environ.get("NNSYM_EXAMPLES_OUT", "build/examples"))  # where the plot is written

d = sp.Symbol("d", positive=True, integer=True)
net = ns.zoo.cos_net(d)
G2 = net.correlator(2)
G4c = net.correlator(4, connected=True)
print(G2.latex())
print(G4c.latex())

# %%
# A Monte Carlo estimate by hand, in :math:`d = 3`
# ------------------------------------------------
# :math:`G_c^{(4)} = N\kappa_4(ah(x_1), \dots, ah(x_4))`, and for centred variables the joint cumulant is
# :math:`E[Y_1Y_2Y_3Y_4] - E[Y_1Y_2]E[Y_3Y_4] - E[Y_1Y_3]E[Y_2Y_4] - E[Y_1Y_4]E[Y_2Y_3]`: estimated from
# :math:`2\times10^6` single neurons, the error from 20 batches.
values = dict(sigma_a=1.0, sigma_b=0.7, N=10)
rng = np.random.default_rng(0)
X = rng.normal(size=(4, 3)) * 0.8
exact = G4c.evaluate(X[None], **values)[0]

S = 2_000_000
a = rng.normal(0, values["sigma_a"] / np.sqrt(values["N"]), S)
b = rng.normal(0, values["sigma_b"] / np.sqrt(3), (S, 3))
c = rng.uniform(-np.pi, np.pi, S)
Y = a[:, None] * np.cos(b @ X.T + c[:, None])  # (S, 4): a h(x_k)


def kappa4(Y):
    m = lambda *k: np.mean(np.prod(Y[:, list(k)], axis=1))
    return m(0, 1, 2, 3) - m(0, 1) * m(2, 3) - m(0, 2) * m(1, 3) - m(0, 3) * m(1, 2)


mc = values["N"] * kappa4(Y)
batches = [values["N"] * kappa4(Y[idx]) for idx in np.array_split(np.arange(S), 20)]
stderr = np.std(batches, ddof=1) / np.sqrt(len(batches))
print(f"exact G_c^(4) = {exact:.6f}   Monte Carlo = {mc:.6f} +- {stderr:.6f}   z = {(mc - exact) / stderr:+.2f}")

# %%
# ``nnsym.validate``
# ------------------
# At 8 random point sets, one Bonferroni verdict. The point sets share the same sampled neurons, so
# their z-scores are correlated; for a histogram of z-scores the 40 point sets below each get their
# own seed, which makes their z-scores independent draws of :math:`\mathcal N(0, 1)` if the exact
# correlator is right.
net3 = ns.zoo.cos_net(3)
print(ns.validate(net3, 4, rng.normal(size=(8, 4, 3)) * 0.8, connected=True, samples=1_000_000, seed=1, **values))
z = np.array([ns.validate(net3, 4, rng.normal(size=(1, 4, 3)) * 0.8, connected=True, samples=100_000, seed=100 + i,
                          **values).z[0] for i in range(40)])
print(f"40 independent z-scores: mean {z.mean():+.2f}, standard deviation {z.std(ddof=1):.2f}, max |z| "
      f"{np.max(np.abs(z)):.2f}")

# %%
# The plot
# --------
# Left: :math:`G_c^{(4)}` at the points :math:`x_k = \frac{k-1}{3}t\,e_1`, exact and Monte Carlo. Right: the
# 40 independent z-scores against :math:`\mathcal N(0, 1)`.
fig, (ax, bx) = plt.subplots(1, 2, figsize=(11, 4.2))
nnsym.plot.monte_carlo_vs_exact(net3, 4, connected=True, ts=np.linspace(0.0, 6.0, 13), samples=1_000_000, seed=2,
                                ax=ax, name="cos-net, $d = 3$", **values)
grid = np.linspace(-4, 4, 200)
bx.hist(z, bins=np.linspace(-4, 4, 17), density=True, color="C0", alpha=0.55, edgecolor="C0",
        label=f"z-scores, {len(z)} point sets, one seed each")
bx.plot(grid, np.exp(-grid**2 / 2) / np.sqrt(2 * np.pi), "k-", label=r"$\mathcal{N}(0, 1)$")
bx.set(xlabel="$z$", ylabel="density", title=r"$G_c^{(4)}$: Monte Carlo $-$ exact, in standard errors")
bx.legend(frameon=False)
bx.grid(True, alpha=0.3)
fig.tight_layout()
print("plot:", *nnsym.plot.save(fig, OUT / "cos_net_four_point.png"))
