r"""The law protocol: what nnsym asks of the prior :math:`P(\theta)` of a parameter.

A law answers questions about :math:`\theta`, in sympy (exact) and in numpy (numbers):

=====================================  ==========================================================
capability                             meaning
=====================================  ==========================================================
``pdf(x)``                             the density :math:`P(x)`
``mgf(s)``, ``characteristic_function``  :math:`E[e^{s\theta}]`, :math:`E[e^{it\theta}]`
``transform(s)``, ``mgf_domain(s)``    :math:`E[e^{s\theta}]` for complex ``s``; where it converges
``moment(k)``, ``moment_exists(k)``    :math:`E[\theta^k]`; whether :math:`E[|\theta|^k] < \infty`
``mean``, ``variance``                 :math:`E[\theta]`, :math:`E[(\theta - E\theta)^2]`
``support``, ``is_bounded``            :math:`(\mathrm{lo}, \mathrm{hi})`; whether both are finite
``is_even``, ``is_gaussian``,          :math:`P(\theta) = P(-\theta)`; a Normal law (a point mass
``is_isotropic``, ``is_degenerate``    included); a vector of this law is :math:`O(d)` invariant;
                                       a point mass
``is_uniform_phase(s)``                :math:`s\theta \bmod 2\pi` is uniform on the circle
``is_joint``                           a law of a whole vector, not of i.i.d. components
``frozen(values, xp)``, ``sample``     draws from a random generator, for the array namespace ``xp``
``quadrature(n, values)``              an n-point rule :math:`E[f(\theta)] \approx \sum_j w_j f(\theta_j)`
=====================================  ==========================================================

Every module of nnsym asks a law these questions and nothing else: none tests a law's class
or reads its ``params``. The built-in laws live in :mod:`nnsym.core.scalar_laws`
(Normal, Uniform, Cauchy, Laplace), :mod:`nnsym.core.density` (a user density) and
:mod:`nnsym.core.joint_laws` (the uniform ball); the parameters that carry them, and their
constructors ``Normal(...)``, ``Uniform(...)``, ..., in :mod:`nnsym.core.random`.
The checks below (:func:`check_real`, :func:`check_positive`, ...) are the ones the
built-in laws use on their parameters; a new law may use them too.
"""
from __future__ import annotations

from typing import Any, Callable, Mapping

import numpy as np
import sympy as sp

from ..errors import DivergentExpectation

__all__ = [
    "Law",
    "numeric_value",
    "check_real",
    "check_positive",
    "check_nonnegative",
    "moment_order",
    "check_generator",
]


# --------------------------------------------------------------------------- checks of parameters
def numeric_value(expr, values: Mapping[str, Any], what: str = "") -> float:
    r"""The real number a law parameter takes at ``values`` (numbers given by symbol name).

    >>> import sympy as sp
    >>> numeric_value(sp.Symbol("sigma")**2 / 2, {"sigma": 3.0})
    4.5
    """
    expr = sp.sympify(expr)
    missing = sorted(s.name for s in expr.free_symbols if s.name not in values)
    if missing:
        raise ValueError(f"{what or expr}: missing value(s) for {', '.join(missing)}")
    v = expr.subs({s: values[s.name] for s in expr.free_symbols})
    try:
        return float(v)
    except TypeError as exc:  # complex or symbolic
        raise ValueError(f"{what or expr} does not evaluate to a real number: {v}") from exc


def check_real(expr, what: str, finite: bool = True) -> sp.Expr:
    r"""``expr`` as a sympy expression; refuses one that is complex (or imaginary), nan or,
    with ``finite``, infinite (``what`` names it in the error).

    >>> check_real(2, "Normal mean")
    2
    >>> check_real(1j, "Normal mean")
    Traceback (most recent call last):
    ...
    ValueError: Normal mean must be a real number, got 1.0*I (complex or undefined)
    """
    expr = sp.sympify(expr)
    if expr.has(sp.nan, sp.zoo) or expr.is_extended_real is False:
        raise ValueError(f"{what} must be a real number, got {expr} (complex or undefined)")
    if finite and (expr.is_finite is False or expr.has(sp.oo, -sp.oo)):
        raise ValueError(f"{what} must be finite, got {expr}")
    return expr


def check_positive(expr, what: str) -> sp.Expr:
    r"""``expr``, refused unless it is real, finite and not :math:`\le 0` (a symbol passes
    unless its assumptions say otherwise).

    >>> import sympy as sp
    >>> check_positive(sp.Symbol("s", positive=True), "Laplace scale")
    s
    """
    expr = check_real(expr, what)
    if expr.is_positive is False or (expr.is_number and not (expr.is_extended_real and expr > 0)):
        raise ValueError(f"{what} must be positive, got {expr}")
    return expr


def check_nonnegative(expr, what: str) -> sp.Expr:
    r"""``expr``, refused unless it is real, finite and not :math:`< 0` (0 makes a point mass).

    >>> check_nonnegative(0, "Normal variance")
    0
    """
    expr = check_real(expr, what)
    if expr.is_negative or (expr.is_number and not (expr.is_extended_real and expr >= 0)):
        raise ValueError(f"{what} must be positive or 0 (a point mass), got {expr}")
    return expr


def moment_order(k) -> int:
    r"""The order :math:`k` of a moment :math:`E[\theta^k]`: a non-negative integer (2.0 is
    accepted; 2.5 or True are refused, not rounded).

    >>> moment_order(2.0)
    2
    """
    if isinstance(k, (bool, np.bool_)) or not isinstance(k, (int, np.integer, sp.Integer)):
        if not (isinstance(k, (float, np.floating, sp.Float, sp.Rational)) and float(k) == int(k)):
            raise TypeError(f"a moment order must be a non-negative integer, got {k!r}")
    k = int(k)
    if k < 0:
        raise ValueError(f"a moment order must be >= 0, got {k}")
    return k


def check_generator(rng, xp=None):
    r"""The random generator ``rng`` a sampler draws from: for numpy (``xp`` None or numpy)
    a ``numpy.random.Generator``; for another array namespace ``xp``, any object with that
    backend's generator methods (``standard_normal``, ``uniform``, ...).

    >>> import numpy as np
    >>> check_generator(np.random.default_rng(0)) is not None
    True
    """
    if xp is None or xp is np:
        if not isinstance(rng, np.random.Generator):
            raise TypeError(f"sample needs a numpy Generator as rng (e.g. np.random.default_rng(seed)), got {rng!r}")
    elif not hasattr(rng, "uniform"):
        raise TypeError(f"sample needs a random generator of {getattr(xp, '__name__', xp)} as rng, got {rng!r}")
    return rng


# --------------------------------------------------------------------------- the protocol
class Law:
    r"""The law :math:`P(\theta)` of a network parameter: the protocol every law follows.

    A law is immutable and hashable (by :attr:`key`); its parameters ``params`` are sympy
    expressions, possibly in hyper-parameters (:math:`\sigma_b^2/d`, ...) that take numbers
    only when sampling, through ``values = {"sigma_b": 0.7, ...}``. A scalar law is the law
    of one number; a parameter with ``shape=d`` has :math:`d` i.i.d. components of it. A
    *joint* law (``joint = True``) is the law of a whole vector (the uniform ball).

    Notes
    -----
    **Subclassing.** A new scalar law is one subclass, as with ``scipy.stats.rv_continuous``. It defines:

    * ``name`` and ``__init__(self, *params)``: call ``super().__init__(*params)`` (which
      sympifies them into ``self.params``), then check them (:func:`check_real`,
      :func:`check_positive`, :func:`check_nonnegative`) and raise ``ValueError`` naming a
      bad one;
    * ``pdf(x)``, or a sympy.stats distribution ``_dist`` (then ``pdf``, ``mgf`` and
      ``characteristic_function`` come from sympy.stats);
    * ``mgf(s)`` :math:`= E[e^{s\theta}]` and ``characteristic_function(t)``
      :math:`= E[e^{it\theta}]` (or ``transform(s)`` for complex ``s``), and ``mgf_domain(s)``
      if :math:`E[e^{s\theta}]` converges only in a strip :math:`a < \mathrm{Re}\,s < b`; a law
      without exponential moments sets ``has_mgf = False`` and ``moment_exists(k)``;
    * the properties that differ from the defaults: ``is_even`` (False), ``support``
      (:math:`(-\infty, \infty)`), ``is_gaussian`` (False), ``is_isotropic`` (False);
    * ``frozen(values, xp=None)``, returning ``draw(rng, size)`` with the parameters
      evaluated once (draw with the generator's methods and array operators only, and
      ``xp.`` functions, so that another array backend can sample), or ``sample``;
    * ``quadrature(n, values)``: nodes and weights (summing to 1), for numerical expectations.

    It gets for free: ``transform``, ``transform_known`` and ``mgf_domain_known`` (True),
    ``moment`` (from the series of ``mgf`` at 0),
    ``moment_exists``, ``mean``, ``variance``, ``is_bounded``, ``sample``, ``key``, equality
    and hashing, ``free_symbols``, ``numeric_params``. A parameter carrying the law is
    ``random_parameter(name, law, shape=None)`` (:mod:`nnsym.core.random`; a
    :class:`RandomSymbol`, or a vector of i.i.d. components for ``shape = d``), and the engine,
    the numeric layer and the samplers use it like a built-in one. A user constructor in the
    style of ``nnsym.Normal`` is one line, ``def TwoPoint(name, w, shape=None): return
    random_parameter(name, TwoPointLaw(w), shape)``, next to the class:

    >>> import numpy as np, sympy as sp, nnsym
    >>> from nnsym.core.laws import Law, check_positive
    >>> from nnsym.core.random import random_parameter
    >>> class TwoPointLaw(Law):
    ...     r'''theta = +w or -w with probability 1/2 each.'''
    ...     name = "TwoPoint"
    ...     is_even = True
    ...     def __init__(self, w):
    ...         super().__init__(w)
    ...         check_positive(self.params[0], "TwoPoint w")
    ...     def mgf(self, s):
    ...         return sp.cosh(self.params[0] * s)
    ...     def characteristic_function(self, t):
    ...         return sp.cos(self.params[0] * t)
    ...     @property
    ...     def support(self):
    ...         return (-self.params[0], self.params[0])
    ...     def frozen(self, values, xp=None):
    ...         (w,) = self.numeric_params(values)
    ...         return lambda rng, size: w * (2.0 * (rng.uniform(0.0, 1.0, size) < 0.5) - 1.0)
    ...     def quadrature(self, n, values):
    ...         (w,) = self.numeric_params(values)
    ...         return np.array([-w, w]), np.array([0.5, 0.5])
    >>> w, x = sp.symbols("w x", positive=True)
    >>> t = random_parameter("t", TwoPointLaw(w))
    >>> nnsym.expectation(t**4), nnsym.expectation(sp.exp(x * t)), t.law.variance
    (w**4, cosh(w*x), w**2)
    >>> draws = t.law.sample(np.random.default_rng(0), 1000, {"w": 2.0})
    >>> np.unique(draws).tolist(), bool(abs(draws.var() - 4.0) < 0.1)
    ([-2.0, 2.0], True)
    """

    name = "law"
    _dist: Any = None
    #: True if :math:`E[e^{s\theta}]` exists near :math:`s = 0` (so all moments exist)
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
        """The law's identity: its class name and parameters (equal keys, equal laws)."""
        return (type(self).__name__,) + self.params

    def __eq__(self, other):
        return isinstance(other, Law) and self.key == other.key

    def __hash__(self):
        return hash(self.key)

    def __repr__(self):
        return f"{type(self).__name__}({', '.join(map(str, self.params))})"

    def free_symbols(self) -> set:
        """The hyper-parameters the law depends on."""
        return set().union(*[p.free_symbols for p in self.params])

    # symbolic -------------------------------------------------------------
    def pdf(self, x) -> sp.Expr:
        """The density :math:`P(x)`."""
        if self._dist is None:
            raise NotImplementedError(f"{type(self).__name__} defines no pdf")
        return self._dist.pdf(sp.sympify(x))

    def characteristic_function(self, t) -> sp.Expr:
        r""":math:`\varphi(t) = E[e^{i t\theta}]` (sympy.stats' formula)."""
        return self._dist._characteristic_function(sp.sympify(t))

    def mgf(self, s) -> sp.Expr:
        r""":math:`M(s) = E[e^{s\theta}]`, analytic in complex ``s`` where it exists."""
        if not self.has_mgf:
            raise DivergentExpectation(f"{self}: E[exp(s*theta)] does not exist for real s != 0")
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

    @property
    def mgf_domain_known(self) -> bool:
        """True if :meth:`mgf_domain` can state the strip of convergence (built-in laws always
        can; a :class:`Density` whose tails ``sympy.limit`` cannot read cannot)."""
        return True

    def transform_known(self, s) -> bool:
        r"""True if :meth:`transform` gives a closed form of :math:`E[e^{s\theta}]` at ``s``
        (its derivatives in ``s`` included). Built-in laws always do; a :class:`Density` says
        False where sympy could not integrate its transform, and the engine then leaves the
        expectation to quadrature instead of calling :meth:`transform`."""
        return True

    def moment(self, k: int) -> sp.Expr:
        r""":math:`E[\theta^k] = M^{(k)}(0)`, from the series of the moment generating function."""
        k = moment_order(k)
        if k == 0:
            return sp.S.One
        if not self.has_mgf:
            raise DivergentExpectation(f"{self} has no finite moment of order {k}")
        cache = self.__dict__.setdefault("_moments", {})
        if k not in cache:
            s = sp.Dummy("s")
            ser = sp.series(self.mgf(s), s, 0, k + 1).removeO()
            cache[k] = sp.expand(ser.coeff(s, k) * sp.factorial(k))
        return cache[k]

    def moment_exists(self, k) -> bool | None:
        r"""True if :math:`E[|\theta|^k] < \infty`, False if it is infinite, None if undecided
        (the numeric layer refuses estimands that need a moment which does not exist)."""
        k = moment_order(k)
        if k == 0 or self.has_mgf:
            return True
        return None

    @property
    def mean(self) -> sp.Expr:
        r""":math:`E[\theta]` (of one component for a vector law); raises
        :class:`~nnsym.errors.DivergentExpectation` if :math:`E[|\theta|] = \infty` (Cauchy)."""
        if self.moment_exists(1) is False:
            raise DivergentExpectation(f"{self} has no mean: E[|theta|] is infinite")
        return self.moment(1)

    @property
    def variance(self) -> sp.Expr:
        r""":math:`\mathrm{Var}\,\theta = E[\theta^2] - E[\theta]^2` (of one component for a
        vector law); ``oo`` if the mean exists but :math:`E[\theta^2] = \infty`; raises
        :class:`~nnsym.errors.DivergentExpectation` if there is no mean (Cauchy)."""
        mean = self.mean
        if self.moment_exists(2) is False:
            return sp.oo
        return sp.simplify(self.moment(2) - mean**2)

    @property
    def support(self) -> tuple:
        r"""The smallest interval :math:`(\mathrm{lo}, \mathrm{hi})` holding :math:`\theta`
        (of one component for a vector law): sympy numbers or expressions, ``-oo``/``oo``
        for an unbounded end."""
        return (-sp.oo, sp.oo)

    @property
    def is_bounded(self) -> bool:
        r"""True if :math:`\theta` is bounded: both ends of :attr:`support` are finite."""
        lo, hi = self.support
        return bool(lo.is_finite and hi.is_finite)

    @property
    def is_even(self) -> bool:
        r"""True if :math:`P(\theta) = P(-\theta)`: then all odd moments vanish."""
        return False

    @property
    def is_gaussian(self) -> bool:
        r"""True for a Normal law :math:`\mathcal N(\mu, \sigma^2)`, the point mass
        :math:`\sigma^2 = 0` included: the engine's Gaussian closed forms apply."""
        return False

    @property
    def is_isotropic(self) -> bool:
        r"""True if a vector parameter with this law is :math:`O(d)` invariant,
        :math:`P(Rb) = P(b)`: for a joint law, the law of the vector; for a scalar law,
        :math:`d` i.i.d. components of it, which are isotropic only if centred Gaussian
        (Maxwell's theorem). In :math:`d = 1` isotropy is :attr:`is_even`."""
        return False

    @property
    def is_degenerate(self) -> bool:
        """True for a point mass (e.g. a Normal of variance 0): the parameter is the constant ``mean``."""
        return False

    @property
    def is_joint(self) -> bool:
        """True for a law of a whole vector (not of i.i.d. components): the attribute ``joint``."""
        return bool(self.joint)

    def is_uniform_phase(self, s=1) -> bool:
        r"""True if the phase :math:`s\theta` is uniform on the circle,
        :math:`s\theta \bmod 2\pi \sim U[0, 2\pi)`, i.e. :math:`E[e^{ims\theta}] = 0` for every
        integer :math:`m \ne 0`: a shift of the phase is then absorbed by the law (the uniform
        phase :math:`c \sim U[-\pi, \pi]` of a cos-net). False if not shown."""
        return False

    # numeric --------------------------------------------------------------
    def numeric_params(self, values: Mapping[str, Any]) -> tuple:
        """The parameters as floats, hyper-parameters given by name in ``values``."""
        return tuple(numeric_value(p, values, f"parameter {p} of {self}") for p in self.params)

    def sample(self, rng, size, values: Mapping[str, Any] | None = None, xp=None):
        r"""Draws of shape ``size`` from ``rng`` (a numpy ``Generator``; with the array
        namespace ``xp``, a generator of that backend); hyper-parameters by name in ``values``."""
        check_generator(rng, xp)
        draw = self.frozen(values or {}) if xp is None else self.frozen(values or {}, xp=xp)
        return draw(rng, size)

    def frozen(self, values: Mapping[str, Any], xp=None) -> Callable:
        """A fast sampler ``draw(rng, size)`` with the parameters fixed to numbers once
        (the numeric layer calls it once per run, not once per block). ``xp`` is the array
        namespace of the draws (default numpy)."""
        if type(self).sample is not Law.sample:  # a law that only implements sample()
            vals = dict(values)
            if xp is None:
                return lambda rng, size: self.sample(rng, size, vals)
            return lambda rng, size: self.sample(rng, size, vals, xp=xp)
        raise NotImplementedError(f"{type(self).__name__} implements neither frozen() nor sample()")

    def quadrature(self, n: int, values: Mapping[str, Any]) -> tuple[np.ndarray, np.ndarray]:
        r"""Nodes :math:`\theta_j` and weights :math:`w_j` (summing to 1) of an n-point rule,
        :math:`E[f(\theta)] \approx \sum_j w_j f(\theta_j)`."""
        raise NotImplementedError(f"{type(self).__name__} has no quadrature rule")
