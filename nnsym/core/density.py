r"""A user law: the density :math:`p(\theta)/Z` of a sympy expression on an interval.

:class:`DensityLaw` follows the law protocol (:class:`~nnsym.core.laws.Law`) with sympy's
integrals: the normalisation :math:`Z`, the moments and the transforms are integrated in closed
form where sympy can, and each closed form is checked against numerical quadrature before it is
used (:func:`nnsym.core.checks.spot_check`). The user constructor is ``Density(name, pdf, support)``
in :mod:`nnsym.core.random`.
"""
from __future__ import annotations

import math

import numpy as np
import sympy as sp

from ..errors import SYMBOLIC_FAILURES, NoClosedForm
from .checks import random_values, spot_check, time_limit
from .laws import Law, check_real, moment_order
from .special import guard_removable

__all__ = ["DensityLaw"]


class DensityLaw(Law):
    r"""A user density :math:`p(\theta)/Z` on ``support = (lo, hi)``, normalised here.

    Its moments and characteristic function are integrated by sympy; each
    closed form is checked against numerical quadrature before it is used
    (see :func:`nnsym.core.checks.spot_check`). If sympy cannot do the transform,
    expectations involving this law are evaluated numerically.
    """

    name = "Density"

    def __init__(self, var: sp.Symbol, pdf, support):
        pdf = sp.sympify(pdf)
        if isinstance(support, (str, bytes)) or not hasattr(support, "__len__") or len(support) != 2:
            raise TypeError(f"Density support must be a pair (lo, hi), got {support!r}")
        lo, hi = (check_real(s, "a bound of the Density support", finite=False) for s in support)
        if (hi - lo).is_extended_positive is False:
            raise ValueError(f"Density support must have lo < hi, got ({lo}, {hi})")
        t = sp.Dummy("theta", real=True)
        self._t = t  # the integration variable of ``density`` (public: ``variable``)
        raw = pdf.subs(var, t)
        _check_density_sign(raw, t, lo, hi, pdf, var)
        Z = sp.integrate(raw, (t, lo, hi), conds="none")
        if Z.has(sp.Integral) or Z.has(sp.oo, -sp.oo, sp.zoo, sp.nan) or Z.is_positive is False or Z == 0:
            raise ValueError(
                f"density {pdf} on ({lo}, {hi}) does not normalise: its integral is {Z}"
            )
        self.Z = sp.simplify(Z)
        self.density = sp.simplify(raw / self.Z)
        self._support = (lo, hi)
        super().__init__(self.density, lo, hi)
        self._cf_cache: dict = {}
        self._mom_cache: dict = {}
        # the normalisation itself is checked numerically
        spot_check(self.Z, lambda vals: _quad_1d(raw, t, lo, hi, vals), f"normalisation of {pdf}",
                   extra={s.name: s for s in raw.free_symbols - {t}})

    @property
    def variable(self) -> sp.Dummy:
        r"""The real dummy :math:`\theta` in which :attr:`density` is written.

        >>> import sympy as sp
        >>> b = sp.Symbol("b", real=True)
        >>> law = DensityLaw(b, sp.exp(-b), (0, sp.oo))
        >>> law.density.subs(law.variable, b)
        exp(-b)
        """
        return self._t

    @property
    def support(self) -> tuple:
        """The interval ``(lo, hi)`` the density lives on, as given."""
        return self._support

    @property
    def key(self):
        return ("Density", self.density.subs(self._t, sp.Symbol("_theta_")), *self.support)

    def free_symbols(self) -> set:
        """The hyper-parameters of the density (not its integration variable)."""
        return super().free_symbols() - {self._t}

    def pdf(self, x):
        lo, hi = self.support
        x = sp.sympify(x)
        return sp.Piecewise((self.density.subs(self._t, x), (x >= lo) & (x <= hi)), (0, True))

    @property
    def is_even(self):
        lo, hi = self.support
        return sp.simplify(lo + hi) == 0 and sp.simplify(self.density - self.density.subs(self._t, -self._t)) == 0

    @property
    def has_mgf(self):  # decided per request by integration
        return True

    def moment_exists(self, k):
        r"""Whether :math:`E[|\theta|^k]` is finite: always on a bounded support or when both tails decay
        exponentially (:meth:`tail_rates` positive, e.g. :math:`1/\cosh\theta`: then
        :math:`|\theta|^k p(\theta) = O(e^{-\lambda|\theta|/2})`), else decided by sympy integrating
        :math:`|\theta|^k p` on each half-line (None if it cannot tell: an integral left unevaluated).

        >>> import sympy as sp
        >>> b = sp.Symbol("b", real=True)
        >>> DensityLaw(b, 1 / sp.cosh(b), (-sp.oo, sp.oo)).moment_exists(4)
        True
        >>> DensityLaw(b, 1 / (1 + b**2), (-sp.oo, sp.oo)).moment_exists(1)
        False
        """
        k = moment_order(k)
        lo, hi = self.support
        if k == 0 or (lo.is_finite and hi.is_finite):
            return True
        cache = self.__dict__.setdefault("_moment_exists", {})
        if k not in cache and self.mgf_domain_known and all(r.is_positive for r in self.tail_rates()):
            cache[k] = True  # exponential (or lighter) tails on both sides: every moment exists
        if k not in cache:
            t = self._t
            pieces = [(t, 0 if (lo.is_finite is not True or lo < 0) else lo, hi)] if hi.is_finite is not True else []
            pieces += [(-t, lo, 0 if (hi.is_finite is not True or hi > 0) else hi)] if lo.is_finite is not True else []
            verdict = True
            try:
                for sgn, a, b in pieces:
                    with time_limit(10):
                        r = sp.integrate(sgn**k * self.density, (t, a, b), conds="none")
                    if r.has(sp.Integral, sp.nan):  # unevaluated: its infinite limit says nothing
                        verdict = None
                    elif r.has(sp.oo, -sp.oo, sp.zoo):
                        verdict = False
                        break
            except SYMBOLIC_FAILURES:  # sympy gave up or ran out of time: undecided
                verdict = None
            cache[k] = verdict
        return cache[k]

    def moment(self, k):
        k = moment_order(k)
        if k not in self._mom_cache:
            t, (lo, hi) = self._t, self.support
            m = sp.integrate(t**k * self.density, (t, lo, hi), conds="none")
            if m.has(sp.Integral) or m.has(sp.oo, -sp.oo, sp.zoo, sp.nan):
                raise ValueError(f"{self}: the moment of order {k} is not finite (or not integrable by sympy): {m}")
            m = sp.simplify(m)
            spot_check(m, lambda vals: _quad_1d(t**k * self.density, t, lo, hi, vals), f"moment {k} of {self}")
            self._mom_cache[k] = m
        return self._mom_cache[k]

    def _kernel_transform(self, kind: str):
        """The closed form of E[e^{i u theta}] (kind 'cf') or E[e^{u theta}] (kind 'mgf') as a
        function of a dummy ``u``, integrated once and checked numerically; None if sympy fails."""
        if kind in self._cf_cache:
            return self._cf_cache[kind]
        u = sp.Dummy("u", real=True)
        kernel = sp.exp(sp.I * u * self._t) if kind == "cf" else sp.exp(u * self._t)
        t, (lo, hi) = self._t, self.support
        res = None
        try:
            with time_limit(20):
                r = sp.integrate(kernel * self.density, (t, lo, hi), conds="none")
            if not r.has(sp.Integral):
                r = sp.simplify(r)
                ok = spot_check(
                    r,
                    lambda vals: _quad_1d(kernel.subs(u, vals["__u__"]) * self.density, t, lo, hi, vals),
                    f"transform of {self}",
                    extra={"__u__": u},
                    raise_on_failure=False,
                )
                if ok:
                    res = (u, guard_removable(r, u, self._scale()))
        except SYMBOLIC_FAILURES:  # sympy gave up or ran out of time: numeric fallback
            res = None
        self._cf_cache[kind] = res
        return res

    def _scale(self):
        """A length scale of the law (the support's half-width, or the root mean square)."""
        lo, hi = self.support
        if lo.is_finite and hi.is_finite:
            return sp.Max(sp.Abs(lo), sp.Abs(hi))
        try:
            return sp.sqrt(self.moment(2))
        except SYMBOLIC_FAILURES:  # no finite second moment (or none found): a unit scale
            return sp.S.One

    def _transform_or_none(self, s):
        """E[e^{s theta}] in closed form (checked numerically), or None."""
        s = sp.sympify(s)
        re, im = s.as_real_imag()
        got = self._kernel_transform("cf" if re == 0 else "mgf")
        if got is None:
            return None
        u, r = got
        return r.subs(u, im if re == 0 else s)

    def transform_known(self, s) -> bool:
        """False where sympy cannot integrate the density's transform (then the engine integrates
        numerically instead of asking for it)."""
        re, _ = sp.sympify(s).as_real_imag()
        return self._kernel_transform("cf" if re == 0 else "mgf") is not None

    def characteristic_function(self, t):
        r = self._transform_or_none(sp.I * sp.sympify(t))
        if r is None:
            raise NoClosedForm(f"sympy cannot Fourier-transform {self}")
        return r

    def mgf(self, s):
        r = self._transform_or_none(s)
        if r is None:
            raise NoClosedForm(f"sympy cannot Laplace-transform {self}")
        return r

    def transform(self, s):
        return self.mgf(s)

    def tail_rates(self) -> tuple:
        r"""The exponential decay rates :math:`(\lambda_-, \lambda_+)` of the density,
        :math:`\lambda_\pm = -\lim_{\theta\to\pm\infty}\log p(\theta)/|\theta|` (``oo`` on a
        finite end of the support or for a faster than exponential tail, 0 for a power tail).
        Computed by ``sympy.limit``; raises :class:`~nnsym.errors.NoClosedForm` (a
        ``NotImplementedError``) if sympy cannot decide.

        >>> import sympy as sp
        >>> b = sp.Symbol("b", real=True)
        >>> DensityLaw(b, sp.exp(-2*b), (0, sp.oo)).tail_rates()
        (oo, 2)
        """
        if "_tails" not in self.__dict__:
            t, (lo, hi) = self._t, self.support
            rates = []
            for end, sign in ((lo, -1), (hi, 1)):
                if end.is_finite:
                    rates.append(sp.oo)
                    continue
                try:
                    with time_limit(20):
                        lim = sp.limit(sp.log(self.density) / t, t, sign * sp.oo)
                except SYMBOLIC_FAILURES as exc:  # sympy gave up or ran out of time
                    raise NoClosedForm(f"cannot find the tail of {self} at {end}") from exc
                rate = -sign * lim
                if rate.has(sp.nan, sp.zoo, sp.Limit) or rate.is_extended_nonnegative is False:
                    raise NoClosedForm(f"cannot find the tail of {self} at {end}: limit {lim}")
                rates.append(rate)
            self.__dict__["_tails"] = tuple(rates)
        return self.__dict__["_tails"]

    @property
    def mgf_domain_known(self) -> bool:
        """False when ``sympy.limit`` cannot read a tail of the density (see :meth:`tail_rates`)."""
        if "_tails_known" not in self.__dict__:  # asked once: sympy.limit may take seconds
            try:
                self.tail_rates()
                self.__dict__["_tails_known"] = True
            except NoClosedForm:
                self.__dict__["_tails_known"] = False
        return self.__dict__["_tails_known"]

    def mgf_domain(self, s):
        r""":math:`-\lambda_- < \mathrm{Re}\,s < \lambda_+` with the tail rates of :meth:`tail_rates`
        (the boundary itself is excluded, conservatively)."""
        lam_lo, lam_hi = self.tail_rates()
        re = sp.re(sp.sympify(s))
        return sp.And(*([re < lam_hi] if lam_hi != sp.oo else []), *([re > -lam_lo] if lam_lo != sp.oo else []))

    def _numeric_density(self, values):
        fv = {s: values[s.name] for s in self.density.free_symbols if s != self._t and s.name in values}
        missing = [s.name for s in self.density.free_symbols if s != self._t and s.name not in values]
        if missing:
            raise ValueError(f"{self}: missing value(s) for {', '.join(missing)}")
        f = sp.lambdify([self._t], self.density.subs(fv), "numpy")
        lo, hi = (float(sp.sympify(b).subs(fv)) for b in self.support)
        return f, lo, hi

    @staticmethod
    def _map_support(v, lo: float, hi: float):
        """Map v in (-1, 1) onto the support (lo, hi); returns theta(v) and d theta / d v."""
        if math.isfinite(lo) and math.isfinite(hi):
            return (lo + hi) / 2 + (hi - lo) / 2 * v, np.full_like(v, (hi - lo) / 2)
        if not math.isfinite(lo) and not math.isfinite(hi):
            return np.tan(np.pi * v / 2), np.pi / 2 / np.cos(np.pi * v / 2) ** 2
        if math.isfinite(lo):
            return lo + (1 + v) / (1 - v), 2 / (1 - v) ** 2
        return hi - (1 - v) / (1 + v), 2 / (1 + v) ** 2

    def kinks(self) -> list:
        r"""The points of the support where the density is not smooth, as sympy expressions (in the
        hyper-parameters): the zeros of the arguments of ``Abs``, ``sign``, ``Heaviside``, of the
        differences of the arguments of ``Max``/``Min``, and the boundaries of ``Piecewise``
        conditions, where sympy can solve for them. The quadrature rule is split there.

        >>> import sympy as sp
        >>> b = sp.Symbol("b", real=True)
        >>> DensityLaw(b, 1 - sp.Abs(b), (-1, 1)).kinks()
        [0]
        """
        if "_kinks" not in self.__dict__:
            t, found = self._t, []
            exprs = []
            for a in self.density.atoms(sp.Abs, sp.sign, sp.Heaviside):
                exprs.append(a.args[0])
            for a in self.density.atoms(sp.Max, sp.Min):
                exprs += [u - v for j, u in enumerate(a.args) for v in a.args[j + 1:]]
            for pw in self.density.atoms(sp.Piecewise):
                for _, cond in pw.args:
                    exprs += [r.lhs - r.rhs for r in cond.atoms(sp.core.relational.Relational)]
            for e in exprs:
                if not e.has(t):
                    continue
                try:
                    with time_limit(5):
                        roots = sp.solve(e, t)
                except SYMBOLIC_FAILURES:  # no kink found there: the rule is not split
                    continue
                found += [r for r in roots if not r.has(t) and r.is_real is not False and r not in found]
            self.__dict__["_kinks"] = sorted(found, key=sp.default_sort_key)
        return self.__dict__["_kinks"]

    def _breaks(self, values, lo: float, hi: float) -> list:
        """The kinks at ``values`` that lie inside (lo, hi), sorted."""
        at = {s: values[s.name] for k in self.kinks() for s in k.free_symbols if s.name in values}
        out = set()
        for k in self.kinks():
            try:
                c = complex(sp.sympify(k).subs(at))
            except TypeError:  # a hyper-parameter without a value: no split there
                continue
            if c.imag == 0 and lo < c.real < hi:
                out.add(c.real)
        return sorted(out)

    def _grid(self, values, n):
        """Gauss-Legendre nodes in v mapped onto the support, one panel between consecutive kinks
        (:meth:`kinks`; about n nodes in all): density, theta, jacobian, weights."""
        f, lo, hi = self._numeric_density(values)
        ends = [lo, *self._breaks(values, lo, hi), hi]
        m = max(2, -(-n // (len(ends) - 1)))
        v, w = np.polynomial.legendre.leggauss(m if len(ends) > 2 else n)
        ths, jacs, ws = [], [], []
        for a, b in zip(ends[:-1], ends[1:]):
            th, jac = self._map_support(v, a, b)
            ths.append(th)
            jacs.append(jac)
            ws.append(w)
        return f, np.concatenate(ths), np.concatenate(jacs), np.concatenate(ws)

    def quadrature(self, n, values):
        f, th, jac, w = self._grid(values, n)
        return th, w * jac * np.broadcast_to(f(th), th.shape)

    def frozen(self, values, xp=None):
        """Inverse-CDF sampling on a fine grid of the (mapped) support (grid built once);
        the uniform draws are mapped with ``xp.interp`` (numpy's by default)."""
        f, lo, hi = self._numeric_density(values)
        v = np.linspace(-1.0, 1.0, 200001)[1:-1]
        th, jac = self._map_support(v, lo, hi)
        dens = np.broadcast_to(f(th), th.shape) * jac  # density in v
        if np.iscomplexobj(dens) or np.any(dens < 0):
            bad = _negative_point(f, lo, hi)
            where = f": {bad[1]:.4g} at {bad[0]:.4g}" if bad else ""
            raise ValueError(f"{self} is negative (or not real) on its support at {dict(values)}{where}")
        cdf = np.concatenate([[0.0], np.cumsum((dens[1:] + dens[:-1]) / 2 * np.diff(v))])
        cdf /= cdf[-1]
        if xp is None:
            xp = np
        cdf, th = xp.asarray(cdf), xp.asarray(th)
        return lambda rng, size: xp.interp(rng.uniform(0.0, 1.0, size), cdf, th)


def _support_grid(lo: float, hi: float, n: int = 4001) -> np.ndarray:
    """Interior points of (lo, hi), dense near finite ends and spread over infinite ones."""
    v = np.linspace(-1.0, 1.0, n + 2)[1:-1]
    return DensityLaw._map_support(v, lo, hi)[0]


def _negative_point(f, lo: float, hi: float):
    """A point of (lo, hi) where the numpy function ``f`` is negative (or not real), else None."""
    th = _support_grid(lo, hi)
    with np.errstate(all="ignore"):
        y = np.broadcast_to(np.asarray(f(th)), th.shape)
    if np.iscomplexobj(y):
        bad = np.abs(y.imag) > 1e-12 * (1 + np.abs(y.real))
        if bad.any():
            return float(th[np.argmax(bad)]), complex(y[np.argmax(bad)])
        y = y.real
    ok = np.isfinite(y)
    if not ok.any():
        return None
    scale = np.max(np.abs(y[ok]))
    neg = ok & (y < -1e-12 * scale)
    if neg.any():
        j = int(np.argmin(np.where(neg, y, np.inf)))
        return float(th[j]), float(y[j])
    return None


def _check_density_sign(raw, t, lo, hi, pdf, var) -> None:
    """Refuse a density that is negative (or complex) somewhere on its support: decided
    symbolically when sympy can, else on a grid (at random values of any hyper-parameters;
    refused only if it is negative at all of them -- the numeric layer checks the actual values)."""
    u = sp.Dummy("u", positive=True)
    finite_lo, finite_hi = lo.is_finite is not False, hi.is_finite is not False
    if finite_lo and finite_hi:
        param = lo + (hi - lo) * u / (1 + u)
    elif finite_lo:
        param = lo + u
    elif finite_hi:
        param = hi - u
    else:
        param = t
    sign = raw.subs(t, param).is_nonnegative if raw.has(t) else raw.is_nonnegative
    if sign:
        return
    hyper = sorted(raw.free_symbols - {t}, key=sp.default_sort_key)
    found = []
    for trial in range(2 if hyper else 1):
        vals = random_values(hyper, seed=trial)
        try:
            f = sp.lambdify([t], raw.subs(vals), "numpy")
            lo_, hi_ = (float(sp.sympify(b).subs(vals)) for b in (lo, hi))
        except (TypeError, ValueError):
            return
        bad = _negative_point(f, lo_, hi_)
        if bad is None:
            return
        found.append((bad, vals))
    (theta, val), vals = found[0]
    at = f" (at {', '.join(f'{k}={v:.3g}' for k, v in vals.items())})" if vals else ""
    raise ValueError(f"the density {pdf} is negative (or not real) on the support ({lo}, {hi}): "
                     f"it is {val:.4g} at {var} = {theta:.4g}{at}; a density must be >= 0")


def _quad_1d(expr, t, lo, hi, vals):
    """High-precision numerical integral of a sympy integrand (for spot checks)."""
    import mpmath

    sub = {s: vals[s] for s in expr.free_symbols if s in vals}
    f = sp.lambdify([t], expr.subs(sub), "mpmath")

    def bound(b):
        b = sp.sympify(b).subs(sub)
        return mpmath.inf if b == sp.oo else -mpmath.inf if b == -sp.oo else mpmath.mpf(float(b))

    lo_, hi_ = bound(lo), bound(hi)
    return complex(mpmath.quad(f, [lo_, 0, hi_] if lo_ < 0 < hi_ else [lo_, hi_]))
