r"""
A reflection-positive network: the Cauchy net (Example 2)
=========================================================

Example 2 of Halverson's talk, in :math:`d = 1`: a cosine neuron whose frequency has a Cauchy law,

.. math:: h(x) = \cos(b x + c),\qquad P(b) = \frac{m}{\pi(b^2 + m^2)},\quad c\sim U[-\pi, \pi],\quad
          a\sim\mathcal N(0, \sigma_a^2/N).

The power spectrum is the density of the frequency (docs/conventions.md, "Momentum space"),

.. math:: G(p) = \frac{\sigma_a^2\,m}{p^2 + m^2},\qquad
          G^{(2)}(x, y) = \frac{\sigma_a^2}{2}\,e^{-m|x - y|},

the propagator of a massive free particle in one (Euclidean time) dimension, with no cutoff. Its
transform in the time direction factorises,
:math:`\rho(\tau_x + \tau_y) = \frac{\sigma_a^2}{2}e^{-m\tau_x}e^{-m\tau_y}`, which is sufficient for
reflection positivity of the two-point function, and hence of the Gaussian (:math:`N\to\infty`)
theory. At finite :math:`N` the report leaves E2 undecided (the two-point condition is only
necessary) and finds that the connected four-point function does not cluster (E4): the term
:math:`e^{-m|x_1-x_2+x_3-x_4|}` does not decay when :math:`x_3, x_4` move away together.
"""

# %%
# Spectrum and two-point function
# -------------------------------
import os
import pathlib

import matplotlib.pyplot as plt
import numpy as np

import nnsym as ns
import nnsym.plot

OUT = pathlib.Path(os.environ.get("NNSYM_EXAMPLES_OUT", "build/examples"))  # where the plot is written

VALUES = dict(sigma_a=1.0, m=1.0, N=10)
net = ns.zoo.cauchy_net()
S = net.power_spectrum()
G2 = net.correlator(2)
print(f"G(p)   = {S.expr}   [{S.method}]")
print(f"G^(2)  = {G2.expr}")
ks = np.array([0.0, 0.5, 1.0, 3.0, 10.0])
print("G(p) at p =", ks, ":", S.evaluate(ks[:, None], **VALUES), " sigma_a^2 m/(p^2+m^2):", 1 / (ks**2 + 1))

# %%
# Against sampled networks: :math:`G^{(2)}` at a few separations, :math:`10^5` neurons (the Cauchy
# frequency is heavy-tailed, but :math:`\cos` is bounded, so the estimator is well behaved).
X = np.array([[[0.0], [r]] for r in (0.0, 0.3, 1.0, 2.0, 4.0)])
print(ns.validate(net, 2, X, samples=100_000, seed=0, **VALUES))

# %%
# The Osterwalder-Schrader report
# -------------------------------
os_report = ns.os_axioms(net, values=VALUES)
for axiom in os_report:
    word = {True: "holds", False: "FAILS", None: "undecided"}
    print(f"{axiom.code} {axiom.name.replace('_', ' '):<24} finite N: {word[axiom.finite_N.holds]:<9} "
          f"N -> oo: {word[axiom.large_N.holds]:<9} [{axiom.method}]")
print()
print(os_report.reflection_positivity)
print()
print(os_report.cluster_decomposition)

# %%
# The reflection matrix by hand: :math:`M_{ij} = G^{(2)}(\theta x_i, x_j)` at points with
# :math:`\tau_i > 0` (:math:`\theta:\tau\to-\tau`) is a Gram matrix, positive semi-definite.
tau = np.linspace(0.05, 3.0, 12)
pairs = np.stack(np.broadcast_arrays(-tau[:, None, None], tau[None, :, None]), axis=-2)  # (12, 12, 2, 1)
M = G2.evaluate(pairs, **VALUES)
print(f"reflection matrix at {len(tau)} times in [{tau[0]}, {tau[-1]}]: eigenvalues from "
      f"{np.linalg.eigvalsh(M).min():.2e} to {np.linalg.eigvalsh(M).max():.3f}")

# %%
# The plot
# --------
# Left: the spectrum, log-log: a Lorentzian, no cutoff. Right: :math:`G^{(2)}(0, t)`, exact and
# Monte Carlo.
fig, (ax_p, ax_x) = plt.subplots(1, 2, figsize=(11, 4.2))
nnsym.plot.power_spectrum(S, ax=ax_p, name="Cauchy net", sigma_a=1.0, m=1.0)
nnsym.plot.monte_carlo_vs_exact(net, 2, ts=np.linspace(0.0, 3.0, 13), samples=100_000, seed=1, ax=ax_x,
                                name="Cauchy net", **VALUES)
ax_x.set_yscale("log")
fig.tight_layout()
print("plot:", *nnsym.plot.save(fig, OUT / "cauchy_net_os.png"))
