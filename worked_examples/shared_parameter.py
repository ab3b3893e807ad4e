r"""
Interactions from breaking independence: a shared phase
=======================================================

With i.i.d. neurons the central limit theorem makes the field Gaussian as :math:`N\to\infty`:
:math:`G_c^{(4)} = O(1/N)`. If all neurons share one parameter they are no longer independent, and
part of the connected four-point function survives the limit (Halverson, "Interactions from
breaking the CLT"; docs/conventions.md, "Independence breaking"):

.. math::

    G_c^{(4)} = I_N + I_{IB},\qquad
    I_N = N\,\kappa_4\big(ah(x_1), \dots, ah(x_4)\big) = O(1/N),

.. math::

    I_{IB} = \sigma_a^4\Big(1 - \frac1N\Big)\Big[H_{iijj} - H^{12}_{ii}H^{34}_{jj}
        + H_{ijij} - H^{13}_{ii}H^{24}_{jj} + H_{ijji} - H^{14}_{ii}H^{23}_{jj}\Big],

with :math:`H_{iijj} = E[h_i(x_1)h_i(x_2)h_j(x_3)h_j(x_4)]` for two distinct neurons
:math:`i\ne j`. :math:`I_N` is the connected function of the same neuron without the sharing, and
:math:`I_{IB}` comes from two-neuron moments, so :math:`I_N + I_{IB} = G_c^{(4)}` is a check of two
independent derivations.

Here :math:`h(x) = \cos(bx + c)` in :math:`d = 1`, :math:`a\sim\mathcal N(0, 1/N)`,
:math:`b\sim\mathcal N(0, 1)`, and the phase :math:`c\sim U[-\pi, \pi]` is drawn once for all neurons.
"""

# %%
# The split, exactly
# ------------------
import os
import pathlib

import matplotlib.pyplot as plt
import numpy as np
import sympy as sp

import nnsym as ns
import nnsym.plot

OUT = pathlib.Path(os.environ.get("NNSYM_EXAMPLES_OUT", "build/examples"))  # where the plot is written

N = sp.Symbol("N", positive=True, integer=True)
x = ns.Input("x", 1)
a = ns.Normal("a", 0, 1 / N)
b = ns.Normal("b", 0, 1)
c = ns.Uniform("c", -sp.pi, sp.pi)
iid = ns.Network(sp.cos(b * x + c), readout=a, width=N, input=x)
shared = ns.Network(sp.cos(b * x + c), readout=a, width=N, input=x, shared=(c,))

split = ns.independence_breaking(shared)
print("I_N + I_IB - G_c (simplified):", split.residual())
limit = split.large_n_limit()
print("N -> oo:  I_N ->", limit["I_N"])
print("          G_c = I_IB ->", limit["G_c"])
twin_difference = sp.simplify(iid.correlator(4, connected=True).expr - split.finite_width.expr)
print("i.i.d. twin: its G_c^(4) is I_N:", twin_difference == 0)

# %%
# Numbers at a point set
# ----------------------
X = np.array([[[0.0], [0.3], [0.7], [1.2]]])
print(f"{'N':>6} {'i.i.d. G_c':>12} {'shared G_c':>12} {'I_N':>12} {'I_IB':>12}")
for width in (1, 10, 100, 10_000):
    parts = split.evaluate(X, N=width)
    g_iid = iid.correlator(4, connected=True).evaluate(X, N=width)[0]
    print(f"{width:6d} {g_iid:+12.6f} {parts['G_c'][0]:+12.6f} {parts['I_N'][0]:+12.6f} {parts['I_IB'][0]:+12.6f}")
print(f"{'oo':>6} {0.0:+12.6f} {float(limit['G_c'].subs(dict(zip(split.total.points, X[0, :, 0])))):+12.6f}")

# %%
# Monte Carlo: each part by its own estimator
# -------------------------------------------
# ``nnsym.independence_monte_carlo``: :math:`G_c^{(4)}` from whole width-N networks (the phase drawn
# once per network), :math:`I_N` from single neurons, :math:`I_{IB}` from pairs of distinct neurons of
# one network; :math:`4\times10^5` of each, a fresh seed per width.
WIDTHS = (2, 4, 8, 16, 32, 64)
mc = {width: ns.independence_monte_carlo(shared, X, samples=400_000, seed=width, N=width) for width in WIDTHS}
print(f"{'N':>4} " + " ".join(f"{k + ' exact':>11} {'MC':>19} {'z':>6}" for k in ("G_c", "I_N", "I_IB")))
for width in WIDTHS:
    parts = split.evaluate(X, N=width)
    row = []
    for k in ("G_c", "I_N", "I_IB"):
        ex, m, s = parts[k][0], mc[width][k].mean[0], mc[width][k].stderr[0]
        row.append(f"{ex:11.5f} {m:10.5f} ± {s:.5f} {(m - ex) / s:+6.2f}")
    print(f"{width:4d} " + " ".join(row))

# %%
# The plot
# --------
# The shared-phase :math:`G_c^{(4)}` levels off at :math:`\lim I_{IB}` while the i.i.d. one
# (:math:`= I_N`) keeps falling like :math:`1/N`.
grid = np.unique(np.round(np.geomspace(1, 1000, 200)).astype(int))
exact = {k: np.array([split.evaluate(X, N=int(n))[k][0] for n in grid]) for k in ("G_c", "I_N", "I_IB")}
fig, ax = plt.subplots(figsize=(7, 4.6))
styles = {"G_c": ("C0", r"shared phase: $G_c^{(4)}$"), "I_N": ("C1", r"$I_N$ = i.i.d. $G_c^{(4)}$"),
          "I_IB": ("C2", r"$I_{IB}$ (independence breaking)")}
for k, (color, label) in styles.items():
    keep = grid >= (2 if k == "I_IB" else 1)  # I_IB = 0 at N = 1: a single neuron has no partner
    ax.loglog(grid[keep], exact[k][keep], "-", color=color, lw=1.8, label=label + ", exact")
    ax.errorbar(WIDTHS, [mc[w][k].mean[0] for w in WIDTHS], yerr=[mc[w][k].stderr[0] for w in WIDTHS], fmt="o",
                color=color, ms=4, capsize=2)
ax.axhline(float(limit["G_c"].subs(dict(zip(split.total.points, X[0, :, 0])))), ls=":", color="0.4",
           label=r"$N\to\infty$ limit of $G_c^{(4)}$")
ax.errorbar([], [], fmt="o", color="0.3", label="Monte Carlo (own estimator per part)")
ax.set(xlabel="width $N$", ylabel=r"$G_c^{(4)}(0, 0.3, 0.7, 1.2)$ and its parts")
ax.set_title(r"$h = \cos(bx + c)$ with one phase $c$ shared by all neurons", fontsize="medium")
ax.grid(True, which="both", alpha=0.3)
ax.legend(frameon=False, fontsize=9)
fig.tight_layout()
print("plot:", *nnsym.plot.save(fig, OUT / "shared_parameter.png"))
