r"""
Infinite-width kernels of erf, ReLU and Gauss-net neurons
=========================================================

A one-hidden-layer network :math:`\phi(x) = \sum_{i\le N} v_i\,\frac{\sigma_W}{\sqrt N}f(z_i(x))`,
:math:`z_i(x) = \frac{\sigma_W}{\sqrt d}w_i\cdot x + \sigma_b\beta_i`, with standard normal
:math:`v, w, \beta` (the NTK parameterisation: the same network at initialisation as weights of
variance :math:`\sigma_W^2/\mathrm{fan\_in}`), has at every width the two-point function (NNGP
kernel) and, as :math:`N\to\infty`, the neural tangent kernel (docs/conventions.md, "Deep
networks: NNGP and NTK")

.. math::

    K(x, x') = \sigma_W^2\,E_{(u, v)\sim\mathcal N(0, K^1)}[f(u)f(v)],\qquad
    \Theta(x, x') = K(x, x') + \sigma_W^2\,K^1(x, x')\,E[f'(u)f'(v)],\qquad
    K^1 = \sigma_b^2 + \sigma_W^2\,\frac{x\cdot x'}{d}.

For erf this is the arcsine kernel
:math:`K = \frac{2\sigma_W^2}{\pi}\arcsin\frac{2K^1(x,x')}{\sqrt{(1+2K^1(x,x))(1+2K^1(x',x'))}}`; for
ReLU the arc-cosine kernel :math:`K = \frac{\sigma_W^2}{2\pi}\sqrt{K^1(x,x)K^1(x',x')}\,(\sin t + (\pi - t)\cos t)`,
:math:`\cos t = K^1(x,x')/\sqrt{K^1(x,x)K^1(x',x')}`. The Gauss-net (readout variance
:math:`\sigma_a^2/(2N)`) has :math:`K = \frac{\sigma_a^2}{2}e^{-\sigma_b^2|x-x'|^2/(2d)}`.

nnsym composes these in closed form (``nnsym.deep_kernels``), and derives the NTK of any single-layer
:class:`~nnsym.Network` by differentiating the neuron (``nnsym.ntk``). Both are checked here against
sampled networks on the unit circle, :math:`x = e_1`, :math:`x' = (\cos\theta, \sin\theta)`: the
NNGP as the covariance of :math:`\phi(x)\phi(x')` over :math:`10^5` networks
(``nnsym.sample_deep_mlp``), the NTK as the average of the empirical NTK
:math:`\sum_\theta\partial_\theta\phi(x)\partial_\theta\phi(x')` (``nnsym.empirical_ntk``) over 40
networks of width 2000. For one hidden layer both are unbiased at every width: the empirical NTK is
a mean over neurons, so its expectation is the infinite-width kernel.
"""

# %%
# The networks, written in the NTK parameterisation
# -------------------------------------------------
import os
import pathlib

import matplotlib.pyplot as plt
import numpy as np
import sympy as sp

import nnsym as ns
import nnsym.plot

OUT = pathlib.Path(os.environ.get("NNSYM_EXAMPLES_OUT", "build/examples"))  # where the plot is written

d = 2
N = sp.Symbol("N", positive=True, integer=True)
sW, sb, sa, sc = sp.symbols("sigma_W sigma_b sigma_a sigma_c", positive=True)
x = ns.Input("x", d)
w, beta = ns.Normal("w", 0, 1, shape=d), ns.Normal("beta", 0, 1)
v = ns.Normal("v", 0, 1)
ACTIVATIONS = {"erf": sp.erf, "ReLU": lambda z: sp.Max(0, z)}
VALUES = dict(sigma_W=1.0, sigma_b=0.5)  # the output bias adds sigma_b^2 to both kernels: left out of the networks


def ntk_network(f) -> ns.Network:
    r""":math:`\phi = \sum_i v_i\frac{\sigma_W}{\sqrt N}f(\frac{\sigma_W}{\sqrt d}w_i\cdot x + \sigma_b\beta_i)`."""
    return ns.Network(sW / sp.sqrt(N) * f(sW / sp.sqrt(d) * w.dot(x) + sb * beta), readout=v, width=N, input=x)


# the Gauss-net of the slides in the same parameterisation:
# a = sigma_a v / sqrt(2N), b = sigma_b w / sqrt(d), c = sigma_c gamma
gamma = ns.Normal("gamma", 0, 1)
gauss_neuron = sp.exp(sb / sp.sqrt(d) * w.dot(x) + sc * gamma) / sp.sqrt(sp.exp(2 * (sc**2 + sb**2 * x.dot(x) / d)))
gauss = ns.Network(sa / sp.sqrt(2 * N) * gauss_neuron, readout=v, width=N, input=x)
GAUSS_VALUES = dict(sigma_a=1.0, sigma_b=1.0, sigma_c=0.3)

# %%
# Closed forms: ``deep_kernels`` (the recursion) and ``ntk`` (differentiating the network)
# ----------------------------------------------------------------------------------------
theta = np.linspace(0.0, np.pi, 13)
circle = np.stack([np.cos(theta), np.sin(theta)], axis=-1)
pairs = np.stack([np.broadcast_to([1.0, 0.0], circle.shape), circle], axis=1)  # (13, 2, d)
points = np.concatenate([[[1.0, 0.0]], circle])  # x = e_1 first, then the circle

kernels = {}
for name, f in ACTIVATIONS.items():
    K = ns.deep_kernels(f, depth=1, d=d)
    kernels[name] = K
    by_network = ns.ntk(ntk_network(f)).evaluate(pairs, N=100, **VALUES) + VALUES["sigma_b"] ** 2
    print(f"{name}: NNGP K = {K.nngp.expr}")
    print(f"  NTK of the recursion vs nnsym.ntk of the network: max difference "
          f"{np.max(np.abs(K.evaluate_ntk(pairs, **VALUES) - by_network)):.1e}")
G2_gauss = gauss.correlator(2)
Theta_gauss = ns.ntk(gauss)
print("Gauss-net: NNGP K =", G2_gauss.expr)
print("           NTK    =", Theta_gauss.expr)

# %%
# Monte Carlo: sampled networks
# -----------------------------
# The NNGP: :math:`E[\phi(e_1)\phi(x')]` over :math:`10^5` networks of width 64 (for one hidden layer
# the covariance is the kernel at every width). The NTK: the mean of the empirical NTK of 40
# networks of width 2000, plus the output bias' :math:`\sigma_b^2`.
NETS = 40
mc = {}
for name, f in ACTIVATIONS.items():
    out = ns.sample_deep_mlp(f, 1, 64, points, samples=100_000, seed=0, **VALUES)
    prod = out[:, :1] * out[:, 1:]
    tangent = np.array([ns.empirical_ntk(ntk_network(f), points, seed=s, N=2000, **VALUES)[0, 1:]
                        for s in range(NETS)]) + VALUES["sigma_b"] ** 2
    mc[name] = (prod.mean(0), prod.std(0) / np.sqrt(len(prod)), tangent.mean(0), tangent.std(0) / np.sqrt(NETS))
est = ns.monte_carlo(gauss, 2, pairs, samples=100_000, seed=0, N=64, **GAUSS_VALUES)
tangent = np.array([ns.empirical_ntk(gauss, points, seed=s, N=2000, **GAUSS_VALUES)[0, 1:] for s in range(NETS)])
mc["Gauss-net"] = (est.mean, est.stderr, tangent.mean(0), tangent.std(0) / np.sqrt(NETS))

exact = {name: (K.evaluate_nngp(pairs, **VALUES), K.evaluate_ntk(pairs, **VALUES)) for name, K in kernels.items()}
exact["Gauss-net"] = (G2_gauss.evaluate(pairs, N=64, **GAUSS_VALUES), Theta_gauss.evaluate(pairs, N=64, **GAUSS_VALUES))
print(f"{'':>10} {'theta':>6} {'NNGP exact':>11} {'MC':>19} {'z':>6}   {'NTK exact':>10} {'MC':>19} {'z':>6}")
for name in mc:
    K_mc, K_se, T_mc, T_se = mc[name]
    K_ex, T_ex = exact[name]
    for i in range(0, len(theta), 3):
        print(f"{name:>10} {theta[i]:6.3f} {K_ex[i]:11.5f} {K_mc[i]:10.5f} ± {K_se[i]:.5f} "
              f"{(K_mc[i] - K_ex[i]) / K_se[i]:+6.2f}   {T_ex[i]:10.5f} {T_mc[i]:10.5f} ± {T_se[i]:.5f} "
              f"{(T_mc[i] - T_ex[i]) / T_se[i]:+6.2f}")
    zK, zT = (K_mc - K_ex) / K_se, (T_mc - T_ex) / T_se
    print(f"{name:>10} max |z| over {len(theta)} angles: NNGP {np.max(np.abs(zK)):.2f}, NTK {np.max(np.abs(zT)):.2f}")

# %%
# The plot
# --------
# Lines: the closed forms (``nnsym.plot.kernels_vs_angle`` for erf and ReLU); points: sampled networks,
# :math:`1\sigma` bars.
fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
for ax, name in zip(axes, mc):
    if name in kernels:
        nnsym.plot.kernels_vs_angle(kernels[name], ax=ax, name=f"{name}, one hidden layer", **VALUES)
    else:
        fine = np.linspace(0.0, np.pi, 181)
        ring = np.stack([np.broadcast_to([1.0, 0.0], (181, 2)), np.stack([np.cos(fine), np.sin(fine)], -1)], axis=1)
        ax.plot(fine, G2_gauss.evaluate(ring, N=64, **GAUSS_VALUES), "-", color="C0", lw=1.8, label=r"NNGP $K(\theta)$")
        ax.plot(fine, Theta_gauss.evaluate(ring, N=64, **GAUSS_VALUES), "-", color="C1", lw=1.8,
                label=r"NTK $\Theta(\theta)$")
        ax.set_xticks([0, np.pi / 4, np.pi / 2, 3 * np.pi / 4, np.pi],
                      ["$0$", r"$\pi/4$", r"$\pi/2$", r"$3\pi/4$", r"$\pi$"])
        ax.set(xlabel=r"$\theta$", ylabel=r"$K$, $\Theta$")
        ax.set_title(r"Gauss-net, $\sigma_a = \sigma_b = 1,\ \sigma_c = 0.3$", fontsize="medium")
        ax.grid(True, alpha=0.3)
    K_mc, K_se, T_mc, T_se = mc[name]
    ax.errorbar(theta, K_mc, yerr=K_se, fmt="o", color="C0", ms=4, capsize=2, label="NNGP: $10^5$ networks")
    ax.errorbar(theta, T_mc, yerr=T_se, fmt="s", color="C1", ms=4, capsize=2, label=f"NTK: {NETS} networks, N = 2000")
    ax.legend(frameon=False, fontsize=8)
fig.tight_layout()
print("plot:", *nnsym.plot.save(fig, OUT / "activation_kernels.png"))
