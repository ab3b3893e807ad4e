r"""Criticality and depth: the critical :math:`(C_b, C_W)` of an activation, and how the four-point
vertex grows with depth there (Roberts, Yaida, Hanin, *The Principles of Deep Learning Theory*,
2106.10165, ch. 5; Schoenholz et al. 1611.01232).

**Criticality.** At infinite width one input's kernel obeys
:math:`K^{(l+1)} = C_b + C_W\langle\sigma\sigma\rangle_{K^{(l)}}` (:math:`\sigma = f(z)`,
:math:`z\sim\mathcal N(0, K)`). Near a fixed point :math:`K^*` a small change of the kernel and a
small change of the angle between two inputs are multiplied, per layer, by the parallel and
perpendicular susceptibilities

.. math:: \chi_\parallel(K) = C_W\,\frac{d}{dK}\langle\sigma\sigma\rangle_K
          = \frac{C_W}{2K^2}\big\langle\sigma\sigma\,(z^2 - K)\big\rangle_K
          = C_W\big\langle\sigma'\sigma' + \sigma\sigma''\big\rangle_K,\qquad
          \chi_\perp(K) = C_W\langle\sigma'\sigma'\rangle_K.

The network is *critical* when :math:`\chi_\parallel(K^*) = \chi_\perp(K^*) = 1`: the kernel
then neither explodes nor vanishes exponentially with depth. Since :math:`\chi_\parallel - \chi_\perp
= C_W\langle\sigma\sigma''\rangle_{K^*}`, a critical point needs :math:`\langle\sigma\sigma''\rangle_{K^*} = 0`
(or :math:`K^* = 0`). Three cases (:func:`critical_point`):

* *scale-invariant* activations, :math:`f(z) = a_+ z` for :math:`z>0` and :math:`a_- z` for :math:`z<0`
  (linear, ReLU, leaky ReLU): :math:`\sigma\sigma'' = 0`, so :math:`\chi_\parallel = \chi_\perp
  = C_W(a_+^2 + a_-^2)/2` at every :math:`K`; criticality is :math:`C_b = 0`,
  :math:`C_W = 2/(a_+^2 + a_-^2)` (ReLU: 2), with a line of fixed points (any :math:`K^*`);
* the :math:`K^* = 0` class: :math:`f(0) = 0`, :math:`\sigma_1 = f'(0) \neq 0` and
  :math:`a_1 = \sigma_3/\sigma_1 + \tfrac34(\sigma_2/\sigma_1)^2 < 0` (:math:`\sigma_k = f^{(k)}(0)`):
  :math:`C_b = 0`, :math:`C_W = 1/\sigma_1^2` (tanh: 1; erf: :math:`\pi/4`), and the kernel
  flows to :math:`K^* = 0` as :math:`K^{(l)}\approx 1/(-a_1 l)`;
* otherwise a numerical search for :math:`K^*>0` with :math:`\langle\sigma\sigma''\rangle_{K^*} = 0`,
  :math:`C_W = 1/\langle\sigma'\sigma'\rangle_{K^*}`, :math:`C_b = K^* - C_W\langle\sigma\sigma\rangle_{K^*}\ge 0`
  (e.g. GELU, SWISH; such points are only half-stable, RYH §5.3.4). An activation with none of
  these (the logistic sigmoid: :math:`f(0)\neq 0` and :math:`\langle\sigma\sigma''\rangle_K < 0`)
  has no critical point: :func:`critical_point` raises ``ValueError``.

**The vertex at criticality.** For one input the four-point vertex of
:mod:`nnsym.analysis.finite_width` obeys
:math:`V^{(l+1)} = \chi_\parallel^2 V^{(l)} + C_W^2\big(\langle\sigma^4\rangle - \langle\sigma^2\rangle^2\big)`,
:math:`V^{(1)} = 0`, and the output's excess kurtosis is
:math:`\kappa_4/(3K^2) = V^{(L+1)}/(n_L (K^{(L+1)})^2) + O(n^{-2})`. At criticality
(:func:`vertex_vs_depth`):

* scale-invariant: :math:`K` is constant, :math:`\chi_\parallel = 1`, so
  :math:`V^{(l)}/K^2 = (l-1)\big(6(a_+^4 + a_-^4)/(a_+^2 + a_-^2)^2 - 1\big)` exactly; ReLU: :math:`5(l-1)`;
* :math:`K^* = 0` class: with :math:`K\approx -1/(a_1 l)`, :math:`\chi_\parallel\approx 1 + 2a_1K` and
  :math:`C_W^2(\langle\sigma^4\rangle - \langle\sigma^2\rangle^2)\approx 2K^2`, the ansatz
  :math:`V = c/l` gives :math:`c = 2/(3a_1^2)`, i.e. :math:`V^{(l)}/K^2\to\tfrac23\,l` for every
  activation of the class (up to :math:`O(\log l)`).

Either way the normalised vertex grows linearly in depth: the expansion parameter of a deep
network is the depth-to-width ratio :math:`l/n`, not :math:`1/n`.
"""
from __future__ import annotations

import dataclasses
import math
import numbers

import numpy as np
import sympy as sp
from scipy import integrate, optimize

from ..engine.piecewise import kink_points
from ..model.deep import DeepMLP, as_activation
from .finite_width import finite_width_expansion

__all__ = ["CriticalPoint", "critical_point", "DepthProfile", "vertex_vs_depth", "sampled_excess_kurtosis"]

K_RANGE = (1e-3, 1e3)  # where the numerical search looks for K* > 0
SCALE_TESTS = (0.37, 1.0, 2.9, 13.0)  # points where scale invariance f(tz) = t f(z) is checked


@dataclasses.dataclass(frozen=True)
class CriticalPoint:
    r"""A critical point of an activation (from :func:`critical_point`).

    Attributes
    ----------
    C_b, C_W : the critical bias and weight variances (exact sympy numbers where a closed form
        exists, else floats).
    K_star : the fixed point :math:`K^*` of the kernel; ``None`` for scale-invariant activations
        (every :math:`K` is a fixed point at criticality).
    chi_parallel, chi_perp : :math:`\chi_\parallel(K^*)`, :math:`\chi_\perp(K^*)` (1 at criticality).
    universality_class : ``"scale-invariant"``, ``"K*=0"``, ``"K*>0"`` (a numerically found, only
        half-stable point) or ``"chi_perp=1 only"`` (with a given ``C_b`` that is not critical: the
        edge of chaos, where :math:`\chi_\parallel < 1`).
    activation : :math:`f(z)`, a sympy expression in :attr:`z`.
    a1 : the :math:`K^*=0` class coefficient :math:`a_1` (``None`` otherwise); :math:`K^{(l)}\approx 1/(-a_1 l)`.
    """

    C_b: object
    C_W: object
    K_star: object
    chi_parallel: object
    chi_perp: object
    universality_class: str
    activation: sp.Expr
    z: sp.Symbol
    a1: object = None

    @property
    def sigma_W(self):
        r""":math:`\sqrt{C_W}` (what :class:`~nnsym.DeepMLP` takes)."""
        return sp.sqrt(self.C_W) if isinstance(self.C_W, sp.Basic) else math.sqrt(self.C_W)

    @property
    def sigma_b(self):
        r""":math:`\sqrt{C_b}`."""
        return sp.sqrt(self.C_b) if isinstance(self.C_b, sp.Basic) else math.sqrt(max(self.C_b, 0.0))

    def spec(self, depth: int, d: int = 1, widths=None) -> DeepMLP:
        r"""The deep MLP with this activation at criticality (the same :math:`C_W`, :math:`C_b` in every
        layer, including the input layer).

        >>> import sympy as sp
        >>> critical_point(sp.tanh).spec(depth=3, widths=16).sigma_W
        (1, 1, 1, 1)
        """
        return DeepMLP(sp.Lambda(self.z, self.activation), depth=depth, d=d, widths=widths,
                       sigma_W=self.sigma_W, sigma_b=self.sigma_b)


def _activation(activation, values) -> tuple[sp.Expr, sp.Symbol]:
    """``f(z)`` as a sympy expression in a real symbol ``z``, parameters replaced by ``values``."""
    if isinstance(activation, DeepMLP):
        raise TypeError("critical_point takes an activation (e.g. sp.tanh), not a DeepMLP")
    z = sp.Symbol("z", real=True)
    fz = sp.sympify(as_activation(activation)(z))
    extra = sorted(fz.free_symbols - {z}, key=sp.default_sort_key)
    missing = [s.name for s in extra if s.name not in values]
    if missing:
        raise ValueError(f"critical_point: the activation {fz} needs numbers for its parameters {missing}")
    fz = fz.subs({s: sp.nsimplify(values[s.name]) if isinstance(values[s.name], float) else values[s.name]
                  for s in extra})
    return fz, z


class _Gauss:
    r"""One-dimensional Gaussian expectations :math:`\langle g(z)\rangle_K` of ``f`` and its derivatives
    (adaptive quadrature in :math:`w = z/\sqrt K`, split at the kinks)."""

    def __init__(self, fz, z):
        self.kinks = [float(k) for k in (kink_points(fz, z) or [])]
        self.f = sp.lambdify([z], fz, modules=["scipy", "numpy"])
        self.df = sp.lambdify([z], sp.diff(fz, z), modules=["scipy", "numpy"])

    def mean(self, g, K: float) -> float:
        s = math.sqrt(K)
        pts = sorted({k / s for k in self.kinks if abs(k / s) < 12})
        dens = lambda w: math.exp(-0.5 * w * w) / math.sqrt(2 * math.pi)
        with np.errstate(over="ignore"):  # exp(-z) overflows harmlessly in the tails (logistic functions)
            val, _ = integrate.quad(lambda w: float(g(s * w, w)) * dens(w), -12, 12, points=pts or None,
                                    limit=200, epsabs=1e-13, epsrel=1e-11)
        return val

    def ss(self, K):  # <sigma sigma>_K
        return self.mean(lambda z, w: self.f(z) ** 2, K)

    def dss(self, K):  # d<sigma sigma>_K / dK = <sigma^2 (w^2 - 1)> / (2K)
        return self.mean(lambda z, w: self.f(z) ** 2 * (w * w - 1), K) / (2 * K)

    def dd(self, K):  # <sigma' sigma'>_K
        return self.mean(lambda z, w: self.df(z) ** 2, K)


def _scale_invariant(fz, z):
    """``(a_+, a_-)`` (exact) when ``f(z) = a_+ z`` for z > 0 and ``a_- z`` for z < 0, else None."""
    ap, am = sp.simplify(fz.subs(z, 1)), sp.simplify(-fz.subs(z, -1))
    if not (ap.is_number and am.is_number):
        return None
    f = sp.lambdify([z], fz, modules=["scipy", "numpy"])
    for t in SCALE_TESTS:
        for v, a in ((t, float(ap)), (-t, -float(am))):
            fv = float(f(v))
            if not math.isclose(fv, a * t, rel_tol=1e-10, abs_tol=1e-12):
                return None
    return ap, am


def critical_point(activation, C_b=None, **values) -> CriticalPoint:
    r"""The critical :math:`(C_b, C_W)` of an activation: :math:`\chi_\parallel(K^*) = \chi_\perp(K^*) = 1`
    at a fixed point :math:`K^* = C_b + C_W\langle\sigma\sigma\rangle_{K^*}` (module docstring:
    scale-invariant activations and the :math:`K^*=0` class in closed form, others numerically).

    Parameters
    ----------
    activation : :math:`f`, a sympy function of one variable (``sp.tanh``, ``lambda z: sp.Max(0, z)``).
    C_b : optional. ``None`` finds the critical point. A number fixes the bias variance and returns
        the point of the fixed-point line where :math:`\chi_\perp(K^*) = 1` (the edge of chaos),
        with its :math:`\chi_\parallel` (class ``"chi_perp=1 only"`` unless that is 1 too).
    **values : numbers for the activation's parameters (by symbol name).

    Returns
    -------
    CriticalPoint

    Raises
    ------
    ValueError : the activation has no critical point (e.g. the logistic sigmoid), or, with ``C_b``,
        no fixed point with :math:`\chi_\perp = 1` for :math:`K^*` in ``K_RANGE``.

    Examples
    --------
    >>> import sympy as sp
    >>> cp = critical_point(lambda z: sp.Max(0, z))
    >>> cp.C_b, cp.C_W, cp.universality_class
    (0, 2, 'scale-invariant')
    >>> a = sp.Symbol("a")
    >>> critical_point(lambda z: sp.Max(a * z, z), a=sp.Rational(1, 10)).C_W
    200/101
    >>> critical_point(sp.erf).C_W, critical_point(sp.erf).universality_class
    (pi/4, 'K*=0')
    """
    fz, z = _activation(activation, values)
    if C_b is not None:
        if isinstance(C_b, bool) or not isinstance(C_b, (numbers.Real, sp.Expr)) or not float(C_b) >= 0:
            raise ValueError(f"critical_point: C_b is a variance, a number >= 0; got {C_b!r}")
        if float(C_b) > 0:
            return _edge_of_chaos(fz, z, float(C_b))
    one = sp.Integer(1)
    si = _scale_invariant(fz, z)
    if si is not None:
        s2 = si[0] ** 2 + si[1] ** 2
        if s2 == 0:
            raise ValueError(f"critical_point: the activation {fz} is zero")
        return CriticalPoint(sp.Integer(0), sp.nsimplify(2 / s2), None, one, one, "scale-invariant", fz, z)
    ks = kink_points(fz, z)
    if ks is None or all(not (sp.sympify(k).is_number and sp.sympify(k).is_zero) for k in ks):
        s0, s1, s2, s3 = (sp.simplify(sp.diff(fz, z, k).subs(z, 0)) for k in range(4))
        if all(s.is_number for s in (s0, s1, s2, s3)) and s0.is_zero and not s1.is_zero:
            a1 = sp.simplify(s3 / s1 + sp.Rational(3, 4) * (s2 / s1) ** 2)
            if a1.is_negative:
                return CriticalPoint(sp.Integer(0), sp.simplify(1 / s1**2), sp.Integer(0), one, one, "K*=0",
                                     fz, z, a1=a1)
    return _numeric_critical(fz, z)


def _log_grid():
    return np.geomspace(*K_RANGE, 121)


def _roots(h, grid):
    """The roots of ``h`` on ``grid`` (sign changes refined by brentq), in increasing order."""
    hs = np.array([h(K) for K in grid])
    out = []
    for i in range(len(grid) - 1):
        if hs[i] == 0:
            out.append(float(grid[i]))
        elif hs[i] * hs[i + 1] < 0:
            out.append(optimize.brentq(h, grid[i], grid[i + 1], xtol=1e-14, rtol=1e-13))
    return out


def _numeric_critical(fz, z) -> CriticalPoint:
    G = _Gauss(fz, z)
    g = lambda K: G.dss(K) - G.dd(K)  # <sigma sigma''>_K: chi_par - chi_perp at C_W = 1
    for K in _roots(g, _log_grid()):
        C_W = 1 / G.dd(K)
        C_b = K - C_W * G.ss(K)
        if C_b >= -1e-10:
            return CriticalPoint(max(C_b, 0.0), C_W, K, C_W * G.dss(K), C_W * G.dd(K), "K*>0", fz, z)
    raise ValueError(
        f"critical_point: the activation {fz} has no critical point: it is not scale-invariant, not in the "
        f"K*=0 class (that needs f(0) = 0, f'(0) != 0 and a_1 = f'''(0)/f'(0) + 3/4 (f''(0)/f'(0))^2 < 0), and "
        f"there is no K* in {K_RANGE} with <f f''>_K* = 0 (chi_parallel = chi_perp) and C_b >= 0")


def _edge_of_chaos(fz, z, C_b: float) -> CriticalPoint:
    G = _Gauss(fz, z)
    h = lambda K: K - C_b - G.ss(K) / G.dd(K)  # the fixed point at C_W = 1/<sigma' sigma'>_K
    roots = _roots(h, _log_grid())
    if not roots:
        raise ValueError(f"critical_point: with C_b = {C_b} the activation {fz} has no fixed point with "
                         f"chi_perp = 1 for K* in {K_RANGE}" + (" (scale-invariant activations are critical "
                         "only at C_b = 0; with C_b > 0 the kernel grows without bound)"
                         if _scale_invariant(fz, z) else ""))
    K = roots[0]
    C_W = 1 / G.dd(K)
    chi_par = C_W * G.dss(K)
    cls = "K*>0" if abs(chi_par - 1) < 1e-8 else "chi_perp=1 only"
    return CriticalPoint(C_b, C_W, K, chi_par, 1.0, cls, fz, z)


@dataclasses.dataclass(frozen=True)
class DepthProfile:
    r"""The single-input kernel and normalised vertex per layer (from :func:`vertex_vs_depth`).

    Attributes
    ----------
    layers : :math:`l = 1, \dots, L+1` (:math:`L+1` is the output).
    K : :math:`K^{(l)}`.
    vertex : :math:`V^{(l)}/(K^{(l)})^2`; divided by the width :math:`n` it is the leading excess
        kurtosis :math:`\kappa_4/(3K^2)` of one neuron of layer :math:`l` (equal widths).
    exact : the closed form of ``vertex`` as a sympy expression in :attr:`l` (scale-invariant
        activations at criticality), else ``None``.
    asymptotic_slope : :math:`\lim_{l\to\infty} V^{(l)}/(l\,K^2)` when known (exact), else ``None``.
    critical : the :class:`CriticalPoint` used (``None`` when a spec was given).
    error : the quadrature error estimate of :func:`~nnsym.finite_width_expansion`.
    """

    layers: np.ndarray
    K: np.ndarray
    vertex: np.ndarray
    exact: object
    asymptotic_slope: object
    critical: CriticalPoint | None
    error: float
    l: sp.Symbol = sp.Symbol("l", positive=True, integer=True)

    def kurtosis(self, n) -> np.ndarray:
        r"""The leading excess kurtosis :math:`\kappa_4/(3K^2) = V^{(l)}/(n\,(K^{(l)})^2)` at width ``n``."""
        if isinstance(n, bool) or not isinstance(n, numbers.Real) or not n > 0:
            raise ValueError(f"DepthProfile.kurtosis: the width n must be a number > 0, got {n!r}")
        return self.vertex / n

    def slope(self, first: int | None = None) -> float:
        r"""The least-squares slope of ``vertex`` against :math:`l` over the layers ``>= first``
        (default: the last half)."""
        first = int(self.layers[len(self.layers) // 2]) if first is None else first
        sel = self.layers >= first
        if sel.sum() < 2:
            raise ValueError(f"DepthProfile.slope: fewer than two layers >= {first}")
        return float(np.polyfit(self.layers[sel], self.vertex[sel], 1)[0])


def vertex_vs_depth(net, depth: int | None = None, x=None, **values) -> DepthProfile:
    r"""The normalised vertex :math:`V^{(l)}_{(aa)(aa)}/(K^{(l)}_{aa})^2`, :math:`l = 1..L+1`, at one input,
    by the finite-width recursion (:func:`~nnsym.finite_width_expansion`).

    Parameters
    ----------
    net : an activation (then the network is built at its critical point, :func:`critical_point`,
        with input dimension 1) or a :class:`~nnsym.DeepMLP` (used as it is, critical or not).
    depth : the number :math:`L` of hidden layers (required with an activation; with a spec it
        must be ``None`` or the spec's depth).
    x : the input, shape (d,) (default: :math:`(1, 0, \dots, 0)`).
    **values : numbers for the spec's or the activation's symbols.

    Returns
    -------
    DepthProfile

    Examples
    --------
    >>> import sympy as sp
    >>> prof = vertex_vs_depth(lambda z: sp.Max(0, z), depth=4)
    >>> prof.vertex.round(8).tolist(), prof.exact
    ([0.0, 5.0, 10.0, 15.0, 20.0], 5*l - 5)
    >>> round(float(vertex_vs_depth(sp.tanh, depth=3).vertex[-1]), 4)
    1.8055
    """
    cp = None
    if isinstance(net, DeepMLP):
        spec = net
        if depth is not None and depth != spec.depth:
            raise ValueError(f"vertex_vs_depth: depth={depth} differs from the spec's depth {spec.depth}")
    else:
        if isinstance(depth, bool) or not isinstance(depth, numbers.Integral) or depth < 1:
            raise ValueError(f"vertex_vs_depth: with an activation, depth must be an integer >= 1, got {depth!r}")
        cp = critical_point(net, **values)
        spec = cp.spec(int(depth))
    d = spec.d
    if not d.is_Integer:
        raise ValueError(f"vertex_vs_depth: the spec's input dimension must be a number, got {d}")
    x = np.eye(1, int(d))[0] if x is None else np.asarray(x, float)
    if x.shape != (int(d),):
        raise ValueError(f"vertex_vs_depth: x must have shape ({int(d)},), got {x.shape}")
    fw = finite_width_expansion(spec, x[None], **values)
    layers = np.array(sorted(fw.K))
    K = np.array([fw.K[l][0, 0] for l in layers])
    nv = fw.normalised_vertex()
    vertex = np.array([nv[l][0] for l in layers])
    exact = slope = None
    if cp is not None and cp.universality_class == "scale-invariant":
        fz, z = cp.activation, cp.z
        ap, am = sp.simplify(fz.subs(z, 1)), sp.simplify(-fz.subs(z, -1))
        slope = sp.nsimplify(6 * (ap**4 + am**4) / (ap**2 + am**2) ** 2 - 1)
        exact = sp.expand(slope * (DepthProfile.l - 1))
    elif cp is not None and cp.universality_class == "K*=0":
        slope = sp.Rational(2, 3)
    return DepthProfile(layers, K, vertex, exact, slope, cp, fw.error)


def sampled_excess_kurtosis(spec: DeepMLP, samples: int, x=None, seed: int | None = 0, widths=None,
                            method: str = "conditional", chunk: int = 50_000, **values) -> tuple[float, float]:
    r"""Monte Carlo estimate of the output's excess kurtosis :math:`\kappa_4/(3K^2)` at one input,
    :math:`E[\phi^4]/(3E[\phi^2]^2) - 1` (the output of a zero-mean-weight MLP has zero mean), from
    ``samples`` networks drawn from ``spec``, with its standard error (delta method on the sample means
    of :math:`\phi^2` and :math:`\phi^4`). To leading order in :math:`1/n` it is
    :math:`V^{(L+1)}/(n_L(K^{(L+1)})^2)`.

    Parameters
    ----------
    spec : the network (:class:`~nnsym.DeepMLP`); widths, variances and activations are read from it.
    samples : the number of networks.
    x : the input, shape (d,) (default :math:`(1, 0, \dots, 0)`).
    seed, widths, **values : as in :meth:`~nnsym.DeepMLP.sample`.
    method : ``"network"`` draws whole networks (:meth:`~nnsym.DeepMLP.sample`, cost
        :math:`\propto n^2` per layer); ``"conditional"`` (default) uses that at one input, given
        layer :math:`l`, the :math:`n_{l+1}` pre-activations of layer :math:`l+1` are i.i.d.
        :math:`\mathcal N(0, \hat G)`, :math:`\hat G = C_b^{(l)} + (C_W^{(l)}/n_l)\sum_j f_l(z^{(l)}_j)^2`
        (the weights are Gaussian), which samples the same output law at cost :math:`\propto n`.
    chunk : networks drawn at once (``"conditional"``).

    Returns
    -------
    (estimate, stderr)

    Examples
    --------
    >>> import sympy as sp
    >>> spec = critical_point(sp.tanh).spec(depth=2, widths=16)
    >>> est, err = sampled_excess_kurtosis(spec, 20_000, seed=1)
    >>> bool(abs(est - vertex_vs_depth(spec).vertex[-1] / 16) < 5 * err)
    True
    """
    d = spec.d
    if not isinstance(spec, DeepMLP):
        raise TypeError(f"sampled_excess_kurtosis needs a DeepMLP, got {type(spec).__name__}")
    if not d.is_Integer:
        raise ValueError(f"sampled_excess_kurtosis: the spec's input dimension must be a number, got {d}")
    x = np.eye(1, int(d))[0] if x is None else np.asarray(x, float)
    if x.shape != (int(d),):
        raise ValueError(f"sampled_excess_kurtosis: x must have shape ({int(d)},), got {x.shape}")
    for name, v in (("samples", samples), ("chunk", chunk)):
        if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < 2:
            raise ValueError(f"sampled_excess_kurtosis: {name} must be an integer >= 2, got {v!r}")
    if method == "network":
        phi = spec.sample(x[None], samples, seed=seed, widths=widths, **values)[:, 0]
    elif method == "conditional":
        phi = _conditional_sample(spec, x, samples, seed, widths, chunk, values)
    else:
        raise ValueError(f"sampled_excess_kurtosis: method must be 'conditional' or 'network', got {method!r}")
    p2, p4 = phi**2, phi**4
    u, v = p2.mean(), p4.mean()
    grad = np.array([-2 * v / (3 * u**3), 1 / (3 * u**2)])
    cov = np.cov(np.stack([p2, p4]))
    return float(v / (3 * u**2) - 1), float(math.sqrt(grad @ cov @ grad / samples))


def _conditional_sample(spec: DeepMLP, x, samples: int, seed, widths, chunk: int, values) -> np.ndarray:
    """The output at one input, layer by layer through the conditional Gaussian variances."""
    L = spec.depth
    probe = spec if widths is None else spec.replace(widths=widths)
    ns_ = []
    for l, n in enumerate(probe.widths, start=1):
        n = sp.sympify(n)
        if n is sp.oo:
            raise ValueError(f"sampled_excess_kurtosis: the width n_{l} is infinite; give finite widths (widths=...)")
        ns_.append(int(n.subs({s: values[s.name] for s in n.free_symbols if s.name in values})))
    CW, Cb = zip(*(spec.layer_variances(l, values) for l in range(L + 1)))
    z = sp.Dummy("z", real=True)
    fs = []
    for l in range(1, L + 1):
        fz = spec.activation_expr(l, z)
        extra = sorted(fz.free_symbols - {z}, key=sp.default_sort_key)
        missing = [s.name for s in extra if s.name not in values]
        if missing:
            raise ValueError(f"sampled_excess_kurtosis: the activation of layer {l} needs values for {missing}")
        fs.append(sp.lambdify([z], fz.subs({s: values[s.name] for s in extra}), modules=["scipy", "numpy"]))
    rng = np.random.default_rng(seed)
    G0 = Cb[0] + CW[0] * float(x @ x) / x.size
    out = np.empty(samples)
    for s0 in range(0, samples, chunk):
        S = min(chunk, samples - s0)
        h = math.sqrt(G0) * rng.standard_normal((S, ns_[0]))
        for l in range(1, L + 1):
            G = Cb[l] + CW[l] / ns_[l - 1] * np.sum(fs[l - 1](h) ** 2, axis=1, keepdims=True)
            h = np.sqrt(G) * rng.standard_normal((S, ns_[l] if l < L else 1))
        out[s0:s0 + S] = h[:, 0]
    return out
