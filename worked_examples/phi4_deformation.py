r"""
A cos-net deformed by a local phi^4 potential
=============================================

Leung's notes (eq. 3.5) insert a local potential into the parameter-space path integral
(docs/conventions.md, "The phi^4 deformation"),

.. math:: \tilde P(\theta) = \frac{1}{Z_\lambda}P(\theta)\,e^{-\lambda V[\phi_\theta]},\qquad
          V[\phi] = \sum_{y\in Y}w_y\,\phi(y)^4,

here on a lattice :math:`Y` of 5 points in :math:`d = 1` with weights :math:`w_y` = the spacing. For
:math:`O = \phi(x_1)\phi(x_2)`,

.. math:: \langle O\rangle_\lambda = \frac{E[O\,e^{-\lambda V}]}{E[e^{-\lambda V}]}
          = \langle O\rangle - \lambda\big(\langle OV\rangle - \langle O\rangle\langle V\rangle\big) + O(\lambda^2),

where :math:`\langle O\rangle = G^{(2)}(x_1, x_2)`, :math:`\langle V\rangle = \sum_yw_yG^{(4)}(y, y, y, y)` and
:math:`\langle OV\rangle = \sum_yw_yG^{(6)}(x_1, x_2, y, y, y, y)` are nnsym's exact correlators at
coincident points. The reweighted Monte Carlo (the same :math:`10^6` sampled networks at every
:math:`\lambda`) follows the first-order line at small :math:`\lambda` and parts from it at larger
:math:`\lambda`, where the :math:`\lambda^2` terms matter; the effective sample size says how far the
reweighting can be trusted, and a collapsed one is refused.

A second table does the same for zero-dimensional :math:`\phi^4` theory, :math:`\phi(x) = x\sum_ia_i`,
where the deformed expectation is a one-dimensional integral: there the reweighting can be checked
at every :math:`\lambda`.

Run alone: ``python worked_examples/phi4_deformation.py [--samples 1000000]``.
"""

# %%
# The cos-net: exact first order against reweighted Monte Carlo
# -------------------------------------------------------------
import argparse
import os
import pathlib
import time

import matplotlib.pyplot as plt
import numpy as np
import sympy as sp
from scipy import integrate

import nnsym as ns
import nnsym.plot
from nnsym.analysis.deformation import deformed_monte_carlo, first_order_deformation

OUT = pathlib.Path(os.environ.get("NNSYM_EXAMPLES_OUT", "build/examples"))  # where the plot is written
parser = argparse.ArgumentParser(description="A cos-net deformed by a local phi^4 potential")
parser.add_argument("--samples", type=int, default=10**6, help="sampled networks (default 10^6)")
SAMPLES = parser.parse_known_args()[0].samples

net = ns.zoo.cos_net(1)
values = dict(sigma_a=1.0, sigma_b=1.0, N=3)
X = np.array([[0.0], [0.5]])  # O = phi(0) phi(1/2)
Y = np.linspace(-1.0, 1.0, 5)[:, None]  # lattice of the potential, spacing 1/2
w = np.full(5, 0.5)  # w_y = lattice spacing: sum_y w_y ~ int dy
lams = np.array([0.0, 0.001, 0.002, 0.005, 0.01, 0.02, 0.03, 0.05, 0.07, 0.1, 0.2, 0.5, 1.0])
t0 = time.perf_counter()
first = first_order_deformation(net, X, Y, w, **values)
t1 = time.perf_counter()
est = deformed_monte_carlo(net, X, Y, w, lams, samples=SAMPLES, seed=0, **values)
t2 = time.perf_counter()
print("cos-net, d = 1, N = 3, sigma_a = sigma_b = 1;  O = phi(0) phi(0.5);  V = sum_y 0.5 phi(y)^4, "
      "y in {-1, -0.5, 0, 0.5, 1}")
print(f"exact: <O> = {first.O_mean:.6f}, <V> = {first.V_mean:.6f}, <OV> = {first.OV_mean:.6f}, "
      f"slope d<O>/dlambda = {first.slope:.6f}   ({t1 - t0:.1f} s, G^(6) derived)")
print(f"Monte Carlo slope -Cov(O, V) = {est.slope:.4f} +- {est.slope_stderr:.4f}   "
      f"(z = {(est.slope - first.slope) / est.slope_stderr:+.2f}; {SAMPLES} networks, {t2 - t1:.1f} s)")
print(est.table(first))

# %%
# Far from the undeformed ensemble the reweighting is refused: at :math:`\lambda = 10^6` almost all the
# weight sits on a few draws.
try:
    deformed_monte_carlo(net, X, Y, w, [1e6], samples=SAMPLES, seed=0, **values)
except ns.NNSymError as refusal:
    print("lambda = 1e6:", str(refusal).split(": ", 1)[1].split(". ")[0])

# %%
# Zero-dimensional :math:`\phi^4` theory
# --------------------------------------
# :math:`\phi(x) = xA`, :math:`A = \sum_ia_i\sim\mathcal N(0, \sigma_a^2)`: :math:`\langle O\rangle_\lambda` by
# ``scipy.integrate.quad``, at every :math:`\lambda`.
Nw, s = sp.Symbol("N", positive=True, integer=True), sp.Symbol("sigma_a", positive=True)
x = ns.Input("x", 1)
zero_d = ns.Network(neuron=x, readout=ns.Normal("a", 0, s**2 / Nw), width=Nw, input=x)
values0 = dict(sigma_a=1.0, N=3)
X0, Y0, w0 = np.ones((2, 1)), np.ones((1, 1)), np.ones(1)  # O = A^2, V = A^4
lams0 = np.array([0.0, 0.001, 0.01, 0.1, 1.0, 10.0])
first0 = first_order_deformation(zero_d, X0, Y0, w0, **values0)
est0 = deformed_monte_carlo(zero_d, X0, Y0, w0, lams0, samples=SAMPLES, seed=0, **values0)


def exact_zero_d(g):
    f = lambda A, k: A**k * np.exp(-A**2 / 2 - g * A**4)
    return (integrate.quad(f, -np.inf, np.inf, args=(2,), epsrel=1e-12)[0]
            / integrate.quad(f, -np.inf, np.inf, args=(0,), epsrel=1e-12)[0])


print("zero-dimensional phi^4: phi(x) = x sum_i a_i (N = 3, sigma_a = 1), O = phi(1)^2, V = phi(1)^4")
print(f"{'lambda':>8}  {'reweighted MC':>22}  {'exact (quad)':>12}  {'z':>6}  {'first order':>12}  {'ESS':>8}")
for g, m, e, n in zip(lams0, est0.mean, est0.stderr, est0.ess):
    ex = exact_zero_d(g)
    print(f"{g:8.4g}  {m:+11.5f} +- {e:8.5f}  {ex:+12.5f}  {(m - ex) / e:+6.2f}  {first0.at(g):+12.5f}  {n:8.0f}")

# %%
# The plot
# --------
# Left: the reweighted Monte Carlo (on a fine grid of :math:`\lambda`, the same draws) against the exact
# first-order line. Right: their distance in standard errors.
grid = np.linspace(0.0, 0.1, 41)
curve = deformed_monte_carlo(net, X, Y, w, grid, samples=SAMPLES, seed=0, **values)
fig, (ax, bx) = plt.subplots(1, 2, figsize=(10, 4))
ax.fill_between(curve.lam, curve.mean - 2 * curve.stderr, curve.mean + 2 * curve.stderr, color="C0", alpha=0.3)
ax.plot(curve.lam, curve.mean, "C0", label=r"reweighted MC ($\pm 2\sigma$)")
ax.plot(curve.lam, first.at(curve.lam), "C3--", label=r"first order $\langle O\rangle + \lambda s$ (exact)")
ax.set_xlabel(r"$\lambda$")
ax.set_ylabel(r"$\langle\phi(0)\phi(1/2)\rangle_\lambda$")
ax.set_title(r"cos-net, $N=3$, $V=\lambda\,\Sigma_y w_y\phi(y)^4$")
ax.legend()
lam = est.lam[est.lam > 0]
z = np.abs(est.z(first.at(est.lam)))[est.lam > 0]
bx.loglog(lam, z, "o-", color="C0")
bx.axhline(5, color="k", lw=0.8, ls=":")
bx.text(lam[0], 6, "|z| = 5")
bx.set_xlabel(r"$\lambda$")
bx.set_ylabel(r"|MC $-$ first order| / stderr")
bx.set_title(r"agree at small $\lambda$, part at larger")
fig.tight_layout()
print("plot:", *nnsym.plot.save(fig, OUT / "phi4_deformation.png"))
