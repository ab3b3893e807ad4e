r"""Random parameters: sympy symbols that carry their law.

The object a constructor returns *is* the parameter, so it can be written straight into a
neuron,

>>> import sympy as sp
>>> c = Uniform("c", -sp.pi, sp.pi)
>>> sp.cos(c).has(c), c.law.moment(2)
(True, pi**2/3)

and it offers one interface for every law (as scipy.stats does): ``pdf``, ``moment``,
``characteristic_function``, ``mgf``, ``sample``, delegated to its law
(:class:`~nnsym.core.laws.Law`, the protocol). ``RandomSymbol(name, law)`` makes a scalar
parameter of any law, ``RandomVector(name, dim, law)`` a vector one (i.i.d. components, or a
joint law of the vector).

Conventions: ``Normal(name, mean, var)`` takes the *variance*;
``Laplace(name, loc, scale)`` has density :math:`e^{-|b-\mathrm{loc}|/\mathrm{scale}}/(2\,\mathrm{scale})`;
``Density(name, pdf, support)`` normalises a user density.
"""
from __future__ import annotations

import numpy as np
import sympy as sp

from .density import DensityLaw
from .joint_laws import UniformBallLaw
from .laws import Law, numeric_value
from .scalar_laws import CauchyLaw, LaplaceLaw, NormalLaw, UniformLaw
from .vectors import Component, VectorSymbol, dot

__all__ = [
    "RandomSymbol",
    "RandomVector",
    "Normal",
    "Uniform",
    "Cauchy",
    "Laplace",
    "Density",
    "UniformBall",
    "is_random",
    "random_atoms",
    "random_parameter",
    "numeric_value",
]


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
        return dot(self, other)

    def __getitem__(self, j):
        return Component(self, j)

    @property
    def is_isotropic_gaussian(self) -> bool:
        """True if the components are i.i.d. Gaussian (of any mean)."""
        return self.law.is_gaussian and not self.law.is_joint

    @property
    def components(self) -> str:
        """'joint' for a law of the whole vector, 'iid' for i.i.d. components."""
        return "joint" if self.law.is_joint else "iid"

    def sample(self, rng, size, values=None, **kw):
        vals = {**(values or {}), **kw}
        d = self.dim
        if not d.is_Integer:
            d = int(numeric_value(d, vals, f"dimension of {self}"))
        size = (size,) if np.isscalar(size) else tuple(size)
        return self.law.sample(rng, size + (int(d),), vals)

    rvs = sample


def random_parameter(name: str, law: Law, shape=None) -> "RandomSymbol | RandomVector":
    r"""A random parameter of any law: a scalar :math:`\theta\sim P` (``shape`` None or 1) or a
    vector :math:`b\in\mathbb R^{d}` with i.i.d. components :math:`b_j\sim P` (``shape = d``, an
    int or a Symbol). Every constructor (:func:`Normal`, :func:`Uniform`, ...) is one call of it,
    so a new law needs no other change here:

    >>> from nnsym.core.scalar_laws import LaplaceLaw
    >>> b = random_parameter("b", LaplaceLaw(0, 1), shape=2); b.dim, b.law.moment(2)
    (2, 2)
    """
    if not isinstance(name, str) or not name:
        raise TypeError(f"a parameter name must be a non-empty string, got {name!r}")
    fractional = isinstance(shape, (float, np.floating)) and not float(shape).is_integer()
    if isinstance(shape, (bool, np.bool_)) or fractional:
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
    return random_parameter(name, NormalLaw(mean, var), shape)


def Uniform(name: str, low, high, shape=None):
    r"""Uniform parameter on :math:`[\mathrm{low}, \mathrm{high}]`.

    >>> Uniform("c", -1, 1).law.is_even
    True
    """
    return random_parameter(name, UniformLaw(low, high), shape)


def Cauchy(name: str, loc, scale, shape=None):
    r"""Cauchy parameter, density :math:`\mathrm{scale}/(\pi((\theta-\mathrm{loc})^2+\mathrm{scale}^2))`.

    >>> import sympy as sp
    >>> Cauchy("b", 0, 2).characteristic_function(sp.Symbol("t"))
    exp(-2*Abs(t))
    """
    return random_parameter(name, CauchyLaw(loc, scale), shape)


def Laplace(name: str, loc, scale, shape=None):
    r"""Laplace parameter, density :math:`e^{-|\theta-\mathrm{loc}|/\mathrm{scale}}/(2\,\mathrm{scale})`.

    >>> Laplace("w", 0, 3).moment(2)
    18
    """
    return random_parameter(name, LaplaceLaw(loc, scale), shape)


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
    return random_parameter(name, DensityLaw(var, pdf, support), shape)


def is_random(s) -> bool:
    """True for a random parameter (a :class:`RandomSymbol` or :class:`RandomVector`).

    >>> is_random(Normal("a", 0, 1)), is_random(sp.Symbol("a"))
    (True, False)
    """
    return isinstance(s, (RandomSymbol, RandomVector))


def random_atoms(expr) -> set:
    """The random parameters (scalar or vector) appearing in ``expr``.

    >>> a, x = Normal("a", 0, 1), sp.Symbol("x")
    >>> random_atoms(a * sp.cos(x))
    {a}
    """
    return {s for s in sp.sympify(expr).free_symbols if is_random(s)}


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
