r"""
Momentum space: power spectra and inverse design
================================================

For a neuron :math:`h(x) = F(b)\cos(b\cdot x + c)` with a uniform phase :math:`c` and a frequency
:math:`b` of density :math:`P/Z_b`, the power spectrum is read off the neuron (docs/conventions.md,
"Momentum space"; the delta-function rule):

.. math:: G(p) = \int d^dx\,e^{-ip\cdot x}\,G^{(2)}(x, 0)
          = \frac{\sigma_a^2(2\pi)^d}{4Z_b}\Big[P(b)F(b)^2\big|_{b=p} + P(b)F(b)^2\big|_{b=-p}\Big].

1. Example 1 of Halverson's talk, the free scalar: :math:`F(b) = 1/\sqrt{b^2+m^2}`, :math:`b` uniform in
   the ball :math:`|b| < \Lambda` of :math:`\mathbb R^3`, gives
   :math:`G(p) = \frac{\sigma_a^2(2\pi)^3}{2\,\mathrm{vol}(B_\Lambda)}\frac{1}{p^2+m^2}` below the cutoff. The
   two-point function has no closed form in position space; the engine integrates it numerically,
   and it agrees with the inverse Fourier transform of :math:`G(p)`.
2. Example 3: the cos-net and the Gauss-net have the same :math:`G(p)` in general :math:`d` (and
   different finite-:math:`N` four-point functions, see the cos-net/Gauss-net example).
3. Inverse design: ``nnsym.inverse_design`` builds a network with a prescribed spectrum, e.g.
   :math:`1/(p^2+m^2)` below a cutoff in :math:`d = 3`, or the non-monotone
   :math:`S(p) = p^2e^{-p^2/2}` in :math:`d = 1`, whose two-point function
   :math:`G^{(2)}(x, 0) = \frac{1}{\sqrt{2\pi}}(1 - x^2)e^{-x^2/2}` changes sign.

The Osterwalder-Schrader reports of Examples 1 and 2 are the examples "A free scalar built from
neurons" and "A reflection-positive network".
"""

# %%
# Example 1: the free scalar
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
warnings.simplefilter("ignore", ns.NumericWarning)  # position-space G^(2) of Example 1 is quadrature

values = dict(sigma_a=1.0, m=1.0, Lambda=4.0, N=10)
net = ns.zoo.free_scalar(3)
S = net.power_spectrum()
print("Example 1:", S.latex())
P = np.array([[0.5, 0, 0], [0, 2.0, 1.0], [3.0, 3.0, 0]])  # the last one is outside the cutoff
vol = 4 / 3 * np.pi * values["Lambda"] ** 3
notes = np.where(np.sum(P**2, -1) < 16, (2 * np.pi) ** 3 / (2 * vol) / (np.sum(P**2, -1) + 1), 0)
print("  G(p) at", P.tolist(), "=", S.evaluate(P, **values), " docs/conventions.md:", notes)
X = np.zeros((3, 2, 3))
X[:, 1, 0] = [0.0, 0.5, 2.0]
print("  G2(r) from the engine (quadrature):   ", net.correlator(2).evaluate(X, **values))
print("  G2(r) = inverse transform of G(p):     ", S.position_space(X, **values))

# %%
# Example 3: one spectrum, two networks
# -------------------------------------
d = sp.Symbol("d", positive=True, integer=True)
Sc, Sg = ns.zoo.cos_net(d).power_spectrum(), ns.zoo.gauss_net(d).power_spectrum()
print("cos-net   G(p) =", Sc.expr, f"[{Sc.method}]")
print("Gauss-net G(p) =", Sg.expr, f"[{Sg.method}]")
print("equal:", sp.simplify(Sc.expr - Sg.expr) == 0)
C4 = ns.zoo.cos_net(3).correlator(4, connected=True)
G4 = ns.zoo.gauss_net(3).correlator(4, connected=True)
X4 = np.random.default_rng(0).normal(size=(1, 4, 3)) * 0.6
v3 = dict(sigma_a=1.0, sigma_b=0.7, sigma_c=0.4, N=10)
own = lambda G: {k: v for k, v in v3.items() if k in G.value_names()}  # the cos-net has no sigma_c
print("G_c^(4) at random points: cos-net", C4.evaluate(X4, **own(C4))[0], " Gauss-net", G4.evaluate(X4, **own(G4))[0])
print("translation invariant at finite N: cos-net", C4.is_translation_invariant().holds,
      " Gauss-net", G4.is_translation_invariant().holds)

# %%
# Inverse design
# --------------
# The amplitude strategy (choose the law of :math:`b`, solve for :math:`F`) in :math:`d = 3`, and the
# density strategy (:math:`F` constant, :math:`P\propto S`) in :math:`d = 1`, checked against
# :math:`2\times10^5` sampled neurons.
k, m, Lam = sp.Symbol("k", positive=True), *sp.symbols("m Lambda", positive=True)
designed = ns.inverse_design(1 / (k**2 + m**2), k, d=3, cutoff=Lam)
print("h(x) =", designed.neuron)
print("  its spectrum:", designed.power_spectrum().expr)
print(ns.validate(designed, 2, X, samples=200_000, seed=0, **values))

bump = ns.inverse_design(k**2 * sp.exp(-k**2 / 2), k, d=1, strategy="density")
b = next(q for q in bump.params if q.name == "b")
print("h(x) =", bump.neuron, "  with the density of b:", b.law)
print("  its spectrum:", bump.power_spectrum().expr, "  G^(2) =", bump.correlator(2).expr)

# %%
# The plot
# --------
# Left: the spectra of Example 1 (hard cutoff), Example 2 (the Cauchy net) and Example 3 (cos- and
# Gauss-net: a Gaussian), and the designed bump, against :math:`|p|`. Right: the designed bump's
# two-point function, exact and Monte Carlo: it turns negative.
fig, (ax_p, ax_x) = plt.subplots(1, 2, figsize=(11, 4.2))
ks = np.linspace(0.0, 6.0, 400)[:, None]
spectra = {
    r"free scalar, $d=3$, $\Lambda = 4$": (S, np.hstack([ks, 0 * ks, 0 * ks]), values),
    "Cauchy net": (ns.zoo.cauchy_net().power_spectrum(), ks, dict(sigma_a=1.0, m=1.0)),
    "cos-net = Gauss-net": (ns.zoo.cos_net(1).power_spectrum(), ks, dict(sigma_a=1.0, sigma_b=1.0)),
    r"designed: $p^2e^{-p^2/2}$": (bump.power_spectrum(), ks, dict(sigma_a=1.0)),
}
for label, (spec, momenta, vals) in spectra.items():
    ax_p.plot(ks[:, 0], np.real(spec.evaluate(momenta, **vals)), lw=1.8, label=label)
ax_p.set(xlabel="$|p|$", ylabel="$G(p)$", title=r"power spectra ($\sigma_a = m = \sigma_b = 1$)")
ax_p.legend(frameon=False)
ax_p.grid(True, alpha=0.3)
nnsym.plot.monte_carlo_vs_exact(bump, 2, ts=np.linspace(0.0, 4.0, 17), samples=200_000, seed=1, ax=ax_x,
                                name="designed bump", sigma_a=1.0, N=10)
fig.tight_layout()
print("plot:", *nnsym.plot.save(fig, OUT / "free_scalar_spectrum.png"))
