r"""The density of field values at finite N: exact (Fourier inversion), Edgeworth, Gaussian.

For a network :math:`\phi(x) = \sum_{i\le N} a_i h(x;\theta_i)\ (+\ b_{\rm out})` the joint law of the
field values :math:`\Phi = (\phi(x_1), \dots, \phi(x_k))` at :math:`k` points is known exactly at every
width through its characteristic function.

**Exact, for i.i.d. neurons.** With the readout :math:`a` independent of the neuron parameters,
integrate the readout first with its own characteristic function
:math:`\varphi_a(u) = E[e^{iua}]`:

.. math:: \chi_1(t) = E\big[e^{i\,t\cdot(a h(x_1),\dots,a h(x_k))}\big]
          = E_\theta\Big[\varphi_a\Big(\sum_{j=1}^k t_j\,h(x_j;\theta)\Big)\Big],\qquad
          \chi_N(t) = \chi_1(t)^N\,\varphi_{b_{\rm out}}\Big(\sum_j t_j\Big),

(independent neurons multiply their characteristic functions), and the density is the Fourier
inversion

.. math:: p_N(\Phi) = \frac{1}{(2\pi)^k}\int_{\mathbb R^k} d^kt\;\chi_N(t)\,e^{-i t\cdot\Phi}.

:math:`E_\theta` is a closed form when the engine (:func:`nnsym.expectation`) finds one, otherwise a
tensor product of the laws' quadrature rules (``law.quadrature``); an i.i.d. Gaussian vector
:math:`b` that enters only through :math:`b\cdot x` is rotated onto the span of the points, so its
rule has :math:`\mathrm{rank}\{x_j\} \le k` dimensions instead of :math:`d`. The rule is refined
dimension by dimension where :math:`\chi_1` needs it (large :math:`|t|`), and its error is the sum over
the dimensions of the change when that dimension's rule is halved. The inversion is a trapezoidal sum on
a lattice that is square in the whitened variable :math:`s = L^Tt` (:math:`A = LL^T` the field's
quadratic scale, read off where :math:`|\chi_N| = 1/2`), :math:`|s_j| \le S`, with steps :math:`h_j`;
the stated error bounds the three parts:

* truncation, :math:`\frac{1}{(2\pi)^k\det L}\int_{|s|>S}|\chi_N| \approx \sum_{\rm directions}
  \frac{\Delta\Omega\,|\chi_N|_S\,S^k}{(p - k)(2\pi)^k\det L}`, from the envelope
  :math:`|\chi_N| \sim |s|^{-p}` fitted per direction on :math:`[S/\sqrt2, \sqrt2 S]`
  (:math:`\Delta\Omega = 2` for k = 1; a Gaussian-like decay makes :math:`p` large);
* aliasing (the trapezoidal sum gives the density periodised with period :math:`2\pi/h`): the
  difference between steps :math:`2h` and :math:`h`;
* the quadrature of :math:`\chi_1`: :math:`(2\pi)^{-k}\sum_t w_t|\delta\chi_N(t)|`.

At small N the density is not smooth (the cos-net's :math:`p_2` has a cusp at 0, :math:`p_1` a
log singularity), :math:`|\chi_N| \sim |t|^{-N}` decays slowly and the stated error of the density
itself is larger; probabilities of intervals, :math:`P(l<\phi\le r) = \frac{1}{2\pi}\int dt\,
\chi_N(t)\frac{e^{-itl}-e^{-itr}}{it}`, and the distribution function (Gil-Pelaez,
:math:`F(x) = \frac12 - \frac1\pi\int_0^\infty \mathrm{Im}[e^{-itx}\chi_N(t)]\,\frac{dt}{t}`) converge
one power of :math:`t` faster.

**Edgeworth series** (the partition function as a series around the free theory). With the mean
:math:`m`, the exact connected 2-point matrix :math:`K_{jl} = G_c^{(2)}(x_j, x_l)` and the exact
connected correlators :math:`\kappa_{j_1\dots j_r} = G_c^{(r)}(x_{j_1},\dots,x_{j_r})`,

.. math:: p(\Phi) = \exp\Big(\sum_{r\ge3}\frac{\epsilon^{r-2}}{r!}\,\kappa_{j_1\dots j_r}
          (-\partial_{j_1})\cdots(-\partial_{j_r})\Big)\,\mathcal N(\Phi; m, K)\Big|_{\epsilon=1},

expanded in :math:`\epsilon` (:math:`\kappa_r \sim N^{1-r/2}` for i.i.d. neurons with the
:math:`\sigma_a^2/N` readout, so :math:`\epsilon \sim N^{-1/2}`); order :math:`1/N^m` keeps
:math:`\epsilon^{2m}`. To order :math:`1/N` in one dimension, :math:`z = (\phi - m)/\sigma`,

.. math:: p = \frac{\varphi(z)}{\sigma}\Big[1 + \frac{\kappa_3}{6\sigma^3}He_3(z)
          + \frac{\kappa_4}{24\sigma^4}He_4(z) + \frac{\kappa_3^2}{72\sigma^6}He_6(z)\Big].

Whitening :math:`\Phi = m + Lz`, :math:`K = LL^T`, turns :math:`(-\partial)^\alpha` into products of
Hermite polynomials :math:`He_\beta(z)`. The Edgeworth series needs only the correlators, so it works
with shared parameters too. Order 0 is the Gaussian (NNGP) density.

**Against Monte Carlo.** :func:`compare_with_monte_carlo` histograms real sampled networks and reports
the L1 distance :math:`\sum_j|\hat p_j - p_j|` between the histogram and the density integrated over
the bins (overflow bins included), the Kolmogorov distance (k = 1), and the histogram's own noise: the
expected L1 of a histogram of S draws *from the density itself*, :math:`\sum_j E|\hat p_j - p_j|` with
the binomial mean absolute deviation :math:`E|X - Sp| = 2(1-p)(m+1)\binom{S}{m+1}p^{m+1}(1-p)^{S-m-1}`,
:math:`m = \lfloor Sp\rfloor` (de Moivre), and its standard deviation, so that "within the noise" is
the measured :math:`z = (L_1 - E L_1)/\mathrm{sd}(L_1)`.

>>> import nnsym as ns
>>> net = ns.zoo.cos_net(1)
>>> p = field_density(net, [0.0], sigma_a=1.0, sigma_b=1.0, N=20)
>>> p.method, bool(p.error < 1e-6)
('fourier inversion of chi_1^N (quadrature)', True)
>>> bool(abs(p.cdf(0.0) - 0.5) < 1e-8)                # the law is even
True
"""
from __future__ import annotations

import itertools
import math
import warnings
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np
import sympy as sp
from scipy import integrate, special, stats

from ..core.checks import time_limit
from ..core.laws import numeric_value
from ..core.random import RandomVector, random_atoms
from ..core.vectors import ScalarPoint, ScalarProduct
from ..engine.expectation import expectation, is_exact, split_domain
from ..errors import DivergentExpectation, NNSymError, NumericWarning
from ..model.network import Network
from ..numeric.kernels import as_points, compile_kernel, ones_symbols, point_arrays
from ..sampling.sampler import network_sampler
from .toolkit import evaluate_with_error

__all__ = [
    "SingleNeuronCharacteristicFunction",
    "single_neuron_characteristic_function",
    "FieldDensity",
    "field_density",
    "edgeworth_density",
    "gaussian_density",
    "l1_distance",
    "HistogramDistance",
    "DensityComparison",
    "compare_with_monte_carlo",
    "histogram_noise",
]

#: the largest tensor-product rule (nodes) for one single-neuron characteristic function
MAX_NODES = 400_000
#: the largest number of nodes per dimension of a rule (numpy's Gauss-Legendre rule of 2048 nodes takes ~3 s)
MAX_NODES_PER_DIM = 1024
#: seconds the engine may spend looking for a closed form of the single-neuron characteristic function
CLOSED_FORM_SECONDS = 10.0
_FIRST_NODES = 8
_ELEMENTS_PER_CHUNK = 4_000_000


# ============================================================================= input
def _field_points(net: Network, X, context: str) -> np.ndarray:
    r"""The k points :math:`x_1..x_k` as an array (k, D): ``(k, d)``; ``(d,)`` or, in d = 1, a scalar
    for one point; in d = 1 a 1-D array of k scalars."""
    X = as_points(X, f"{context}: points")
    dim = net.dim
    if dim.is_Integer:
        d = int(dim)
        if X.ndim == 0:
            if d != 1:
                raise ValueError(f"{context}: a scalar point needs d = 1, the network has d = {d}")
            X = X.reshape(1, 1)
        elif X.ndim == 1:
            X = X.reshape(-1, 1) if d == 1 else X.reshape(1, -1)
        if X.ndim != 2 or X.shape[1] != d:
            raise ValueError(f"{context}: points must have shape (k, {d}) (k points in d = {d}), got {X.shape}")
    else:
        if X.ndim == 1:
            X = X.reshape(1, -1)
        if X.ndim != 2 or X.shape[1] < 1:
            raise ValueError(f"{context}: points must have shape (k, d), got {X.shape}")
    if X.shape[0] == 0:
        raise ValueError(f"{context}: no points given (k = 0); pass one or two points x_1 (, x_2)")
    if not np.all(np.isfinite(X)):
        raise ValueError(f"{context}: the points contain inf or nan")
    return X


def _check_distinct(X: np.ndarray, context: str) -> None:
    for i, j in itertools.combinations(range(len(X)), 2):
        if np.allclose(X[i], X[j], rtol=0, atol=1e-12):
            raise ValueError(f"{context}: the points x_{i + 1} and x_{j + 1} coincide, so phi(x_{i + 1}) = "
                             f"phi(x_{j + 1}) and the joint law has no density in {len(X)} dimensions; "
                             "pass distinct points")


def _bind(net: Network, values: Mapping[str, Any], D: int, context: str) -> dict:
    r"""The hyper-parameter values checked by the network (unknown names refused), with ``d`` and the
    width; every hyper-parameter of the network must have a value."""
    vals = dict(net.bind(values, context))
    if not net.dim.is_Integer:
        name = net.dim.name
        if name in vals and vals[name] != D:
            raise ValueError(f"{context}: {name} = {vals[name]} disagrees with the points' dimension {D}")
        vals[name] = D
    missing = sorted(s.name for s in net.hyperparameters if s.name not in vals)
    if missing:
        raise ValueError(f"{context}: missing value(s) for {', '.join(missing)}")
    return vals


def _width(net: Network, vals: Mapping[str, Any], context: str) -> int:
    w = numeric_value(net.width, vals, f"{context}: the width N")
    if w != round(w) or w < 1:
        raise ValueError(f"{context}: the width N must be a positive integer, got {w:g}")
    return int(round(w))


def _require_iid(net: Network, context: str) -> None:
    if net.shared:
        raise NNSymError(
            f"{context}: the exact density uses chi_N = chi_1^N, which holds only for independent neurons; "
            f"this network shares {', '.join(map(str, net.shared))} across all neurons. Use edgeworth_density "
            "(it needs only the correlators) or Monte Carlo")
    if net.readout in random_atoms(net.neuron):
        raise NNSymError(f"{context}: the readout {net.readout} appears in the neuron {net.neuron}; integrating it "
                         "with its own characteristic function needs a readout independent of the neuron")


# ============================================================================= laws as numbers
def _law_cf(law, vals: Mapping[str, Any]):
    r"""The characteristic function :math:`u\mapsto E[e^{iu\theta}]` of a scalar law as a numpy function,
    or None when the law has no closed form of it."""
    u = sp.Dummy("u", real=True)
    try:
        known = law.transform_known(sp.I * u)
    except (NNSymError, NotImplementedError, TypeError, ValueError):  # a law that cannot say: use quadrature
        known = False
    if not known:
        return None
    expr = law.characteristic_function(u)
    expr = expr.subs({s: vals[s.name] for s in law.free_symbols() if s.name in vals})
    if expr.free_symbols - {u}:
        return None
    fn = compile_kernel([u], expr)

    def cf(x):
        x = np.asarray(x, dtype=float)
        with np.errstate(all="ignore"):
            out = np.asarray(fn(x), dtype=complex)
        return np.broadcast_to(out, x.shape)

    return cf


_RULES: dict = {}


def _quadrature(law, n: int, vals) -> tuple[np.ndarray, np.ndarray] | None:
    """The law's n-point rule, or None if the law's rule is not usable at this size (non-finite nodes or
    weights, e.g. Gauss-Hermite beyond ~300 nodes in numpy). Kept for the session (numpy's large
    Gauss-Legendre rules take seconds), keyed by the law and its numeric parameters."""
    try:
        key = (law.key, n, law.numeric_params(vals))
    except (ValueError, TypeError):  # parameters that are not plain numbers: no caching
        return _compute_rule(law, n, vals)
    if key not in _RULES:
        if len(_RULES) > 256:
            _RULES.clear()
        _RULES[key] = _compute_rule(law, n, vals)
    return _RULES[key]


def _compute_rule(law, n: int, vals) -> tuple[np.ndarray, np.ndarray] | None:
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        x, w = law.quadrature(n, vals)
    x, w = np.asarray(x, dtype=float), np.asarray(w, dtype=float)
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(w)) and abs(w.sum() - 1.0) < 1e-8):
        return None
    return x, w


def _dot_only(neuron: sp.Expr, b: RandomVector, point) -> bool:
    r"""True if the vector parameter ``b`` enters ``neuron`` only through :math:`b\cdot x` with the input."""
    dots = [a for a in neuron.atoms(ScalarProduct) if b in a.free_symbols]
    for a in dots:
        u, v = a.args
        other = v if u == b else (u if v == b else None)
        if other is None or other.free_symbols - {point}:
            return False
    rest = neuron.xreplace({a: sp.Dummy() for a in dots})
    return b not in rest.free_symbols


class _Axis:
    r"""One dimension of the tensor-product rule: ``rule(n)`` gives nodes (K,) or (K, D) and weights."""

    def __init__(self, name: str, rule, n0: int):
        self.name = name
        self._rule = rule
        self._cache: dict = {}
        self.n = n0
        self.n_max = MAX_NODES_PER_DIM

    def rule(self, n: int):
        if n not in self._cache:
            self._cache[n] = self._rule(n)
        return self._cache[n]

    def usable(self, n: int) -> bool:
        return n <= self.n_max and self.rule(n) is not None


# ============================================================================= the single-neuron characteristic fn
class SingleNeuronCharacteristicFunction:
    r"""The characteristic function of one neuron's contribution at k points,

    .. math:: \chi_1(t) = E\big[e^{i\sum_j t_j\,a\,h(x_j;\theta)}\big]
              = E_\theta\Big[\varphi_a\Big(\sum_j t_j h(x_j;\theta)\Big)\Big],

    the readout integrated with its own characteristic function :math:`\varphi_a`. Built by
    :func:`single_neuron_characteristic_function`. Call it with ``t`` of shape ``(..., k)`` (for k = 1,
    ``t`` of any shape); :meth:`with_error` also returns the stated error.

    ``method`` is ``"closed form"`` (the engine's :math:`E_\theta`,
    :attr:`expr`) or ``"quadrature"`` (a tensor product of the laws' rules; :attr:`rule_sizes` per
    dimension, 8 nodes each at first and refined where asked by :meth:`refine`; the error is the sum over
    the dimensions of the change when that one is halved).
    """

    def __init__(self, net: Network, X: np.ndarray, vals: dict, closed_form: bool = True):
        self.net = net
        self.points = X
        self.k = X.shape[0]
        self.dim = X.shape[1]
        self.values = vals
        self.expr = None
        self._sampler = network_sampler(net, vals, self.dim)
        law = net.readout.law
        self._cf_a = _law_cf(law, vals)
        if closed_form and self._cf_a is not None:
            self._try_closed_form()
        if self.expr is not None:
            self.method = "closed form"
            self._axes: list = []
            return
        self.method = "quadrature"
        self._build_axes()
        self._H: dict = {}

    # ------------------------------------------------------------------ closed form
    def _try_closed_form(self) -> None:
        net = self.net
        pts = net.points(self.k)
        ts = sp.symbols(f"t_1:{self.k + 1}", real=True)
        arg = sp.Add(*[t * net.neuron.xreplace({net.input: p}) for t, p in zip(ts, pts)])
        u = sp.Dummy("u", real=True)
        cf = net.readout.law.characteristic_function(u).xreplace({u: arg})
        try:
            with time_limit(CLOSED_FORM_SECONDS):
                E = expectation(cf)
        except (NNSymError, NotImplementedError, ValueError, TypeError, ZeroDivisionError, TimeoutError):
            return
        if not is_exact(E):
            return
        E, domain = split_domain(E)
        if domain is not sp.true:
            return
        ones = ones_symbols(E)
        hyper = sorted(E.free_symbols - set(ts) - set(pts) - set(ones), key=sp.default_sort_key)
        if any(h.name not in self.values for h in hyper):
            return
        self.expr = E
        self._closed = (compile_kernel(list(ts) + list(pts) + ones + hyper, E), ones, hyper, pts)

    def _closed_values(self, T: np.ndarray) -> np.ndarray:
        fn, ones, hyper, pts = self._closed
        Xf = self.points.reshape(1, self.k, self.dim)
        P = [a for a in point_arrays(pts, Xf)]
        with np.errstate(all="ignore"):
            out = fn(*[T[:, j] for j in range(self.k)], *P, *[np.ones(self.dim)] * len(ones),
                     *[self.values[h.name] for h in hyper])
        return np.broadcast_to(np.asarray(out, dtype=complex), (T.shape[0],)).copy()

    # ------------------------------------------------------------------ quadrature rule
    def _build_axes(self) -> None:
        net, vals, D = self.net, self.values, self.dim
        self._params = list(self._sampler.params)
        self._builders = []  # (param or "readout", list of axis indices, kind, extra)
        axes: list[_Axis] = []

        def scalar_axis(name, law, standardise=None):
            def rule(n):
                q = _quadrature(law, n, vals)
                if q is None or standardise is None:
                    return q
                mu, sd = standardise
                return ((q[0] - mu) / sd, q[1])
            return _Axis(name, rule, _FIRST_NODES)

        for p in self._params:
            if isinstance(p, RandomVector) and p.law.joint:
                law = p.law
                axes.append(_Axis(p.name, lambda n, law=law: self._joint_rule(law, n), _FIRST_NODES))
                self._builders.append((p, [len(axes) - 1], "joint", None))
            elif isinstance(p, RandomVector):
                law = p.law
                if law.is_gaussian and _dot_only(net.neuron, p, net.input):
                    mu = numeric_value(law.mean, vals, f"mean of {p}")
                    sd = math.sqrt(numeric_value(law.variance, vals, f"variance of {p}"))
                    s = np.linalg.svd(self.points, compute_uv=False) if self.points.size else np.zeros(0)
                    rank = int(np.sum(s > 1e-12 * max(1.0, float(s.max(initial=0.0)))))
                    basis = np.linalg.svd(self.points)[2][:rank].T if rank else np.zeros((D, 0))  # (D, r)
                    idx = []
                    if sd > 0:
                        for j in range(rank):
                            axes.append(scalar_axis(f"{p.name}.e{j + 1}", law, (mu, sd)))
                            idx.append(len(axes) - 1)
                    self._builders.append((p, idx, "rotated", (mu, sd, basis)))
                else:
                    idx = []
                    for j in range(D):
                        axes.append(scalar_axis(f"{p.name}[{j}]", law))
                        idx.append(len(axes) - 1)
                    self._builders.append((p, idx, "components", None))
            else:
                axes.append(scalar_axis(p.name, p.law))
                self._builders.append((p, [len(axes) - 1], "scalar", None))
        if self._cf_a is None:  # the readout's transform is not known: integrate it too
            axes.append(scalar_axis(net.readout.name, net.readout.law))
            self._builders.append(("readout", [len(axes) - 1], "scalar", None))
        for ax in axes:
            if ax.rule(ax.n) is None:
                raise NNSymError(f"the quadrature rule of {ax.name} is not usable with {ax.n} nodes")
        self._axes = axes

    def _joint_rule(self, law, n):
        x, w = law.vector_quadrature(n, self.dim, self.values)
        x, w = np.asarray(x, dtype=float), np.asarray(w, dtype=float)
        if not (np.all(np.isfinite(x)) and np.all(np.isfinite(w))):
            return None
        return x, w

    @property
    def rule_sizes(self) -> dict:
        """The nodes per dimension of the current rule (empty for a closed form)."""
        return {ax.name: ax.n for ax in self._axes}

    def _nodes(self, sizes: tuple):
        r"""The neuron values :math:`h(x_j;\theta_q)` (Q, k), readout nodes (Q,) or None, and weights (Q,)."""
        if sizes in self._H:
            return self._H[sizes]
        rules = [ax.rule(n) for ax, n in zip(self._axes, sizes)]
        shape = tuple(len(r[1]) for r in rules)
        Q = int(np.prod(shape)) if shape else 1
        grids = np.indices(shape).reshape(len(shape), Q) if shape else np.zeros((0, 1), dtype=int)
        w = np.ones(Q)
        for a, r in enumerate(rules):
            w = w * r[1][grids[a]]
        D = self.dim
        theta, readout = {}, None
        for p, idx, kind, extra in self._builders:
            if kind == "joint":
                theta[p] = rules[idx[0]][0][grids[idx[0]]].reshape(Q, 1, D)
            elif kind == "components":
                theta[p] = np.stack([rules[a][0][grids[a]] for a in idx], axis=-1).reshape(Q, 1, D)
            elif kind == "rotated":
                mu, sd, basis = extra
                z = np.stack([rules[a][0][grids[a]] for a in idx], axis=-1) if idx else np.zeros((Q, 0))
                theta[p] = (mu + sd * z @ basis.T).reshape(Q, 1, D) if idx else np.full((Q, 1, D), mu)
            elif p == "readout":
                readout = rules[idx[0]][0][grids[idx[0]]]
            else:
                theta[p] = rules[idx[0]][0][grids[idx[0]]].reshape(Q, 1)
        s = self._sampler
        pts = self.points[:, 0] if isinstance(self.net.input, ScalarPoint) else self.points
        with np.errstate(all="ignore"):
            H = np.broadcast_to(s.neuron_kernel(*[theta[p] for p in self._params], pts, *s.hyper_values),
                                (Q, self.k)).astype(float)
        bad = ~np.all(np.isfinite(H), axis=1)
        if np.any(bad):
            if np.any(w[bad] > 1e-250):
                raise FloatingPointError(f"the neuron is inf or nan at {int(bad.sum())} quadrature nodes of "
                                         "non-negligible weight (overflow?)")
            keep = ~bad
            H, w = H[keep], w[keep]
            readout = readout[keep] if readout is not None else None
        if len(self._H) > 6:
            self._H.clear()
        self._H[sizes] = (H, readout, w)
        return self._H[sizes]

    def _sum(self, T: np.ndarray, sizes: tuple) -> np.ndarray:
        H, A, w = self._nodes(sizes)
        out = np.empty(T.shape[0], dtype=complex)
        step = max(1, _ELEMENTS_PER_CHUNK // max(1, H.shape[0]))
        for s in range(0, T.shape[0], step):
            U = T[s:s + step] @ H.T  # (M, Q): sum_j t_j h(x_j; theta_q)
            with np.errstate(all="ignore"):
                F = np.exp(1j * U * A) if A is not None else self._cf_a(U)
            out[s:s + step] = F @ w
        return out

    def _value_error(self, T: np.ndarray, power: int = 1) -> tuple[np.ndarray, np.ndarray]:
        r""":math:`\chi_1^{\rm power}` by the current rule and its stated error
        :math:`\sum_j |\chi^{\rm power} - \chi^{\rm power}_{(j)}|`, :math:`\chi_{(j)}` the rule with
        dimension j halved (each term estimates the error of the coarser rule, which bounds that of the
        finer one)."""
        fine = self._sum(T, self._sizes()) ** power
        err = np.zeros(T.shape[0])
        for a, ax in enumerate(self._axes):
            if ax.n > 1:
                err += np.abs(fine - self._sum(T, self._sizes([a])) ** power)
        return fine, err

    def _sizes(self, halve: Sequence[int] = ()) -> tuple:
        return tuple(max(1, ax.n // 2) if a in halve else ax.n for a, ax in enumerate(self._axes))

    # ------------------------------------------------------------------ public
    def _as_t(self, t) -> tuple[np.ndarray, tuple]:
        t = np.asarray(t, dtype=float)
        if self.k == 1:  # any shape of scalars t
            t = t[..., None]
        if t.shape[-1] != self.k:
            raise ValueError(f"t must have shape (..., {self.k}) for {self.k} points, got {t.shape}")
        return t.reshape(-1, self.k), t.shape[:-1]

    def with_error(self, t) -> tuple[np.ndarray, np.ndarray]:
        r""":math:`\chi_1(t)` and its stated error at ``t`` (shape ``(..., k)``): 0 for a closed form; for
        quadrature the sum over the dimensions of the change when that dimension's rule is halved."""
        T, shape = self._as_t(t)
        if self.method == "closed form":
            return self._closed_values(T).reshape(shape), np.zeros(shape)
        fine, err = self._value_error(T)
        return fine.reshape(shape), err.reshape(shape)

    def __call__(self, t) -> np.ndarray:
        T, shape = self._as_t(t)
        if self.method == "closed form":
            return self._closed_values(T).reshape(shape)
        return self._sum(T, self._sizes()).reshape(shape)

    def refine(self, t, tol, power: int = 1) -> bool:
        r"""Refine the rule, one dimension at a time, until the stated error of :math:`\chi_1^{\rm power}`
        at the probes ``t`` is below ``tol`` (a number or an array over the probes). Each step doubles the
        dimension whose halving changes :math:`\chi_1^{\rm power}` most. Returns False when the node limits
        (:data:`MAX_NODES`, :data:`MAX_NODES_PER_DIM`, a law's usable rule sizes) stop it first, or as soon as
        a dimension that can no longer be doubled alone holds an error above ``tol``."""
        if self.method == "closed form":
            return True
        T, _ = self._as_t(t)
        tol = np.broadcast_to(np.asarray(tol, dtype=float), (T.shape[0],))
        while True:
            fine = self._sum(T, self._sizes()) ** power
            change = [float(np.max(np.abs(fine - self._sum(T, self._sizes([a])) ** power) / tol)) if ax.n > 1
                      else 0.0 for a, ax in enumerate(self._axes)]
            if sum(change) <= 1.0:
                return True
            nodes = int(np.prod([ax.n for ax in self._axes]))
            can = [ax.usable(2 * ax.n) and 2 * nodes <= MAX_NODES for ax in self._axes]
            if any(c > 1.0 and not ok for c, ok in zip(change, can)) or not any(can):
                return False
            best = max((a for a in range(len(can)) if can[a]), key=lambda a: change[a])
            self._axes[best].n *= 2

    def __repr__(self):
        how = f"closed form {self.expr}" if self.method == "closed form" else f"quadrature, nodes {self.rule_sizes}"
        return f"SingleNeuronCharacteristicFunction(k={self.k}, {how})"


def single_neuron_characteristic_function(net: Network, X, closed_form: bool = True,
                                          **values) -> SingleNeuronCharacteristicFunction:
    r"""The characteristic function of one neuron at the k points ``X`` (shape (k, d)):

    .. math:: \chi_1(t) = E_\theta\Big[\varphi_a\Big(\sum_{j=1}^k t_j\,h(x_j;\theta)\Big)\Big],
              \qquad \varphi_a(u) = E[e^{iua}],

    a closed form when the engine integrates it (``closed_form=False`` skips the attempt), otherwise
    a tensor product of the laws' quadrature rules with a stated error. The readout must not appear in
    the neuron; shared parameters are refused (they make the neurons dependent).

    >>> import numpy as np, nnsym as ns
    >>> chi = single_neuron_characteristic_function(ns.zoo.cos_net(1), [0.3], sigma_a=1.0, sigma_b=1.0, N=2)
    >>> chi.refine(np.array([1.0, 3.0]), tol=1e-13)     # more nodes where |t| is larger
    True
    >>> value, err = chi.with_error(np.array([1.0, 3.0]))
    >>> from scipy.special import i0e                   # exp(-s^2 t^2/4) I_0(s^2 t^2/4), s^2 = 1/2
    >>> bool(np.allclose(value, i0e(np.array([1.0, 9.0]) / 8), atol=1e-12, rtol=0)), bool(np.all(err < 1e-12))
    (True, True)
    """
    context = "single_neuron_characteristic_function"
    _require_iid(net, context)
    Xk = _field_points(net, X, context)
    vals = _bind(net, values, Xk.shape[1], context)
    return SingleNeuronCharacteristicFunction(net, Xk, vals, closed_form=closed_form)


# ============================================================================= Fourier inversion
def _trapezoid_weights(n: int) -> np.ndarray:
    w = np.ones(n)
    w[0] = w[-1] = 0.5
    return w


def _sphere(k: int) -> float:
    r"""The area :math:`S_{k-1}` of the unit sphere in :math:`\mathbb R^k` (2 points for k = 1)."""
    return 2 * math.pi ** (k / 2) / math.gamma(k / 2)


def _interval_kernel(t: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    r""":math:`(e^{-itl} - e^{-itr})/(it) = \int_l^r e^{-it\phi}d\phi` (rows: intervals, columns: t)."""
    t = t[None, :]
    lo, hi = lo[:, None], hi[:, None]
    with np.errstate(all="ignore"):
        K = (np.exp(-1j * t * lo) - np.exp(-1j * t * hi)) / (1j * t)
    return np.where(t == 0, (hi - lo) + 0j, K)


class _FourierInversion:
    r"""The field's characteristic function :math:`\chi_N` on a trapezoidal lattice and the inversion sums
    with their stated errors.

    The lattice is square in the whitened variable :math:`s = L^T t` (:math:`A = LL^T` the field's
    quadratic scale, so :math:`|\chi_N(t)| \approx e^{-|s|^2/2}` near 0): :math:`s = h\,m`,
    :math:`m_j \in \{-M_j..M_j\}`, :math:`|s_j| \le S`. Every kernel used here is a product over the
    axes of :math:`t`, :math:`\prod_j K_j(t_j)`, so the sums are matrix products whatever the lattice."""

    def __init__(self, chi_net, L: np.ndarray, S: float, h: np.ndarray, tail: dict):
        self.k = L.shape[0]
        self.tail = tail
        k = self.k
        Linv = np.linalg.inv(L)
        M = [2 * int(math.ceil(S / (2 * hj))) for hj in h]  # even: the step-2h lattice shares s = 0
        ms = [np.arange(-m, m + 1) for m in M]
        grids = np.meshgrid(*ms, indexing="ij")
        idx = np.stack([g.ravel() for g in grids], axis=-1)  # (n, k) lattice indices
        # chi(-t) = conj chi(t): compute the half with the first non-zero index positive (and 0)
        first = np.where(idx[:, 0] != 0, idx[:, 0], idx[:, -1])
        half = first >= 0
        s = idx * h[None, :]
        t = s @ Linv  # t = L^{-T} s, as rows
        v, e = chi_net(t[half])
        pos = np.flatnonzero(half)
        chi = np.empty(len(idx), dtype=complex)
        err = np.empty(len(idx))
        chi[pos], err[pos] = v, e
        lookup = {tuple(r): j for j, r in zip(pos, idx[pos])}
        neg = np.flatnonzero(~half)
        mirror = np.array([lookup[tuple(-r)] for r in idx[neg]], dtype=int)
        chi[neg], err[neg] = np.conj(chi[mirror]), err[mirror]
        jac = 1.0 / abs(np.linalg.det(L))
        w = np.full(len(idx), jac)
        for j in range(k):
            w = w * h[j] * np.where(np.abs(idx[:, j]) == M[j], 0.5, 1.0)
        even = np.all(idx % 2 == 0, axis=1)
        wc = np.full(int(even.sum()), jac)
        for j in range(k):
            wc = wc * 2 * h[j] * np.where(np.abs(idx[even, j]) == M[j], 0.5, 1.0)
        self.t, self.chi, self.err, self.w = t, chi, err, w
        self.even, self.wc = even, wc
        self.size = len(idx)

    def _sum(self, kernels: list, vec: np.ndarray) -> np.ndarray:
        r""":math:`\sum_t \prod_j K_j(a_j, t_j)\,\mathrm{vec}(t)`, kernels (P_j, n) per axis: (P_1,) or (P_1, P_2)."""
        if self.k == 1:
            return kernels[0] @ vec
        return (kernels[0] * vec[None, :]) @ np.ascontiguousarray(kernels[1].T)

    def apply(self, kernel_fn, diagonal: bool = False):
        r"""The inversion sum :math:`(2\pi)^{-k}\sum_t w_t\chi_N(t)\prod_j K_j(t_j)` at steps h and 2h:
        (value at step h, |step 2h - step h|, the quadrature error of :math:`\chi_N` propagated with
        :math:`|K|`). ``kernel_fn(t_j, j)`` gives axis j's kernel; ``diagonal``: the k = 2 points pair up
        (scattered field values), not a grid."""
        norm = (2 * math.pi) ** self.k
        out = []
        for sel, w in ((slice(None), self.w), (self.even, self.wc)):
            t, chi = self.t[sel], self.chi[sel]
            Ks = [kernel_fn(t[:, j], j) for j in range(self.k)]
            if diagonal and self.k == 2:
                out.append(np.real(np.einsum("an,n,an->a", Ks[0], w * chi, Ks[1])) / norm)
            else:
                out.append(np.real(self._sum(Ks, w * chi)) / norm)
        Ks = [np.abs(kernel_fn(self.t[:, j], j)) for j in range(self.k)]
        if diagonal and self.k == 2:
            quad = np.einsum("an,n,an->a", Ks[0], self.w * self.err, Ks[1]) / norm
        else:
            quad = self._sum(Ks, self.w * self.err) / norm
        return out[0], np.abs(out[1] - out[0]), quad

    # ------------------------------------------------------------------ what the density object asks
    def pdf(self, Phi: np.ndarray):
        """Density at field values Phi (M, k): value, stated error."""
        v, alias, quad = self.apply(lambda t, j: np.exp(-1j * np.outer(Phi[:, j], t)), diagonal=True)
        return v, alias + quad + self.tail["density"]

    def pdf_grid(self, grid: list):
        v, alias, quad = self.apply(lambda t, j: np.exp(-1j * np.outer(grid[j], t)))
        budget = {"truncation": self.tail["density"], "aliasing": float(np.max(alias)),
                  "quadrature": float(np.max(quad))}
        return v, alias + quad + self.tail["density"], budget

    def cdf(self, x: np.ndarray):
        r"""Gil-Pelaez, :math:`F(x) = \frac12 - \frac{1}{2\pi}\int_{-T}^{T}\mathrm{Im}[e^{-itx}\chi_N(t)]\frac{dt}{t}`
        by the trapezoidal rule on the lattice (the even integrand is :math:`\mu - x` at t = 0,
        :math:`\mu = \mathrm{Im}\,\chi_N'(0)`)."""
        x = np.asarray(x, dtype=float)
        out = []
        for sel, w in ((slice(None), self.w), (self.even, self.wc)):
            t, chi = self.t[sel, 0], self.chi[sel]
            with np.errstate(all="ignore"):
                g = np.imag(np.exp(-1j * np.outer(x, t)) * chi[None, :]) / t[None, :]
            g[:, t == 0] = (self.tail["mean"] - x)[:, None]
            out.append(0.5 - (g @ w) / (2 * math.pi))
        t = self.t[:, 0]
        with np.errstate(all="ignore"):
            inv = np.where(t == 0, 0.0, 1.0 / np.abs(t))
        quad = (inv * self.w) @ self.err / (2 * math.pi)
        return out[0], np.abs(out[1] - out[0]) + quad + self.tail["cdf"]

    def bins(self, edges: list):
        """Probabilities of the cells of ``edges`` (one array per axis): value, stated error."""
        v, alias, quad = self.apply(lambda t, j: _interval_kernel(t, edges[j][:-1], edges[j][1:]))
        if self.k == 1:
            trunc = self.tail["bin"]
        else:
            trunc = np.multiply.outer(np.diff(edges[0]), np.diff(edges[1])) * self.tail["density"]
        return v, alias + quad + trunc


def _network_cf(cf: SingleNeuronCharacteristicFunction, N: int, bias_cf):
    r""":math:`\chi_N(t) = \chi_1(t)^N\varphi_b(\sum_j t_j)` and its error :math:`|\chi_N - \tilde\chi_N|`
    (from the stated error of :math:`\chi_1^N`, :meth:`SingleNeuronCharacteristicFunction.with_error`)."""

    def chi(T: np.ndarray):
        if cf.method == "closed form":
            v, e = cf._closed_values(T) ** N, np.zeros(T.shape[0])
        else:
            v, e = cf._value_error(T, power=N)
        if bias_cf is not None:
            b = bias_cf(T.sum(axis=-1))
            v, e = v * b, e * np.abs(b)
        return v, e

    return chi


def _half_width(chi, e: np.ndarray) -> float:
    r"""The :math:`s > 0` where :math:`|\chi_N(s e)|` falls to 1/2 (bisection in :math:`\log s`);
    a Gaussian of variance :math:`e^TAe` has :math:`s^2 = 2\ln 2/e^TAe`."""
    f = lambda s: float(np.abs(chi(np.asarray([s * e]))[0][0]))
    lo = hi = 1.0
    if f(1.0) < 0.5:
        while f(lo) < 0.5:
            lo /= 2
            if lo < 1e-12:
                raise ValueError("the field has no finite scale (|chi_N| < 1/2 at |t| = 1e-12)")
        hi = 2 * lo
    else:
        while f(hi) >= 0.5:
            hi *= 2
            if hi > 1e12:
                raise ValueError("the field values are (nearly) constant along some direction: |chi_N(t)| >= 1/2 "
                                 "up to |t| = 1e12, and a point mass has no density")
        lo = hi / 2
    for _ in range(40):
        mid = math.sqrt(lo * hi)
        lo, hi = (mid, hi) if f(mid) >= 0.5 else (lo, mid)
    return math.sqrt(lo * hi)


def _scale_matrix(chi, k: int) -> np.ndarray:
    r"""The field's quadratic scale :math:`A` with :math:`|\chi_N(t)| = 1/2` on :math:`t^TAt = 2\ln 2`
    along the axes and the diagonal (the covariance for a Gaussian field; only the shape of the lattice
    depends on it)."""
    q = lambda e: 2 * math.log(2) / _half_width(chi, e) ** 2 / float(e @ e)
    A = np.diag([q(e) for e in np.eye(k)])
    if k == 2:
        d = np.array([1.0, 1.0]) / math.sqrt(2)
        a12 = q(d) - (A[0, 0] + A[1, 1]) / 2
        lim = 0.999 * math.sqrt(A[0, 0] * A[1, 1])
        A[0, 1] = A[1, 0] = float(np.clip(a12, -lim, lim))
    return A


def _directions(k: int) -> tuple[np.ndarray, float]:
    r"""Probe directions in the half-space (:math:`|\chi_N(-t)| = |\chi_N(t)|`) and the solid angle each
    stands for, with its mirror image."""
    if k == 1:
        return np.ones((1, 1)), 2.0
    a = np.arange(12) * math.pi / 12
    return np.stack([np.cos(a), np.sin(a)], axis=-1), 2 * math.pi / 12


_RADII = np.array([1.0, 1.1, 1.2, 1.3, math.sqrt(2.0)])


def _tail(k: int, det: float, weight: float, previous, current) -> tuple[float, np.ndarray]:
    r"""The truncation error of the density beyond the radius R of ``current = (R, envelope per
    direction)``, :math:`\sum_{\rm dir}\Delta\Omega\,|\chi_N|_R R^k/((p-k)(2\pi)^k\det L)`, with the
    decay power per direction :math:`p = \log_{\sqrt2}(|\chi_N|_{R/\sqrt2}/|\chi_N|_R)`; infinite if
    :math:`|\chi_N|` does not decay faster than :math:`|t|^{-k}` somewhere."""
    (_, e0), (R, e1) = previous, current
    with np.errstate(all="ignore"):
        p = np.where(e1 > 0, np.log(e0 / e1) / math.log(math.sqrt(2.0)), np.inf)
    if np.any((e1 > 0) & ~(p > k)):
        return math.inf, p
    terms = np.where(e1 > 0, e1 * R**k / np.where(e1 > 0, p - k, 1.0), 0.0)
    return float(weight * terms.sum() / ((2 * math.pi) ** k * det)), p


def _cutoff(cf, chi, N: int, L: np.ndarray, h: np.ndarray, tol: float, max_work: float, r_max: float = 1e4):
    r"""The cutoff :math:`S` (in the whitened :math:`s = L^Tt`) and the tail of :math:`|\chi_N|` beyond it.

    Radii :math:`R = 2\sqrt2^{\,j}`; at each one the rule is refined on probes at radii
    :math:`[R, \sqrt2 R]` in 24 directions (k = 2), the envelope :math:`|\chi_N|_R` per direction is the
    largest value there (and at the neighbouring directions), and the truncation error follows
    (:func:`_tail`). Stops when that is below ``tol``/3; when the rule cannot be made reliable at R (the
    last reliable radius is the cutoff); or when the next lattice would need more than ``max_work``
    evaluations of the single-neuron integrand (the stated error then says what was reached)."""
    k = L.shape[0]
    Linv = np.linalg.inv(L)
    det = abs(np.linalg.det(L))
    dirs, weight = _directions(k)
    R = 2.0
    history: list = []  # (R, envelope per direction)
    stop = "converged"
    tail_so_far = math.inf
    while True:
        probes = (R * _RADII[:, None, None] * dirs[None, :, :]).reshape(-1, k) @ Linv
        # the quadrature error of chi_N that keeps the error of the whole sum below a tenth of tol or of the
        # truncation error found so far, whichever is larger (no point in refining beyond that)
        target = max(tol, tail_so_far if math.isfinite(tail_so_far) else tol)
        tol_chi = target * (2 * math.pi) ** k * det / (2 * math.sqrt(2) * R) ** k / 10
        if cf.method != "closed form" and not cf.refine(probes, tol_chi, power=N):
            v, e = chi(probes)  # not refined to tol_chi: still good enough for the envelope?
            if np.max(e) > 0.3 * max(float(np.max(np.abs(v))), tol_chi):
                stop = "rule"
                break
        v, _ = chi(probes)
        env = np.max(np.abs(v).reshape(len(_RADII), len(dirs)), axis=0)
        if k == 2:  # neighbours, around the circle (direction 11 mirrored is next to direction 0)
            env = np.maximum(env, np.maximum(np.roll(env, 1), np.roll(env, -1)))
        history.append((R, env))
        if not np.any(env > 0):
            break
        if len(history) >= 2:
            tail_so_far = _tail(k, det, weight, history[-2], history[-1])[0]
            if tail_so_far <= tol / 3:
                break
        if R * math.sqrt(2.0) > r_max:
            stop = "radius"
            break
        nodes = 1 if cf.method == "closed form" else np.prod(list(cf.rule_sizes.values())) * (1 + len(cf._axes) / 2)
        lattice = np.prod(2 * math.sqrt(2.0) * R / h + 1) / 2
        if lattice * nodes > max_work:
            stop = "work"
            break
        R *= math.sqrt(2.0)
    if len(history) < 2:
        raise NNSymError(f"the quadrature of chi_1 becomes unreliable at |s| ~ {R:.3g} before the decay of "
                         f"|chi_N| could be measured (rule {cf.rule_sizes}); the density cannot be stated")
    R, env = history[-1]
    if not np.any(env > 0):
        return R, dict(density=0.0, cdf=0.0, bin=0.0, power=math.inf, stop=stop)
    dens, p = _tail(k, det, weight, history[-2], history[-1])
    if not math.isfinite(dens):
        raise DivergentExpectation(
            f"|chi_N(t)| decays like |t|^-{max(float(np.min(p)), 0):.2f} in some direction (measured up to "
            f"|s| = {R:.3g}), not faster than |t|^-{k}: the inversion integral does not converge, the density of "
            f"the field values at these {k} point(s) is unbounded or does not exist at N = {N} (the cos-net's has a "
            "log singularity at N = 1 for k = 1, N = 2 for k = 2; use a larger N), or the decay sets in only "
            f"beyond |s| = {R:.3g} (stopped by: {stop}; raise max_work)")
    pmin = float(np.min(p))
    e = float(np.max(env))
    return R, dict(density=dens, cdf=e / (math.pi * pmin), bin=2 * e / (math.pi * pmin), power=pmin, stop=stop)


# ============================================================================= the density object
def _as_grid(grid, center: np.ndarray, sigma: np.ndarray, k: int, context: str) -> list:
    r"""The grid of field values: default :math:`m_j \pm 5\sigma_j` (201 points for k = 1, 61 per axis for
    k = 2); an int sets the number of points; an array (k = 1) or a pair of arrays (k = 2) is used as is."""
    if grid is None or isinstance(grid, (int, np.integer)):
        n = int(grid) if grid is not None else (201 if k == 1 else 61)
        if n < 2:
            raise ValueError(f"{context}: a grid needs at least 2 points, got {n}")
        return [np.linspace(c - 5 * s, c + 5 * s, n) for c, s in zip(center, sigma)]
    if k == 1:
        g = [np.asarray(grid, dtype=float).ravel()]
    else:
        if not isinstance(grid, (tuple, list)) or len(grid) != k:
            raise ValueError(f"{context}: for {k} points the grid is a pair of 1-D arrays (one per field value)")
        g = [np.asarray(a, dtype=float).ravel() for a in grid]
    for a in g:
        if a.size == 0 or not np.all(np.isfinite(a)):
            raise ValueError(f"{context}: the grid must be a non-empty array of finite numbers")
    return g


class FieldDensity:
    r"""The density :math:`p_N(\phi(x_1),\dots,\phi(x_k))` of the field values at k = 1 or 2 points.

    Attributes: ``points`` (k, d); ``grid`` (a 1-D array for k = 1, a pair of arrays for k = 2);
    ``values`` (the density on the grid: (n,) or (n_1, n_2), ``indexing="ij"``); ``error`` (the stated
    bound on :math:`|p - p_{\rm exact}|` on the grid; for an Edgeworth series only the error of its
    numerical inputs, not the truncation of the series); ``error_budget`` (its parts); ``method``;
    ``label`` (``"exact"``, ``"edgeworth-1"``, ``"gaussian"``); ``N``; ``parameters`` (the
    hyper-parameter values); ``mean`` and ``scale`` (centre and width per axis).

    Methods: :meth:`pdf` at any field values, :meth:`cdf` (k = 1), :meth:`bin_probabilities`.
    """

    def __init__(self, law, grid: list, label: str, method: str, points: np.ndarray, parameters: dict, N: int,
                 mean: np.ndarray, scale: np.ndarray, details: dict | None = None):
        self._law = law
        self.points = points
        self.k = points.shape[0]
        self.label = label
        self.method = method
        self.parameters = dict(parameters)
        self.N = N
        self.mean = np.asarray(mean, dtype=float)
        self.scale = np.asarray(scale, dtype=float)
        self.details = dict(details or {})
        self.grid = grid[0] if self.k == 1 else tuple(grid)
        self.values, err, self.error_budget = law.pdf_grid(grid)
        self.error = float(np.max(err))

    def pdf(self, phi, with_error: bool = False):
        r"""The density at field values ``phi``: shape (...) for k = 1, (..., 2) for k = 2; with
        ``with_error`` also the stated error at each."""
        phi = np.asarray(phi, dtype=float)
        shape = phi.shape if self.k == 1 else phi.shape[:-1]
        if self.k == 2 and (phi.ndim == 0 or phi.shape[-1] != 2):
            raise ValueError(f"pdf: field values at 2 points need shape (..., 2), got {phi.shape}")
        v, e = self._law.pdf(phi.reshape(-1, self.k))
        v, e = v.reshape(shape), np.broadcast_to(e, v.shape).reshape(shape)
        return (v, e) if with_error else v

    def cdf(self, x, with_error: bool = False):
        r"""The distribution function :math:`F(x) = P(\phi(x_1) \le x)` (k = 1 only)."""
        if self.k != 1:
            raise ValueError(f"cdf: defined here for k = 1 (one point); this density has k = {self.k}")
        x = np.asarray(x, dtype=float)
        v, e = self._law.cdf(x.reshape(-1))
        v, e = v.reshape(x.shape), np.broadcast_to(e, v.shape).reshape(x.shape)
        return (v, e) if with_error else v

    def bin_probabilities(self, edges) -> tuple[np.ndarray, np.ndarray]:
        r"""The probabilities of the cells between ``edges`` (an increasing array for k = 1, a pair of
        arrays for k = 2): :math:`\int_{\rm cell} p`, and the stated error of each."""
        if self.k == 1:
            edges = [np.asarray(edges, dtype=float).ravel()]
        elif not isinstance(edges, (tuple, list)) or len(edges) != 2:
            raise ValueError("bin_probabilities: for k = 2 pass a pair of edge arrays")
        else:
            edges = [np.asarray(e, dtype=float).ravel() for e in edges]
        for e in edges:
            if e.size < 2 or np.any(np.diff(e) <= 0) or not np.all(np.isfinite(e)):
                raise ValueError("bin_probabilities: edges must be increasing finite numbers (at least 2)")
        return self._law.bins(edges)

    def __repr__(self):
        pts = np.array2string(self.points.squeeze(-1) if self.points.shape[1] == 1 else self.points, precision=3)
        shape = "x".join(str(len(g)) for g in ([self.grid] if self.k == 1 else self.grid))
        return (f"FieldDensity({self.label}: p_N(phi(x)) at x = {pts}, N = {self.N}, k = {self.k}, "
                f"grid {shape}, stated error {self.error:.1e}, method {self.method!r})")


def field_density(net: Network, X, grid=None, rtol: float = 1e-4, max_work: float = 3e8, closed_form: bool = True,
                  **values) -> FieldDensity:
    r"""The exact density of the field values :math:`(\phi(x_1), \dots, \phi(x_k))`, k = 1 or 2, at finite N,
    by numerical Fourier inversion of :math:`\chi_N = \chi_1^N\varphi_{b_{\rm out}}`:

    .. math:: p_N(\Phi) = \frac{1}{(2\pi)^k}\int d^kt\;\chi_1(t)^N\,\varphi_{b_{\rm out}}\Big(\sum_j t_j\Big)
              \,e^{-it\cdot\Phi},\qquad \chi_1(t) = E_\theta\Big[\varphi_a\Big(\sum_j t_j h(x_j;\theta)\Big)\Big].

    ``X``: the points, shape (k, d) (one point: (d,), or a scalar in d = 1). ``values``: the
    hyper-parameters by name, the width ``N`` among them. ``grid``: see :class:`FieldDensity` (default
    :math:`\pm5\sigma` around the mean). ``rtol``: the target error relative to the Gaussian peak height
    :math:`\prod_j(\sqrt{2\pi}\sigma_j)^{-1}`; reached when the rule of :math:`\chi_1` allows it (at
    N = 2 the slow decay :math:`|\chi_N| \sim |t|^{-N}` usually does not), and the stated error says what
    was reached. Needs i.i.d. neurons (no ``shared``) and a readout independent of the neuron; a
    :math:`|\chi_N|` that does not decay faster than :math:`|t|^{-k}` (an unbounded density) raises
    :class:`~nnsym.errors.DivergentExpectation`.

    >>> import numpy as np, nnsym as ns
    >>> p = field_density(ns.zoo.cos_net(1), [0.0], sigma_a=1.0, sigma_b=1.0, N=20)
    >>> area = float(np.sum(p.values) * (p.grid[1] - p.grid[0]))      # normalised (within 5 sigma)
    >>> bool(abs(area - 1) < 1e-5), p.k, p.label
    (True, 1, 'exact')
    """
    context = "field_density"
    _require_iid(net, context)
    Xk = _field_points(net, X, context)
    k = Xk.shape[0]
    if k > 2:
        raise ValueError(f"{context}: k = {k} points; the density is computed for k = 1 or 2 (a grid in k "
                         "dimensions); use single_neuron_characteristic_function for more points")
    _check_distinct(Xk, context)
    if not (isinstance(rtol, (int, float)) and 0 < rtol < 1):
        raise ValueError(f"{context}: rtol must be a number in (0, 1), got {rtol!r}")
    vals = _bind(net, values, Xk.shape[1], context)
    N = _width(net, vals, context)
    cf = SingleNeuronCharacteristicFunction(net, Xk, vals, closed_form=closed_form)
    bias_cf = None
    if net.bias is not None:
        bias_cf = _law_cf(net.bias.law, vals)
        if bias_cf is None:
            raise NNSymError(f"{context}: the characteristic function of the output bias law {net.bias.law} "
                             "has no closed form")
    chi = _network_cf(cf, N, bias_cf)

    # the field's centre (its mean; the location where there is none) and its quadratic scale A = L L^T
    A = _scale_matrix(chi, k)
    sigma = np.sqrt(np.diag(A))
    delta = 1e-5 / sigma
    center = np.array([np.imag(chi(np.asarray([d * e]))[0][0]) / d for d, e in zip(delta, np.eye(k))])
    L = np.linalg.cholesky(A)
    peak = 1 / ((2 * math.pi) ** (k / 2) * float(abs(np.linalg.det(L))))  # of the Gaussian of covariance A
    tol = rtol * peak

    g = _as_grid(grid, center, sigma, k, context)
    # the grid's extent E in the whitened variable z = L^{-1}(phi - m): at step 2h the period pi/h = E + 10
    # keeps the images of the bulk (|z| < 5) 5 away from the grid (checked against step h: the aliasing error)
    corners = np.array(list(itertools.product(*[(gj.min(), gj.max()) for gj in g]))) - center
    extent = np.max(np.abs(np.linalg.solve(L, corners.T)), axis=1)
    h = math.pi / (extent + 10.0)
    S, errors = _cutoff(cf, chi, N, L, h, tol, max_work)
    errors["mean"] = float(center[0]) if k == 1 else None
    for _ in range(3):
        law = _FourierInversion(chi, L, S, h, errors)
        _, err, budget = law.pdf_grid(g)
        if budget["aliasing"] <= max(tol, budget["quadrature"], budget["truncation"]):
            break
        h = h / 2
    if float(np.max(err)) > 100 * tol:
        why = {"rule": "the quadrature of chi_1 could not be refined further",
               "work": f"the lattice reached the work limit max_work = {max_work:.1e}",
               "radius": "the cutoff reached its limit"}.get(errors["stop"], "")
        warnings.warn(NumericWarning(f"{context}: the stated error {float(np.max(err)):.1e} is "
                                     f"{float(np.max(err)) / peak:.1%} of the peak height ({why}; |chi_N| decays "
                                     f"like |t|^-{errors['power']:.1f})", error=float(np.max(err))), stacklevel=2)
    method = f"fourier inversion of chi_1^N ({cf.method})"
    details = dict(cutoff=S, step=h, lattice=law.size, tail_power=errors["power"], rule=cf.rule_sizes,
                   stopped_by=errors["stop"], characteristic_function=cf)
    return FieldDensity(law, g, "exact", method, Xk, vals, N, center, sigma, details)


# ============================================================================= Edgeworth series
def _edgeworth_polynomial(kappas: dict, k: int, order: int) -> dict:
    r"""The operator polynomial :math:`Q(u) = [\exp(\sum_{r\ge3}\epsilon^{r-2}\kappa_r(u)/r!)]_{\epsilon^{\le 2m}}`
    at :math:`\epsilon = 1`, :math:`\kappa_r(u) = \sum_{j_1..j_r}\kappa_{j_1..j_r}u_{j_1}\cdots u_{j_r}`, as
    ``{exponent tuple: coefficient}`` (``kappas[r]`` maps sorted index tuples to :math:`\kappa`)."""
    u = sp.symbols(f"u_1:{k + 1}")
    eps = sp.Symbol("epsilon")
    top = 2 * order
    S = sp.S.Zero
    for r in range(3, top + 3):
        poly = sp.S.Zero
        for idx, val in kappas[r].items():
            counts = [idx.count(j) for j in range(k)]
            mult = math.factorial(r) // math.prod(math.factorial(c) for c in counts)
            poly += mult * sp.Float(val, 17) * sp.Mul(*[u[j] ** c for j, c in enumerate(counts)])
        S += eps ** (r - 2) * poly / math.factorial(r)

    def truncate(e):
        e = sp.expand(e)
        return sp.Add(*[t for t in sp.Add.make_args(e) if sp.degree(t, eps) <= top])

    total, term = sp.S.One, sp.S.One
    for j in range(1, top + 1):
        term = truncate(term * S / j)
        total += term
    Q = sp.Poly(total.subs(eps, 1), *u)
    return {m: float(c) for m, c in Q.terms()}


class _EdgeworthSeries:
    r"""The Edgeworth density :math:`Q(-\partial)\,\mathcal N(\Phi; m, K)` in the whitened variable
    :math:`z = L^{-1}(\Phi - m)`, :math:`K = LL^T`: :math:`p = \det L^{-1}\sum_\beta c_\beta\prod_j He_{\beta_j}(z_j)
    \varphi(z_j)`, where :math:`c_\beta` are the coefficients of :math:`Q(L^{-T}v)`."""

    def __init__(self, mean: np.ndarray, K: np.ndarray, coefficients: dict, error: float = 0.0):
        self.k = len(mean)
        self.mean, self.K = mean, K
        try:
            self.L = np.linalg.cholesky(K)
        except np.linalg.LinAlgError:
            raise ValueError(f"the 2-point matrix K = {K.tolist()} is not positive definite: the field values are "
                             "(nearly) linearly dependent and have no Gaussian density") from None
        self.det = float(np.prod(np.diag(self.L)))
        k = self.k
        u = sp.symbols(f"u_1:{k + 1}")
        v = sp.symbols(f"v_1:{k + 1}")
        MinvT = np.linalg.inv(self.L).T  # u = L^{-T} v
        sub = {u[i]: sp.Add(*[sp.Float(MinvT[i, j], 17) * v[j] for j in range(k)]) for i in range(k)}
        Q = sp.Add(*[c * sp.Mul(*[u[j] ** e for j, e in enumerate(m)]) for m, c in coefficients.items()])
        self.coefficients = {m: float(c) for m, c in sp.Poly(sp.expand(Q.xreplace(sub)), *v).terms()
                             if abs(float(c)) > 0}
        self.error = error
        self.degree = max(sum(m) for m in self.coefficients)

    @staticmethod
    def _he(n: int, z: np.ndarray) -> np.ndarray:
        return special.eval_hermitenorm(n, z)

    def _z(self, Phi: np.ndarray) -> np.ndarray:
        return np.linalg.solve(self.L, (Phi - self.mean).T).T

    def pdf(self, Phi: np.ndarray):
        z = self._z(Phi)
        gauss = np.prod(stats.norm.pdf(z), axis=1)
        out = np.zeros(len(z))
        for m, c in self.coefficients.items():
            out += c * np.prod([self._he(e, z[:, j]) for j, e in enumerate(m)], axis=0)
        return out * gauss / self.det, np.full(len(z), self.error)

    def pdf_grid(self, grid: list):
        G = np.meshgrid(*grid, indexing="ij")
        Phi = np.stack([g.ravel() for g in G], axis=-1)
        v, e = self.pdf(Phi)
        return v.reshape(G[0].shape), e.reshape(G[0].shape), {"kappa": self.error}

    def cdf(self, x: np.ndarray):
        r""":math:`\int_{-\infty}^z He_n\varphi = -He_{n-1}(z)\varphi(z)` (n >= 1), :math:`\Phi(z)` (n = 0)."""
        z = (np.asarray(x, dtype=float) - self.mean[0]) / self.L[0, 0]
        out = np.zeros_like(z)
        for (n,), c in self.coefficients.items():
            out += c * (stats.norm.cdf(z) if n == 0 else -self._he(n - 1, z) * stats.norm.pdf(z))
        err = self.error * np.abs(np.asarray(x) - self.mean[0] + 10 * self.L[0, 0])  # error of the density, integrated
        return out, err

    def bins(self, edges: list):
        if self.k == 1:
            F, e = self.cdf(edges[0])
            return np.diff(F), e[1:] + e[:-1]
        # k = 2: Gauss-Legendre in each cell (the density is a polynomial times a Gaussian), 8 against 4 nodes
        out = []
        for n in (8, 4):
            x, w = np.polynomial.legendre.leggauss(n)
            axes = []
            for e in edges:
                mid, half = (e[1:] + e[:-1]) / 2, np.diff(e) / 2
                axes.append(((mid[:, None] + half[:, None] * x[None, :]), half[:, None] * w[None, :]))
            (x1, w1), (x2, w2) = axes
            P1, P2 = np.meshgrid(x1.ravel(), x2.ravel(), indexing="ij")
            vals = self.pdf(np.stack([P1.ravel(), P2.ravel()], axis=-1))[0].reshape(x1.shape + x2.shape)
            out.append(np.einsum("aibj,ai,bj->ab", vals, w1, w2))
        area = np.multiply.outer(np.diff(edges[0]), np.diff(edges[1]))
        return out[0], np.abs(out[0] - out[1]) + area * self.error


def _connected_at(net: Network, r: int, Xk: np.ndarray, vals: dict) -> tuple[dict, float]:
    r""":math:`\kappa_{j_1..j_r} = G_c^{(r)}(x_{j_1},\dots,x_{j_r})` for every multiset of the k points (the
    exact connected correlator of the network, evaluated), and the stated error of their values."""
    k = len(Xk)
    idx = list(itertools.combinations_with_replacement(range(k), r))
    G = net.correlator(r, connected=True)
    X = np.stack([Xk[list(m)] for m in idx])  # (M, r, D)
    names = {s.name for s in G.expr.free_symbols}
    v = evaluate_with_error(G, X, {n: x for n, x in vals.items() if n in names or n == getattr(net.dim, "name", "")})
    return {m: float(x) for m, x in zip(idx, np.atleast_1d(v.value))}, float(v.error)


def edgeworth_density(net: Network, X, order: int = 1, grid=None, **values) -> FieldDensity:
    r"""The Edgeworth series of the density of :math:`(\phi(x_1),\dots,\phi(x_k))`, k = 1 or 2, around the Gaussian
    of the exact mean and 2-point function, built from the exact connected correlators:

    .. math:: p(\Phi) = \Big[\exp\Big(\sum_{r\ge3}\frac{\epsilon^{r-2}}{r!}\,\kappa_{j_1\dots j_r}
              (-\partial_{j_1})\cdots(-\partial_{j_r})\Big)\Big]_{\epsilon^{\le 2m}}\,
              \mathcal N(\Phi; m, K)\Big|_{\epsilon = 1},

    :math:`K_{jl} = G_c^{(2)}(x_j, x_l)`, :math:`\kappa_{j_1\dots j_r} = G_c^{(r)}(x_{j_1}, \dots, x_{j_r})` (at the
    given N), ``order`` :math:`= m` the order in :math:`1/N` (:math:`\kappa_r \sim N^{1-r/2}`, so
    :math:`\epsilon\sim N^{-1/2}`; order 1 keeps :math:`\kappa_3`, :math:`\kappa_4` and :math:`\kappa_3^2`, order 0 is
    the Gaussian). Needs only the correlators, so shared parameters are fine. ``error`` is the error of the
    numerical correlators propagated (0 when they are closed forms), not the truncation of the series; the
    series is not a density everywhere (it can be negative in the tails).

    >>> import numpy as np, nnsym as ns
    >>> p = edgeworth_density(ns.zoo.cos_net(1), [0.0], order=1, sigma_a=1.0, sigma_b=1.0, N=5)
    >>> kappa4 = 3 / (8 * 5)                             # G_c^(4)(x, x, x, x) = 3 sigma_a^4/(8N)
    >>> z = 0.0; sigma = np.sqrt(0.5)                    # p(0) = phi(0)/sigma (1 + kappa4/(24 sigma^4) He_4(0))
    >>> bool(abs(p.pdf(0.0) - (1 + kappa4 / (24 * sigma**4) * 3) / (np.sqrt(2 * np.pi) * sigma)) < 1e-12)
    True
    """
    context = "edgeworth_density"
    if isinstance(order, bool) or not isinstance(order, (int, np.integer)) or order < 0:
        raise ValueError(f"{context}: order must be a non-negative integer (the order in 1/N), got {order!r}")
    Xk = _field_points(net, X, context)
    k = Xk.shape[0]
    if k > 2:
        raise ValueError(f"{context}: k = {k} points; the density is computed for k = 1 or 2")
    _check_distinct(Xk, context)
    vals = _bind(net, values, Xk.shape[1], context)
    N = _width(net, vals, context)
    m1, e1 = _connected_at(net, 1, Xk, vals)
    m2, e2 = _connected_at(net, 2, Xk, vals)
    mean = np.array([m1[(j,)] for j in range(k)])
    K = np.array([[m2[tuple(sorted((i, j)))] for j in range(k)] for i in range(k)])
    kappas, errors = {}, {}
    for r in range(3, 2 * order + 3):
        kappas[r], errors[r] = _connected_at(net, r, Xk, vals)
    coefficients = _edgeworth_polynomial(kappas, k, order)
    law = _EdgeworthSeries(mean, K, coefficients)
    stated = 0.0
    if e1 or e2 or any(errors.values()):
        # the numerical correlators' errors, propagated by perturbing each input
        G = [np.linspace(c - 5 * s, c + 5 * s, 41) for c, s in zip(mean, np.sqrt(np.diag(K)))]
        base = law.pdf_grid(G)[0]
        shifted = []
        for r, e in errors.items():
            for key in (kappas[r] if e else ()):
                kap = {q: dict(v) for q, v in kappas.items()}
                kap[r][key] += e
                shifted.append(_EdgeworthSeries(mean, K, _edgeworth_polynomial(kap, k, order)).pdf_grid(G)[0])
        for which, e in ((0, e1), (1, e2)):
            if e:
                m_, K_ = mean + (e if which == 0 else 0), K + (e if which == 1 else 0) * np.eye(k)
                shifted.append(_EdgeworthSeries(m_, K_, coefficients).pdf_grid(G)[0])
        stated = float(sum(np.max(np.abs(s - base)) for s in shifted))
        law = _EdgeworthSeries(mean, K, coefficients, error=stated)
    label = "gaussian" if order == 0 else f"edgeworth-{order}"
    method = "gaussian (NNGP): N(mean, G_c^(2))" if order == 0 else f"edgeworth series to order 1/N^{order}"
    g = _as_grid(grid, mean, np.sqrt(np.diag(K)), k, context)
    return FieldDensity(law, g, label, method, Xk, vals, N, mean, np.sqrt(np.diag(K)),
                        dict(kappa=kappas, K=K, coefficients=law.coefficients, kappa_error=stated))


def gaussian_density(net: Network, X, grid=None, **values) -> FieldDensity:
    r"""The Gaussian (NNGP) density :math:`\mathcal N(\Phi; m, K)` with the exact mean and
    :math:`K_{jl} = G_c^{(2)}(x_j, x_l)` at the given N: :func:`edgeworth_density` at order 0.

    >>> import nnsym as ns
    >>> p = gaussian_density(ns.zoo.cos_net(1), [0.0], sigma_a=1.0, sigma_b=1.0, N=5)
    >>> round(float(p.pdf(0.0)), 6)                      # 1/sqrt(2 pi sigma^2), sigma^2 = sigma_a^2/2
    0.56419
    """
    return edgeworth_density(net, X, order=0, grid=grid, **values)


# ============================================================================= distances and Monte Carlo
def l1_distance(density: FieldDensity, reference: FieldDensity) -> tuple[float, float]:
    r""":math:`\int|p - p_{\rm ref}|\,d^k\phi` on the reference's grid (trapezoidal rule), and the bound from the
    two stated errors, :math:`(\epsilon + \epsilon_{\rm ref})\,\mathrm{vol(grid)}` (the tails beyond the grid are
    not counted).

    >>> import nnsym as ns
    >>> net = ns.zoo.cos_net(1)
    >>> exact = field_density(net, [0.0], sigma_a=1.0, sigma_b=1.0, N=5)
    >>> gauss = gaussian_density(net, [0.0], sigma_a=1.0, sigma_b=1.0, N=5)
    >>> edge = edgeworth_density(net, [0.0], order=1, sigma_a=1.0, sigma_b=1.0, N=5)
    >>> bool(l1_distance(edge, exact)[0] < l1_distance(gauss, exact)[0])   # Edgeworth beats the Gaussian
    True
    """
    if not np.allclose(density.points, reference.points) or density.k != reference.k:
        raise ValueError("l1_distance: the two densities are at different points")
    grid = [reference.grid] if reference.k == 1 else list(reference.grid)
    G = np.meshgrid(*grid, indexing="ij")
    phi = np.stack([g.ravel() for g in G], axis=-1)
    diff = np.abs(density.pdf(phi if density.k == 2 else phi[:, 0]).reshape(G[0].shape) - reference.values)
    for g in grid:
        diff = integrate.trapezoid(diff, g, axis=0)
    volume = float(np.prod([g.max() - g.min() for g in grid]))
    return float(diff), (density.error + reference.error) * volume


def histogram_noise(p: np.ndarray, samples: int) -> tuple[float, float]:
    r"""The L1 noise of a histogram of ``samples`` draws from cell probabilities ``p`` (summing to 1): the mean
    :math:`\sum_j E|\hat p_j - p_j|` and the standard deviation of :math:`\sum_j|\hat p_j - p_j|`, with the
    binomial mean absolute deviation (de Moivre) :math:`E|X - Sp| = 2(1-p)(m+1)P(X = m+1)`,
    :math:`m = \lfloor Sp\rfloor`, and :math:`\mathrm{Var}|X - Sp| = Sp(1-p) - (E|X-Sp|)^2` (cells taken as
    independent).

    >>> mean, sd = histogram_noise(np.full(50, 0.02), 10**5)    # ~ 50 sqrt(2 p (1-p)/(pi S))
    >>> bool(abs(mean - 50 * np.sqrt(2 * 0.02 * 0.98 / (np.pi * 1e5))) < 1e-4)
    True
    """
    p = np.clip(np.asarray(p, dtype=float).ravel(), 0.0, 1.0)
    S = int(samples)
    m = np.floor(S * p)
    mad = 2 * (1 - p) * (m + 1) * stats.binom.pmf(m + 1, S, p)
    var = np.maximum(S * p * (1 - p) - mad**2, 0.0)
    return float(mad.sum() / S), float(math.sqrt(var.sum()) / S)


@dataclass
class HistogramDistance:
    r"""The distance between a density and a histogram of sampled networks, with the histogram's own noise.

    ``l1`` :math:`=\sum_j|\hat p_j - p_j|` (cells and overflow); ``l1_noise``, ``l1_noise_sd``: its mean and
    standard deviation for a histogram drawn from the density itself (:func:`histogram_noise`);
    ``z = (l1 - l1_noise)/l1_noise_sd`` (within the noise: ``z < 5``); ``l1_stated``: the bound on
    :math:`\sum_j|p_j - p_j^{\rm exact}|` from the density's stated errors; for k = 1 ``ks`` (Kolmogorov,
    :math:`\sup_x|\hat F - F|` over the density's grid), ``ks_noise`` (:math:`0.8687/\sqrt S`, its mean for
    the true law) and ``ks_pvalue`` (``scipy.stats.kstwo``)."""

    label: str
    l1: float
    l1_noise: float
    l1_noise_sd: float
    l1_stated: float
    samples: int
    cells: int
    ks: float | None = None
    ks_noise: float | None = None
    ks_pvalue: float | None = None

    @property
    def z(self) -> float:
        return (self.l1 - self.l1_noise) / self.l1_noise_sd

    @property
    def within_noise(self) -> bool:
        """``z < 5`` (and, for k = 1, a Kolmogorov p-value above 1e-6)."""
        return self.z < 5 and (self.ks_pvalue is None or self.ks_pvalue > 1e-6)


@dataclass
class DensityComparison:
    """Distances of several densities from one Monte Carlo histogram (:func:`compare_with_monte_carlo`);
    ``comparison["exact"]`` is the :class:`HistogramDistance` of the density with that label."""

    rows: list
    N: int
    points: np.ndarray
    samples: int
    edges: list
    counts: np.ndarray
    extra: dict = field(default_factory=dict)

    def __getitem__(self, label: str) -> HistogramDistance:
        for r in self.rows:
            if r.label == label:
                return r
        raise KeyError(f"no density labelled {label!r}; have {[r.label for r in self.rows]}")

    def __str__(self):
        pts = np.array2string(self.points.squeeze(-1) if self.points.shape[1] == 1 else self.points, precision=3)
        head = (f"N = {self.N}, x = {pts}: {self.samples} sampled networks, {self.rows[0].cells} cells "
                "(overflow included)")
        cols = f"{'density':<14}{'L1':>9}{'noise L1 (mean +- sd)':>25}{'z':>7}{'stated':>10}"
        if self.rows[0].ks is not None:
            cols += f"{'KS':>9}{'KS noise':>10}{'p(KS)':>8}"
        lines = [head, cols]
        for r in self.rows:
            line = (f"{r.label:<14}{r.l1:>9.4f}{f'{r.l1_noise:.4f} +- {r.l1_noise_sd:.4f}':>25}{r.z:>7.1f}"
                    f"{r.l1_stated:>10.1e}")
            if r.ks is not None:
                line += f"{r.ks:>9.4f}{r.ks_noise:>10.4f}{r.ks_pvalue:>8.3f}"
            lines.append(line)
        return "\n".join(lines)

    __repr__ = __str__


def _draw_fields(net: Network, values: dict, X: np.ndarray, samples: int, seed) -> np.ndarray:
    r"""``samples`` whole-network draws of :math:`(\phi(x_1),\dots,\phi(x_k))`, in blocks from
    ``SeedSequence(seed).spawn``."""
    sampler = network_sampler(net, values, X.shape[1])
    block = max(1, min(samples, 2_000_000 // max(1, sampler.width * X.shape[0])))
    nblocks = -(-samples // block)
    seeds = np.random.SeedSequence(seed).spawn(nblocks)
    out = np.empty((samples, X.shape[0]))
    for j, sq in enumerate(seeds):
        lo, hi = j * block, min(samples, (j + 1) * block)
        out[lo:hi] = sampler.field_values(np.random.default_rng(sq), hi - lo, X)
    if not np.all(np.isfinite(out)):
        raise FloatingPointError("compare_with_monte_carlo: overflow or nan in the sampled fields")
    return out


def compare_with_monte_carlo(densities, net: Network, samples: int = 200_000, seed: int = 0,
                             bins=None) -> DensityComparison:
    r"""Histogram ``samples`` real sampled networks (:func:`nnsym.sampling.sampler.network_sampler`) at the
    densities' points and compare each density with it: the L1 distance :math:`\sum_j|\hat p_j - p_j|` between
    the histogram and the density integrated over the cells (:meth:`FieldDensity.bin_probabilities`; overflow
    cells included), the histogram's own L1 noise (:func:`histogram_noise`, for a histogram of the density
    itself), and for k = 1 the Kolmogorov distance with its p-value.

    ``densities``: a :class:`FieldDensity` or a sequence of them (same points, values and N; labels unique).
    ``bins``: cells per axis (default 60 for k = 1, 20 per axis for k = 2) over :math:`m \pm 4\sigma`, or the
    edges (an array; a pair of arrays for k = 2).

    >>> import nnsym as ns
    >>> net = ns.zoo.cos_net(1)
    >>> p = field_density(net, [0.0], sigma_a=1.0, sigma_b=1.0, N=5)
    >>> cmp = compare_with_monte_carlo(p, net, samples=20_000, seed=1)
    >>> cmp["exact"].within_noise
    True
    """
    dens = [densities] if isinstance(densities, FieldDensity) else list(densities)
    if not dens or not all(isinstance(d, FieldDensity) for d in dens):
        raise TypeError("compare_with_monte_carlo: pass a FieldDensity or a sequence of them")
    ref = dens[0]
    for d in dens[1:]:
        if d.k != ref.k or not np.allclose(d.points, ref.points) or d.N != ref.N or d.parameters != ref.parameters:
            raise ValueError("compare_with_monte_carlo: the densities must share points, N and parameter values")
    labels = [d.label for d in dens]
    if len(set(labels)) != len(labels):
        raise ValueError(f"compare_with_monte_carlo: the labels must be unique, got {labels}")
    if isinstance(samples, bool) or not isinstance(samples, (int, np.integer)) or samples < 10:
        raise ValueError(f"compare_with_monte_carlo: samples must be an integer >= 10, got {samples!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"compare_with_monte_carlo: seed must be a non-negative integer, got {seed!r}")
    k = ref.k
    vals = {n: v for n, v in ref.parameters.items()}
    if bins is None or isinstance(bins, (int, np.integer)):
        n = int(bins) if bins is not None else (60 if k == 1 else 20)
        if n < 1:
            raise ValueError(f"compare_with_monte_carlo: bins must be >= 1, got {n}")
        edges = [np.linspace(c - 4 * s, c + 4 * s, n + 1) for c, s in zip(ref.mean, ref.scale)]
    elif k == 1:
        edges = [np.asarray(bins, dtype=float).ravel()]
    else:
        if not isinstance(bins, (tuple, list)) or len(bins) != 2:
            raise ValueError("compare_with_monte_carlo: for k = 2, bins is an int or a pair of edge arrays")
        edges = [np.asarray(b, dtype=float).ravel() for b in bins]
    for e in edges:
        if e.size < 2 or np.any(np.diff(e) <= 0) or not np.all(np.isfinite(e)):
            raise ValueError("compare_with_monte_carlo: bin edges must be increasing finite numbers")
    phi = _draw_fields(net, vals, ref.points, int(samples), seed)
    S = len(phi)
    if k == 1:
        inner = np.histogram(phi[:, 0], bins=edges[0])[0]
        counts = np.concatenate([[np.sum(phi[:, 0] < edges[0][0])], inner, [np.sum(phi[:, 0] > edges[0][-1])]])
    else:
        inner = np.histogram2d(phi[:, 0], phi[:, 1], bins=edges)[0]
        counts = np.concatenate([inner.ravel(), [S - inner.sum()]])
    freq = counts / S
    rows = []
    sorted_phi = np.sort(phi[:, 0]) if k == 1 else None
    for d in dens:
        P, E = d.bin_probabilities(edges if k == 2 else edges[0])
        if k == 1:
            F, Fe = d.cdf(np.array([edges[0][0], edges[0][-1]]), with_error=True)
            P = np.concatenate([[F[0]], P, [1 - F[1]]])
            E = np.concatenate([[Fe[0]], E, [Fe[1]]])
        else:
            P = np.concatenate([P.ravel(), [1 - P.sum()]])
            E = np.concatenate([E.ravel(), [E.sum()]])
        l1 = float(np.abs(freq - P).sum())
        noise, sd = histogram_noise(np.clip(P, 0, None) / np.clip(P, 0, None).sum(), S)
        row = HistogramDistance(d.label, l1, noise, sd, float(E.sum()), S, len(P))
        if k == 1:
            row.ks, row.ks_noise, row.ks_pvalue = _kolmogorov(d, sorted_phi)
        rows.append(row)
    return DensityComparison(rows, ref.N, ref.points, S, edges, counts)


def _kolmogorov(d: FieldDensity, xs: np.ndarray) -> tuple[float, float, float]:
    r"""Kolmogorov distance :math:`\sup_x|\hat F(x) - F(x)|` of sorted samples ``xs`` from ``d.cdf``, taken over
    the density's grid (where its error is stated; the mass beyond it is negligible for the default
    :math:`\pm5\sigma` grid of a light-tailed field): for the exact density ``cdf`` on 4097 points there,
    interpolated linearly. Also its mean :math:`\sqrt{\pi/2}\ln 2/\sqrt S` under the null hypothesis, and the
    p-value (``scipy.stats.kstwo``)."""
    S = len(xs)
    lo, hi = float(d.grid.min()), float(d.grid.max())
    i = np.arange(1, S + 1)
    inside = (xs >= lo) & (xs <= hi)
    ends = np.array([lo, hi])
    if d.label == "exact":
        g = np.linspace(lo, hi, 4097)
        Fg = d.cdf(g)
        F, Fends = np.interp(xs[inside], g, Fg), Fg[[0, -1]]
    else:
        F, Fends = d.cdf(xs[inside]), d.cdf(ends)
    below = np.searchsorted(xs, ends, side="right") / S  # empirical F at the ends of the grid
    D = max(np.max(i[inside] / S - F, initial=0.0), np.max(F - (i[inside] - 1) / S, initial=0.0),
            float(np.max(np.abs(below - Fends))))
    return float(D), math.sqrt(math.pi / 2) * math.log(2) / math.sqrt(S), float(stats.kstwo.sf(D, S))
