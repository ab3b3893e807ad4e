"""Cos-net: exact G^(2), G_c^(4) in general d, and a Monte Carlo check.

Run:  python worked_examples/cos_net_four_point.py

The connected 4-point function of the cos-net (docs/conventions.md) is

    G_c^(4) = sigma_a^4/(8N) [ 3 (g(x1+x2-x3-x4) + g(x1-x2+x3-x4) + g(x1-x2-x3+x4))
                               - 2 (g(x1-x2) g(x3-x4) + g(x1-x3) g(x2-x4) + g(x1-x4) g(x2-x3)) ]

with g(v) = exp(-sigma_b^2 |v|^2/(2d)); nnsym derives it from the architecture.
"""
import numpy as np
import sympy as sp

import nnsym as ns

d = sp.Symbol("d", positive=True, integer=True)
net = ns.zoo.cos_net(d)
G2 = net.correlator(2)
G4c = net.correlator(4, connected=True)
print(G2.latex())
print(G4c.latex())

# evaluate in d = 3 and compare with single-neuron Monte Carlo: G_c^(4) = N kappa_4(a h(x_1..x_4))
values = dict(sigma_a=1.0, sigma_b=0.7, N=10)
rng = np.random.default_rng(0)
X = rng.normal(size=(4, 3)) * 0.8
exact = G4c.evaluate(X[None], **values)[0]

S = 2_000_000
a = rng.normal(0, values["sigma_a"] / np.sqrt(values["N"]), S)
b = rng.normal(0, values["sigma_b"] / np.sqrt(3), (S, 3))
c = rng.uniform(-np.pi, np.pi, S)
Y = a[:, None] * np.cos(b @ X.T + c[:, None])             # (S, 4): a h(x_k)
# joint cumulant of four centred variables (E[Y] = 0 here): E[1234] - E[12]E[34] - E[13]E[24] - E[14]E[23]
m = lambda *k: np.mean(np.prod(Y[:, list(k)], axis=1))
kappa = m(0, 1, 2, 3) - m(0, 1) * m(2, 3) - m(0, 2) * m(1, 3) - m(0, 3) * m(1, 2)
batches = np.array_split(np.arange(S), 20)
kb = []
for idx in batches:
    Yb = Y[idx]
    mb = lambda *k: np.mean(np.prod(Yb[:, list(k)], axis=1))
    kb.append(mb(0, 1, 2, 3) - mb(0, 1) * mb(2, 3) - mb(0, 2) * mb(1, 3) - mb(0, 3) * mb(1, 2))
stderr = values["N"] * np.std(kb, ddof=1) / np.sqrt(len(kb))
mc = values["N"] * kappa
print(f"exact G_c^(4) = {exact:.6f}   Monte Carlo = {mc:.6f} +- {stderr:.6f}   z = {(mc - exact) / stderr:+.2f}")
