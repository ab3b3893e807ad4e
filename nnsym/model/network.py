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
import itertools
import math
import warnings
from dataclasses import dataclass
from typing import Any, Iterable

import sympy as sp
from sympy.utilities.iterables import multiset_partitions

from ..core.progress import check_progress, progress_bar
from ..core.random import RandomSymbol, RandomVector, is_random, random_atoms
from ..core.vectors import Dot, ScalarPoint, VectorSymbol, vector_atoms
from ..engine.expectation import expectation, growth_degree, split_domain, with_domain
from ..errors import CostWarning, TooExpensive
from ..model.correlator import Correlator
from ..numeric.bindings import Bindings
from .extensions import call

__all__ = ["Input", "Network", "set_partitions", "even_set_partitions", "partition_count", "moebius", "cumulant",
           "relabel_points", "TooExpensive", "CostWarning", "DerivationCost"]


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


def cumulant(items, moment, *, even_blocks_only: bool = False):
    r"""Joint cumulant by Moebius inversion over set partitions:
    :math:`\kappa = \sum_\pi (-1)^{|\pi|-1}(|\pi|-1)!\prod_{B\in\pi} m(B)`, for ``moment(B)``
    sympy expressions or numpy arrays (the numeric layer uses the same sum).

    ``even_blocks_only=True`` sums only the partitions into blocks of even size, for moments that
    vanish on every odd block (a :math:`Z_2`-symmetric readout); the others are not enumerated.

    >>> cumulant((1, 2), lambda B: {(1,): 2, (2,): 3, (1, 2): 7}[B])
    1
    """
    terms = []
    for blocks in _partitions(items, even_blocks_only):
        term = moebius(len(blocks))
        for B in blocks:
            term = term * moment(tuple(B))
            if _vanishes(term):  # a vanishing block (e.g. an odd moment) ends the product
                break
        terms.append(term)
    return _total(terms)


def even_set_partitions(items) -> list:
    r"""The set partitions of ``items`` into blocks of even size (the ones that survive when every
    odd moment vanishes): 1, 4, 31, 379, 6556 of them for n = 2, 4, 6, 8, 10 points.

    >>> even_set_partitions("abcd")
    [[('a', 'b'), ('c', 'd')], [('a', 'c'), ('b', 'd')], [('a', 'd'), ('b', 'c')], [('a', 'b', 'c', 'd')]]
    """
    items = tuple(items)
    if not items:
        return [[]]
    if len(items) % 2:
        return []
    first, rest = items[0], items[1:]
    out = []
    for k in range(1, len(rest) + 1, 2):  # the block of the first item has k + 1 (even) items
        for chosen in itertools.combinations(range(len(rest)), k):
            block = (first,) + tuple(rest[j] for j in chosen)
            others = tuple(r for j, r in enumerate(rest) if j not in chosen)
            out.extend([block] + p for p in even_set_partitions(others))
    return out


@functools.lru_cache(maxsize=None)
def partition_count(n: int, even_blocks_only: bool = False) -> int:
    r"""The number of set partitions of n items: the Bell number :math:`B_n`, or with
    ``even_blocks_only`` those into blocks of even size,
    :math:`E_n = \sum_{k\ \mathrm{odd}} \binom{n-1}{k} E_{n-1-k}` (1, 4, 31, 379, 6556, 150349 for n = 2, 4, ..., 12).

    >>> [partition_count(n) for n in range(1, 6)], [partition_count(n, True) for n in (2, 4, 6, 8, 10)]
    ([1, 2, 5, 15, 52], [1, 4, 31, 379, 6556])
    """
    if not even_blocks_only:
        return int(sp.bell(n))
    if n == 0:
        return 1
    return sum(math.comb(n - 1, k) * partition_count(n - 1 - k, True) for k in range(1, n, 2))


def _partitions(items, even_blocks_only: bool) -> list:
    return even_set_partitions(items) if even_blocks_only else set_partitions(items)


def _vanishes(x) -> bool:
    """``x`` is literally zero (a sympy zero or a Python number; never a test on a numpy array or a
    sympy assumption query, which costs a walk of a large expression)."""
    return x is sp.S.Zero or (isinstance(x, (int, float)) and not isinstance(x, bool) and x == 0)


def _total(terms: list):
    r""":math:`\sum_j t_j` of sympy expressions as one ``sp.Add`` (adding a term at a time re-flattens
    the growing sum: quadratic in the number of terms), or of numbers and numpy arrays left to right
    (the same rounding as a loop); 0 for no terms.

    >>> import sympy as sp
    >>> _total([sp.Symbol("x"), 2, sp.Symbol("x")]), _total([1, 2.5])
    (2*x + 2, 3.5)
    """
    if any(isinstance(t, sp.Basic) for t in terms) and all(isinstance(t, (sp.Basic, int, float)) for t in terms):
        return sp.Add(*terms)
    out = 0
    for t in terms:
        out = out + t
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


def width_sum_moment(items, partition_moment, N, *, even_blocks_only: bool = False):
    r"""Full moment of :math:`\sum_{i\le N}` of neuron terms:
    :math:`\sum_\pi N^{\underline{|\pi|}}\,M(\pi)`, ``partition_moment(blocks)`` the moment with
    distinct neurons per block (sympy or numpy); ``even_blocks_only``: as in :func:`cumulant`."""
    items = tuple(items)
    if not items:
        return 1
    return _total([_falling(N, len(blocks)) * partition_moment(tuple(blocks))
                  for blocks in _partitions(items, even_blocks_only)])


def with_bias(items, sum_moment, bias_moment):
    r"""Full moment of :math:`\phi + b_{\rm out}` with an independent bias:
    :math:`\sum_{S} E[b^{|S|}]\,G_{\rm sum}(x_{S^c})`."""
    items = tuple(items)
    terms = []
    for sel in range(1 << len(items)):
        rest = tuple(p for j, p in enumerate(items) if not sel >> j & 1)
        m = bias_moment(len(items) - len(rest))
        if not getattr(m, "is_zero", False) and m != 0:
            terms.append(m * sum_moment(rest))
    return _total(terms)


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

    # The public keyword is ``input`` (the physicist's word, and public API since the first release:
    # ``Network(..., input=x)``); it is bound at once to ``point`` so that the builtin is not shadowed
    # in the body.
    def __init__(self, neuron, readout, width, input, shared: Iterable = (), bias=None):  # noqa: A002
        point = input  # from here on the input symbol is ``point``; ``input`` is not used again
        self.neuron = sp.sympify(neuron)
        if not isinstance(point, (ScalarPoint, VectorSymbol)) or is_random(point):
            raise TypeError(f"input must be made with nnsym.Input, got {point!r}")
        self.input = point
        if point not in self.neuron.free_symbols:
            raise ValueError(f"the neuron {self.neuron} does not depend on the input {point}")
        if not isinstance(readout, RandomSymbol):
            raise TypeError(f"readout must be a scalar parameter law (e.g. nnsym.Normal), got {readout!r}")
        self.readout = readout
        self.width = sp.sympify(width)
        w = self.width
        if w.is_positive is False or (w.is_Integer and w < 1) or w.is_integer is False:
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
        self.dim = point.dim
        _check_scalar_neuron(self.neuron, point)
        _check_one_symbol_per_name(self)

    # ------------------------------------------------------------------ basic objects
    def __repr__(self):
        return (f"Network(neuron={self.neuron}, readout={self.readout}, width={self.width}, shared={self.shared}, "
                f"bias={self.bias})")

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

    def bind(self, values, context: str, options=()) -> Bindings:
        r"""The named hyper-parameter ``values`` checked once (unknown names, numbers, assumptions):
        a :class:`~nnsym.numeric.bindings.Bindings` over :attr:`hyperparameters` and ``d``. An
        unknown name is refused as an unexpected keyword of ``context`` (neither one of its
        ``options`` nor a hyper-parameter), with a did-you-mean hint.

        >>> import nnsym as ns
        >>> dict(ns.zoo.cos_net(2).bind({"sigma_a": 1, "N": 10}, "monte_carlo"))
        {'sigma_a': 1, 'N': 10}
        """
        known = list(self.hyperparameters) + ([self.dim] if self.dim.is_Symbol else [])
        return Bindings(values, known, context, tuple(options))

    def derived_cache(self, owner: str) -> dict:
        r"""A dict that lives and dies with this network, for objects other layers derive from it
        (e.g. the compiled samplers of :mod:`nnsym.sampling`), under the key ``owner``. Keyed by the
        network object itself, not by ``id(net)``, so a new network never sees an old one's cache."""
        return self.__dict__.setdefault("_derived", {}).setdefault(owner, {})

    def points(self, n: int) -> tuple:
        r"""The point symbols :math:`x_1, \dots, x_n`."""
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
    @property
    def is_z2_symmetric(self) -> bool:
        r"""True if the law of the field is invariant under :math:`\phi \to -\phi`, seen from the
        parameters alone (no integration): the one :math:`Z_2` rule of nnsym.

        The flip :math:`a_i \to -a_i` of every readout (and :math:`b_{\rm out}\to -b_{\rm out}`)
        maps :math:`\phi \to -\phi`. It leaves the joint law of all parameters invariant, with the
        rest unchanged, when

        * the readout law is even, :math:`P(a) = P(-a)`;
        * the readout is not a parameter of the neuron (else the flip changes :math:`h` too);
        * the output bias, if any, has an even law.

        Sharing the readout does not matter: a shared :math:`a` gives
        :math:`\phi = a\sum_i h_i(x)`, and :math:`a\to -a` is still a symmetry of its law. Then

        .. math:: G^{(2k+1)}(x_1,\dots,x_{2k+1}) = E[\phi(x_1)\cdots\phi(x_{2k+1})] = 0

        whenever the moment exists (a Cauchy readout is symmetric, but its odd moments are
        undefined, not zero: :meth:`correlator` derives them and raises).

        >>> import nnsym as ns
        >>> ns.zoo.cos_net(2).is_z2_symmetric
        True
        """
        a, bias = self.readout, self.bias
        return (a.law.is_even and a not in random_atoms(self.neuron)
                and (bias is None or bias.law.is_even))

    def _odd_vanishes(self, n: int) -> bool:
        r"""An odd correlator is 0 without integration: :attr:`is_z2_symmetric` and the moments
        exist (the readout and the bias have moment generating functions)."""
        if n % 2 == 0 or not self.is_z2_symmetric:
            return False
        # an odd moment of a law without moments (Cauchy) is undefined, not zero
        return self.readout.law.has_mgf and (self.bias is None or self.bias.law.has_mgf)

    # ------------------------------------------------------------------ moments by symmetry
    use_moment_symmetries: bool = True
    r"""Derive each moment once per shape and relabel it, and skip the odd blocks that vanish
    (:meth:`_neuron_moment`); ``False`` (set on an instance before its first derivation) takes one
    expectation per subset of points, as a reference for tests and benchmarks. Same results."""

    @functools.cached_property
    def _odd_blocks_vanish(self) -> bool:
        r"""Every moment with an odd number of factors of one neuron's readout is 0, with no
        integration: :math:`E[a^{2k+1}] = 0` (an even law with moments, not shared, not in the neuron)
        and the rest of the moment surely exists, with no domain to record (every parameter of the
        neuron has an entire transform and the neuron grows at most like a polynomial in each)."""
        a = self.readout
        if a in self.shared or not (a.law.is_even and a.law.has_mgf) or a in random_atoms(self.neuron):
            return False
        u = sp.Dummy("u")
        for p in random_atoms(self.neuron):
            law = p.law
            if not (law.has_mgf and law.mgf_domain_known and law.mgf_domain(u) is sp.true):
                return False
            if growth_degree(self.neuron, p) is None:
                return False
        return True

    @_memo
    def _canonical_points(self, m: int) -> tuple | None:
        r"""The points :math:`x_1..x_m` that stand for any m distinct points in a moment derived once
        and relabelled; None if one of their names is taken by another symbol of the network."""
        canon = tuple(sorted(self.points(m), key=sp.default_sort_key))
        taken = {s.name for s in self.neuron.free_symbols} | {s.name for s in self.hyperparameters}
        return None if any(c.name in taken for c in canon) else canon

    def _relabelling(self, pts: tuple, symmetric: bool = False) -> tuple | None:
        r"""``(canonical, back)``: the canonical points standing for ``pts`` and the map from them back to
        ``pts``; None when ``pts`` are not all point symbols of the input's kind and dimension.

        ``symmetric``: the moment is symmetric under permutations of ``pts``; the distinct points become
        :math:`x_1, x_2, \dots` in the order of ``default_sort_key`` (so that the map back keeps the order
        of the symbols, and with it the canonical forms of sympy and of ``Dot``) and the canonical tuple
        is sorted (all subsets of one size share it). Otherwise they are numbered in order of first
        appearance (all point tuples of one pattern share it)."""
        kind = type(self.input)
        if not all(type(p) is kind and p.dim == self.dim for p in pts):
            return None
        distinct = sorted(set(pts), key=sp.default_sort_key) if symmetric else list(dict.fromkeys(pts))
        canon = self._canonical_points(len(distinct))
        if canon is None:
            return None
        to_canon = dict(zip(distinct, canon))
        mapped = tuple(to_canon[p] for p in pts)
        if symmetric:
            mapped = tuple(sorted(mapped, key=sp.default_sort_key))
        return mapped, {c: p for c, p in zip(canon, distinct) if c != p}

    @_memo
    def _neuron_moment(self, pts: tuple) -> sp.Expr:
        r""":math:`E[\prod_{k} a h(x_k)]` for one neuron.

        The neurons' parameters do not depend on the points, so the moment is one function of the
        points, symmetric under their permutations: it is derived once at canonical points and
        relabelled (``xreplace``: a simultaneous substitution of point symbols, which rebuilds
        ``Dot`` and the domains in their canonical form). With :attr:`_odd_blocks_vanish` a moment of
        an odd number of points is 0 without integration."""
        if self.use_moment_symmetries:
            if len(pts) % 2 and self._odd_blocks_vanish:
                return sp.S.Zero
            relabel = self._relabelling(pts, symmetric=True)
            if relabel is not None:
                canon, back = relabel
                m = self._direct_neuron_moment(canon)
                return relabel_points(m, back, monotone=True) if back else m
        return self._direct_neuron_moment(pts)

    @_memo
    def _direct_neuron_moment(self, pts: tuple) -> sp.Expr:
        return expectation(sp.Mul(*[self.summand(p) for p in pts]))

    def neuron_moment(self, points) -> sp.Expr:
        r"""The moment of one neuron's summand at the given point symbols (repeats allowed):

        .. math:: E\Big[\prod_{k} a\,h(x_k)\Big]

        (memoised on the network; the building block of every correlator).

        >>> import nnsym as ns
        >>> net = ns.zoo.cos_net(1)
        >>> x1, x2 = net.points(2)
        >>> net.neuron_moment((x1, x2))
        sigma_a**2*exp(-sigma_b**2*(x_1 - x_2)**2/2)/(2*N)
        """
        return self._neuron_moment(tuple(points))

    @_memo
    def _partition_moment(self, blocks: tuple) -> sp.Expr:
        r""":math:`E[\prod_B \prod_{k\in B} a_{i_B} h_{i_B}(x_k)]` with distinct neurons per block.

        Shared parameters: one expectation per shape (the block sizes), relabelled as in
        :meth:`_neuron_moment` (the neurons are exchangeable given the shared parameters)."""
        if self.iid:
            return sp.Mul(*[self._neuron_moment(B) for B in blocks])
        if self.use_moment_symmetries:
            if self._odd_blocks_vanish and any(len(B) % 2 for B in blocks):
                return sp.S.Zero
            ordered = sorted(blocks, key=len, reverse=True)  # the shape: block sizes, largest first
            relabel = self._relabelling(tuple(p for B in ordered for p in B))
            if relabel is not None:
                flat, back = relabel
                it = iter(flat)
                m = self._direct_partition_moment(tuple(tuple(next(it) for _ in B) for B in ordered))
                return relabel_points(m, back) if back else m
        return self._direct_partition_moment(blocks)

    @_memo
    def _direct_partition_moment(self, blocks: tuple) -> sp.Expr:
        return expectation(sp.Mul(*[self.summand(p, copy=j) for j, B in enumerate(blocks) for p in B]))

    @property
    def _even_blocks_only(self) -> bool:
        return self.use_moment_symmetries and self._odd_blocks_vanish

    @_memo
    def _sum_moment(self, pts: tuple) -> sp.Expr:
        r"""Full moment of :math:`\sum_i a_i h_i` (no bias), by the set-partition sum."""
        return sp.sympify(width_sum_moment(pts, self._partition_moment, self.width,
                                           even_blocks_only=self._even_blocks_only))

    def _bias_moment(self, k: int) -> sp.Expr:
        return sp.S.One if self.bias is None or k == 0 else self.bias.law.moment(k)

    def _full(self, pts: tuple) -> sp.Expr:
        if self.bias is None:
            return self._sum_moment(pts)
        return sp.sympify(with_bias(pts, self._sum_moment, self._bias_moment))

    def _connected(self, pts: tuple) -> sp.Expr:
        even = self._even_blocks_only
        if self.iid:  # cumulants of a sum of i.i.d. terms add: N kappa(a h(x_1), ..., a h(x_n))
            out = self.width * cumulant(pts, self._neuron_moment, even_blocks_only=even)
        else:
            out = cumulant(pts, self._sum_moment, even_blocks_only=even)
        if self.bias is not None:  # an independent summand adds its own cumulant
            out += cumulant(range(len(pts)), lambda B: self._bias_moment(len(B)))
        return sp.sympify(out)

    # ------------------------------------------------------------------ public
    def correlator(self, n: int, connected: bool = False, *, max_terms: int | None = None,
                   progress: bool | float = False) -> Correlator:
        r"""The exact :math:`n`-point function :math:`G^{(n)}(x_1,\dots,x_n)` (or the
        connected :math:`G^{(n)}_c` with ``connected=True``), symbolic in ``N``.

        .. math:: G^{(n)} = \sum_{\pi} N^{\underline{|\pi|}}\prod_{B\in\pi}
                  E\Big[\prod_{k\in B} a\,h(x_k)\Big],\qquad
                  G^{(n)}_c = N\,\kappa\big(a h(x_1),\dots,a h(x_n)\big)\ \text{(i.i.d.)}

        The cost is estimated first (:meth:`correlator_cost`: Bell numbers of set partitions, the
        distinct neuron expectations and their terms). Above ``max_terms`` (default
        ``MAX_TERMS = 10**6``, about two minutes) it raises :class:`TooExpensive`
        naming the estimate; ``max_terms=float("inf")`` derives anyway. Above ``WARN_TERMS``
        (10^4) it issues a :class:`CostWarning` with the estimate. ``progress=True`` shows tqdm
        bars over the expectations and the set partitions (a number: only after that many seconds).
        """
        n = check_n(n)
        progress = check_progress(progress, "correlator")
        pts = self.points(n)
        kind = "G_c" if connected else "G"
        if self._odd_vanishes(n):
            expr = sp.S.Zero
        else:
            _check_cost(self.correlator_cost(n, connected), max_terms)
            expr = tidy(self._derive(pts, connected, progress))
        return Correlator(expr, pts, self.dim, name=kind, network=self, connected=connected)

    def correlator_cost(self, n: int, connected: bool = False, neuron: bool = False) -> "DerivationCost":
        r"""An estimate of the work of :meth:`correlator` (``neuron=True``: :meth:`neuron_correlator`),
        without doing it: see :class:`DerivationCost`.

        >>> import nnsym as ns
        >>> c = ns.zoo.cos_net(2).correlator_cost(8, connected=True)
        >>> c.partitions, c.expectations, c.terms        # B_8, 2^8 - 1, 8*2*3^7 + B_8
        (4140, 255, 39132)
        """
        return _derivation_cost(self, check_n(n), connected, neuron)

    def _derive(self, pts: tuple, connected: bool, progress: bool) -> sp.Expr:
        """The unsimplified G^(n) or G_c^(n); with ``progress``, tqdm bars over the distinct
        expectations (i.i.d. neurons) and over the set partitions."""
        bar = progress_bar(progress)
        if bar is None:
            return self._connected(pts) if connected else self._full(pts)
        n = len(pts)
        if self.iid:  # stage 1: every distinct single-neuron expectation (memoised for stage 2)
            subsets = [S for k in range(1, n + 1) for S in itertools.combinations(pts, k)]
            with bar(total=len(subsets), desc=f"G^({n}): neuron expectations", unit="E") as b:
                for S in subsets:
                    self._neuron_moment(S)
                    b.update()
        # stage 2: the set-partition sum, counted through the moment it calls once per partition
        # (partitions with an odd block of a Z2-symmetric neuron are not enumerated: counted at the end)
        if connected:  # cumulant(): set_partitions puts the first point in the first block of each partition
            name, total = ("_neuron_moment" if self.iid else "_sum_moment"), _bell(n)
            counts = lambda arg: pts[0] in arg  # noqa: E731
        else:  # width_sum_moment(): one call per partition of each point set it sums
            name, total = "_partition_moment", _bell(n) if self.bias is None else _bell(n + 1) - 1
            counts = lambda arg: True  # noqa: E731
        inner = getattr(self, name)
        with bar(total=total, desc=f"G^({n}): set partitions", unit="pi") as b:
            def counted(arg):
                if counts(arg):
                    b.update()
                return inner(arg)

            setattr(self, name, counted)  # shadows the memoised method on this instance only
            try:
                out = self._connected(pts) if connected else self._full(pts)
            finally:
                delattr(self, name)
            b.update(max(0, total - b.n))  # partitions skipped: odd blocks, a vanishing (odd) bias moment
            return out

    def power_spectrum(self, method: str = "auto") -> Any:
        r"""The power spectrum :math:`G(p) = \int d^dx\, e^{-ip\cdot x} G^{(2)}(x, 0)`, a
        :class:`~nnsym.analysis.spectra.PowerSpectrum` (computed by :mod:`nnsym.analysis.spectra`):
        the delta-function rule for :math:`F(b)\cos(b\cdot x + c)` neurons, a Fourier transform otherwise.

        >>> from nnsym import zoo
        >>> zoo.cauchy_net().power_spectrum().method
        'delta rule'
        """
        return call("power_spectrum", self, method=method)

    def neuron_correlator(self, n: int, *, max_terms: int | None = None) -> Correlator:
        r"""The neuron correlator :math:`H^{(n)}_{i\dots i}(x_1..x_n) = E[h(x_1)\cdots h(x_n)]` (one neuron).

        Refused with :class:`TooExpensive` above ``max_terms`` terms (see :meth:`correlator`)."""
        n = check_n(n)
        _check_cost(self.correlator_cost(n, neuron=True), max_terms)
        pts = self.points(n)
        expr = expectation(sp.Mul(*[self.neuron.xreplace({self.input: p}) for p in pts]))
        return Correlator(expr, pts, self.dim, name="H", network=self, connected=False)


def relabel_points(expr, mapping: dict, monotone: bool = False) -> sp.Expr:
    r"""``expr`` with the point symbols replaced simultaneously by ``mapping`` (point symbols to point
    symbols), as ``expr.xreplace(mapping)`` gives it, but faster: a subexpression met twice is
    relabelled once, and a scalar product of linear combinations of points is put back in the
    canonical form of :class:`~nnsym.core.vectors.Dot` directly (a relabelling keeps the
    coefficients, so only the overall sign and the order of the two factors can change).

    ``monotone=True``: the caller promises a map that keeps the ``default_sort_key`` order of the
    points; checked here (also against the other symbols of their class in ``expr``). Then every
    comparison sympy and ``Dot`` make to order or sign a subexpression comes out as before (and the map
    is one to one: no two terms or factors become equal), so sums, products and ``Dot`` are rebuilt as
    they stand, without sorting them again or testing signs.

    >>> from nnsym.core.vectors import VectorSymbol, Dot
    >>> x1, x2, x3 = (VectorSymbol(f"x_{k}", 2) for k in (1, 2, 3))
    >>> e = sp.exp(-Dot(x1 - x2, x1 - x2)) * Dot(x1, x2)
    >>> relabel_points(e, {x1: x3, x2: x1}) == e.xreplace({x1: x3, x2: x1})
    True
    """
    expr = sp.sympify(expr)
    keep_order = monotone and _keeps_order(expr, mapping)
    memo: dict = {}

    def walk(e):
        if e in mapping:
            return mapping[e]
        if not e.args:
            return e
        out = memo.get(e)
        if out is not None:
            return out
        args = tuple(walk(a) for a in e.args)
        if args == e.args:
            out = e
        elif isinstance(e, Dot):
            out = Dot(*args, evaluate=False) if keep_order else _canonical_dot(*args)
        elif keep_order and (e.is_Add or e.is_Mul):  # no two terms or factors become equal, none moves
            out = e.func._from_args(args, e.is_commutative)
        else:
            out = e.func(*args)
        memo[e] = out
        return out

    return walk(expr)


def _keeps_order(expr, mapping: dict) -> bool:
    """The map keeps the ``default_sort_key`` order among its sources, among its targets, and relative
    to every other symbol of their classes in ``expr`` (e.g. the vector of ones, a constant vector)."""
    key = sp.default_sort_key
    src = sorted(mapping, key=key)
    if [key(mapping[p]) for p in src] != sorted(key(mapping[p]) for p in src):
        return False
    classes = tuple({type(p) for p in mapping} | {type(q) for q in mapping.values()})
    moved = set(mapping) | set(mapping.values())
    for o in expr.free_symbols:
        if isinstance(o, classes) and o not in moved:
            ko = key(o)
            if len({key(p) < ko for p in moved}) > 1:
                return False
    return True


def _canonical_dot(u, v) -> sp.Expr:
    r"""``Dot(u, v)`` for the relabelled factors of a canonical ``Dot`` (primitive linear combinations
    of real points): the sign taken out of each factor and the factors sorted, as ``Dot.eval`` does;
    anything else through ``Dot.eval`` itself."""
    if u.has(sp.I) or v.has(sp.I) or not (vector_atoms(u) and vector_atoms(v)):
        return Dot(u, v)
    sign = 1
    if u.could_extract_minus_sign():
        u, sign = -u, -sign
    if v.could_extract_minus_sign():
        v, sign = -v, -sign
    if sp.default_sort_key(v) < sp.default_sort_key(u):
        u, v = v, u
    return sign * Dot(u, v, evaluate=False)


def _check_scalar_neuron(neuron, input) -> None:
    """The neuron must be a scalar: vectors only inside scalar products (``Dot``) or components,
    and every vector of the input's dimension (a shape=3 weight cannot meet a point of R^2)."""
    from ..core.vectors import Component, Dot

    def bare(e):
        if isinstance(e, VectorSymbol):
            return e
        if isinstance(e, (Dot, Component)):
            return None
        for arg in e.args:
            found = bare(arg)
            if found is not None:
                return found
        return None

    v = bare(neuron)
    if v is not None:
        hint = "b.dot(x)" if isinstance(input, VectorSymbol) else "a scalar parameter (no shape) with a d = 1 input"
        raise TypeError(f"the neuron {neuron} must be a scalar expression, but the vector {v} (dimension {v.dim}) "
                        f"appears outside a scalar product: write {hint}, nnsym.dot(u, v) or x[j]")
    wrong = sorted((s for s in neuron.free_symbols if isinstance(s, VectorSymbol) and sp.sympify(s.dim) != input.dim),
                   key=sp.default_sort_key)
    if wrong:
        desc = ", ".join(f"{s} (dimension {s.dim})" for s in wrong)
        raise ValueError(f"the neuron uses vectors whose dimension differs from the input {input} "
                         f"(dimension {input.dim}): {desc}")


def _check_one_symbol_per_name(net) -> None:
    """Two different symbols with one name (e.g. ``N`` positive integer in the width and a plain
    ``N`` in a variance, or two parameters called ``b``) would be confused by name-based values
    and by the compiled kernels: refuse them."""
    syms = set(net.neuron.free_symbols) | set(net.width.free_symbols) | {net.readout, net.input}
    syms |= set(sp.sympify(net.dim).free_symbols)
    for p in net.params + ([net.bias] if net.bias is not None else []):
        syms |= {p} | p.law.free_symbols()
        if isinstance(p, RandomVector):
            syms |= set(sp.sympify(p.dim).free_symbols)
    by_name: dict = {}
    for s in syms:
        if not isinstance(s, sp.Dummy):
            by_name.setdefault(s.name, set()).add(s)
    clash = {name: group for name, group in by_name.items() if len(group) > 1}
    if clash:
        def describe(s):
            if is_random(s):
                return f"the parameter {s} ~ {s.law}"
            kinds = getattr(s, "_assumptions_orig", None) or s.assumptions0
            return f"{type(s).__name__}({s.name!r}{''.join(f', {k}={v}' for k, v in sorted(kinds.items()))})"

        name, group = sorted(clash.items())[0]
        raise ValueError(f"two different symbols are named {name!r}: "
                         f"{' and '.join(sorted(map(describe, group)))}; use one symbol for one name")


def tidy(expr: sp.Expr) -> sp.Expr:
    r"""A derived correlator in its printed form: distribute the N-dependent prefactors and pull
    out the common factor, e.g. :math:`\sigma_a^4/(8N)\,[3(\dots) - 2(\dots)]` (cheap: no
    ``simplify``). The domains of the moments' transforms are gathered into one condition on the
    whole result.

    >>> import sympy as sp
    >>> N, s = sp.symbols("N s", positive=True)
    >>> tidy(3*s**4/(8*N) - 2*s**4/(8*N))
    s**4/(8*N)
    """
    value, domain = split_domain(expr)
    value = sp.expand_mul(value, deep=False)
    if isinstance(value, sp.Add) and len(value.args) > LARGE_SUM:
        return with_domain(_factor_terms_shared(value), domain)
    return with_domain(sp.factor_terms(value), domain)


LARGE_SUM = 2000
"""Sums with more terms than this are tidied by :func:`_factor_terms_shared`, at the top level only
(``factor_terms`` walks every copy of a repeated exponential: 165 s for G_c^(10) of the cos-net)."""


def _factor_terms_shared(value: sp.Add) -> sp.Expr:
    r"""The common factor of the terms of a large sum pulled out as ``factor_terms`` does at the top
    level, with each distinct factor of the terms (a block moment, an exponential, ...) split once into
    its content (numbers, powers of symbols) and the rest, which is held fixed (``factor_terms`` would
    walk every copy of a repeated exponential again, down to the scalar products). The same value."""
    memo: dict = {}

    def plain(g) -> bool:
        return g.is_Atom or (g.is_Pow and g.base.is_Atom and g.exp.is_Number)

    def held(f):
        if plain(f):
            return f
        if f not in memo:
            content, rest = f.as_content_primitive()
            d = sp.Dummy()
            memo[f] = (content * d, d, rest)
        return memo[f][0]

    terms = [sp.Mul(*[held(g) for g in sp.Mul.make_args(t)]) for t in value.args]
    return sp.factor_terms(sp.Add(*terms)).xreplace({d: rest for _, d, rest in memo.values()})


def check_n(n) -> int:
    r"""The number of points :math:`n` of an n-point function :math:`G^{(n)}(x_1,\dots,x_n)`, as an
    int :math:`\ge 1` (``True``, ``2.0`` or ``"2"`` are refused, not converted).

    >>> check_n(4)
    4
    """
    if isinstance(n, bool) or not isinstance(n, (int, sp.Integer)) and not (hasattr(n, "__index__")):
        raise TypeError(f"the number of points must be an integer, got {n!r}")
    n = int(n)
    if n < 1:
        raise ValueError(f"an n-point function needs n >= 1, got n = {n}")
    return n


# ----------------------------------------------------------------------------- cost of a derivation
MAX_TERMS = 10**6
"""Default limit of :meth:`Network.correlator`: estimates above it raise :class:`TooExpensive`."""
WARN_TERMS = 3 * 10**4
"""Estimates above this issue a :class:`CostWarning` (a few seconds and more)."""
SECONDS_PER_TERM = 1e-4
"""Calibration of the time estimate: the cos-net in general d takes about 0.1 ms per term with the
moments relabelled and the odd blocks skipped (G_c^(6): 3119 terms, ~0.7 s; G_c^(8): 39132 terms,
~4 s; G_c^(10): 509635 terms, ~40 s; one expectation per subset took ten times as long)."""


@dataclass(frozen=True)
class DerivationCost:
    r"""An estimate of the work of one derivation.

    ``partitions``: set partitions summed over (Bell numbers :math:`B_n`); ``expectations``: distinct
    expectations the engine takes; ``neuron_terms``: additive terms of one neuron once its
    cos/sin/cosh/sinh are exponentials (a product of k neurons has up to ``neuron_terms**k``);
    ``terms``: the cost measure, :math:`\sum_E (\text{points of } E)\,t^{|E|}` over the
    expectations plus the partitions (for i.i.d. neurons
    :math:`\sum_k \binom{n}{k} k\,t^k + B_n = n t (1+t)^{n-1} + B_n`); ``seconds``: ``terms`` times
    :data:`SECONDS_PER_TERM`, a rough guide only."""

    what: str
    partitions: int
    expectations: int
    neuron_terms: int
    terms: int

    @property
    def seconds(self) -> float:
        return self.terms * SECONDS_PER_TERM

    def __str__(self):
        parts = f"{self.partitions:.3g} set partitions, " if self.partitions else ""
        return (f"{self.what}: ~{self.terms:.3g} terms ({parts}{self.expectations:.3g} distinct expectation(s), "
                f"{self.neuron_terms} exponential term(s) per neuron), roughly {_duration(self.seconds)} "
                f"at ~{SECONDS_PER_TERM * 1e3:g} ms per term")


def _bell(n: int) -> int:
    return int(sp.bell(n))


def _term_count(e) -> int:
    """Additive terms of ``e`` once cos/sin/cosh/sinh of non-constant arguments are written as
    exponentials and products are multiplied out (an estimate: no cancellation)."""
    e = sp.sympify(e)
    if isinstance(e, sp.Add):
        return sum(_term_count(a) for a in e.args)
    if isinstance(e, sp.Mul):
        return math.prod(_term_count(a) for a in e.args)
    if isinstance(e, sp.Pow) and e.exp.is_Integer and e.exp > 0:
        return _term_count(e.base) ** int(e.exp)
    if isinstance(e, (sp.cos, sp.sin, sp.cosh, sp.sinh)) and e.args[0].free_symbols:
        return 2
    return 1


def _derivation_cost(net: "Network", n: int, connected: bool, neuron: bool = False) -> DerivationCost:
    t = max(1, _term_count(net.neuron))
    C, B = math.comb, _bell
    if neuron:
        return DerivationCost(f"H^({n})", 0, 1, t, n * t**n)
    what = f"G_c^({n})" if connected else f"G^({n})"
    subsets_with_partitions = sum(C(n, k) * B(k) for k in range(1, n + 1))  # B_{n+1} - 1
    if net.iid:
        expectations, eterms = 2**n - 1, sum(C(n, k) * k * t**k for k in range(1, n + 1))
        partitions = B(n) if connected or net.bias is None else subsets_with_partitions
    else:  # one expectation of all the points' summands per set partition (of each point set summed)
        if connected or net.bias is not None:
            expectations = subsets_with_partitions
            eterms = sum(C(n, k) * B(k) * k * t**k for k in range(1, n + 1))
            partitions = subsets_with_partitions + (B(n) if connected else 0)
        else:
            expectations, eterms, partitions = B(n), B(n) * n * t**n, B(n)
    return DerivationCost(what, partitions, expectations, t, eterms + partitions)


def _check_cost(cost: DerivationCost, max_terms) -> None:
    if max_terms is not None and (isinstance(max_terms, bool) or not isinstance(max_terms, (int, float))
                                  or not max_terms > 0):
        raise ValueError(f"max_terms must be a positive number (or None for the default {MAX_TERMS:.0e}, "
                         f"float('inf') for no limit), got {max_terms!r}")
    limit = MAX_TERMS if max_terms is None else max_terms
    if cost.terms > limit:
        bar = "" if cost.what.startswith("H") else " (progress=True shows its progress)"
        raise TooExpensive(
            f"refusing to derive {cost} -- above the limit max_terms={limit:.3g}. Ask for a smaller n, or pass "
            f"max_terms=float('inf') to derive it anyway{bar}", cost)
    if cost.terms > WARN_TERMS:
        bar = "" if cost.what.startswith("H") else "; progress=True shows a progress bar"
        warnings.warn(f"deriving {cost}{bar}", CostWarning, stacklevel=3)


def _duration(seconds: float) -> str:
    """``seconds`` in the largest unit that keeps the number >= 1 (s, min, h, days, years)."""
    unit, size = "s", 1.0
    for u, sz in (("min", 60.0), ("h", 3600.0), ("days", 86400.0), ("years", 3.156e7)):
        if seconds >= 1.5 * sz:
            unit, size = u, sz
    return f"{seconds / size:.2g} {unit}"
