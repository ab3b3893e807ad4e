r"""Momentum space: power spectra of translation-invariant 2-point functions.

Fourier convention (docs/conventions.md, "Momentum space"):

.. math:: G(p) = \int d^dx\, e^{-i p\cdot x}\, G^{(2)}(x, 0),\qquad
          G^{(2)}(x, y) = \int\frac{d^dp}{(2\pi)^d}\, e^{i p\cdot(x-y)}\, G(p).

Two routes, both working on the expression:

1. **The delta-function rule** for input layers :math:`h(x) = F(b)\cos(\alpha\, b\cdot x + c)`,
   :math:`c\sim U[-\pi,\pi]` (read off the network's neuron by :func:`cos_layer`; ``F`` may
   depend on further parameters, which are averaged). With :math:`\omega = \alpha b` of
   normalised density :math:`P_\omega` and :math:`C = N\,E[a^2]`,

   .. math:: G(p) = \frac{C\,(2\pi)^d}{4}\Big[P_\omega(p)\,\overline{F^2}(p/\alpha)
             + P_\omega(-p)\,\overline{F^2}(-p/\alpha)\Big],

   with cutoff regions kept as ``Piecewise``. It needs no position-space closed form.
2. **A Fourier transform of** :math:`G^{(2)}` otherwise: in d = 1 a cosine transform, in
   d >= 2 the radial (Hankel) transform

   .. math:: G(p) = (2\pi)^{d/2}|p|^{1-d/2}\int_0^\infty dr\, r^{d/2} J_{d/2-1}(|p| r)\, g(r),

   done by sympy where it can (every closed form is checked against numerical
   integration first; sympy's ``inverse_fourier_transform`` is never used) and
   numerically otherwise, marked as such (``is_exact = False``, ``method = "numeric"``).
3. **A numeric** :math:`G^{(2)}` (unevaluated expectations; isotropic in d >= 2): ``evaluate``
   integrates its quadrature :math:`g(r) = G^{(2)}(r e_1, 0)` against the radial kernel out to
   where it has decayed, with an error estimate, and refuses when the quadrature of g becomes
   unreliable before that.

>>> import sympy as sp, nnsym as ns
>>> S = ns.power_spectrum(ns.zoo.cauchy_net())
>>> S.expr                                    # doctest: +SKIP
m*sigma_a**2/(m**2 + p**2)
>>> m, sa, p = sp.Symbol("m", positive=True), sp.Symbol("sigma_a", positive=True), S.momentum
>>> sp.simplify(S.expr - sa**2 * m / (p**2 + m**2))
0
>>> S.method
'delta rule'
"""
from __future__ import annotations

import math
import warnings
from typing import TYPE_CHECKING, Callable, Mapping, NamedTuple, Sequence

import numpy as np
import sympy as sp

from ..core.vectors import Dot, ScalarPoint, VectorSymbol, expand_dot, vector_atoms
from ..engine.expectation import is_exact
from ..errors import NoClosedForm, NotACosLayer
from ..model.extensions import provides
from ..model.neurons import CosLayer, NoJointDensity, cos_layer  # noqa: F401 -- CosLayer, cos_layer re-exported
from .toolkit import SYMBOLIC_FAILURES, evaluate_with_error

if TYPE_CHECKING:  # pragma: no cover
    from ..model.correlator import Correlator
    from ..model.network import Network

__all__ = [
    "PowerSpectrum",
    "power_spectrum",
    "cos_layer",
    "CosLayer",
    "NotACosLayer",
    "radial_fourier",
    "momentum_symbol",
]


def _radial(expr, v, r):
    """``expr`` as a function of the length r = |v| (|v|^2 -> r^2 for a vector, v -> r for a
    scalar), or None if it depends on the vector v other than through |v|."""
    if isinstance(v, VectorSymbol):
        out = expand_dot(expr).xreplace({Dot(v, v): r**2})
        return None if v in out.free_symbols else out
    return expr.subs(v, r)


# ----------------------------------------------------------------------------- numerics
def _sphere_area(d: int) -> float:
    return 2 * math.pi ** (d / 2) / math.gamma(d / 2)


def radial_fourier(f: Callable[[np.ndarray], np.ndarray], k: float, d: int, breaks: Sequence[float] = (),
                   support: float | None = None) -> float:
    r"""Numerical :math:`\int_{\mathbb R^d} d^dx\,e^{-ik\cdot x} f(|x|)` for a radial ``f`` (numpy callable of r):

    .. math:: (2\pi)^{d/2} k^{1-d/2}\int_0^\infty dr\, r^{d/2} J_{d/2-1}(kr) f(r)
              \quad(\text{at } k = 0:\ |S^{d-1}|\int_0^\infty r^{d-1} f(r)\,dr).

    ``breaks`` are radii where ``f`` is not smooth; ``support`` (if given) is a radius
    beyond which ``f`` vanishes. The tail to infinity uses QAWF (d = 1, 3) or
    ``mpmath.quadosc``.

    >>> import numpy as np
    >>> round(radial_fourier(lambda r: np.exp(-r), 1.0, 1), 10)     # 2/(1 + k^2)
    1.0
    """
    from scipy import integrate, special

    k = abs(float(k))
    d = int(d)
    ff = lambda r: float(f(np.asarray(r, dtype=float)))  # noqa: E731
    if k == 0.0:
        kern = lambda r: _sphere_area(d) * r ** (d - 1) * ff(r)  # noqa: E731
    elif d == 1:
        kern = lambda r: 2.0 * math.cos(k * r) * ff(r)  # noqa: E731
    elif d == 3:
        kern = lambda r: 4 * math.pi / k * r * math.sin(k * r) * ff(r)  # noqa: E731
    else:
        nu = d / 2 - 1
        kern = lambda r: (2 * math.pi) ** (d / 2) * k ** (1 - d / 2) * r ** (d / 2) * special.jv(nu, k * r) * ff(r)  # noqa: E731
    edges = sorted({0.0, *[float(b) for b in breaks if 0 < float(b) < (support or math.inf)]})
    if support is not None:
        edges.append(float(support))
    total = 0.0
    for a, b in zip(edges[:-1], edges[1:]):
        n_osc = int(k * (b - a) / math.pi) + 1
        sub = np.linspace(a, b, min(n_osc, 200) + 1)
        for s0, s1 in zip(sub[:-1], sub[1:]):
            total += integrate.quad(kern, s0, s1, limit=200, epsabs=1e-13, epsrel=1e-11)[0]
    if support is not None:
        return total
    a = edges[-1]
    if k == 0.0:
        return total + integrate.quad(kern, a, np.inf, limit=500, epsabs=1e-13)[0]
    if d == 1:
        return total + 2.0 * integrate.quad(ff, a, np.inf, weight="cos", wvar=k, limlst=200)[0] if a == 0 else \
            total + 2.0 * _qawf(ff, a, k, "cos")
    if d == 3:
        g = lambda r: 4 * math.pi / k * r * ff(r)  # noqa: E731
        return total + _qawf(g, a, k, "sin")
    return total + _oscillatory_tail(kern, a, math.pi / k)


def _oscillatory_tail(kern, a: float, half: float, max_chunks: int = 400) -> float:
    """int_a^oo kern by half-period chunks; Shanks acceleration if the chunks decay slowly."""
    from scipy import integrate

    partial, s, small = [], 0.0, 0
    for j in range(max_chunks):
        c = integrate.quad(kern, a + j * half, a + (j + 1) * half, limit=100, epsabs=1e-15, epsrel=1e-12)[0]
        s += c
        partial.append(s)
        small = small + 1 if abs(c) <= 1e-14 * max(1.0, abs(s)) else 0
        if small >= 3:
            return s
    import mpmath

    table = mpmath.shanks([mpmath.mpf(v) for v in partial[-40:]])
    return float(table[-1][-1])


def _qawf(g, a, k, kind):
    """int_a^oo g(r) cos/sin(k r) dr via QAWF on a shifted variable."""
    from scipy import integrate

    ca, sa = math.cos(k * a), math.sin(k * a)
    c = integrate.quad(lambda u: g(a + u), 0, np.inf, weight="cos", wvar=k, limlst=200)[0]
    s = integrate.quad(lambda u: g(a + u), 0, np.inf, weight="sin", wvar=k, limlst=200)[0]
    if kind == "cos":  # cos(k(a+u)) = cos(ka)cos(ku) - sin(ka)sin(ku)
        return ca * c - sa * s
    return sa * c + ca * s


# ----------------------------------------------------------------------------- the spectrum object
def momentum_symbol(dim: int | sp.Expr, name: str = "p") -> sp.Symbol:
    """The momentum ``p``: a real scalar in d = 1, a :class:`VectorSymbol` otherwise.

    >>> momentum_symbol(1), momentum_symbol(3).dim
    (p, 3)
    """
    dim = sp.sympify(dim)
    return ScalarPoint(name) if dim == 1 else VectorSymbol(name, dim)


def _sq(v):
    return Dot(v, v) if vector_atoms(v) else v**2


class PowerSpectrum:
    r"""The power spectrum :math:`G(p)` of a translation-invariant 2-point function.

    Attributes
    ----------
    expr : sympy expression in ``momentum`` (``Piecewise`` for cutoffs); for a
        numeric spectrum an unevaluated ``Integral`` (the radial transform).
    momentum : the symbol :math:`p` (a scalar in d = 1, a vector otherwise).
    dim : d.
    method : ``"delta rule"``, ``"fourier (sympy)"``, ``"hankel (sympy)"`` or ``"numeric"``.
    is_exact : False for a numeric spectrum (``evaluate`` then integrates and warns).
    zero_mode : :math:`c_0` with an extra :math:`(2\pi)^d c_0\,\delta^{(d)}(p)` (a constant
        in :math:`G^{(2)}`, e.g. from an output bias); not included in ``expr``.

    >>> import numpy as np, nnsym as ns
    >>> S = ns.zoo.cauchy_net().power_spectrum()
    >>> S.evaluate(np.array([[0.0], [1.0]]), sigma_a=1.0, m=1.0)      # sigma_a^2 m/(p^2 + m^2)
    array([1. , 0.5])
    >>> X = np.array([[[0.0], [1.0]]])                                  # (sigma_a^2/2) e^{-m|x-y|}
    >>> bool(abs(S.position_space(X, sigma_a=1.0, m=1.0)[0] - np.exp(-1) / 2) < 1e-9)
    True
    """

    def __init__(self, expr, momentum, dim, method: str, network=None, correlator=None,
                 zero_mode=0, position=None, notes: str = ""):
        self.expr = sp.sympify(expr)
        self.momentum = momentum
        self.dim = sp.sympify(dim)
        self.method = method
        self.network = network
        self.correlator = correlator
        self.zero_mode = sp.sympify(zero_mode)
        self._position = position  # (g expression, x symbol) for the numeric route
        self.notes = notes
        self._cache: dict = {}

    @property
    def is_exact(self) -> bool:
        return self.method != "numeric" and is_exact(self.expr)

    @property
    def free_parameters(self) -> list:
        syms = self.expr.free_symbols - {self.momentum}
        if not self.dim.is_Integer:
            syms -= {self.dim}
        return sorted((s for s in syms if not isinstance(s, sp.Dummy) and s.name != "1_d"), key=sp.default_sort_key)

    def __repr__(self):
        tag = "" if self.is_exact else " (numeric)"
        return f"PowerSpectrum[{self.method}]{tag}(G(p) = {self.expr})"

    def latex(self, style: str = "inline", label: str | None = None, *, distances: str = "abs",
              prefactor: bool = True, width: float | None = None) -> str:
        r"""LaTeX of :math:`G(p) = \dots` (plus :math:`(2\pi)^d c_0\,\delta^{(d)}(p)` for a zero mode),
        printed like :meth:`nnsym.Correlator.latex` (same ``style``, ``label``, ``distances``,
        ``prefactor``, ``width``; :mod:`nnsym.model.latex`).

        >>> import nnsym as ns
        >>> print(ns.zoo.cauchy_net().power_spectrum().latex())
        G(p) = \frac{m \sigma_{a}^{2}}{p^{2} + m^{2}}
        >>> print(ns.zoo.cos_net(2).power_spectrum().latex(distances="x_ij"))
        G(p) = \frac{2 \pi \sigma_{a}^{2}}{\sigma_{b}^{2}} e^{- \frac{p^{2}}{\sigma_{b}^{2}}}
        """
        from ..model.latex import LINE_WIDTH, equation

        note = ""
        if self.zero_mode != 0:
            note += r" + %s\,\delta^{(%s)}(%s)" % (sp.latex((2 * sp.pi) ** self.dim * self.zero_mode),
                                                   sp.latex(self.dim), sp.latex(self.momentum))
        if not self.is_exact:
            note += r" \quad \text{(numeric)}"
        return equation(r"G(%s)" % sp.latex(self.momentum), self.expr, (self.momentum,), style, label,
                        distances=distances, prefactor=prefactor, width=width or LINE_WIDTH, note=note)

    def _repr_latex_(self):
        return "$\\displaystyle " + self.latex() + "$"

    def subs(self, *args, **kwargs) -> "PowerSpectrum":
        return PowerSpectrum(self.expr.subs(*args, **kwargs), self.momentum, self.dim, self.method, self.network,
                             self.correlator, self.zero_mode.subs(*args, **kwargs), self._position, self.notes)

    # ------------------------------------------------------------------ numbers
    def _momenta(self, P):
        P = np.asarray(P, dtype=float)
        if self.dim == 1 and (P.ndim == 0 or P.shape[-1] != 1):
            P = P[..., None]
        if P.ndim < 1:
            raise ValueError(f"momenta must have shape (..., d), got {P.shape}")
        if self.dim.is_Integer and P.shape[-1] != int(self.dim):
            raise ValueError(f"momenta must have shape (..., {self.dim}) in d = {self.dim}, got {P.shape}")
        return P

    def evaluate(self, P, **values) -> np.ndarray:
        r""":math:`G(p)` at momenta ``P`` of shape ``(..., d)`` (in d = 1 also ``(...,)``); returns ``P.shape[:-1]``.

        Hyper-parameters by name. A numeric spectrum is integrated here (``NumericWarning``).
        """
        from ..numeric.kernels import NumericWarning, evaluate

        P = self._momenta(P)
        if self.method != "numeric":
            return evaluate(self.expr, (self.momentum,), self.dim, P[..., None, :], values, self._cache)
        if self._position is None:  # G^(2) itself is numeric
            D = P.shape[-1]
            ks = np.linalg.norm(P.reshape(-1, D), axis=-1)
            out, err = _numeric_transform(self.correlator, ks, D, values, self._cache)
            warnings.warn(NumericWarning("power spectrum evaluated by numerical radial Fourier transform of the "
                                         f"numeric G^(2) (estimated abs. error {err:.1e})", error=err), stacklevel=2)
            return out.reshape(P.shape[:-1])
        g, xs = self._position
        D = P.shape[-1]
        f = _radial_numpy(g, xs, D, values, self.dim)
        warnings.warn("power spectrum evaluated by numerical radial Fourier transform (no closed form)",
                      NumericWarning, stacklevel=2)
        ks = np.linalg.norm(P.reshape(-1, D), axis=-1)
        out = np.array([radial_fourier(f, k, D) for k in ks])
        return out.reshape(P.shape[:-1])

    def position_space(self, X, **values) -> np.ndarray:
        r"""Numerical inverse transform :math:`G^{(2)}(x,y) = \int\frac{d^dp}{(2\pi)^d}e^{ip\cdot(x-y)}G(p)`
        at point pairs ``X`` of shape ``(..., 2, d)`` (isotropic spectra; numeric, marked by a warning).
        The zero mode adds :math:`c_0`."""
        from ..numeric.kernels import NumericWarning

        X = np.asarray(X, dtype=float)
        if X.ndim < 2 or X.shape[-2] != 2:
            raise ValueError(f"point pairs must have shape (..., 2, d), got {X.shape}")
        D = X.shape[-1]
        if self.method == "numeric" and self.correlator is not None:  # the transform of a known G^(2)
            return self.correlator.evaluate(X, **values) + float(_num(self.zero_mode, values, D, self.dim))
        r = np.linalg.norm((X[..., 0, :] - X[..., 1, :]).reshape(-1, D), axis=-1)
        f, breaks, support = self.radial_spectrum(D, values)
        warnings.warn("position space computed by numerical inverse Fourier transform", NumericWarning, stacklevel=2)
        c0 = float(_num(self.zero_mode, values, D, self.dim))
        out = np.array([radial_fourier(f, rr, D, breaks, support) for rr in r]) / (2 * math.pi) ** D + c0
        return out.reshape(X.shape[:-2])

    def radial_spectrum(self, D: int, values: Mapping) -> "RadialSpectrum":
        r"""The isotropic spectrum :math:`G(p) = g(|p|)` as numbers in dimension ``D`` at ``values`` (by name):
        ``profile`` (a numpy function of :math:`k = |p|`), ``breaks`` (the radii where a ``Piecewise``
        switches) and ``support`` (:math:`\Lambda` if :math:`g(k) = 0` for :math:`k > \Lambda`, else None).
        Raises ``ValueError`` for a spectrum that is not a function of :math:`|p|`.

        >>> import nnsym as ns
        >>> R = ns.power_spectrum(ns.zoo.free_scalar(3)).radial_spectrum(3, dict(sigma_a=1.0, m=1.0, Lambda=2.0))
        >>> R.breaks, R.support, round(float(R.profile(1.0)), 6)     # 3 pi^2/(Lambda^3 (m^2 + k^2)) inside
        ([2.0], 2.0, 1.850551)
        """
        p = self.momentum
        k = sp.Symbol("k_", positive=True)
        e = self.expr
        e = _radial(e, p, k)
        if e is None:
            raise ValueError("position_space needs an isotropic spectrum (a function of |p| only)")
        e = e.subs(_value_map(e, values, D, self.dim))
        breaks, support = _piecewise_breaks(e, k)
        fn = sp.lambdify([k], e, modules=["numpy", "scipy"])
        return RadialSpectrum((lambda r: np.real(fn(r))), breaks, support)


class RadialSpectrum(NamedTuple):
    """An isotropic spectrum as numbers (:meth:`PowerSpectrum.radial_spectrum`); unpacks as
    ``profile, breaks, support``."""

    profile: Callable[[np.ndarray], np.ndarray]
    breaks: list
    support: float | None


def _value_map(e, values, D, dsym, keep=("k_", "r_")):
    out = {}
    for s in e.free_symbols:
        if s.name in keep:
            continue
        if s.name in values:
            out[s] = values[s.name]
        elif not sp.sympify(dsym).is_Integer and s == dsym:
            out[s] = D
    missing = sorted(s.name for s in e.free_symbols - set(out) if not isinstance(s, sp.Dummy) and s.name not in keep)
    if missing:
        raise ValueError(f"missing value(s) for {', '.join(missing)}")
    return out


def _num(e, values, D, dsym):
    e = sp.sympify(e)
    return complex(e.subs(_value_map(e, values, D, dsym)).evalf()).real if e.free_symbols else complex(e).real


def _piecewise_breaks(e, k):
    """Radii where a Piecewise in ``k`` switches, and the support radius if it vanishes beyond."""
    breaks = set()
    for pw in e.atoms(sp.Piecewise):
        for _, cond in pw.args:
            for rel in cond.atoms(sp.core.relational.Relational):
                try:
                    sols = sp.solve(sp.Eq(rel.lhs, rel.rhs), k)
                except SYMBOLIC_FAILURES:  # sympy cannot solve for the switching radius: not a break we know
                    continue
                for s in sols:
                    if s.is_number and s.is_real and s > 0:
                        breaks.add(float(s))
    support = None
    if breaks:
        big = max(breaks) * 1.5 + 1.0
        try:
            if all(float(sp.Abs(e.subs(k, big * t))) == 0.0 for t in (1.0, 3.7, 11.3)):
                support = max(breaks)
        except TypeError:
            pass
    return sorted(breaks), support


def _radial_numpy(g, x, D, values, dsym):
    """g(x) (isotropic, closed form) as a numpy function of r."""
    r = sp.Symbol("r_", positive=True)
    if isinstance(x, VectorSymbol):
        e = expand_dot(g).xreplace({Dot(x, x): r**2})
    else:
        e = g.subs(x, r)
    e = e.subs(_value_map(e, values, D, dsym))
    fn = sp.lambdify([r], e, modules=["numpy", "scipy"])
    return lambda rr: np.real(fn(rr))


# ----------------------------------------------------------------------------- route 1: the delta rule
def _delta_rule(net, p) -> PowerSpectrum:
    L = cos_layer(net)
    d = sp.sympify(net.dim)
    if net.readout in net.shared:
        pass  # E[a_i a_j] E[h_i h_j] = 0 for i != j anyway: independent phases
    C = net.width * net.readout.law.moment(2)
    two_pi_d = (2 * sp.pi) ** d
    plus = L.frequency_density(p) * L.F2(p / L.alpha)
    minus = L.frequency_density(-p) * L.F2(-p / L.alpha)
    plus, minus = _tidy_piece(plus), _tidy_piece(minus)
    both = 2 * plus if _same(plus, minus) else plus + minus
    expr = _tidy_piece(sp.piecewise_fold(C * two_pi_d / 4 * both))
    zero = 0 if net.bias is None else net.bias.law.moment(2)
    notes = (f"delta rule: h = F cos(alpha b.x + c) with F = {L.F}, b = {L.freq} ~ {L.freq.law}, "
             f"alpha = {L.alpha}, phase {L.phase} ~ {L.phase.law}")
    return PowerSpectrum(expr, p, d, "delta rule", network=net, zero_mode=zero, notes=notes)


def _same(a, b) -> bool:
    if a == b:
        return True
    try:
        return sp.expand(a - b) == 0
    except SYMBOLIC_FAILURES:  # an expansion sympy cannot do: not shown to be equal
        return False


def _tidy_piece(e):
    """Cheap tidying of a small expression, piece by piece for a Piecewise."""
    e = sp.sympify(e)
    if isinstance(e, sp.Piecewise):
        return sp.Piecewise(*[(_tidy_piece(v), c) for v, c in e.args])
    try:
        e = sp.cancel(e)
    except SYMBOLIC_FAILURES:  # cancel does not know every function (a PolynomialError): keep e
        pass
    e = sp.powsimp(sp.factor_terms(e), combine="exp")
    return sp.factor_terms(e)


# ----------------------------------------------------------------------------- route 2: Fourier transform of G2
def _position_profile(G):
    """``g(x) = G^(2)(x, 0)`` and the symbol ``x``."""
    x1, x2 = G.points
    g = G.expr.xreplace({x2: sp.S.Zero})
    return g, x1


def _fourier_route(G, p, allow_numeric=True, time_limit_s: float = 30) -> PowerSpectrum:
    from ..analysis.symmetries import is_translation_invariant
    from ..core.checks import random_values, time_limit

    if G.n != 2:
        raise ValueError(f"a power spectrum needs a 2-point function, got a {G.n}-point function")
    ti = is_translation_invariant(G)
    if ti.holds is not True:
        raise ValueError("the 2-point function is not translation invariant, so it has no power spectrum: "
                         f"{ti.evidence}")
    if not G.is_exact:  # G^(2) itself is numeric (quadrature): so is its transform
        return _numeric_correlator_route(G, p)
    d = sp.sympify(G.dim)
    g, x = _position_profile(G)
    r = sp.Symbol("r", positive=True)
    k = sp.Symbol("k", positive=True)
    gr = _radial(g, x, r)
    if gr is None:
        raise NoClosedForm("only isotropic 2-point functions (functions of |x - y|) are transformed in d >= 2")
    if not isinstance(x, VectorSymbol):
        gm = g.subs(x, -r)
        if not _same(sp.expand(gr), sp.expand(gm)):
            raise NoClosedForm("a 2-point function that is not even in x - y (d = 1) is not transformed")
    # symbolic attempt
    closed, method = None, "numeric"
    try:
        with time_limit(time_limit_s):
            if d == 1:
                integrand, pref = 2 * sp.cos(k * r) * gr, 1
                method = "fourier (sympy)"
            elif d == 3:
                integrand, pref = r * sp.sin(k * r) * gr, 4 * sp.pi / k
                method = "hankel (sympy)"
            else:
                nu = d / 2 - 1
                integrand, pref = r ** (d / 2) * sp.besselj(nu, k * r) * gr, (2 * sp.pi) ** (d / 2) * k ** (1 - d / 2)
                method = "hankel (sympy)"
            res = sp.integrate(integrand, (r, 0, sp.oo), conds="none")
        if not res.has(sp.Integral) and not res.has(sp.oo, -sp.oo, sp.zoo, sp.nan):
            closed = sp.simplify(pref * res)
    except SYMBOLIC_FAILURES:  # sympy gave up or timed out: the numeric transform takes over
        closed = None
    if closed is not None:
        ok = True
        dims = [int(d)] if d.is_Integer else [2, 3]
        syms = (closed.free_symbols | gr.free_symbols) - {k, r} - ({d} if not d.is_Integer else set())
        for trial in range(2):
            vals = random_values(syms, seed=trial)
            for D in dims:
                sub = {**vals, **({d: D} if not d.is_Integer else {})}
                kv = 0.4 + 0.9 * trial + 0.3 * D
                exact = complex(closed.subs(sub).subs(k, kv).evalf())
                fnum = sp.lambdify([r], gr.subs(sub), modules=["numpy", "scipy"])
                approx = radial_fourier(lambda rr: np.real(fnum(rr)), kv, D)
                if not abs(exact - approx) <= 1e-6 * max(1.0, abs(approx)):
                    ok = False
        if ok:
            expr = closed.subs(k, sp.sqrt(_sq(p)) if isinstance(p, VectorSymbol) else p)
            if d == 1 and not _same(closed.subs(k, p), closed.subs(k, -p)):
                expr = closed.subs(k, sp.Abs(p))
            expr = sp.powsimp(sp.factor_terms(expr), combine="exp")
            return PowerSpectrum(expr, p, d, method, network=G.network, correlator=G,
                                 notes=f"transform of G^(2)(x, 0) = {g}, checked numerically")
    if not allow_numeric:
        raise NoClosedForm(f"no closed-form Fourier transform of {g}")
    placeholder = sp.Integral(sp.exp(-sp.I * _dotp(p, x)) * g, x)
    return PowerSpectrum(placeholder, p, d, "numeric", network=G.network, correlator=G, position=(g, x),
                         notes=f"no closed form for the transform of {g}: numerical radial transform")


def _dotp(p, x):
    return Dot(p, x) if isinstance(x, VectorSymbol) else p * x


# ----------------------------------------------------------------------------- route 3: a numeric G2
def _numeric_correlator_route(G, p) -> PowerSpectrum:
    """The spectrum of a translation-invariant G^(2) with unevaluated expectations: numeric.

    ``evaluate`` then integrates :math:`g(r) = G^{(2)}(r e_1, 0)` (itself by the correlator's
    quadrature) against the radial kernel; see :func:`_numeric_transform`. In d >= 2 the
    2-point function must be isotropic."""
    from ..analysis.symmetries import is_rotation_invariant

    d = sp.sympify(G.dim)
    g, x = _position_profile(G)
    if d != 1:
        rot = is_rotation_invariant(G)
        if rot.holds is not True:
            raise NoClosedForm(
                "the 2-point function has no closed form and is not isotropic, so neither a closed-form nor a "
                f"radial numeric transform applies (rotations: {rot.evidence})")
    placeholder = sp.Integral(sp.exp(-sp.I * _dotp(p, x)) * g, x)
    return PowerSpectrum(placeholder, p, d, "numeric", network=G.network, correlator=G, position=None,
                         notes=f"G^(2)(x, 0) = {g} has unevaluated expectations: numerical radial transform "
                               "of its quadrature")


class _Profile:
    r"""``g(r) = G^(2)(r e_1, 0)`` as numbers, for one dimension D and one set of values.

    Expectations that do not depend on the points (e.g. :math:`E[\tanh^2 e]`) are integrated
    once and frozen as numbers (with their error); the rest is evaluated batch by batch."""

    def __init__(self, G, D: int, values):
        from ..engine.expectation import Expectation

        self.G, self.D = G, D
        self.values = dict(values)
        if not G.dim.is_Integer:
            self.values[G.dim.name] = D
        expr, const_err = G.expr, 0.0
        X0 = np.zeros((1, 2, D))
        for E in sorted(G.expr.atoms(Expectation), key=sp.default_sort_key):
            if not (E.free_symbols & set(G.points)):
                v, e, _ = evaluate_with_error(E, X0, self.values, points=G.points, dim=G.dim)
                u = sp.Dummy()
                coef = sp.diff(expr.xreplace({E: u}), u).subs(u, E)
                const_err += e * self._size(coef, X0)
                expr = expr.xreplace({E: sp.Float(float(np.real(v.ravel()[0])), 17)})
        self.expr, self.const_err = expr, const_err

    def _size(self, c, X) -> float:
        """max |c| at the point sets X (c a coefficient of an expectation in G)."""
        c = sp.sympify(c)
        if not c.free_symbols - {s for s in c.free_symbols if s.name in self.values}:
            return abs(_num(c, self.values, self.D, self.G.dim))
        cv, _, _ = evaluate_with_error(c, X, self.values, points=self.G.points, dim=self.G.dim)
        return float(np.max(np.abs(cv)))

    def __call__(self, r) -> tuple[np.ndarray, float]:
        """g at the radii ``r`` and an absolute error bound for the batch (the expectations'
        quadrature errors times the size of their coefficients in G)."""
        from ..engine.expectation import Expectation

        r = np.asarray(r, dtype=float)
        X = np.zeros(r.shape + (2, self.D))
        X[..., 0, 0] = r
        g, err, _ = evaluate_with_error(self.expr, X, self.values, points=self.G.points, dim=self.G.dim)
        exps = sorted(self.expr.atoms(Expectation), key=sp.default_sort_key)
        coef = 1.0
        if exps and err > 0:  # G is (almost always) linear in its expectations: dG/dE is closed form
            dums = [sp.Dummy() for _ in exps]
            body = self.expr.xreplace(dict(zip(exps, dums)))
            coef = max(self._size(sp.diff(body, u).xreplace(dict(zip(dums, exps))), X) for u in dums)
        return np.real(np.asarray(g, dtype=complex)), float(err) * max(coef, 1.0) + self.const_err


def _kernel_matrix(ks: np.ndarray, r: np.ndarray, D: int) -> np.ndarray:
    r"""The radial Fourier kernel :math:`K(k, r)` with :math:`G(k) = \int_0^\infty K(k, r) g(r) dr`."""
    from scipy import special

    k = np.abs(np.asarray(ks, dtype=float))[:, None]
    r = np.asarray(r, dtype=float)[None, :]
    if D == 1:
        return 2.0 * np.cos(k * r)
    with np.errstate(all="ignore"):
        if D == 3:
            out = 4 * math.pi * r * np.where(k > 0, np.sin(k * r) / np.where(k > 0, k, 1.0), r)
        else:
            kk = np.where(k > 0, k, 1.0)
            out = (2 * math.pi) ** (D / 2) * kk ** (1 - D / 2) * r ** (D / 2) * special.jv(D / 2 - 1, kk * r)
            out = np.where(k > 0, out, _sphere_area(D) * r ** (D - 1))
    return out


def _gauss_panels(edges: np.ndarray, m: int = 10) -> tuple[np.ndarray, np.ndarray]:
    t, w = np.polynomial.legendre.leggauss(m)
    a, b = edges[:-1, None], edges[1:, None]
    return (0.5 * (b - a) * t + 0.5 * (a + b)).ravel(), (0.5 * (b - a) * w).ravel()


def _decay_radius(g_of_r: "_Profile", D: int, tol: float = 1e-8, accept: float = 1e-3, max_err: float = 1e-3):
    r"""Scan :math:`g(r)` on a geometric grid for the radius R beyond which :math:`|g| r^d` is negligible.

    Returns ``(R, scale, tail)``: ``scale`` is the largest :math:`|g(r)| \max(r, r_0)^d` seen and
    ``tail`` the :math:`|g| r^d` at R (an estimate of the truncated part). Stops where the last
    four radii have :math:`|g| r^d` below ``tol * scale``; if the quadrature of g becomes unreliable
    first (error above ``max_err * scale``), the last reliable radius is used when its two last values
    are below ``accept * scale`` (the tail then shows in the error estimate). Raises ``ValueError``
    otherwise, or when g does not decay on the grid (up to r ~ 4e3)."""
    rs = 1e-2 * 1.15 ** np.arange(92)
    win = 8
    scale, masses = 0.0, []
    for s0 in range(0, len(rs), win):
        block = rs[s0:s0 + win]
        g, err = g_of_r(block)  # one batch: err is its worst point
        if err * block[-1] ** D > max_err * max(scale, float(np.max(np.abs(g) * block**D))):
            pts = [g_of_r(np.array([r])) for r in block]  # find the first unreliable radius
        else:
            pts = [(np.array([gv]), err) for gv in g]
        for r, (gv, e) in zip(block, pts):
            i = len(masses)
            masses.append(float(abs(gv[0])) * r**D)
            scale = max(scale, masses[-1], float(abs(gv[0])) * rs[0] ** D)
            if e * r**D > max_err * scale:
                prev = max(masses[-3:-1]) if i >= 2 else math.inf
                if prev <= accept * scale:
                    return float(rs[i - 1]), scale, masses[-2]
                raise ValueError(
                    f"the 2-point function is numeric and its quadrature becomes unreliable at r = |x - y| ~ {r:.3g} "
                    f"(estimated error {e:.1e} of G^(2), where |G^(2)| ~ {abs(gv[0]):.1e}) before it has decayed, "
                    "so its numerical Fourier transform cannot be trusted; write the neuron so that the expectation "
                    "over the frequency has a closed form (e.g. F(b) cos(b.x + c) for the delta rule)")
            if i >= 5 and scale > 0 and max(masses[-4:]) <= tol * scale:
                return float(r), scale, masses[-1]
    raise ValueError(
        f"the 2-point function G^(2)(x, 0) does not decay fast enough for a numerical Fourier transform "
        f"(|G^(2)| |x|^d is still {masses[-1]:.1e} at |x| = {rs[-1]:.3g}, scale {scale:.1e}): an output bias "
        "or a slowly decaying G^(2) has a singular spectrum")


def _numeric_transform(G, ks: np.ndarray, D: int, values, cache: dict) -> tuple[np.ndarray, float]:
    r""":math:`G(k)` at the momenta magnitudes ``ks`` from the quadrature of :math:`g(r)`: composite
    Gauss-Legendre on [0, R] (R from :func:`_decay_radius`), refined until two rules agree.
    Returns the values and an absolute error estimate (rule difference + propagated quadrature
    error of g + truncated tail)."""
    key = ("decay", D, tuple(sorted((k, repr(v)) for k, v in values.items())))
    if key not in cache:
        prof = _Profile(G, D, values)
        cache[key] = (prof, *_decay_radius(prof, D))
    prof, R, scale, tail = cache[key]
    kmax = float(np.max(ks)) if ks.size else 0.0
    panels = int(max(12, math.ceil(4 * kmax * R / math.pi)))
    small = R * 2.0 ** -np.arange(6, 0, -1) / panels  # graded panels at r = 0 (a kink of g there)
    prev, best = None, None
    for _ in range(4):
        edges = np.unique(np.concatenate([[0.0], small, np.linspace(0.0, R, panels + 1)[1:]]))
        r, w = _gauss_panels(edges, 8)
        g, gerr = prof(r)
        K = _kernel_matrix(ks, r, D)
        val = K @ (w * g)
        if prev is not None:
            diff = float(np.max(np.abs(val - prev)))
            noise = gerr * float(np.max(np.abs(K) @ w))  # what the quadrature error of g allows
            best = (val, diff + noise)
            if diff <= max(1e-9 * max(scale, float(np.max(np.abs(val)))), noise) or r.size > 20000:
                break
        prev = val
        panels *= 2
    val, err = best
    err += tail * (_sphere_area(D) if D > 1 else 2.0)  # the truncated tail, |K| <= |S^{d-1}| r^{d-1}
    return val, err


@provides("power_spectrum")  # Network.power_spectrum
def power_spectrum(obj: "Network | Correlator", method: str = "auto", momentum: str = "p") -> PowerSpectrum:
    r"""The power spectrum :math:`G(p)=\int d^dx\,e^{-ip\cdot x}G^{(2)}(x,0)` of a network or a
    2-point :class:`Correlator`.

    ``method``: ``"auto"`` (the delta rule when the network's neuron is
    :math:`F(b)\cos(\alpha b\cdot x + c)`, else a Fourier transform of :math:`G^{(2)}`),
    ``"delta"`` or ``"fourier"``. For the delta rule,

    .. math:: G(p) = \frac{N E[a^2](2\pi)^d}{4}\big[P_\omega F^2|_{b=p/\alpha} + P_\omega F^2|_{b=-p/\alpha}\big].

    >>> import nnsym as ns
    >>> ns.power_spectrum(ns.zoo.free_scalar(3)).expr
    Piecewise((3*pi**2*sigma_a**2/(Lambda**3*(m**2 + Dot(p, p))), Lambda**2 >= Dot(p, p)), (0, True))
    >>> ns.power_spectrum(ns.zoo.gauss_net(2)).method        # not a cos layer: Hankel transform of G^(2)
    'hankel (sympy)'
    """
    from ..model.correlator import Correlator
    from ..model.network import Network

    if method not in ("auto", "delta", "fourier"):
        raise ValueError(f"method must be 'auto', 'delta' or 'fourier', got {method!r}")
    if isinstance(obj, Network):
        p = momentum_symbol(obj.dim, momentum)
        if method in ("auto", "delta"):
            try:
                return _delta_rule(obj, p)
            except NoJointDensity as exc:
                raise ValueError(f"no power spectrum in symbolic d: {exc}") from exc
            except NotACosLayer as exc:
                if method == "delta":
                    raise ValueError(f"the delta rule does not apply: {exc}") from exc
        return _fourier_route(obj.correlator(2), p)
    if isinstance(obj, Correlator):
        p = momentum_symbol(obj.dim, momentum)
        if method == "delta":
            if obj.network is None or obj.n != 2:
                raise ValueError("the delta rule needs the network of a 2-point function")
            try:
                return _delta_rule(obj.network, p)
            except NoJointDensity as exc:
                raise ValueError(f"no power spectrum in symbolic d: {exc}") from exc
            except NotACosLayer as exc:
                raise ValueError(f"the delta rule does not apply: {exc}") from exc
        return _fourier_route(obj, p)
    raise TypeError(f"power_spectrum needs a Network or a 2-point Correlator, got {type(obj).__name__}")
