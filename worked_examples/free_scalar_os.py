r"""
A free scalar built from neurons (Example 1)
============================================

Example 1 of Halverson's talk: the neuron

.. math:: h(x) = \frac{\cos(b\cdot x + c)}{\sqrt{b^2 + m^2}},\qquad b\sim\mathcal U(|b| < \Lambda),\quad
          c\sim U[-\pi, \pi],\quad a\sim\mathcal N(0, \sigma_a^2/N),

in :math:`d = 3` gives the power spectrum of a free scalar of mass :math:`m` below a hard cutoff
(docs/conventions.md, "Momentum space"),

.. math:: G(p) = \int d^dx\,e^{-ip\cdot x}\,G^{(2)}(x, 0)
          = \frac{\sigma_a^2(2\pi)^d}{2\,\mathrm{vol}(B_\Lambda)}\,\frac{1}{p^2 + m^2}\quad (|p| < \Lambda),
          \qquad 0 \text{ outside}.

nnsym reads the amplitude :math:`F(b) = 1/\sqrt{b^2+m^2}` and the density of :math:`b` off the
neuron. In position space the two-point function has no closed form; the engine integrates it
numerically, and it agrees with the inverse Fourier transform of :math:`G(p)` and with sampled
networks. Without the cutoff it would be the Yukawa propagator
:math:`\frac{C}{4\pi r}e^{-mr}`, :math:`C = \sigma_a^2(2\pi)^3/(2\,\mathrm{vol}(B_\Lambda))`.

The Osterwalder-Schrader report (``nnsym.os_axioms``) then shows what the cutoff costs: the
spectrum is band-limited, so :math:`\rho(\tau) = \int\frac{dp_0}{2\pi}e^{ip_0\tau}G(p)` cannot be
completely monotone and reflection positivity (E2) fails, at every :math:`N`. At finite :math:`N`
the connected four-point function does not cluster (E4).
"""

# %%
# The spectrum
# ------------
import os
import pathlib
import warnings

import matplotlib.pyplot as plt
import numpy as np

import nnsym as ns
import nnsym.plot

OUT = pathlib.Path(os.environ.get("NNSYM_EXAMPLES_OUT", "build/examples"))  # where the plot is written
warnings.simplefilter("ignore", ns.NumericWarning)  # the position-space G^(2) is quadrature, with a stated error

VALUES = dict(sigma_a=1.0, m=1.0, Lambda=4.0, N=10)
net = ns.zoo.free_scalar(3)
S = net.power_spectrum()
print(f"G(p) = {S.expr}   [{S.method}]")

P = np.array([[0.5, 0.0, 0.0], [0.0, 2.0, 1.0], [3.0, 2.0, 0.0], [3.0, 3.0, 0.0]])  # the last is beyond the cutoff
p2 = np.sum(P**2, axis=-1)
volume = 4 / 3 * np.pi * VALUES["Lambda"] ** 3
C = VALUES["sigma_a"] ** 2 * (2 * np.pi) ** 3 / (2 * volume)
formula = np.where(p2 < VALUES["Lambda"] ** 2, C / (p2 + VALUES["m"] ** 2), 0.0)
for p, g, f in zip(P, S.evaluate(P, **VALUES), formula):
    print(f"  |p| = {np.sqrt(p @ p):.3f}:  nnsym G(p) = {g:.6f}   C/(p^2 + m^2) below the cutoff = {f:.6f}")

# %%
# Position space: quadrature, inverse Fourier transform and Monte Carlo
# ---------------------------------------------------------------------
# :math:`G^{(2)}(0, r e_1)` three ways: the engine's quadrature of the neuron expectation, the inverse
# transform of :math:`G(p)`, and :math:`2\times10^5` sampled neurons (``nnsym.validate``).
rs = np.array([0.0, 0.5, 1.0, 2.0, 3.0])
X = np.zeros((len(rs), 2, 3))
X[:, 1, 0] = rs
quadrature = net.correlator(2).evaluate(X, **VALUES)
inverse = S.position_space(X, **VALUES)
report = ns.validate(net, 2, X, samples=200_000, seed=0, **VALUES)
yukawa = C * np.exp(-VALUES["m"] * rs[1:]) / (4 * np.pi * rs[1:])
print(f"{'r':>5} {'quadrature':>12} {'inverse FT':>12} {'Monte Carlo':>22} {'z':>6} {'no cutoff':>10}")
for i, r in enumerate(rs):
    free = f"{yukawa[i - 1]:10.5f}" if r > 0 else f"{'inf':>10}"
    print(f"{r:5.2f} {quadrature[i]:12.6f} {inverse[i]:12.6f} {report.mean[i]:12.6f} ± {report.stderr[i]:.6f} "
          f"{report.z[i]:+6.2f} {free}")
print("Monte Carlo verdict:", "PASS" if report.passed else "FAIL", f"(max |z| = {np.max(np.abs(report.z)):.2f})")

# %%
# The Osterwalder-Schrader axioms
# -------------------------------
# Each axiom is decided at finite :math:`N` and for :math:`N\to\infty`; the headline says for which.
os_report = ns.os_axioms(net, values=VALUES)
for axiom in os_report:
    word = {True: "holds", False: "FAILS", None: "undecided"}[axiom.holds]
    print(f"{axiom.code} {axiom.name.replace('_', ' '):<24} {word:<9} ({axiom.N}) [{axiom.method}]")
print()
print(os_report.reflection_positivity)
rp = os_report.reflection_positivity.details
print(f"\nmin rho(tau) = {rp['rho_min']:.3e} at tau = {rp['tau_at_min']:.2f}; smallest eigenvalue of the "
      f"reflection matrix G(theta x_i, x_j) = {rp['reflection_min']:.3e} (negative: E2 fails)")

# %%
# The plot
# --------
# Left: :math:`G(p)` with the cutoff :math:`\Lambda` (dashed), next to the spectrum without cutoff.
# Right: :math:`G^{(2)}(0, r e_1)`, exact (quadrature) and Monte Carlo, and the Yukawa propagator it
# would be without the cutoff: the cutoff softens the :math:`1/r` singularity and adds oscillations.
fig, (ax_p, ax_x) = plt.subplots(1, 2, figsize=(11, 4.2))
ks = np.linspace(0.0, 1.5 * VALUES["Lambda"], 300)
nnsym.plot.power_spectrum(S, ks, ax=ax_p, logy=False, name="free scalar, $d = 3$", **VALUES)
ax_p.plot(ks, C / (ks**2 + VALUES["m"] ** 2), ":", color="0.3", label=r"$C/(p^2+m^2)$, no cutoff")
ax_p.legend(frameon=False)
ts = np.linspace(0.0, 6.0, 13)
nnsym.plot.monte_carlo_vs_exact(net, 2, ts=ts, fine=61, samples=200_000, seed=1, ax=ax_x,
                                name="free scalar, $d = 3$", **VALUES)
r = np.linspace(0.35, 6.0, 200)
ax_x.plot(r, C * np.exp(-VALUES["m"] * r) / (4 * np.pi * r), ":", color="0.3", label="Yukawa (no cutoff)")
ax_x.set_ylim(-0.01, 0.08)
ax_x.legend(frameon=False)
fig.tight_layout()
print("plot:", *nnsym.plot.save(fig, OUT / "free_scalar_os.png"))
