"""Momentum space, symmetries and the Osterwalder-Schrader axioms (Halverson, Examples 1-3).

Run:  python worked_examples/free_scalar_spectrum.py

1. Example 1: F(b) = 1/sqrt(b^2 + m^2), b uniform in the ball |b| < Lambda of R^3:
       G(p) = sigma_a^2 (2 pi)^3 / (2 vol(B_Lambda)) * 1/(p^2 + m^2)   for |p| < Lambda, 0 outside.
   nnsym reads F and P off the network's neuron (the delta-function rule); the 2-point
   function has no closed form in position space, and the engine integrates it numerically:
   it agrees with the inverse Fourier transform of G(p).
2. Example 2 (d = 1): a Cauchy frequency gives G(p) = sigma_a^2 m/(p^2 + m^2) and
   G^(2)(x, y) = (sigma_a^2/2) e^{-m|x-y|}; rho(tau) = (sigma_a^2/2) e^{-m tau} factorises, so the
   Gaussian (N -> oo) theory is reflection positive.
3. Example 3: cos-net and Gauss-net have the same G(p) but different finite-N 4-point functions.
4. Inverse design: a network with the spectrum 1/(p^2 + m^2) below a cutoff.
5. The OS report of Example 1: the hard cutoff spoils reflection positivity (rho is band-limited),
   and at finite N the connected 4-point function does not cluster.
"""
import warnings

import numpy as np
import sympy as sp

import nnsym as ns

warnings.simplefilter("ignore", ns.NumericWarning)
values = dict(sigma_a=1.0, m=1.0, Lambda=4.0, N=10)

# 1. Example 1 -------------------------------------------------------------------------------
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

# 2. Example 2 -------------------------------------------------------------------------------
cn = ns.zoo.cauchy_net()
print("\nExample 2: G(p) =", cn.power_spectrum().expr, "  G2 =", cn.correlator(2).expr)
rep = ns.os_axioms(cn, values=dict(sigma_a=1.0, m=1.0))
print("  E2:", rep.reflection_positivity.holds, f"({rep.reflection_positivity.N}):",
      rep.reflection_positivity.evidence[:160], "...")

# 3. Example 3 -------------------------------------------------------------------------------
d = sp.Symbol("d", positive=True, integer=True)
Sc, Sg = ns.zoo.cos_net(d).power_spectrum(), ns.zoo.gauss_net(d).power_spectrum()
print("\nExample 3: cos-net G(p) =", Sc.expr, f"[{Sc.method}]")
print("           Gauss-net G(p) =", Sg.expr, f"[{Sg.method}]")
C4 = ns.zoo.cos_net(3).correlator(4, connected=True)
G4 = ns.zoo.gauss_net(3).correlator(4, connected=True)
X4 = np.random.default_rng(0).normal(size=(1, 4, 3)) * 0.6
v3 = dict(sigma_a=1.0, sigma_b=0.7, sigma_c=0.4, N=10)
own = lambda G: {k: v for k, v in v3.items() if k in G.value_names()}  # the cos-net has no sigma_c
print("  G_c^(4) at random points: cos-net", C4.evaluate(X4, **own(C4))[0], " Gauss-net", G4.evaluate(X4, **own(G4))[0])
print("  translation invariant at finite N: cos-net", C4.is_translation_invariant().holds,
      " Gauss-net", G4.is_translation_invariant().holds)

# 4. Inverse design --------------------------------------------------------------------------
k, m, Lam = sp.Symbol("k", positive=True), *sp.symbols("m Lambda", positive=True)
designed = ns.inverse_design(1 / (k**2 + m**2), k, d=3, cutoff=Lam)
print("\nInverse design: h(x) =", designed.neuron)
print("  its spectrum:", designed.power_spectrum().expr)

# 5. The OS report of Example 1 --------------------------------------------------------------
print()
print(ns.os_axioms(net, values=dict(sigma_a=1.0, m=1.0, Lambda=1.5, N=10)))
