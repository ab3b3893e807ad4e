r"""Infinite-width kernels (NNGP, NTK), the NTK of a single-layer network, and kernel inference.

**Deep networks.** An MLP with L hidden layers of width N, activation f,
:math:`z^{1} = W^{0}x + b^{0}`, :math:`z^{l+1} = W^{l} f(z^{l}) + b^{l}`, weights of variance
:math:`\sigma_W^2/\mathrm{fan\_in}` (:math:`\sigma_W^2/d` in the first layer) and biases
:math:`\sigma_b^2`. At infinite width the output is a Gaussian process with

.. math:: K^{1}(x,x') = \sigma_b^2 + \sigma_W^2\,x\cdot x'/d,\qquad
          K^{l+1} = \sigma_b^2 + \sigma_W^2\,E_{(u,v)\sim\mathcal N(0,K^{l})}[f(u)f(v)],

and (NTK parameterisation, Jacot et al.)
:math:`\Theta^{1} = K^{1}`, :math:`\Theta^{l+1} = K^{l+1} + \sigma_W^2\,\Theta^{l}\,E[f'(u)f'(v)]`.
The pair expectations are the engine's closed forms (:func:`nnsym.engine.gaussian.pair_expectation`):
they compose symbolically for ReLU, erf, sign, Heaviside and every activation that is piecewise
polynomial with its kink at 0 (Abs, leaky ReLU, ...); otherwise the recursion runs numerically
(two-dimensional Gauss-Legendre panels per layer, split at the activation's kinks) and the kernel
says so, with a stated error.

**Single-layer NTK** of any :class:`~nnsym.Network` (standard parameterisation, as written):
:math:`\Theta(x,x') = E[\sum_\theta \partial_\theta\phi(x)\,\partial_\theta\phi(x')]`
by sympy differentiation of the neuron and the expectation engine; the empirical NTK of a
sampled network; the frozen-NTK solution of gradient descent with MSE loss (Leung, eq. 2.51)
:math:`\phi_\infty(x) = \phi_0(x) + \Theta(x,X)\Theta(X,X)^{-1}(y-\phi_0(X))`;
and the NNGP posterior mean and variance.
"""
from __future__ import annotations

import math
import warnings
from typing import Callable

import numpy as np
import sympy as sp

from ..model.correlator import Correlator
from ..core.laws import RandomSymbol
from ..engine.expectation import expectation
from ..errors import DivergentExpectation
from ..engine.gaussian import _N_HI, _N_LO, gauss1_kinked, gauss2_kinked, kink_points, pair_expectation
from ..numeric.kernels import NumericWarning, compile_kernel
from ..model.network import Input, Network
from ..core.vectors import Dot, ScalarPoint, VectorSymbol, expand_dot

__all__ = ["DeepKernel", "deep_kernels", "ntk", "empirical_ntk", "ntk_predict", "gp_posterior", "sample_deep_mlp"]


def _activation(f) -> Callable:
    if isinstance(f, sp.Lambda):
        return lambda z: f(z)
    if callable(f):
        return f
    raise TypeError(f"activation must be a callable on sympy expressions or a sympy Lambda, got {f!r}")


class DeepKernel:
    r"""NNGP kernel :math:`K^{(L+1)}` and NTK :math:`\Theta^{(L+1)}` of a depth-L MLP.

    ``.nngp`` and ``.ntk`` are :class:`~nnsym.Correlator` objects in two points
    when the recursion composes in closed form (``.symbolic`` is True); ``.evaluate_nngp``
    and ``.evaluate_ntk`` work in both cases (numeric recursion otherwise, with a
    :class:`~nnsym.numeric.kernels.NumericWarning` whose ``.error`` bounds the error). Closed forms: the
    engine's table (ReLU, erf, rectified monomials, sign, Heaviside) and every activation that is
    piecewise polynomial with its kink at 0 (Abs, leaky ReLU ``Max(a z, z)``, ``Min(0, z)``, a
    Piecewise of such), through :func:`nnsym.engine.gaussian.pair_expectation`. The numeric recursion
    splits its panels at the kinks of the activation, wherever they are
    (:func:`nnsym.engine.gaussian.kink_points`). When :math:`f'` is a distribution (sign, Heaviside: a
    Dirac delta) the NTK does not exist and asking for it raises
    :class:`~nnsym.DivergentExpectation`; the NNGP is still there.

    >>> import sympy as sp
    >>> K = DeepKernel(lambda z: sp.Max(0, z), depth=1, d=1)
    >>> K.symbolic, K.nngp.n
    (True, 2)
    """

    def __init__(self, activation, depth: int, d, sigma_W=None, sigma_b=None):
        if int(depth) != depth or depth < 1:
            raise ValueError(f"depth (number of hidden layers) must be an integer >= 1, got {depth}")
        self.f = _activation(activation)
        self.depth = int(depth)
        self.sigma_W = sigma_W if sigma_W is not None else sp.Symbol("sigma_W", positive=True)
        self.sigma_b = sigma_b if sigma_b is not None else sp.Symbol("sigma_b", positive=True)
        x = Input("x", d)
        self.dim = x.dim
        self.points = (ScalarPoint("x_1"), ScalarPoint("x_2")) if isinstance(x, ScalarPoint) else (
            VectorSymbol("x_1", x.dim), VectorSymbol("x_2", x.dim))
        k11, k22 = sp.symbols("k11 k22", positive=True)
        k12 = sp.Symbol("k12", real=True)
        u = sp.Dummy("u", real=True)
        self._u = u
        self._fz = sp.sympify(self.f(u))
        self._fpz = sp.diff(self._fz, u)
        # f' with a Dirac delta (sign, Heaviside, a jump): E[f'(u)^2] = oo, the NTK does not exist
        self._ntk_divergent = self._fpz.has(sp.DiracDelta)
        self._P = pair_expectation(self.f, k11, k12, k22)
        self._Pd = None if self._ntk_divergent else pair_expectation(sp.Lambda(u, self._fpz), k11, k12, k22)
        self._k = (k11, k12, k22)
        self.symbolic = self._P is not None and (self._Pd is not None or self._ntk_divergent)
        self._nngp = self._ntk = None

    @property
    def nngp(self) -> Correlator:
        """The NNGP kernel as a Correlator (closed form); AttributeError when there is none."""
        if self._P is None:
            raise AttributeError(f"the NNGP of {self._fz} has no closed form: use evaluate_nngp (numeric)")
        if self._nngp is None:
            self._nngp = Correlator(self._recursion(ntk=False)[0], self.points, self.dim, name="K")
        return self._nngp

    @property
    def ntk(self) -> Correlator:
        """The NTK as a Correlator (closed form); DivergentExpectation when f' is a distribution,
        AttributeError when there is no closed form."""
        self._refuse_divergent_ntk()
        if not self.symbolic:
            raise AttributeError(f"the NTK of {self._fz} has no closed form: use evaluate_ntk (numeric)")
        if self._ntk is None:
            self._ntk = Correlator(self._recursion(ntk=True)[1], self.points, self.dim, name="Theta")
        return self._ntk

    def _refuse_divergent_ntk(self):
        if self._ntk_divergent:
            raise DivergentExpectation(
                f"the NTK of the activation {self._fz} does not exist: its derivative {self._fpz} is a "
                "distribution (a Dirac delta at a jump), so E[f'(u) f'(v)] is infinite at x = x' "
                "(E[delta(u)^2] = oo); the NNGP (evaluate_nngp, .nngp) exists")

    def _layer1(self):
        x1, x2 = self.points
        sW2, sb2 = self.sigma_W**2, self.sigma_b**2
        dot = (lambda a, b: a * b) if isinstance(x1, ScalarPoint) else Dot
        return (sb2 + sW2 * dot(x1, x1) / self.dim, sb2 + sW2 * dot(x1, x2) / self.dim, sb2 + sW2 * dot(x2, x2) / self.dim)

    def _recursion(self, ntk: bool = True):
        k11, k12, k22 = self._k
        sW2, sb2 = self.sigma_W**2, self.sigma_b**2
        K11, K12, K22 = self._layer1()
        T12 = K12
        diag = lambda kk: self._P.subs({k11: kk, k22: kk, k12: kk})
        for _ in range(self.depth):
            sub = {k11: K11, k12: K12, k22: K22}
            P = self._P.xreplace(sub)
            if ntk:
                T12 = sb2 + sW2 * P + sW2 * T12 * self._Pd.xreplace(sub)
            K12 = sb2 + sW2 * P
            K11, K22 = sb2 + sW2 * diag(K11), sb2 + sW2 * diag(K22)
        return K12, (T12 if ntk else None)

    # ------------------------------------------------------------------ numeric recursion
    def _numeric(self, X, values, which, with_error: bool = False):
        """The recursion with kink-split Gauss-Legendre panels (:func:`nnsym.engine.gaussian.gauss2_kinked`),
        run with 10 and 7 nodes per panel; the difference is the stated error."""
        if which == "ntk":
            self._refuse_divergent_ntk()
        X = np.asarray(X, dtype=float)
        if X.ndim < 2 or X.shape[-2] != 2:
            raise ValueError(f"points must have shape (..., 2, d), got {X.shape}")
        vals = {**values}
        if not self.dim.is_Integer:
            vals[self.dim.name] = X.shape[-1]
        elif X.shape[-1] != int(self.dim):
            raise ValueError(f"points must have shape (..., 2, {self.dim}), got {X.shape}")
        sW2 = float(sp.sympify(self.sigma_W**2).subs({s: vals[s.name] for s in sp.sympify(self.sigma_W).free_symbols}))
        sb2 = float(sp.sympify(self.sigma_b**2).subs({s: vals[s.name] for s in sp.sympify(self.sigma_b).free_symbols}))
        u = self._u
        extra = (self._fz.free_symbols | self._fpz.free_symbols) - {u}
        if extra:
            raise ValueError(f"the activation {self._fz} has free symbols {sorted(map(str, extra))}: "
                             "give it numbers (the numeric recursion needs a numeric activation)")
        mods = [{"Heaviside": lambda x, h0=0.5: np.heaviside(x, h0)}, "scipy", "numpy"]
        f = sp.lambdify([u], self._fz, modules=mods)
        fp = sp.lambdify([u], self._fpz, modules=mods)
        kf = _float_kinks(self._fz, u)
        kfp = _float_kinks(self._fpz, u)
        batch = X.shape[:-2]
        Xf = X.reshape(-1, 2, X.shape[-1])
        runs = [self._recursion_numeric(Xf, f, fp, kf, kfp, sW2, sb2, which, n) for n in (_N_HI, _N_LO)]
        out = runs[0].reshape(batch)
        err = float(np.max(np.abs(runs[0] - runs[1]))) if runs[0].size else 0.0
        err = max(err, 1e-12 * float(np.max(np.abs(runs[0]))) if runs[0].size else 0.0)
        return (out, err) if with_error else out

    def _recursion_numeric(self, Xf, f, fp, kf, kfp, sW2, sb2, which, n):
        D = Xf.shape[-1]
        x1, x2 = Xf[:, 0, :], Xf[:, 1, :]
        K11 = sb2 + sW2 * np.sum(x1 * x1, -1) / D
        K22 = sb2 + sW2 * np.sum(x2 * x2, -1) / D
        K12 = sb2 + sW2 * np.sum(x1 * x2, -1) / D
        T12 = K12.copy()

        def pair(fun, kinks, a, c, b):  # E[fun(u) fun(v)], cov [[a, c], [c, b]]
            sa, sb = np.sqrt(a), np.sqrt(b)
            with np.errstate(divide="ignore", invalid="ignore"):
                rho = np.clip(np.where(sa * sb > 0, c / (sa * sb), 0.0), -1.0, 1.0)
            L = np.zeros(a.shape + (2, 2))
            L[:, 0, 0] = sa
            L[:, 1, 0] = sb * rho
            L[:, 1, 1] = sb * np.sqrt(1 - rho**2)
            return gauss2_kinked(lambda p, q: fun(p) * fun(q), np.zeros(a.shape + (2,)), L, [kinks, kinks], n)

        def square(kk):  # E[f(u)^2], u ~ N(0, kk)
            return gauss1_kinked(lambda z: f(z) ** 2, np.zeros_like(kk), np.sqrt(kk), kf, n)

        for _ in range(self.depth):
            P = pair(f, kf, K11, K12, K22)
            if which == "ntk":
                T12 = sb2 + sW2 * P + sW2 * T12 * pair(fp, kfp, K11, K12, K22)
            K12 = sb2 + sW2 * P
            K11, K22 = sb2 + sW2 * square(K11), sb2 + sW2 * square(K22)
        return K12 if which == "nngp" else T12

    def _evaluate_numeric(self, X, values, which):
        out, err = self._numeric(X, values, which, with_error=True)
        warnings.warn(NumericWarning(f"DeepKernel: the {which.upper()} of {self._fz} by numerical quadrature "
                                     f"(kink-split panels; estimated abs. error {err:.1e})", error=err), stacklevel=3)
        return out

    def evaluate_nngp(self, X, **values) -> np.ndarray:
        """:math:`K^{(L+1)}` at point pairs ``X`` of shape (..., 2, d)."""
        return self.nngp.evaluate(X, **values) if self._P is not None else self._evaluate_numeric(X, values, "nngp")

    def evaluate_ntk(self, X, **values) -> np.ndarray:
        r""":math:`\Theta^{(L+1)}` at point pairs ``X`` of shape (..., 2, d)."""
        self._refuse_divergent_ntk()
        return self.ntk.evaluate(X, **values) if self.symbolic else self._evaluate_numeric(X, values, "ntk")


def _float_kinks(expr, z):
    """The kinks of a numeric activation as floats ([] if none or unknown: the two rule sizes then
    disagree by about the error)."""
    ks = kink_points(expr, z)
    out = []
    for k in ks or []:
        try:
            c = complex(k)
        except TypeError:
            continue
        if c.imag == 0:
            out.append(c.real)
    return out


def deep_kernels(activation, depth: int, d, sigma_W=None, sigma_b=None) -> DeepKernel:
    """Shorthand for :class:`DeepKernel`."""
    return DeepKernel(activation, depth, d, sigma_W, sigma_b)


# ----------------------------------------------------------------------------- NTK of a single-layer network
def _grad_dot(e1, e2, p):
    r""":math:`\nabla_p e_1\cdot\nabla_p e_2` for a scalar or vector parameter p."""
    if isinstance(p, RandomSymbol):
        return sp.diff(e1, p) * sp.diff(e2, p)

    def parts(e):
        e = expand_dot(e)
        atoms = sorted((a for a in e.atoms(Dot) if p in a.args), key=sp.default_sort_key)
        subs, out = {}, []
        for a in atoms:
            s = sp.Dummy("s", real=True)
            subs[a] = s
            u, v = a.args
            w = v if u == p else u
            out.append((s, 2 * p if w == p else w))
        es = e.xreplace(subs)
        if p in es.free_symbols:
            raise NotImplementedError(f"{p} enters the neuron other than through scalar products")
        return [(sp.diff(es, s).xreplace({v: k for k, v in subs.items()}), w) for s, w in out]

    g1, g2 = parts(e1), parts(e2)
    return sp.Add(*[c1 * c2 * Dot(w1, w2) for c1, w1 in g1 for c2, w2 in g2])


def ntk(net: Network) -> Correlator:
    r"""Analytic NTK :math:`\Theta(x_1,x_2) = E[\sum_\theta\partial_\theta\phi(x_1)\,\partial_\theta\phi(x_2)]`
    of a single-layer network with i.i.d. neurons (standard parameterisation, as written):
    :math:`N\,E[\nabla(a h(x_1))\cdot\nabla(a h(x_2))]` (+1 for an output bias).

    >>> import nnsym as ns, sympy as sp
    >>> x = ns.Input("x", 1); w = ns.Normal("w", 0, 1); a = ns.Normal("a", 0, 1)
    >>> ntk(ns.Network(w * x, readout=a, width=3, input=x)).expr
    6*x_1*x_2
    """
    if not net.iid:
        raise NotImplementedError("ntk() handles networks with i.i.d. neurons; this one shares "
                                  f"{', '.join(map(str, net.shared))}")
    x1, x2 = net.points(2)
    e1, e2 = net.summand(x1), net.summand(x2)
    total = sp.S.Zero
    for p in net.params:
        total += _grad_dot(e1, e2, p)
    expr = net.width * expectation(total)
    if net.bias is not None:
        expr += 1
    from ..model.network import _tidy

    return Correlator(_tidy(expr), (x1, x2), net.dim, name="Theta", network=net)


def empirical_ntk(net: Network, X, rng=None, seed: int | None = 0, **values) -> np.ndarray:
    r"""The empirical NTK :math:`\sum_\theta\partial_\theta\phi(x)\,\partial_\theta\phi(x')` of one
    network drawn from ``net``, as a Gram matrix over the points ``X`` (shape (M, d)); returns (M, M)."""
    from ..sampling.montecarlo import NetworkSampler

    if not net.iid:
        raise NotImplementedError("empirical_ntk() handles networks with i.i.d. neurons")
    X = np.asarray(X, dtype=float)
    if X.ndim != 2:
        raise ValueError(f"X must have shape (M, d), got {X.shape}")
    rng = np.random.default_rng(seed) if rng is None else rng
    sampler = NetworkSampler(net, values, X.shape[-1])
    vals = dict(sampler.values)
    N = sampler.width
    draws = {net.readout: sampler._draw(net.readout, rng, (N,))}
    for p in sampler.params:
        draws[p] = sampler._draw(p, rng, (N,))
    e = net.readout * net.neuron
    hyper = sorted(e.free_symbols - set(net.params) - {net.input}, key=sp.default_sort_key)
    hv = [vals[h.name] for h in hyper]
    pts = X[:, 0] if isinstance(net.input, ScalarPoint) else X
    feats = []  # each (N, M) or (N, M, D)
    for p in net.params:
        if isinstance(p, RandomSymbol):
            fn = compile_kernel(net.params + [net.input] + hyper, sp.diff(e, p))
            feats.append(np.broadcast_to(fn(*[draws[q] for q in net.params], pts, *hv), (N, len(X)))[..., None])
        else:
            e_exp = expand_dot(e)
            atoms = sorted((a for a in e_exp.atoms(Dot) if p in a.args), key=sp.default_sort_key)
            grad = 0.0
            for a in atoms:
                s = sp.Dummy("s", real=True)
                u, v = a.args
                wv = v if u == p else u
                coeff = sp.diff(e_exp.xreplace({a: s}), s).xreplace({s: a})
                fn = compile_kernel(net.params + [net.input] + hyper, coeff)
                c = np.broadcast_to(fn(*[draws[q] for q in net.params], pts, *hv), (N, len(X)))
                if wv == net.input:
                    vec = np.broadcast_to(X, (N,) + X.shape)
                elif wv == p:
                    vec = 2 * np.broadcast_to(draws[p], (N, len(X), X.shape[-1]))
                else:
                    raise NotImplementedError(f"gradient along {wv}")
                grad = grad + c[..., None] * vec
            feats.append(grad)
    F = np.concatenate([np.moveaxis(f, 1, 0).reshape(len(X), -1) for f in feats], axis=1)  # (M, features)
    out = F @ F.T
    if net.bias is not None:
        out = out + 1.0
    return out


# ----------------------------------------------------------------------------- inference with a kernel
def _gram(kernel, A, B, values):
    A, B = np.asarray(A, float), np.asarray(B, float)
    pairs = np.stack(np.broadcast_arrays(A[:, None, :], B[None, :, :]), axis=-2)  # (|A|, |B|, 2, d)
    ev = kernel.evaluate if hasattr(kernel, "evaluate") else kernel
    return np.asarray(ev(pairs, **values), dtype=float)


def ntk_predict(theta, X_train, y_train, X_test, phi0_train=None, phi0_test=None, **values) -> np.ndarray:
    r"""Frozen-NTK solution of gradient descent with MSE loss (Leung, eq. 2.51):
    :math:`\phi_\infty(x) = \phi_0(x) + \Theta(x,X)\,\Theta(X,X)^{-1}(y - \phi_0(X))`.

    ``theta``: a two-point kernel (a Correlator such as :func:`ntk`'s, or a callable on (..., 2, d));
    ``phi0_*``: the network at initialisation (default 0: the mean prediction)."""
    X_train, X_test = np.asarray(X_train, float), np.asarray(X_test, float)
    y = np.asarray(y_train, float)
    if X_train.ndim != 2 or X_test.ndim != 2 or X_train.shape[1] != X_test.shape[1] or len(y) != len(X_train):
        raise ValueError("X_train (n, d), y_train (n,), X_test (m, d) with the same d are required")
    p0tr = np.zeros(len(X_train)) if phi0_train is None else np.asarray(phi0_train, float)
    p0te = np.zeros(len(X_test)) if phi0_test is None else np.asarray(phi0_test, float)
    T = _gram(theta, X_train, X_train, values)
    Tt = _gram(theta, X_test, X_train, values)
    return p0te + Tt @ np.linalg.solve(T, y - p0tr)


def gp_posterior(kernel, X_train, y_train, X_test, noise: float = 0.0, **values):
    r"""NNGP posterior mean :math:`K(x,X)(K+\sigma_n^2)^{-1}y` and variance
    :math:`K(x,x) - K(x,X)(K+\sigma_n^2)^{-1}K(X,x)` at ``X_test``; returns (mean, var)."""
    if noise < 0:
        raise ValueError(f"noise variance must be >= 0, got {noise}")
    X_train, X_test = np.asarray(X_train, float), np.asarray(X_test, float)
    y = np.asarray(y_train, float)
    K = _gram(kernel, X_train, X_train, values) + noise * np.eye(len(X_train))
    Ks = _gram(kernel, X_test, X_train, values)
    kss = np.asarray((kernel.evaluate if hasattr(kernel, "evaluate") else kernel)(
        np.stack([X_test, X_test], axis=-2), **values), float)
    mean = Ks @ np.linalg.solve(K, y)
    var = kss - np.einsum("ij,ji->i", Ks, np.linalg.solve(K, Ks.T))
    return mean, var


# ----------------------------------------------------------------------------- sampling deep networks
def sample_deep_mlp(activation, depth: int, width: int, X, samples: int, seed: int = 0,
                    sigma_W: float = 1.0, sigma_b: float = 0.0, chunk: int = 256) -> np.ndarray:
    r"""Outputs of ``samples`` random depth-L MLPs (the convention of :class:`DeepKernel`) at the
    points ``X`` (M, d): array (samples, M). Used to validate the deep kernels by Monte Carlo."""
    X = np.asarray(X, float)
    rng = np.random.default_rng(seed)
    z = sp.Dummy("z", real=True)
    f = sp.lambdify([z], _activation(activation)(z), modules=["scipy", "numpy"])
    M, d = X.shape
    out = np.empty((samples, M))
    for s0 in range(0, samples, chunk):
        S = min(chunk, samples - s0)
        W = rng.normal(0, sigma_W / math.sqrt(d), (S, width, d))
        b = rng.normal(0, sigma_b, (S, width, 1)) if sigma_b > 0 else 0.0
        h = np.einsum("swd,md->swm", W, X) + b
        for _ in range(depth - 1):
            W = rng.normal(0, sigma_W / math.sqrt(width), (S, width, width))
            b = rng.normal(0, sigma_b, (S, width, 1)) if sigma_b > 0 else 0.0
            h = np.einsum("svw,swm->svm", W, f(h)) + b
        Wout = rng.normal(0, sigma_W / math.sqrt(width), (S, width))
        bout = rng.normal(0, sigma_b, (S, 1)) if sigma_b > 0 else 0.0
        out[s0:s0 + S] = np.einsum("sw,swm->sm", Wout, f(h)) + bout
    return out
