r"""
Deep networks at criticality: depth over width is the expansion parameter
=========================================================================

A deep MLP is *critical* when its kernel neither explodes nor vanishes with depth:
:math:`\chi_\parallel = \chi_\perp = 1` at the fixed point of
:math:`K^{(l+1)} = C_b + C_W\langle\sigma\sigma\rangle_{K^{(l)}}` (Roberts, Yaida, Hanin, ch. 5).
:func:`~nnsym.analysis.criticality.critical_point` finds :math:`(C_b, C_W)`: in closed form for
scale-invariant activations (ReLU: :math:`C_b = 0`, :math:`C_W = 2`) and for the :math:`K^*=0` class
(tanh: :math:`C_W = 1`, erf: :math:`C_W = \pi/4`), numerically otherwise.

At finite width :math:`n` the output at one input has the excess kurtosis

.. math:: \frac{\kappa_4}{3K^2} = \frac{V^{(L+1)}}{n\,(K^{(L+1)})^2} + O(n^{-2}),

with the vertex :math:`V^{(l)}` of :func:`~nnsym.finite_width_expansion`. At criticality the normalised
vertex grows *linearly* with depth, :math:`V^{(l)}/K^2 = 5(l-1)` for ReLU and
:math:`\to\tfrac23 l` for tanh, so the correction is of order :math:`L/n`: a network is
"wide" only when :math:`n\gg L`. Below, the leading-order lines are compared with Monte Carlo over
sampled networks from the same :class:`~nnsym.DeepMLP`, at widths 8, 16 and 32 and depths up to
:math:`L = n`. For ReLU the exact answer is known in closed form,
:math:`\kappa_4/(3K^2) = (1 + 5/n)^L - 1\to e^{5L/n} - 1`: the leading order is its first term, and
it fails once :math:`L/n` is not small.
"""

# %%
# Critical points
# ---------------
import os
import pathlib

import matplotlib.pyplot as plt
import numpy as np
import sympy as sp

import nnsym.plot
from nnsym.analysis.criticality import critical_point, sampled_excess_kurtosis, vertex_vs_depth

OUT = pathlib.Path(os.environ.get("NNSYM_EXAMPLES_OUT", "build/examples"))  # where the plot is written
RELU = lambda z: sp.Max(0, z)  # noqa: E731
ACTS = {"ReLU": RELU, "tanh": sp.tanh, "erf": sp.erf, "GELU": lambda z: z * (1 + sp.erf(z / sp.sqrt(2))) / 2}
for name, act in ACTS.items():
    cp = critical_point(act)
    print(f"{name:5s} C_b = {str(cp.C_b):10.10s} C_W = {str(cp.C_W):10.10s} K* = {str(cp.K_star):10.10s} "
          f"chi_par = {float(cp.chi_parallel):.6f} chi_perp = {float(cp.chi_perp):.6f}  [{cp.universality_class}]")
try:
    critical_point(lambda z: 1 / (1 + sp.exp(-z)))
except ValueError as e:
    print("sigmoid:", str(e).split(":")[1].strip())

# %%
# The normalised vertex against depth
# -----------------------------------
# ReLU is exact (:math:`5(l-1)`, symbolic); for tanh the slope approaches :math:`2/3` only slowly
# (corrections :math:`O(\log l / l)`), and the kernel decays like :math:`1/(2l)`.
relu = vertex_vs_depth(RELU, depth=6)
print("ReLU  V/K^2 =", relu.vertex.round(10).tolist(), " closed form:", relu.exact)
deep_tanh = vertex_vs_depth(sp.tanh, depth=400)
for first in (10, 100, 300):
    print(f"tanh  slope of V/K^2 over l >= {first:3d}: {deep_tanh.slope(first):.4f}   (asymptotic 2/3)")
print(f"tanh  l K^(l) at l = {deep_tanh.layers[-1]}: {deep_tanh.layers[-1] * deep_tanh.K[-1]:.4f}   (asymptotic 1/2)")

# %%
# Monte Carlo at widths 8, 16, 32
# --------------------------------
# ``sampled_excess_kurtosis`` samples the output through the conditional Gaussian layers of the same
# spec (exact in law at one input); the error bars are one standard error. For ReLU the Monte Carlo
# points stop at :math:`L/n = 1/2`: beyond, :math:`\phi^4` is dominated by rare networks with a huge
# norm (its variance grows like :math:`e^{cL/n}` with a large :math:`c`), and a sample mean of
# :math:`10^5` networks typically falls short of the exact value, with an unreliable error bar.
DEPTHS = {"ReLU": {8: (1, 2, 3, 4), 16: (2, 4, 6, 8), 32: (4, 8, 12, 16)},
          "tanh": {8: (1, 2, 4, 6, 8), 16: (2, 4, 8, 12, 16), 32: (4, 8, 16, 24, 32)}}
SAMPLES = {"ReLU": 300_000, "tanh": 150_000}
fig, axes = plt.subplots(1, 2, figsize=(11, 4.6))
data = {}
for ax, (name, act) in zip(axes, (("ReLU", RELU), ("tanh", sp.tanh))):
    cp = critical_point(act)
    prof = vertex_vs_depth(act, depth=32)
    print(f"\n{name}: {SAMPLES[name]:,} networks per point")
    print(f"{'n':>3} {'L':>3} {'L/n':>6} {'leading':>9} {'Monte Carlo':>20} {'z':>7}" + (
        f" {'exact':>9} {'z':>6}" if name == "ReLU" else ""))
    if name == "ReLU":
        x = np.linspace(0, 1, 200)
        ax.plot(x, 5 * x, "-", color="k", lw=1.6, label=r"leading order $V/(nK^2) = 5L/n$ (every $n$)")
        ax.plot(x, np.expm1(5 * x), "--", color="0.5", lw=1.2,
                label=r"exact, $n\to\infty$ at fixed $L/n$: $e^{5L/n}-1$")
    for i, (n, depths) in enumerate(DEPTHS[name].items()):
        Ls = np.arange(1, n + 1)
        if name == "ReLU":
            ax.plot(Ls / n, (1 + 5 / n) ** Ls - 1, ":", color=f"C{i}", lw=1.6, label=f"exact $(1+5/n)^L-1$, n = {n}")
        else:
            ax.plot(Ls / n, prof.vertex[Ls] / n, "-", color=f"C{i}", lw=1.6, label=f"leading order $V/(nK^2)$, n = {n}")
        mc = np.array([sampled_excess_kurtosis(cp.spec(L, widths=n), SAMPLES[name], seed=100 * n + L)
                       for L in depths])
        lead = prof.vertex[np.array(depths)] / n
        for L, le, (m, s) in zip(depths, lead, mc):
            row = f"{n:3d} {L:3d} {L / n:6.3f} {le:9.4f} {m:10.4f} ± {s:7.4f} {(m - le) / s:+7.2f}"
            if name == "ReLU":
                ex = (1 + 5 / n) ** L - 1
                row += f" {ex:9.4f} {(m - ex) / s:+6.2f}"
            print(row)
        ax.errorbar(np.array(depths) / n, mc[:, 0], yerr=mc[:, 1], fmt="o", color=f"C{i}", ms=4.5, capsize=3,
                    label=f"Monte Carlo, n = {n}")
        data[f"{name}_n{n}"] = {"L": np.array(depths), "leading": lead, "mc": mc[:, 0], "stderr": mc[:, 1]}
    ax.set(xlabel="depth / width  $L/n$", ylabel=r"output excess kurtosis $\kappa_4/(3K^2)$",
           title=f"{name} at criticality ($C_b = {cp.C_b}$, $C_W = {sp.latex(cp.C_W)}$)")
    if name == "ReLU":
        ax.set_ylim(0, 20)
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(frameon=False, fontsize="small", loc="upper left")
fig.tight_layout()
fig.nnsym_data = data
print("plot:", *nnsym.plot.save(fig, OUT / "deep_criticality.png"))
