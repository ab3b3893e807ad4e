r"""Parameter laws: the priors :math:`P(\theta)` of a network's parameters.

Each law is a scalar law, or a vector of ``shape`` i.i.d. components. The
object a constructor returns *is* the parameter: a sympy symbol that carries
its law, so it can be written straight into a neuron,

>>> import sympy as sp
>>> c = Uniform("c", -sp.pi, sp.pi)
>>> sp.cos(c).has(c), c.law.moment(2)
(True, pi**2/3)

and it offers one interface for every law (as scipy.stats does):
``pdf``, ``moment``, ``characteristic_function``, ``mgf``, ``sample``.
The symbolic formulas are sympy.stats' own (``pdf``,
``_characteristic_function``, ``_moment_generating_function``); samplers are
numpy's ``Generator`` methods.

Conventions: ``Normal(name, mean, var)`` takes the *variance*;
``Laplace(name, loc, scale)`` has density :math:`e^{-|b-\mathrm{loc}|/\mathrm{scale}}/(2\,\mathrm{scale})`;
``Density(name, pdf, support)`` normalises a user density.
"""
from __future__ import annotations

import math
from typing import Any, Mapping

import numpy as np
import sympy as sp
from sympy.stats import crv_types

from ..core.vectors import Component, Dot, VectorSymbol

__all__ = [
    "Law",
    "RandomSymbol",
    "RandomVector",
    "Normal",
    "Uniform",
    "Cauchy",
    "Laplace",
    "Density",
    "is_random",
    "random_atoms",
    "numeric_value",
]


# --------------------------------------------------------------------------- helpers
def numeric_value(expr, values: Mapping[str, Any], what: str = "") -> float:
    """Evaluate a law parameter at numeric ``values`` given by symbol name."""
    expr = sp.sympify(expr)
    missing = sorted(s.name for s in expr.free_symbols if s.name not in values)
    if missing:
        raise ValueError(f"{what or expr}: missing value(s) for {', '.join(missing)}")
    v = expr.subs({s: values[s.name] for s in expr.free_symbols})
    try:
        return float(v)
    except TypeError as exc:  # complex or symbolic
        raise ValueError(f"{what or expr} does not evaluate to a real number: {v}") from exc


def _check_real(expr, what: str, finite: bool = True):
    """Refuse a law parameter that is complex (or imaginary), nan or (with ``finite``) infinite."""
    expr = sp.sympify(expr)
    if expr.has(sp.nan, sp.zoo) or (expr.is_number and expr.is_extended_real is False) or expr.is_extended_real is False:
        raise ValueError(f"{what} must be a real number, got {expr} (complex or undefined)")
    if finite and (expr.is_finite is False or expr.has(sp.oo, -sp.oo)):
        raise ValueError(f"{what} must be finite, got {expr}")
    return expr


def _check_positive(expr, what: str):
    expr = _check_real(expr, what)
    if expr.is_positive is False or (expr.is_number and not (expr.is_extended_real and expr > 0)):
        raise ValueError(f"{what} must be positive, got {expr}")


def _check_nonnegative(expr, what: str):
    expr = _check_real(expr, what)
    if expr.is_negative or (expr.is_number and not (expr.is_extended_real and expr >= 0)):
        raise ValueError(f"{what} must be positive or 0 (a point mass), got {expr}")


def _moment_order(k) -> int:
    """The order of a moment: a non-negative integer (2.5 or True are refused, not rounded)."""
    if isinstance(k, (bool, np.bool_)) or not isinstance(k, (int, np.integer, sp.Integer)):
        if not (isinstance(k, (float, np.floating, sp.Float, sp.Rational)) and float(k) == int(k)):
            raise TypeError(f"a moment order must be a non-negative integer, got {k!r}")
    k = int(k)
    if k < 0:
        raise ValueError(f"a moment order must be >= 0, got {k}")
    return k


def _check_rng(rng):
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"sample needs a numpy Generator as rng (e.g. np.random.default_rng(seed)), got {rng!r}")
    return rng


# --------------------------------------------------------------------------- laws
class Law:
    """A one-dimensional law. Subclasses set ``_dist`` (a sympy.stats distribution)."""

    name = "law"
    _dist: Any = None
    #: True if E[exp(s theta)] exists near s = 0 (so all moments exist)
    has_mgf = True
    #: True for a law of a whole vector (not i.i.d. components); such a law implements
    #: ``vector_transform(v, dim)``, ``vector_quadrature(n, D, values)`` and samples
    #: ``size + (D,)`` arrays with ``sample``.
    joint = False

    def __init__(self, *params):
        self.params = tuple(sp.sympify(p) for p in params)

    # identity -------------------------------------------------------------
    @property
    def key(self) -> tuple:
        return (type(self).__name__,) + self.params

    def __eq__(self, other):
        return isinstance(other, Law) and self.key == other.key

    def __hash__(self):
        return hash(self.key)

    def __repr__(self):
        return f"{type(self).__name__}({', '.join(map(str, self.params))})"

    def free_symbols(self) -> set:
        return set().union(*[p.free_symbols for p in self.params])

    # symbolic -------------------------------------------------------------
    def pdf(self, x) -> sp.Expr:
        return self._dist.pdf(sp.sympify(x))

    def characteristic_function(self, t) -> sp.Expr:
        r""":math:`\varphi(t) = E[e^{i t\theta}]` (sympy.stats' formula)."""
        return self._dist._characteristic_function(sp.sympify(t))

    def mgf(self, s) -> sp.Expr:
        r""":math:`M(s) = E[e^{s\theta}]`, analytic in complex ``s`` where it exists."""
        if not self.has_mgf:
            raise ValueError(f"{self}: E[exp(s*theta)] does not exist for real s != 0")
        return self._dist._moment_generating_function(sp.sympify(s))

    def mgf_domain(self, s) -> sp.Boolean:
        r"""The condition on complex ``s`` under which :math:`E[e^{s\theta}]` converges
        (absolutely): ``S.true`` for an entire transform, :math:`\mathrm{Re}\,s = 0` for a
        law without exponential moments (Cauchy), a strip :math:`a < \mathrm{Re}\,s < b`
        otherwise. Outside it the expectation does not exist; for real ``s`` it is
        :math:`+\infty`. Subclasses with a finite strip override this."""
        if self.has_mgf:
            return sp.true
        return sp.Eq(sp.re(sp.sympify(s)), 0)

    def transform(self, s) -> sp.Expr:
        r""":math:`E[e^{s\theta}]` for complex ``s = a + i t``; the characteristic
        function when ``s`` is purely imaginary."""
        s = sp.sympify(s)
        re, im = s.as_real_imag()
        if re == 0:
            return self.characteristic_function(im)
        return self.mgf(s)

    def moment(self, k: int) -> sp.Expr:
        r""":math:`E[\theta^k]` from the series of the moment generating function."""
        k = _moment_order(k)
        if k == 0:
            return sp.S.One
        if not self.has_mgf:
            raise ValueError(f"{self} has no finite moment of order {k}")
        cache = self.__dict__.setdefault("_moments", {})
        if k not in cache:
            s = sp.Dummy("s")
            ser = sp.series(self.mgf(s), s, 0, k + 1).removeO()
            cache[k] = sp.expand(ser.coeff(s, k) * sp.factorial(k))
        return cache[k]

    def moment_exists(self, k) -> bool | None:
        r"""True if :math:`E[|\theta|^k] < \infty`, False if it is infinite, None if undecided
        (the numeric layer refuses estimands that need a moment which does not exist)."""
        k = _moment_order(k)
        if k == 0 or self.has_mgf:
            return True
        return None

    @property
    def is_even(self) -> bool:
        """True if P(theta) = P(-theta): then all odd moments vanish."""
        return False

    @property
    def is_degenerate(self) -> bool:
        """True for a point mass (e.g. a Normal of variance 0): the parameter is the constant ``mean``."""
        return False

    @property
    def mean(self) -> sp.Expr:
        """:math:`E[\theta]` (of one component for a vector law)."""
        return self.moment(1)

    # numeric --------------------------------------------------------------
    def numeric_params(self, values: Mapping[str, Any]) -> tuple:
        return tuple(numeric_value(p, values, f"parameter {p} of {self}") for p in self.params)

    def sample(self, rng: np.random.Generator, size, values: Mapping[str, Any] | None = None) -> np.ndarray:
        """Draws of shape ``size`` with numpy's Generator; hyper-parameters by name in ``values``."""
        _check_rng(rng)
        return self.frozen(values or {})(rng, size)

    def frozen(self, values: Mapping[str, Any]):
        """A fast sampler ``draw(rng, size)`` with the parameters fixed to numbers once
        (the numeric layer calls it once per run, not once per block)."""
        if type(self).sample is not Law.sample:  # a law that only implements sample()
            vals = dict(values)
            return lambda rng, size: self.sample(rng, size, vals)
        raise NotImplementedError(f"{type(self).__name__} implements neither frozen() nor sample()")

    def quadrature(self, n: int, values: Mapping[str, Any]) -> tuple[np.ndarray, np.ndarray]:
        """Nodes and weights (summing to 1) of an n-point rule for E[f(theta)]."""
        raise NotImplementedError


class NormalLaw(Law):
    name = "Normal"

    def __init__(self, mean, var):
        super().__init__(mean, var)
        _check_real(self.params[0], "Normal mean")
        # variance 0 is allowed: a point mass at the mean (the parameter is then a constant)
        _check_nonnegative(self.params[1], "Normal variance")
        self._dist = crv_types.NormalDistribution(self.params[0], sp.sqrt(self.params[1]))

    @property
    def is_even(self):
        return self.params[0] == 0

    @property
    def is_degenerate(self) -> bool:
        return self.params[1] == 0

    def mgf(self, s):
        mu, var = self.params
        return sp.exp(mu * s + var * s**2 / 2)

    def characteristic_function(self, t):
        return self.mgf(sp.I * sp.sympify(t))

    def frozen(self, values):
        mu, var = self.numeric_params(values)
        if not var >= 0:
            raise ValueError(f"Normal variance must be positive or 0 (a point mass), got {var}")
        sd = math.sqrt(var)
        return lambda rng, size: rng.normal(mu, sd, size)

    def quadrature(self, n, values):
        mu, var = self.numeric_params(values)
        z, w = np.polynomial.hermite_e.hermegauss(n)
        return mu + math.sqrt(var) * z, w / math.sqrt(2 * math.pi)


class UniformLaw(Law):
    name = "Uniform"

    def __init__(self, low, high):
        super().__init__(low, high)
        _check_real(self.params[0], "Uniform low")
        _check_real(self.params[1], "Uniform high")
        _check_positive(self.params[1] - self.params[0], "Uniform high - low")
        self._dist = crv_types.UniformDistribution(*self.params)

    @property
    def is_even(self):
        return sp.simplify(self.params[0] + self.params[1]) == 0

    def mgf(self, s):
        r"""sympy.stats' :math:`(e^{hs}-e^{ls})/((h-l)s)`, written as the entire function
        :math:`e^{(h+l)s/2}\,\sinh(z)/z`, :math:`z = (h-l)s/2`, held as
        :class:`LambdaBessel` :math:`\Lambda_{1/2}(-z^2)` so that it and all its derivatives
        are exact (and numerically stable) at :math:`s = 0`.

        >>> import sympy as sp
        >>> s = sp.Symbol("s")
        >>> m = UniformLaw(-1, 1).mgf(s); m
        LambdaBessel(1/2, -s**2)
        >>> sp.diff(m, s, 2).subs(s, 0), m.rewrite(sp.sinh)
        (1/3, sinh(s)/s)
        """
        l, h = self.params
        s = sp.sympify(s)
        return sp.exp((h + l) * s / 2) * LambdaBessel(sp.S.Half, -((h - l) * s / 2) ** 2)

    def characteristic_function(self, t):
        r""":math:`e^{i(h+l)t/2}\,\mathrm{sinc}((h-l)t/2)` (sympy.stats' Piecewise, without the 0/0),
        held as :class:`LambdaBessel` :math:`\Lambda_{1/2}(((h-l)t/2)^2)`."""
        return self.mgf(sp.I * sp.sympify(t))

    def moment(self, k):
        l, h = self.params
        k = _moment_order(k)
        return sp.factor((h ** (k + 1) - l ** (k + 1)) / ((k + 1) * (h - l)))

    def frozen(self, values):
        l, h = self.numeric_params(values)
        if not h > l:
            raise ValueError(f"Uniform needs low < high, got [{l}, {h}]")
        return lambda rng, size: rng.uniform(l, h, size)

    def quadrature(self, n, values):
        l, h = self.numeric_params(values)
        v, w = np.polynomial.legendre.leggauss(n)
        return (l + h) / 2 + (h - l) / 2 * v, w / 2


class _LocationScaleLaw(Law):
    """A law with parameters (loc, scale > 0), even when loc = 0."""

    _dist_cls: Any = None

    def __init__(self, loc, scale):
        super().__init__(loc, scale)
        _check_real(self.params[0], f"{self.name} loc")
        _check_positive(self.params[1], f"{self.name} scale")
        self._dist = self._dist_cls(*self.params)

    @property
    def is_even(self):
        return self.params[0] == 0

    def frozen(self, values):
        loc, scale = self.numeric_params(values)
        if scale <= 0:
            raise ValueError(f"{self.name} scale must be positive, got {scale}")
        return lambda rng, size: loc + scale * self._standard(rng, size)


class CauchyLaw(_LocationScaleLaw):
    name = "Cauchy"
    has_mgf = False
    _dist_cls = crv_types.CauchyDistribution

    def moment_exists(self, k):
        """E[|theta|^k] is finite only for k < 1: no mean, no variance."""
        return _moment_order(k) == 0

    @staticmethod
    def _standard(rng, size):
        return rng.standard_cauchy(size)

    def quadrature(self, n, values):
        # theta = loc + scale tan(pi v / 2) maps the law onto v ~ U(-1, 1) exactly
        loc, scale = self.numeric_params(values)
        v, w = np.polynomial.legendre.leggauss(n)
        return loc + scale * np.tan(np.pi * v / 2), w / 2


class LaplaceLaw(_LocationScaleLaw):
    name = "Laplace"
    _dist_cls = crv_types.LaplaceDistribution

    def mgf_domain(self, s):
        r""":math:`E[e^{s\theta}] = e^{\mu s}/(1 - \lambda^2 s^2)` needs :math:`|\mathrm{Re}\,s| < 1/\lambda`."""
        return sp.Abs(sp.re(sp.sympify(s))) * self.params[1] < 1

    @staticmethod
    def _standard(rng, size):
        return rng.laplace(0.0, 1.0, size)

    def quadrature(self, n, values):
        loc, scale = self.numeric_params(values)
        u, w = np.polynomial.laguerre.laggauss(n)
        return np.concatenate([loc + scale * u, loc - scale * u[::-1]]), np.concatenate([w, w[::-1]]) / 2


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
        lo, hi = (_check_real(s, "a bound of the Density support", finite=False) for s in support)
        if (hi - lo).is_extended_positive is False:
            raise ValueError(f"Density support must have lo < hi, got ({lo}, {hi})")
        t = sp.Dummy("theta", real=True)
        self._t = t
        raw = pdf.subs(var, t)
        _check_density_sign(raw, t, lo, hi, pdf, var)
        Z = sp.integrate(raw, (t, lo, hi), conds="none")
        if Z.has(sp.Integral) or Z.has(sp.oo, -sp.oo, sp.zoo, sp.nan) or Z.is_positive is False or Z == 0:
            raise ValueError(
                f"density {pdf} on ({lo}, {hi}) does not normalise: its integral is {Z}"
            )
        self.Z = sp.simplify(Z)
        self.density = sp.simplify(raw / self.Z)
        self.support = (lo, hi)
        super().__init__(self.density, lo, hi)
        self._cf_cache: dict = {}
        self._mom_cache: dict = {}
        from ..core.checks import spot_check

        # the normalisation itself is checked numerically
        spot_check(self.Z, lambda vals: _quad_1d(raw, t, lo, hi, vals), f"normalisation of {pdf}",
                   extra={s.name: s for s in raw.free_symbols - {t}})

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
        r"""Whether :math:`E[|\theta|^k]` is finite: always on a bounded support, else decided by
        sympy integrating :math:`|\theta|^k p` on each half-line (None if it cannot tell)."""
        k = _moment_order(k)
        lo, hi = self.support
        if k == 0 or (lo.is_finite and hi.is_finite):
            return True
        cache = self.__dict__.setdefault("_moment_exists", {})
        if k not in cache:
            t = self._t
            pieces = [(t, 0 if (lo.is_finite is not True or lo < 0) else lo, hi)] if hi.is_finite is not True else []
            pieces += [(-t, lo, 0 if (hi.is_finite is not True or hi > 0) else hi)] if lo.is_finite is not True else []
            verdict = True
            try:
                from ..core.checks import time_limit

                for sgn, a, b in pieces:
                    with time_limit(10):
                        r = sp.integrate(sgn**k * self.density, (t, a, b), conds="none")
                    if r.has(sp.oo, -sp.oo, sp.zoo):
                        verdict = False
                        break
                    if r.has(sp.Integral, sp.nan):
                        verdict = None
            except Exception:  # noqa: BLE001 -- sympy gave up or ran out of time
                verdict = None
            cache[k] = verdict
        return cache[k]

    def moment(self, k):
        k = _moment_order(k)
        if k not in self._mom_cache:
            t, (lo, hi) = self._t, self.support
            m = sp.integrate(t**k * self.density, (t, lo, hi), conds="none")
            if m.has(sp.Integral) or m.has(sp.oo, -sp.oo, sp.zoo, sp.nan):
                raise ValueError(f"{self}: the moment of order {k} is not finite (or not integrable by sympy): {m}")
            m = sp.simplify(m)
            from ..core.checks import spot_check

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
            from ..core.checks import spot_check, time_limit

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
        except Exception:  # noqa: BLE001 -- sympy gave up or ran out of time: numeric fallback
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
        except Exception:  # noqa: BLE001 -- no finite second moment: a unit scale
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

    def characteristic_function(self, t):
        r = self._transform_or_none(sp.I * sp.sympify(t))
        if r is None:
            raise NotImplementedError(f"sympy cannot Fourier-transform {self}")
        return r

    def mgf(self, s):
        r = self._transform_or_none(s)
        if r is None:
            raise NotImplementedError(f"sympy cannot Laplace-transform {self}")
        return r

    def transform(self, s):
        return self.mgf(s)

    def tail_rates(self) -> tuple:
        r"""The exponential decay rates :math:`(\lambda_-, \lambda_+)` of the density,
        :math:`\lambda_\pm = -\lim_{\theta\to\pm\infty}\log p(\theta)/|\theta|` (``oo`` on a
        finite end of the support or for a faster than exponential tail, 0 for a power tail).
        Computed by ``sympy.limit``; raises ``NotImplementedError`` if sympy cannot decide.

        >>> import sympy as sp
        >>> b = sp.Symbol("b", real=True)
        >>> Density("b", sp.exp(-2*b), (0, sp.oo)).law.tail_rates()
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
                    from ..core.checks import time_limit

                    with time_limit(20):
                        lim = sp.limit(sp.log(self.density) / t, t, sign * sp.oo)
                except Exception as exc:  # noqa: BLE001 -- sympy gave up or ran out of time
                    raise NotImplementedError(f"cannot find the tail of {self} at {end}") from exc
                rate = -sign * lim
                if rate.has(sp.nan, sp.zoo, sp.Limit) or rate.is_extended_nonnegative is False:
                    raise NotImplementedError(f"cannot find the tail of {self} at {end}: limit {lim}")
                rates.append(rate)
            self.__dict__["_tails"] = tuple(rates)
        return self.__dict__["_tails"]

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

    def _grid(self, values, n):
        """Gauss-Legendre nodes in v mapped onto the support: density, theta, jacobian, weights."""
        f, lo, hi = self._numeric_density(values)
        v, w = np.polynomial.legendre.leggauss(n)
        th, jac = self._map_support(v, lo, hi)
        return f, th, jac, w

    def quadrature(self, n, values):
        f, th, jac, w = self._grid(values, n)
        return th, w * jac * np.broadcast_to(f(th), th.shape)

    def frozen(self, values):
        """Inverse-CDF sampling on a fine grid of the (mapped) support (grid built once)."""
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
        return lambda rng, size: np.interp(rng.uniform(0.0, 1.0, size), cdf, th)


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
    from ..core.checks import random_values

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


# --------------------------------------------------------------------------- parameter symbols
class _LawInterface:
    """The scipy.stats-like interface of a parameter, delegated to its law (per component for vectors)."""

    def pdf(self, x):
        return self.law.pdf(x)

    def moment(self, k):
        return self.law.moment(k)

    def characteristic_function(self, t):
        return self.law.characteristic_function(t)

    def mgf(self, s):
        return self.law.mgf(s)


class RandomSymbol(_LawInterface, sp.Symbol):
    """A scalar network parameter: a real sympy Symbol that carries its :class:`Law`."""

    def __new__(cls, name: str, law: Law):
        obj = sp.Symbol.__xnew__(cls, name, real=True)
        obj.law = law
        return obj

    def __getnewargs_ex__(self):
        return ((self.name, self.law), {})

    def _hashable_content(self):
        return super()._hashable_content() + (self.law.key,)

    @property
    def shape(self):
        return None

    def dot(self, other):
        """``b.dot(x)`` for a scalar parameter and a scalar (d = 1) input: ``b*x``."""
        if isinstance(other, VectorSymbol):
            raise TypeError(f"{self} is a scalar; use shape=d for a vector parameter")
        return self * other

    def sample(self, rng, size, values=None, **kw):
        return self.law.sample(rng, size, {**(values or {}), **kw})

    rvs = sample


class RandomVector(_LawInterface, VectorSymbol):
    """A vector parameter of ``dim`` i.i.d. components, each with law ``law``."""

    def __new__(cls, name: str, dim, law: Law):
        obj = VectorSymbol.__new__(cls, name, dim)
        obj.law = law
        return obj

    def __getnewargs_ex__(self):
        return ((self.name, self.dim, self.law), {})

    def _hashable_content(self):
        return super()._hashable_content() + (self.law.key,)

    @property
    def shape(self):
        return self.dim

    def dot(self, other):
        from ..core.vectors import dot

        return dot(self, other)

    def __getitem__(self, j):
        return Component(self, j)

    @property
    def is_isotropic_gaussian(self) -> bool:
        return isinstance(self.law, NormalLaw)

    @property
    def components(self) -> str:
        """'joint' for a law of the whole vector, 'iid' for i.i.d. components."""
        return "joint" if self.law.joint else "iid"

    def sample(self, rng, size, values=None, **kw):
        vals = {**(values or {}), **kw}
        d = self.dim
        if not d.is_Integer:
            d = int(numeric_value(d, vals, f"dimension of {self}"))
        size = (size,) if np.isscalar(size) else tuple(size)
        return self.law.sample(rng, size + (int(d),), vals)

    rvs = sample


def _make(name, law, shape):
    if not isinstance(name, str) or not name:
        raise TypeError(f"a parameter name must be a non-empty string, got {name!r}")
    if isinstance(shape, (bool, np.bool_)) or (isinstance(shape, (float, np.floating)) and not float(shape).is_integer()):
        raise TypeError(f"shape must be a positive integer dimension (or a Symbol), got {shape!r}")
    if isinstance(shape, (float, np.floating)):
        shape = int(shape)
    if shape is None or (sp.sympify(shape).is_Integer and int(shape) == 1):
        return RandomSymbol(name, law)
    shape = sp.sympify(shape)
    if shape.is_number and shape.is_integer is not True:
        raise TypeError(f"shape must be a positive integer dimension (or a Symbol), got {shape}")
    if not (shape.is_Integer or shape.is_Symbol) or shape.is_integer is False:
        raise ValueError(f"shape must be a positive integer dimension or a Symbol, got {shape}")
    if shape.is_positive is False or (shape.is_Integer and int(shape) < 1):
        raise ValueError(f"shape must be a positive dimension, got {shape}")
    return RandomVector(name, shape, law)


def Normal(name: str, mean, var, shape=None):
    r"""Gaussian parameter :math:`\theta\sim\mathcal N(\mathrm{mean}, \mathrm{var})` (``var`` is the variance).

    >>> b = Normal("b", 0, 2, shape=3); b.dim, b.law.moment(2)
    (3, 2)
    """
    return _make(name, NormalLaw(mean, var), shape)


def Uniform(name: str, low, high, shape=None):
    r"""Uniform parameter on :math:`[\mathrm{low}, \mathrm{high}]`.

    >>> Uniform("c", -1, 1).law.is_even
    True
    """
    return _make(name, UniformLaw(low, high), shape)


def Cauchy(name: str, loc, scale, shape=None):
    r"""Cauchy parameter, density :math:`\mathrm{scale}/(\pi((\theta-\mathrm{loc})^2+\mathrm{scale}^2))`.

    >>> import sympy as sp
    >>> Cauchy("b", 0, 2).characteristic_function(sp.Symbol("t"))
    exp(-2*Abs(t))
    """
    return _make(name, CauchyLaw(loc, scale), shape)


def Laplace(name: str, loc, scale, shape=None):
    r"""Laplace parameter, density :math:`e^{-|\theta-\mathrm{loc}|/\mathrm{scale}}/(2\,\mathrm{scale})`.

    >>> Laplace("w", 0, 3).moment(2)
    18
    """
    return _make(name, LaplaceLaw(loc, scale), shape)


def Density(name: str, pdf, support, shape=None):
    r"""A user law with density proportional to ``pdf`` (a sympy expression in the
    symbol called ``name``) on ``support = (lo, hi)``; normalised here.

    >>> import sympy as sp
    >>> b = sp.Symbol("b", real=True)
    >>> Density("b", sp.exp(-b**2/2), (-sp.oo, sp.oo)).moment(2)
    1
    """
    pdf = sp.sympify(pdf)
    var = next((s for s in pdf.free_symbols if s.name == name), None)
    if var is None:
        if pdf.free_symbols and isinstance(name, str):
            used = ", ".join(sorted(s.name for s in pdf.free_symbols))
            raise ValueError(f"the pdf {pdf} does not depend on the symbol called {name!r} (it uses {used}): "
                             f"write the density in sympy.Symbol({name!r}), the parameter's own name")
        var = sp.Symbol(name if isinstance(name, str) and name else "_theta_", real=True)
    return _make(name, DensityLaw(var, pdf, support), shape)


def is_random(s) -> bool:
    return isinstance(s, (RandomSymbol, RandomVector))


def random_atoms(expr) -> set:
    """The random parameters (scalar or vector) appearing in ``expr``."""
    return {s for s in sp.sympify(expr).free_symbols if is_random(s)}


# --------------------------------------------------------------------------- joint laws (issue 4)
class LambdaBessel(sp.Function):
    r"""The Bessel "Lambda function" of the uniform ball, written in the *squared* argument:

    .. math:: \Lambda_\nu(s) = \Gamma(\nu+1)\Big(\frac{2}{\sqrt s}\Big)^{\nu} J_\nu(\sqrt s)
              = {}_0F_1\big(;\nu+1;-s/4\big),\qquad \Lambda_\nu(0) = 1 .

    It is entire in ``s`` (no 0/0 at the origin), so it evaluates correctly at
    ``s = 0``; for ``s < 0`` it is the modified-Bessel continuation. ``rewrite(sp.besselj)``
    gives the Bessel form; numerically it is ``scipy.special.hyp0f1``.

    >>> import sympy as sp
    >>> LambdaBessel(sp.Rational(3, 2), 0)
    1
    >>> z = sp.Symbol("z", positive=True)
    >>> sp.simplify(LambdaBessel(sp.S.Half, z**2).rewrite(sp.besselj) - sp.sin(z)/z)
    0
    """

    nargs = 2

    @classmethod
    def eval(cls, nu, s):
        if s == 0:
            return sp.S.One
        if s.is_number and s.is_extended_real and nu.is_number and (2 * nu).is_odd and nu > 0:
            # half-integer order at a number: elementary (e.g. sin(2 pi)/(2 pi) = 0 exactly)
            if s.is_positive:
                z = sp.sqrt(s)
                form = sp.gamma(nu + 1) * (2 / z) ** nu * sp.besselj(nu, z)
            else:
                z = sp.sqrt(-s)
                form = sp.gamma(nu + 1) * (2 / z) ** nu * sp.besseli(nu, z)
            return sp.simplify(form.expand(func=True))
        return None

    def fdiff(self, argindex=2):
        if argindex != 2:
            raise sp.ArgumentIndexError(self, argindex)
        nu, s = self.args
        return -LambdaBessel(nu + 1, s) / (4 * (nu + 1))

    def _eval_is_real(self):
        nu, s = self.args
        if nu.is_extended_real and s.is_extended_real:
            return True
        return None

    def as_real_imag(self, deep=True, **hints):
        if self.is_extended_real:
            return (self, sp.S.Zero)
        return super().as_real_imag(deep=deep, **hints)

    def _eval_conjugate(self):
        if self.is_extended_real:
            return self
        return None

    def _eval_rewrite_as_besselj(self, nu, s, **kwargs):
        z = sp.sqrt(s)
        return sp.gamma(nu + 1) * (2 / z) ** nu * sp.besselj(nu, z)

    def _eval_rewrite_as_sinh(self, nu, s, **kwargs):
        if nu != sp.S.Half:
            return None
        z = _square_root(-s)
        return sp.sinh(z) / z

    def _eval_rewrite_as_sin(self, nu, s, **kwargs):
        if nu != sp.S.Half:
            return None
        z = _square_root(s)
        return sp.sin(z) / z

    def _eval_rewrite_as_hyper(self, nu, s, **kwargs):
        return sp.hyper([], [nu + 1], -s / 4)

    def _eval_evalf(self, prec):
        nu, s = self.args
        if nu.is_number and s.is_number:
            return sp.hyper([], [nu + 1], -s / 4)._eval_evalf(prec)
        return None

    def _numpycode(self, printer):
        nu, s = self.args
        return "%s(%s, -(%s)/4)" % (
            printer._module_format("scipy.special.hyp0f1"), printer._print(nu + 1), printer._print(s))

    _scipycode = _numpycode

    def _mpmathcode(self, printer):
        nu, s = self.args
        return "%s([], [%s], -(%s)/4)" % (printer._module_format("mpmath.hyper"), printer._print(nu + 1), printer._print(s))

    def _latex(self, printer, exp=None):
        nu, s = self.args
        out = None
        if nu == sp.S.Half:  # the uniform law's sinh(z)/z or sin(z)/z, as a paper writes it
            neg = sp.factor(-s)
            if neg.could_extract_minus_sign():
                z, fn = _square_root(s), r"\sin"
            else:
                z, fn = _square_root(neg), r"\sinh"
            if not z.is_Pow or z.exp != sp.S.Half:
                pz = printer._print(z)
                out = r"\frac{%s{\left(%s \right)}}{%s}" % (fn, pz, pz)
        if out is None:
            out = r"\Lambda_{%s}\left(\sqrt{%s}\right)" % (printer._print(nu), printer._print(s))
        return out if exp is None else r"%s^{%s}" % (out, exp)


class RemovableSingularity(sp.Function):
    r"""A function :math:`f(s)` with a removable singularity at :math:`s = 0`, held as
    ``RemovableSingularity(closed, taylor, s, radius)``: ``closed`` is sympy's closed form
    (e.g. :math:`(e^{s} - 1 - s)/s^2`, 0/0 at the origin) and ``taylor`` its Taylor polynomial
    at 0. Numerically the Taylor polynomial is used for :math:`|s| < \mathrm{radius}`, where
    the closed form cancels catastrophically; symbolically it prints as the closed form.
    Derivatives act on both, so :math:`E[\theta^k e^{s\theta}]` is exact at :math:`s = 0` too.

    >>> import sympy as sp
    >>> s = sp.Symbol("s")
    >>> f = guard_removable((sp.exp(s) - 1 - s)/s**2, s, 1); f.subs(s, 0)
    1/2
    >>> import numpy as np
    >>> float(sp.lambdify([s], f, "numpy")(np.array(1e-9)))
    0.5000000001666667
    """

    nargs = 4

    @classmethod
    def eval(cls, closed, taylor, s, radius):
        if s == 0:
            return taylor
        if s.is_number and closed.is_number:
            return closed
        return None

    @property
    def closed(self):
        return self.args[0]

    def _eval_derivative(self, x):
        closed, taylor, s, radius = self.args
        return self.func(sp.diff(closed, x), sp.diff(taylor, x), s, radius)

    def _eval_is_real(self):
        return self.args[0].is_extended_real

    def _eval_rewrite_as_Piecewise(self, closed, taylor, s, radius, **kwargs):
        return sp.Piecewise((taylor, sp.Abs(s) < radius), (closed, True))

    def _numpycode(self, printer):
        closed, taylor, s, radius = self.args
        where = printer._module_format("numpy.where")
        return "%s(abs(%s) < %s, %s, %s)" % (where, printer._print(s), printer._print(radius),
                                              printer._print(taylor), printer._print(closed))

    _scipycode = _numpycode

    def _sympystr(self, printer):
        return printer._print(self.args[0])

    def _latex(self, printer, exp=None):
        out = printer._print(self.args[0])
        return out if exp is None else r"\left(%s\right)^{%s}" % (out, exp)


def guard_removable(expr, s, scale, order: int = 18):
    r"""Wrap ``expr`` (a function of ``s``) in :class:`RemovableSingularity` if its denominator
    vanishes at ``s = 0``; the Taylor polynomial of order ``order`` is used for
    :math:`|s|\,\mathrm{scale} < 1/2`."""
    den = sp.denom(sp.together(expr))
    if not den.has(s) or den.subs(s, 0) != 0:
        return expr
    taylor = sp.series(expr, s, 0, order).removeO()
    if taylor.has(sp.Order, sp.nan, sp.zoo) or not taylor.is_polynomial(s):
        raise NotImplementedError(f"no Taylor polynomial of {expr} at {s} = 0")
    return RemovableSingularity(expr, sp.expand(taylor), s, 1 / (2 * sp.sympify(scale)))


def _square_root(q):
    """A square root of ``q`` without absolute values (for the even functions above)."""
    q = sp.factor(q)
    if q.is_Pow and q.exp.is_even:
        return q.base ** (q.exp / 2)
    if q.is_Mul:
        return sp.Mul(*[_square_root(f) for f in q.args])
    return sp.sqrt(q)


def _sphere_rule(D: int, n: int):
    """Nodes (K, D) and weights (K,) (summing to 1) on the unit sphere S^{D-1}: exact for
    polynomials of degree < 2n in each polar angle's cosine and for trigonometric
    polynomials of degree < n in the azimuth."""
    from scipy.special import roots_jacobi

    if D == 1:
        return np.array([[1.0], [-1.0]]), np.array([0.5, 0.5])
    if D == 2:
        m = n
        phi = 2 * np.pi * (np.arange(m) + 0.5) / m
        return np.stack([np.cos(phi), np.sin(phi)], axis=-1), np.full(m, 1.0 / m)
    a = (D - 3) / 2.0
    t, wt = roots_jacobi(n, a, a)  # weight (1 - t^2)^{(D-3)/2}
    wt = wt / wt.sum()
    sub, ws = _sphere_rule(D - 1, n)
    nodes = np.concatenate([t[:, None, None] * np.ones((1, len(ws), 1)),
                            np.sqrt(1 - t**2)[:, None, None] * sub[None, :, :]], axis=-1)
    return nodes.reshape(-1, D), (wt[:, None] * ws[None, :]).reshape(-1)


class UniformBallLaw(Law):
    r"""The uniform law on the ball :math:`|b| < R` of :math:`\mathbb R^d` (a *joint* vector law).

    .. math:: P(b) = \frac{\Theta(R - |b|)}{\mathrm{vol}(B_R)},\qquad
              \mathrm{vol}(B_R) = \frac{\pi^{d/2}R^d}{\Gamma(d/2+1)},\qquad
              E[e^{i b\cdot k}] = \Gamma\!\big(\tfrac d2+1\big)\Big(\frac{2}{R|k|}\Big)^{d/2} J_{d/2}(R|k|)

    (the characteristic function is :class:`LambdaBessel`, equal to 1 at ``k = 0``).

    >>> import sympy as sp
    >>> from nnsym.core.vectors import VectorSymbol
    >>> law = UniformBallLaw(2, 3); k = VectorSymbol("k", 3)
    >>> law.characteristic_function(k)
    LambdaBessel(3/2, 4*Dot(k, k))
    >>> law.volume, law.moment(2)
    (32*pi/3, 4/5)
    """

    name = "UniformBall"
    joint = True

    def __init__(self, radius, dim):
        super().__init__(radius, dim)
        _check_positive(self.params[0], "UniformBall radius")
        d = self.params[1]
        if d.is_Integer:
            if int(d) < 1:
                raise ValueError(f"UniformBall dimension must be >= 1, got {d}")
        elif not d.is_Symbol or d.is_positive is False:
            raise ValueError(f"UniformBall dimension must be a positive integer or a Symbol, got {d}")

    @property
    def radius(self):
        return self.params[0]

    @property
    def dim(self):
        return self.params[1]

    @property
    def is_even(self):
        return True

    @property
    def volume(self) -> sp.Expr:
        r""":math:`\mathrm{vol}(B_R) = \pi^{d/2}R^d/\Gamma(d/2+1)`."""
        R, d = self.params
        return sp.pi ** (d / 2) * R**d / sp.gamma(d / 2 + 1)

    def _sq(self, v):
        v = sp.sympify(v)
        from ..core.vectors import vector_atoms

        return Dot(v, v) if vector_atoms(v) else v**2

    def vector_pdf(self, v) -> sp.Expr:
        """The density at the vector ``v`` (a Piecewise: ``1/vol`` inside the ball, 0 outside)."""
        return sp.Piecewise((1 / self.volume, self._sq(v) <= self.radius**2), (0, True))

    pdf = vector_pdf

    def characteristic_function(self, t) -> sp.Expr:
        return LambdaBessel(self.dim / 2, self.radius**2 * self._sq(t))

    def mgf(self, s) -> sp.Expr:
        return LambdaBessel(self.dim / 2, -self.radius**2 * self._sq(s))

    def vector_transform(self, v, dim) -> sp.Expr:
        r""":math:`E[e^{b\cdot v}]` for a vector expression ``v`` (``v = i k`` gives the
        characteristic function): :math:`\Lambda_{d/2}(-R^2\, v\cdot v)`."""
        if sp.sympify(dim) != self.dim:
            raise ValueError(f"{self}: a vector of dimension {dim} does not match the ball's dimension {self.dim}")
        return self.mgf(v)

    transform = mgf

    def moment(self, k: int) -> sp.Expr:
        r"""Moment of one Cartesian component, :math:`E[b_1^k] = R^k\,\Gamma(\frac d2+1)\Gamma(\frac{k+1}2)/(\sqrt\pi\,\Gamma(\frac{d+k}2+1))`
        for even ``k`` (0 for odd ``k``)."""
        k = _moment_order(k)
        if k % 2:
            return sp.S.Zero
        R, d = self.params
        return sp.simplify(R**k * sp.gamma(d / 2 + 1) * sp.gamma(sp.Rational(k + 1, 2))
                           / (sp.sqrt(sp.pi) * sp.gamma((d + k) / 2 + 1)))

    def _numeric_dim(self, D, values):
        d = self.dim
        if d.is_Integer:
            if D is not None and int(D) != int(d):
                raise ValueError(f"{self}: asked for vectors of dimension {D} from a ball in d = {d}")
            return int(d)
        if D is None:
            return int(numeric_value(d, values, f"dimension of {self}"))
        return int(D)

    def sample(self, rng, size, values=None):
        """``size`` is a tuple ending in the dimension D: uniform direction times ``R U^{1/D}``."""
        _check_rng(rng)
        values = values or {}
        size = (size,) if np.isscalar(size) else tuple(size)
        if not size:
            raise ValueError("UniformBall.sample needs a size ending in the dimension d")
        D = self._numeric_dim(size[-1], values)
        R = numeric_value(self.radius, values, f"radius of {self}")
        if R <= 0:
            raise ValueError(f"UniformBall radius must be positive, got {R}")
        g = rng.standard_normal(size)
        g /= np.linalg.norm(g, axis=-1, keepdims=True)
        r = R * rng.uniform(0.0, 1.0, size[:-1] + (1,)) ** (1.0 / D)
        return g * r

    def vector_quadrature(self, n: int, D: int, values) -> tuple[np.ndarray, np.ndarray]:
        """Product rule: radial Gauss-Jacobi (weight r^{D-1}) times a spherical product rule
        (Gauss-Gegenbauer in the polar cosines, equal-angle in the azimuth). Weights sum to 1."""
        from scipy.special import roots_jacobi

        D = self._numeric_dim(D, values)
        R = numeric_value(self.radius, values, f"radius of {self}")
        n = max(2, int(n))
        while n > 2 and n ** max(D, 1) > 400_000:
            n -= 1
        x, wr = roots_jacobi(n, 0.0, D - 1.0)
        r = R * (1 + x) / 2
        wr = wr / wr.sum()
        u, wu = _sphere_rule(D, n)
        nodes = (r[:, None, None] * u[None, :, :]).reshape(-1, D)
        return nodes, (wr[:, None] * wu[None, :]).reshape(-1)

    def quadrature(self, n, values):
        raise NotImplementedError("UniformBall is a joint law of a vector: use vector_quadrature(n, D, values)")


def UniformBall(name: str, radius, dim):
    r"""A vector parameter uniform on the ball :math:`|b| < \mathrm{radius}` of :math:`\mathbb R^{\mathrm{dim}}`.

    Returns a :class:`RandomVector` with the joint :class:`UniformBallLaw` (in ``dim = 1``,
    where inputs are scalars, the scalar ``Uniform(name, -radius, radius)``).

    >>> b = UniformBall("b", 1, 3); b.dim, b.law.joint
    (3, True)
    """
    dim = sp.sympify(dim)
    if dim.is_Integer and int(dim) == 1:
        return Uniform(name, -radius, radius)
    if not isinstance(name, str) or not name:
        raise TypeError(f"a parameter name must be a non-empty string, got {name!r}")
    return RandomVector(name, dim, UniformBallLaw(radius, dim))


__all__ += ["UniformBall", "UniformBallLaw", "LambdaBessel", "RemovableSingularity", "guard_removable"]
