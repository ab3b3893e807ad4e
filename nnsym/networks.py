r"""Networks: :math:`\phi(x) = \sum_{i=1}^{N} a_i h_i(x)\ (+\ b_{\rm out})`.

A network is the single-neuron summand :math:`a\,h(x;\theta)` (a sympy
expression in the input, the parameters and free hyper-parameters), a width
``N`` and the list of parameters ``shared`` by all neurons. Everything else
(the correlators, the samplers of the numeric layer) is derived from it.

>>> import sympy as sp
>>> from nnsym import Input, Normal, Uniform, Network
>>> N = sp.Symbol("N", positive=True, integer=True)
>>> x = Input("x", 1)
>>> a, b, c = Normal("a", 0, 1/N), Normal("b", 0, 1), Uniform("c", -sp.pi, sp.pi)
>>> net = Network(sp.cos(b*x + c), readout=a, width=N, input=x)
>>> net.correlator(2).expr
exp(-(x_1 - x_2)**2/2)/2
"""
from __future__ import annotations

import functools
import math
from typing import Iterable

import sympy as sp
from sympy.utilities.iterables import multiset_partitions

from .correlators import Correlator
from .distributions import RandomSymbol, RandomVector, is_random, random_atoms
from .expectation import expectation
from .vectors import ScalarPoint, VectorSymbol

__all__ = ["Input", "Network", "set_partitions", "moebius", "cumulant"]


def Input(name: str, d) -> sp.Symbol:
    r"""The input point :math:`x\in\mathbb R^d` (``d`` an int or a sympy Symbol).

    In d = 1 it is a real scalar (write ``b*x``); otherwise a vector (write
    ``b.dot(x)``, ``x.dot(x)`` for :math:`|x|^2`, ``x[j]`` for a component).

    >>> Input("x", 3).dot(Input("x", 3))
    Dot(x, x)
    """
    if not isinstance(name, str) or not name:
        raise TypeError(f"an input name must be a non-empty string, got {name!r}")
    d = sp.sympify(d)
    if d.is_Integer:
        if int(d) < 1:
            raise ValueError(f"the input dimension must be >= 1, got {d}")
        if int(d) == 1:
            return ScalarPoint(name)
    elif not d.is_Symbol or d.is_positive is False:
        raise ValueError(f"the input dimension must be a positive integer or a Symbol, got {d}")
    return VectorSymbol(name, d)


def set_partitions(items) -> list:
    """All set partitions of ``items`` (lists of blocks)."""
    items = list(items)
    if not items:
        return [[]]
    return [list(map(tuple, p)) for p in multiset_partitions(items)]


def moebius(k: int) -> int:
    r"""Moebius function of the partition lattice from a partition with ``k``
    blocks to the finest: :math:`\mu = (-1)^{k-1}(k-1)!`."""
    return (-1) ** (k - 1) * math.factorial(k - 1)


def cumulant(items, moment):
    r"""Joint cumulant by Moebius inversion over set partitions:
    :math:`\kappa = \sum_\pi (-1)^{|\pi|-1}(|\pi|-1)!\prod_{B\in\pi} m(B)`, for ``moment(B)``
    sympy expressions or numpy arrays (the numeric layer uses the same sum).

    >>> cumulant((1, 2), lambda B: {(1,): 2, (2,): 3, (1, 2): 7}[B])
    1
    """
    out = 0
    for blocks in set_partitions(items):
        term = moebius(len(blocks))
        for B in blocks:
            term = term * moment(tuple(B))
            if getattr(term, "is_zero", False):  # a vanishing block (e.g. an odd moment) ends the product
                break
        out = out + term
    return out


def _memo(method):
    """Memoise a method per instance (the cache lives and dies with the network)."""

    @functools.wraps(method)
    def wrapper(self, *args):
        cache = self.__dict__.setdefault("_memo", {}).setdefault(method.__name__, {})
        if args not in cache:
            cache[args] = method(self, *args)
        return cache[args]

    return wrapper


def _falling(N, k: int):
    r""":math:`N(N-1)\cdots(N-k+1)`, the number of ways to give ``k`` blocks distinct neurons."""
    return math.prod(N - j for j in range(k))


def width_sum_moment(items, partition_moment, N):
    r"""Full moment of :math:`\sum_{i\le N}` of neuron terms:
    :math:`\sum_\pi N^{\underline{|\pi|}}\,M(\pi)`, ``partition_moment(blocks)`` the moment with
    distinct neurons per block (sympy or numpy)."""
    items = tuple(items)
    if not items:
        return 1
    out = 0
    for blocks in set_partitions(items):
        out = out + _falling(N, len(blocks)) * partition_moment(tuple(blocks))
    return out


def with_bias(items, sum_moment, bias_moment):
    r"""Full moment of :math:`\phi + b_{\rm out}` with an independent bias:
    :math:`\sum_{S} E[b^{|S|}]\,G_{\rm sum}(x_{S^c})`."""
    items = tuple(items)
    out = 0
    for sel in range(1 << len(items)):
        rest = tuple(p for j, p in enumerate(items) if not sel >> j & 1)
        m = bias_moment(len(items) - len(rest))
        if not getattr(m, "is_zero", False) and m != 0:
            out = out + m * sum_moment(rest)
    return out


class Network:
    r"""A width-``N`` network :math:`\phi(x) = \sum_{i\le N} a_i h_i(x)` (+ bias).

    Parameters
    ----------
    neuron : sympy expression :math:`h(x;\theta)` in ``input``, random parameters
        and free hyper-parameters.
    readout : the readout weight :math:`a` (a scalar parameter law).
    width : :math:`N`, an int or a positive integer Symbol.
    input : the :func:`Input` symbol used in ``neuron``.
    shared : parameters that take one value for all neurons (breaks independence).
    bias : an optional output bias :math:`b_{\rm out}` (a scalar parameter law).
    """

    def __init__(self, neuron, readout, width, input, shared: Iterable = (), bias=None):
        self.neuron = sp.sympify(neuron)
        if not isinstance(input, (ScalarPoint, VectorSymbol)) or is_random(input):
            raise TypeError(f"input must be made with nnsym.Input, got {input!r}")
        self.input = input
        if input not in self.neuron.free_symbols:
            raise ValueError(f"the neuron {self.neuron} does not depend on the input {input}")
        if not isinstance(readout, RandomSymbol):
            raise TypeError(f"readout must be a scalar parameter law (e.g. nnsym.Normal), got {readout!r}")
        self.readout = readout
        self.width = sp.sympify(width)
        if self.width.is_positive is False or (self.width.is_Integer and self.width < 1) or self.width.is_integer is False:
            raise ValueError(f"the width must be a positive integer, got {self.width}")
        if bias is not None and not isinstance(bias, RandomSymbol):
            raise TypeError(f"bias must be a scalar parameter law or None, got {bias!r}")
        self.bias = bias
        self.params = sorted(random_atoms(self.neuron) | {readout}, key=sp.default_sort_key)
        shared = tuple(shared)
        for s in shared:
            if s not in self.params:
                raise ValueError(f"shared parameter {s} is not a parameter of this network ({self.params})")
        self.shared = shared
        if bias is not None and bias in self.params:
            raise ValueError(f"the output bias {bias} must not appear in the neuron or be the readout")
        self.dim = input.dim

    # ------------------------------------------------------------------ basic objects
    def __repr__(self):
        return f"Network(neuron={self.neuron}, readout={self.readout}, width={self.width}, shared={self.shared}, bias={self.bias})"

    @property
    def iid(self) -> bool:
        """True if the neurons are i.i.d. (no shared parameters)."""
        return not self.shared

    @property
    def hyperparameters(self) -> list:
        syms = self.neuron.free_symbols | self.readout.law.free_symbols() | self.width.free_symbols
        for p in self.params + ([self.bias] if self.bias is not None else []):
            syms |= p.law.free_symbols()
            if isinstance(p, RandomVector):
                syms |= p.dim.free_symbols
        syms -= set(self.params) | {self.input}
        return sorted((s for s in syms if not is_random(s)), key=sp.default_sort_key)

    def points(self, n: int) -> tuple:
        """The point symbols :math:`x_1, \\dots, x_n`."""
        mk = (lambda k: ScalarPoint(f"{self.input.name}_{k}")) if isinstance(self.input, ScalarPoint) else (
            lambda k: VectorSymbol(f"{self.input.name}_{k}", self.dim)
        )
        return tuple(mk(k) for k in range(1, n + 1))

    def summand(self, point, copy: int | None = None) -> sp.Expr:
        r"""One neuron's contribution :math:`a\,h(x;\theta)` at ``point``; ``copy`` renames
        the non-shared parameters (an independent neuron)."""
        expr = self.readout * self.neuron.xreplace({self.input: point})
        if copy is not None:
            expr = expr.xreplace(self._copies(copy))
        return expr

    @_memo
    def _copies(self, j: int) -> dict:
        out = {}
        for p in self.params:
            if p in self.shared:
                continue
            name = f"{p.name}^{{({j})}}"
            out[p] = RandomVector(name, p.dim, p.law) if isinstance(p, RandomVector) else RandomSymbol(name, p.law)
        return out

    # ------------------------------------------------------------------ moments
    def _odd_vanishes(self, n: int) -> bool:
        r"""Z2: an even readout independent of the neuron (and an even bias) kill odd correlators."""
        if n % 2 == 0:
            return False
        a = self.readout
        if not a.law.is_even or a in random_atoms(self.neuron):
            return False
        return self.bias is None or self.bias.law.is_even

    @_memo
    def _neuron_moment(self, pts: tuple) -> sp.Expr:
        r""":math:`E[\prod_{k} a h(x_k)]` for one neuron."""
        return expectation(sp.Mul(*[self.summand(p) for p in pts]))

    @_memo
    def _partition_moment(self, blocks: tuple) -> sp.Expr:
        r""":math:`E[\prod_B \prod_{k\in B} a_{i_B} h_{i_B}(x_k)]` with distinct neurons per block."""
        if self.iid:
            return sp.Mul(*[self._neuron_moment(B) for B in blocks])
        return expectation(sp.Mul(*[self.summand(p, copy=j) for j, B in enumerate(blocks) for p in B]))

    @_memo
    def _sum_moment(self, pts: tuple) -> sp.Expr:
        r"""Full moment of :math:`\sum_i a_i h_i` (no bias), by the set-partition sum."""
        return sp.sympify(width_sum_moment(pts, self._partition_moment, self.width))

    def _bias_moment(self, k: int) -> sp.Expr:
        return sp.S.One if self.bias is None or k == 0 else self.bias.law.moment(k)

    def _full(self, pts: tuple) -> sp.Expr:
        if self.bias is None:
            return self._sum_moment(pts)
        return sp.sympify(with_bias(pts, self._sum_moment, self._bias_moment))

    def _connected(self, pts: tuple) -> sp.Expr:
        if self.iid:  # cumulants of a sum of i.i.d. terms add: N kappa(a h(x_1), ..., a h(x_n))
            out = self.width * cumulant(pts, self._neuron_moment)
        else:
            out = cumulant(pts, self._sum_moment)
        if self.bias is not None:  # an independent summand adds its own cumulant
            out += cumulant(range(len(pts)), lambda B: self._bias_moment(len(B)))
        return sp.sympify(out)

    # ------------------------------------------------------------------ public
    def correlator(self, n: int, connected: bool = False) -> Correlator:
        r"""The exact :math:`n`-point function :math:`G^{(n)}(x_1,\dots,x_n)` (or the
        connected :math:`G^{(n)}_c` with ``connected=True``), symbolic in ``N``.

        .. math:: G^{(n)} = \sum_{\pi} N^{\underline{|\pi|}}\prod_{B\in\pi}
                  E\Big[\prod_{k\in B} a\,h(x_k)\Big],\qquad
                  G^{(n)}_c = N\,\kappa\big(a h(x_1),\dots,a h(x_n)\big)\ \text{(i.i.d.)}
        """
        n = _check_n(n)
        pts = self.points(n)
        kind = "G_c" if connected else "G"
        if self._odd_vanishes(n):
            expr = sp.S.Zero
        else:
            expr = _tidy(self._connected(pts) if connected else self._full(pts))
        return Correlator(expr, pts, self.dim, name=kind, network=self, connected=connected)

    def power_spectrum(self, method: str = "auto") -> "PowerSpectrum":
        r"""The power spectrum :math:`G(p) = \int d^dx\, e^{-ip\cdot x} G^{(2)}(x, 0)` (see :mod:`nnsym.spectra`):
        the delta-function rule for :math:`F(b)\cos(b\cdot x + c)` neurons, a Fourier transform otherwise.

        >>> from nnsym import zoo
        >>> zoo.cauchy_net().power_spectrum().method
        'delta rule'
        """
        from .spectra import power_spectrum

        return power_spectrum(self, method=method)

    def neuron_correlator(self, n: int) -> Correlator:
        r"""The neuron correlator :math:`H^{(n)}_{i\dots i}(x_1..x_n) = E[h(x_1)\cdots h(x_n)]` (one neuron)."""
        n = _check_n(n)
        pts = self.points(n)
        expr = expectation(sp.Mul(*[self.neuron.xreplace({self.input: p}) for p in pts]))
        return Correlator(expr, pts, self.dim, name="H", network=self, connected=False)


def _tidy(expr):
    r"""Distribute the N-dependent prefactors and pull out the common factor,
    e.g. :math:`\sigma_a^4/(8N)\,[3(\dots) - 2(\dots)]` (cheap: no ``simplify``)."""
    return sp.factor_terms(sp.expand_mul(expr, deep=False))


def _check_n(n) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, sp.Integer)) and not (hasattr(n, "__index__")):
        raise TypeError(f"the number of points must be an integer, got {n!r}")
    n = int(n)
    if n < 1:
        raise ValueError(f"an n-point function needs n >= 1, got n = {n}")
    return n
