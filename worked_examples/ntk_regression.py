r"""
Kernel regression with the NNGP and the NTK, and a wide network trained by gradient descent
===========================================================================================

A one-hidden-layer ReLU network in the NTK parameterisation,

.. math:: \phi(x) = \frac{\sigma_W}{\sqrt N}\sum_{i\le N} v_i\,\mathrm{ReLU}\big(\sigma_W w_i x + \sigma_b\beta_i\big)
          + \sigma_b\beta_{\rm out},\qquad v, w, \beta, \beta_{\rm out}\sim\mathcal N(0, 1),

is fitted to :math:`n = 16` noisy samples of :math:`\sin 2x` in :math:`d = 1` in three ways
(docs/conventions.md, "Deep networks: NNGP and NTK"):

* **Bayesian inference with the infinite network** (the NNGP): the posterior mean
  :math:`\bar\phi(x) = K(x, X)\,(K(X, X) + \sigma_n^2)^{-1}y` (``nnsym.gp_posterior``);
* **gradient descent at infinite width**: with the MSE loss :math:`\frac12\sum_k(\phi(x_k) - y_k)^2`
  and learning rate :math:`\eta`, the network moves as a linear model with the frozen NTK :math:`\Theta`.
  After :math:`t` steps,

  .. math:: \phi_t(x) = \phi_0(x) + \Theta(x, X)\,\Theta(X, X)^{-1}\big(1 - (1 - \eta\Theta(X, X))^t\big)
            \big(y - \phi_0(X)\big),

  and as :math:`t\to\infty`, :math:`\phi_\infty(x) = \phi_0(x) + \Theta(x, X)\Theta(X, X)^{-1}(y - \phi_0(X))`
  (``nnsym.ntk_predict``; averaged over initialisations, :math:`\phi_0 = 0`);
* **a real network of width** :math:`N = 4096`, trained by full-batch gradient descent (numpy), against
  the linear model with its own empirical NTK at initialisation: the lazy (frozen-kernel) regime. The
  network is centred, :math:`f_\theta(x) = \phi_\theta(x) - \phi_{\theta_0}(x)` (the initial function
  subtracted, a constant that does not change the gradients), so that :math:`f_{\theta_0} = 0` as in
  the infinite-width mean prediction; without it the random :math:`\phi_0` (of variance :math:`K(x, x)`)
  stays in the prediction away from the data.
"""

# %%
# Data and the infinite-width kernels
# -----------------------------------
import os
import pathlib

import matplotlib.pyplot as plt
import numpy as np
import sympy as sp

import nnsym as ns
import nnsym.plot

OUT = pathlib.Path(os.environ.get("NNSYM_EXAMPLES_OUT", "build/examples"))  # where the plot is written

rng = np.random.default_rng(0)
NOISE = 0.05
target = lambda x: np.sin(2 * x)
X_train = np.sort(rng.uniform(-2.0, 2.0, 16))[:, None]
y_train = target(X_train[:, 0]) + NOISE * rng.normal(size=len(X_train))
X_test = np.linspace(-2.0, 2.0, 201)[:, None]
y_test = target(X_test[:, 0])

VALUES = dict(sigma_W=2.0, sigma_b=1.0)
kernels = ns.deep_kernels(lambda z: sp.Max(0, z), depth=1, d=1)
print("NNGP K     =", kernels.nngp.expr)
print("NTK  Theta =", kernels.ntk.expr)

mean_gp, var_gp = ns.gp_posterior(kernels.nngp, X_train, y_train, X_test, noise=NOISE**2, **VALUES)
ntk_inf = ns.ntk_predict(kernels.ntk, X_train, y_train, X_test, **VALUES)
mse = lambda pred: float(np.mean((pred - y_test) ** 2))
print(f"test MSE (against sin 2x on [-2, 2]): NNGP posterior mean {mse(mean_gp):.2e}, "
      f"NTK t -> oo (mean over initialisations) {mse(ntk_inf):.2e}")

# %%
# A wide network, written out in numpy
# ------------------------------------
# Parameters :math:`\theta = (v, w, \beta, \beta_{\rm out})`; the Jacobian :math:`J = \partial\phi/\partial\theta`
# gives both the gradient step :math:`\theta \leftarrow \theta - \eta J^T(f_\theta(X) - y)` and the empirical
# NTK :math:`\Theta_{\rm emp} = JJ^T`.
N = 4096
sW, sb = VALUES["sigma_W"], VALUES["sigma_b"]
init = {k: rng.normal(size=s) for k, s in (("v", N), ("w", N), ("beta", N), ("beta_out", 1))}


def forward(theta, X):
    """The network at the points X (m, 1) and its Jacobian (m, 3N + 1)."""
    z = sW * X * theta["w"] + sb * theta["beta"]  # (m, N)
    act, slope = np.maximum(z, 0.0), (z > 0).astype(float)
    phi = sW / np.sqrt(N) * act @ theta["v"] + sb * theta["beta_out"][0]
    dv = sW / np.sqrt(N) * act
    dz = sW / np.sqrt(N) * theta["v"] * slope
    J = np.concatenate([dv, dz * sW * X, dz * sb, np.full((len(X), 1), sb)], axis=1)
    return phi, J


def flat(theta):
    return np.concatenate([theta["v"], theta["w"], theta["beta"], theta["beta_out"]])


def unflat(p):
    return {"v": p[:N], "w": p[N:2 * N], "beta": p[2 * N:3 * N], "beta_out": p[3 * N:]}


phi0_train, J_train = forward(init, X_train)
phi0_test, J_test = forward(init, X_test)
theta_emp = J_train @ J_train.T
theta_inf = kernels.evaluate_ntk(np.stack(np.broadcast_arrays(X_train[:, None], X_train[None, :]), axis=-2), **VALUES)
print(f"empirical NTK at initialisation vs the infinite-width NTK on the training points: relative difference "
      f"{np.linalg.norm(theta_emp - theta_inf) / np.linalg.norm(theta_inf):.3f}  (O(1/sqrt(N)), 1/sqrt(N) = "
      f"{1 / np.sqrt(N):.3f})")

# %%
# Gradient descent, and the frozen-NTK linear model at the same step
# ------------------------------------------------------------------
STEPS = 2000
eta = 1.0 / np.linalg.eigvalsh(theta_emp).max()
p = flat(init)
loss = np.empty(STEPS + 1)
for t in range(STEPS + 1):
    phi, J = forward(unflat(p), X_train)
    r = phi - phi0_train - y_train  # the centred network f = phi - phi_0
    loss[t] = 0.5 * r @ r
    if t < STEPS:
        p = p - eta * J.T @ r
trained = forward(unflat(p), X_test)[0] - phi0_test

lam, U = np.linalg.eigh(theta_emp)  # the linear model, mode by mode: r_t = (1 - eta lam)^t r_0
r0 = U.T @ (-y_train)
loss_linear = 0.5 * np.sum((r0[None, :] * (1 - eta * lam[None, :]) ** np.arange(STEPS + 1)[:, None]) ** 2, axis=1)
decay = U @ np.diag((1 - (1 - eta * lam) ** STEPS) / lam) @ U.T
linear = (J_test @ J_train.T) @ decay @ y_train
# the same linear model with the infinite-width NTK (nnsym's closed form) instead of the empirical one
pairs = lambda A, B: np.stack(np.broadcast_arrays(A[:, None], B[None, :]), axis=-2)
lam_inf, U_inf = np.linalg.eigh(theta_inf)
decay_inf = U_inf @ np.diag((1 - (1 - eta * lam_inf) ** STEPS) / lam_inf) @ U_inf.T
linear_inf = kernels.evaluate_ntk(pairs(X_test, X_train), **VALUES) @ decay_inf @ y_train
moved = np.linalg.norm(p - flat(init)) / np.linalg.norm(flat(init))
print(f"width N = {N}, {STEPS} steps of gradient descent, eta = 1/lambda_max = {eta:.3e}")
print(f"  training loss {loss[0]:.3f} -> {loss[-1]:.2e} (network), {loss_linear[-1]:.2e} (frozen-NTK linear model)")
print(f"  parameters moved by |theta_t - theta_0| / |theta_0| = {moved:.2e} (lazy regime)")
print(f"  max |trained network - linear model with its NTK| on the test points = "
      f"{np.max(np.abs(trained - linear)):.3f}")
print(f"  max |linear model with the empirical NTK - with the N -> oo NTK| = {np.max(np.abs(linear - linear_inf)):.3f}")
print(f"  condition number of Theta(X, X): {np.linalg.cond(theta_inf):.1e}: the modes with eta lambda < 1/{STEPS} "
      f"are not fitted yet ({np.sum(eta * lam_inf * STEPS < 1)} of {len(lam_inf)})")
print(f"test MSE: trained network {mse(trained):.2e}, linear model with its empirical NTK {mse(linear):.2e}, "
      f"with the N -> oo NTK {mse(linear_inf):.2e}")

# %%
# The plot
# --------
fig, (ax, bx) = plt.subplots(1, 2, figsize=(12, 4.4), gridspec_kw=dict(width_ratios=(3, 2)))
xs = X_test[:, 0]
ax.fill_between(xs, mean_gp - 2 * np.sqrt(np.maximum(var_gp, 0)), mean_gp + 2 * np.sqrt(np.maximum(var_gp, 0)),
                color="C0", alpha=0.15, label=r"NNGP posterior $\pm 2\sigma$")
ax.plot(xs, y_test, "k:", lw=1, label=r"target $\sin 2x$")
ax.plot(xs, mean_gp, "C0", lw=1.8, label="NNGP posterior mean")
ax.plot(xs, ntk_inf, "C1--", lw=1.5, label=r"NTK, $t\to\infty$, $\phi_0 = 0$")
ax.plot(xs, linear, "C2", lw=3, alpha=0.5, label=f"frozen empirical NTK, {STEPS} steps")
ax.plot(xs, linear_inf, "C4-.", lw=1.2, label=rf"$N\to\infty$ NTK, {STEPS} steps")
ax.plot(xs, trained, "C3", lw=1, label=f"trained network, N = {N}")
ax.plot(X_train[:, 0], y_train, "ko", ms=4, label="training data")
ax.set(xlabel="$x$", ylabel=r"$\phi(x)$", title="one-hidden-layer ReLU network, $\\sigma_W = 2$, $\\sigma_b = 1$")
ax.legend(frameon=False, fontsize=8)
ax.grid(True, alpha=0.3)
steps = np.arange(STEPS + 1)
bx.loglog(steps[1:], loss[1:], "C3", lw=2, label=f"network, N = {N}")
bx.loglog(steps[1:], loss_linear[1:], "C2--", lw=1.5, label="frozen-NTK linear model")
bx.set(xlabel="gradient-descent step", ylabel="training loss", title="training: network vs linear model")
bx.legend(frameon=False)
bx.grid(True, which="both", alpha=0.3)
fig.tight_layout()
print("plot:", *nnsym.plot.save(fig, OUT / "ntk_regression.png"))
