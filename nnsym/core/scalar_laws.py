r"""The built-in scalar laws: Normal, Uniform, Cauchy and Laplace.

Each is a :class:`~nnsym.core.laws.Law` (the protocol) with sympy.stats' formulas and
numpy's ``Generator`` samplers.

Conventions: ``NormalLaw(mean, var)`` takes the *variance* (0 is a point mass);
``LaplaceLaw(loc, scale)`` has density :math:`e^{-|\theta-\mathrm{loc}|/\mathrm{scale}}/(2\,\mathrm{scale})`;
``CauchyLaw(loc, scale)`` has density
:math:`\mathrm{scale}/(\pi((\theta-\mathrm{loc})^2+\mathrm{scale}^2))` and no moments.

>>> NormalLaw(0, 2).variance, UniformLaw(-1, 3).variance, LaplaceLaw(1, 3).variance
(2, 4/3, 18)
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import sympy as sp
from sympy.stats import crv_types

from .laws import Law, check_nonnegative, check_positive, check_real, moment_order
from .special import LambdaBessel

__all__ = ["NormalLaw", "UniformLaw", "CauchyLaw", "LaplaceLaw"]


class NormalLaw(Law):
    r"""The Gaussian :math:`\mathcal N(\mu, \sigma^2)`, ``params = (mean, var)``; variance 0 is a
    point mass at the mean.

    .. math:: P(\theta) = \frac{e^{-(\theta-\mu)^2/2\sigma^2}}{\sqrt{2\pi\sigma^2}},\qquad
              E[e^{s\theta}] = e^{\mu s + \sigma^2 s^2/2}

    >>> import sympy as sp
    >>> law = NormalLaw(0, sp.Symbol("v", positive=True))
    >>> law.mgf(sp.Symbol("s")), law.is_gaussian, law.is_isotropic
    (exp(s**2*v/2), True, True)
    """

    name = "Normal"

    def __init__(self, mean, var):
        super().__init__(mean, var)
        check_real(self.params[0], "Normal mean")
        # variance 0 is allowed: a point mass at the mean (the parameter is then a constant)
        check_nonnegative(self.params[1], "Normal variance")
        self._dist = crv_types.NormalDistribution(self.params[0], sp.sqrt(self.params[1]))

    @property
    def mean(self) -> sp.Expr:
        r""":math:`\mu`."""
        return self.params[0]

    @property
    def variance(self) -> sp.Expr:
        r""":math:`\sigma^2`."""
        return self.params[1]

    @property
    def support(self) -> tuple:
        r""":math:`(-\infty, \infty)`, or the point ``(mean, mean)`` for variance 0."""
        if self.is_degenerate:
            return (self.params[0], self.params[0])
        return (-sp.oo, sp.oo)

    @property
    def is_bounded(self) -> bool:
        return self.is_degenerate

    @property
    def is_even(self):
        return self.params[0] == 0

    @property
    def is_gaussian(self) -> bool:
        return True

    @property
    def is_isotropic(self) -> bool:
        """i.i.d. centred Gaussian components make an isotropic vector."""
        return self.params[0] == 0

    @property
    def is_degenerate(self) -> bool:
        return self.params[1] == 0

    def mgf(self, s):
        mu, var = self.params
        return sp.exp(mu * s + var * s**2 / 2)

    def characteristic_function(self, t):
        return self.mgf(sp.I * sp.sympify(t))

    def frozen(self, values, xp=None):
        mu, var = self.numeric_params(values)
        if not var >= 0:
            raise ValueError(f"Normal variance must be positive or 0 (a point mass), got {var}")
        sd = math.sqrt(var)
        return lambda rng, size: rng.normal(mu, sd, size)

    def quadrature(self, n, values):
        """Gauss-Hermite (probabilists'), exact for polynomials of degree < 2n."""
        mu, var = self.numeric_params(values)
        z, w = np.polynomial.hermite_e.hermegauss(n)
        return mu + math.sqrt(var) * z, w / math.sqrt(2 * math.pi)


class UniformLaw(Law):
    r"""The uniform law on :math:`[l, h]`, ``params = (low, high)``.

    >>> import sympy as sp
    >>> law = UniformLaw(-sp.pi, sp.pi)
    >>> law.variance, law.is_uniform_phase(1), law.is_uniform_phase(sp.Rational(1, 2))
    (pi**2/3, True, False)
    """

    name = "Uniform"

    def __init__(self, low, high):
        super().__init__(low, high)
        check_real(self.params[0], "Uniform low")
        check_real(self.params[1], "Uniform high")
        check_positive(self.params[1] - self.params[0], "Uniform high - low")
        self._dist = crv_types.UniformDistribution(*self.params)

    @property
    def support(self) -> tuple:
        return self.params

    @property
    def is_bounded(self) -> bool:
        return True  # the bounds are finite by construction

    @property
    def is_even(self):
        return sp.simplify(self.params[0] + self.params[1]) == 0

    @property
    def variance(self) -> sp.Expr:
        r""":math:`(h - l)^2/12`."""
        l, h = self.params
        return sp.factor((h - l) ** 2 / 12)

    def is_uniform_phase(self, s=1) -> bool:
        r""":math:`s\theta` covers whole periods: :math:`s(h - l)/2\pi` is a non-zero integer."""
        l, h = self.params
        k = sp.simplify(sp.sympify(s) * (h - l) / (2 * sp.pi))
        return bool(k.is_integer and k != 0)

    def mgf(self, s):
        r"""sympy.stats' :math:`(e^{hs}-e^{ls})/((h-l)s)`, written as the entire function
        :math:`e^{(h+l)s/2}\,\sinh(z)/z`, :math:`z = (h-l)s/2`, held as
        :class:`~nnsym.core.special.LambdaBessel` :math:`\Lambda_{1/2}(-z^2)` so that it and all
        its derivatives are exact (and numerically stable) at :math:`s = 0`.

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
        held as :class:`~nnsym.core.special.LambdaBessel` :math:`\Lambda_{1/2}(((h-l)t/2)^2)`."""
        return self.mgf(sp.I * sp.sympify(t))

    def moment(self, k):
        r""":math:`E[\theta^k] = (h^{k+1} - l^{k+1})/((k+1)(h-l))`."""
        l, h = self.params
        k = moment_order(k)
        return sp.factor((h ** (k + 1) - l ** (k + 1)) / ((k + 1) * (h - l)))

    def frozen(self, values, xp=None):
        l, h = self.numeric_params(values)
        if not h > l:
            raise ValueError(f"Uniform needs low < high, got [{l}, {h}]")
        return lambda rng, size: rng.uniform(l, h, size)

    def quadrature(self, n, values):
        """Gauss-Legendre, exact for polynomials of degree < 2n."""
        l, h = self.numeric_params(values)
        v, w = np.polynomial.legendre.leggauss(n)
        return (l + h) / 2 + (h - l) / 2 * v, w / 2


class _LocationScaleLaw(Law):
    """A law with parameters (loc, scale > 0), even when loc = 0; ``_standard(rng, size)``
    draws the law of loc 0 and scale 1."""

    _dist_cls: Any = None

    def __init__(self, loc, scale):
        super().__init__(loc, scale)
        check_real(self.params[0], f"{self.name} loc")
        check_positive(self.params[1], f"{self.name} scale")
        self._dist = self._dist_cls(*self.params)

    @property
    def is_even(self):
        return self.params[0] == 0

    def frozen(self, values, xp=None):
        loc, scale = self.numeric_params(values)
        if scale <= 0:
            raise ValueError(f"{self.name} scale must be positive, got {scale}")
        return lambda rng, size: loc + scale * self._standard(rng, size)


class CauchyLaw(_LocationScaleLaw):
    r"""The Cauchy law, ``params = (loc, scale)``: :math:`E[e^{it\theta}] = e^{i\,\mathrm{loc}\,t - \mathrm{scale}|t|}`;
    no mean, no variance, no exponential moments.

    >>> CauchyLaw(0, 1).moment_exists(1), CauchyLaw(0, 1).is_even
    (False, True)
    """

    name = "Cauchy"
    has_mgf = False
    _dist_cls = crv_types.CauchyDistribution

    def moment_exists(self, k):
        """E[|theta|^k] is finite only for k < 1: no mean, no variance."""
        return moment_order(k) == 0

    @staticmethod
    def _standard(rng, size):
        return rng.standard_cauchy(size)

    def quadrature(self, n, values):
        r"""Gauss-Legendre in :math:`v`, with :math:`\theta = \mathrm{loc} + \mathrm{scale}\tan(\pi v/2)`."""
        # theta = loc + scale tan(pi v / 2) maps the law onto v ~ U(-1, 1) exactly
        loc, scale = self.numeric_params(values)
        v, w = np.polynomial.legendre.leggauss(n)
        return loc + scale * np.tan(np.pi * v / 2), w / 2


class LaplaceLaw(_LocationScaleLaw):
    r"""The Laplace law, ``params = (loc, scale)``, density
    :math:`e^{-|\theta-\mathrm{loc}|/\mathrm{scale}}/(2\,\mathrm{scale})`.

    >>> import sympy as sp
    >>> LaplaceLaw(0, 2).mgf_domain(sp.Symbol("s", real=True))
    2*Abs(s) < 1
    """

    name = "Laplace"
    _dist_cls = crv_types.LaplaceDistribution

    @property
    def variance(self) -> sp.Expr:
        r""":math:`2\,\mathrm{scale}^2`."""
        return 2 * self.params[1] ** 2

    def mgf_domain(self, s):
        r""":math:`E[e^{s\theta}] = e^{\mu s}/(1 - \lambda^2 s^2)` needs :math:`|\mathrm{Re}\,s| < 1/\lambda`."""
        return sp.Abs(sp.re(sp.sympify(s))) * self.params[1] < 1

    @staticmethod
    def _standard(rng, size):
        return rng.laplace(0.0, 1.0, size)

    def quadrature(self, n, values):
        """Gauss-Laguerre on each half-line (2n nodes)."""
        loc, scale = self.numeric_params(values)
        u, w = np.polynomial.laguerre.laggauss(n)
        return np.concatenate([loc + scale * u, loc - scale * u[::-1]]), np.concatenate([w, w[::-1]]) / 2
