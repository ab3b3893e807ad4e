"""Interactions from breaking independence: a phase c shared by all neurons.

Run:  python worked_examples/shared_parameter.py

With i.i.d. neurons G_c^(4) = O(1/N) (the central limit theorem); if all neurons
share one phase c, the neurons are dependent and G_c^(4) survives N -> infinity
(the independence-breaking term I_IB of the Halverson slides).
"""
import numpy as np
import sympy as sp

import nnsym as ns

N = sp.Symbol("N", positive=True, integer=True)
x = ns.Input("x", 1)
a = ns.Normal("a", 0, 1 / N)
b = ns.Normal("b", 0, 1)
c = ns.Uniform("c", -sp.pi, sp.pi)

iid = ns.Network(sp.cos(b * x + c), readout=a, width=N, input=x)
shared = ns.Network(sp.cos(b * x + c), readout=a, width=N, input=x, shared=(c,))

X = np.array([[[0.0], [0.3], [0.7], [1.2]]])
for width in (1, 10, 100, 10_000):
    g_iid = iid.correlator(4, connected=True).evaluate(X, N=width)[0]
    g_sh = shared.correlator(4, connected=True).evaluate(X, N=width)[0]
    print(f"N = {width:6d}   i.i.d. G_c^(4) = {g_iid:+.6f}   shared-phase G_c^(4) = {g_sh:+.6f}")
