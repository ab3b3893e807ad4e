r"""Exact finite-width moments of deep MLPs, as exact sympy expressions in the widths.

A deep MLP (:class:`~nnsym.DeepMLP`) has pre-activations :math:`z^{(l)}_i(x)`,
:math:`i = 1..n_l`, in hidden layers :math:`l = 1..L` and the output
:math:`\phi = z^{(L+1)}` (:math:`n_{L+1} = 1`). Given layer :math:`l`, the neurons
:math:`z^{(l+1)}_i` are i.i.d. centred Gaussian vectors over the inputs with covariance the
empirical *Gram matrix* (the metric)

.. math:: G^{(l+1)}_{ab} = C_b^{(l)} + \frac{C_W^{(l)}}{n_l}\sum_{j=1}^{n_l}
          f_l\big(z^{(l)}_j(x_a)\big)\,f_l\big(z^{(l)}_j(x_b)\big),\qquad
          G^{(1)}_{ab} = C_b^{(0)} + C_W^{(0)}\,\frac{x_a\cdot x_b}{n_0}.

So the output is Gaussian given :math:`G^{(L+1)}`,
:math:`E[\phi(x_{a_1})\cdots\phi(x_{a_k})] = E\big[\sum_{\text{pairings}}\prod G^{(L+1)}_{a_r a_s}\big]`,
and a moment of the Gram entries of layer :math:`l+1` is, given layer :math:`l`, an expectation
over :math:`n_l` i.i.d. Gaussian neurons of covariance :math:`G^{(l)}` (:func:`gram_moment_step`).
Expanding the product of :math:`m` factors :math:`G^{(l+1)}` and sorting the neuron indices
:math:`j_1..j_t` of the :math:`t` factors that carry the sum by the set partition :math:`\pi` of
which indices coincide,

.. math:: E\Big[\prod_{r\in T}\sum_j f(z_j(a_r))f(z_j(b_r))\Big]
          = \sum_{\pi\in\Pi(T)} n_l^{\underline{|\pi|}}\prod_{B\in\pi}
            E_{u\sim\mathcal N(0,G^{(l)})}\Big[\prod_{r\in B} f(u_{a_r})f(u_{b_r})\Big],

with :math:`n^{\underline r} = n(n-1)\cdots(n-r+1)` the falling factorial. When the
activations are polynomials (the deep linear network :math:`f(z) = z` among them) each block
expectation is a polynomial in the :math:`G^{(l)}_{ab}` by Wick/Isserlis, so every moment of
the output is, layer by layer, an exact polynomial in the :math:`1/n_l` (:func:`exact_moments`).

The polynomials live in a sympy sparse polynomial ring in the :math:`G_{ab}` whose coefficient
domain holds the activation coefficients, the variances and the inverse widths :math:`1/n_l`;
the cost grows with the order :math:`k`, the depth, the number of distinct inputs and the degree
of the activations (a :math:`k`-point moment of a deep linear network maps monomials of degree
:math:`k/2`; an activation of degree :math:`p` multiplies the degree by :math:`p` per layer).

For positively homogeneous activations (:math:`f(tz) = t^p f(z)`, :math:`t > 0`: ReLU, leaky
ReLU ``Max(a z, z)``, ``Abs``, rectified monomials ``Max(0, z)**p``) at a *single* input, the
neurons of layer :math:`l` are i.i.d. :math:`\mathcal N(0, s_l^2)` and
:math:`\sum_i f(z_i)^2 = s_l^{2p} Q_l` with :math:`Q_l = \sum_i f(g_i)^2`,
:math:`g_i\sim\mathcal N(0, 1)` independent of :math:`s_l`; the variances obey
:math:`s_{l+1}^2 = C_b^{(l)} + (C_W^{(l)}/n_l)\,s_l^{2p}Q_l` and the moments of the output
close on themselves (:func:`exact_output_moment`). For ReLU without biases
:math:`Q_l` is a :math:`\chi^2` with a Binomial(:math:`n_l`, 1/2) number of degrees of
freedom, independent across layers: a product structure.
"""
from __future__ import annotations

import functools
import itertools
import numbers
from collections import Counter
from typing import Sequence

import numpy as np
import sympy as sp
from sympy.polys.constructor import construct_domain
from sympy.polys.rings import PolyElement, ring
from sympy.utilities.iterables import multiset_partitions, partitions

from ..errors import NoClosedForm
from ..model.deep import DeepMLP

__all__ = ["exact_moments", "exact_output_moment", "gram_moment_step", "gram_symbol", "input_product_symbol"]


# ----------------------------------------------------------------------------- symbols
def gram_symbol(l: int, a: int, b: int) -> sp.Symbol:
    r"""The Gram entry :math:`G^{(l)}_{ab}` of layer :math:`l` as a sympy Symbol ``G{l}_{a}{b}``
    (inputs labelled from 1, :math:`a\le b`; the matrix is symmetric).

    >>> gram_symbol(2, 2, 1)
    G2_12
    """
    a, b = sorted((a, b))
    sep = "_" if max(a, b) > 9 else ""
    return sp.Symbol(f"G{l}_{a}{sep}{b}", real=True)


def input_product_symbol(a: int, b: int) -> sp.Symbol:
    r"""The scalar product :math:`x_a\cdot x_b` of two inputs as a sympy Symbol ``xa.xb``
    (inputs labelled from 1).

    >>> input_product_symbol(2, 1)
    x1.x2
    """
    a, b = sorted((a, b))
    return sp.Symbol(f"x{a}.x{b}", real=True)


# ----------------------------------------------------------------------------- Wick
def _pair(a: int, b: int) -> tuple:
    return (a, b) if a <= b else (b, a)


@functools.lru_cache(maxsize=None)
def _wick(mult: tuple) -> tuple:
    r"""Isserlis: :math:`E[\prod_a u_a^{m_a}]` for :math:`u\sim\mathcal N(0, G)`, as a tuple of
    (monomial, integer coefficient) pairs, a monomial a sorted tuple of pairs :math:`(a, b)`,
    :math:`a\le b`, standing for :math:`G_{ab}` (with repetition)."""
    total = sum(mult)
    if total % 2:
        return ()
    if total == 0:
        return (((), 1),)
    a = next(i for i, m in enumerate(mult) if m)
    rest = list(mult)
    rest[a] -= 1
    out: dict = {}
    for b, mb in enumerate(rest):
        if not mb:
            continue
        sub = list(rest)
        sub[b] -= 1
        for mono, c in _wick(tuple(sub)):
            key = tuple(sorted(mono + (_pair(a, b),)))
            out[key] = out.get(key, 0) + mb * c
    return tuple(out.items())


# ----------------------------------------------------------------------------- activations
def _polynomial_coefficients(spec: DeepMLP, l: int):
    """The activation of layer l as ((power, coefficient), ...), or None if it is not a polynomial."""
    z = sp.Dummy("z", real=True)
    fz = sp.expand(spec.activation_expr(l, z))
    if not fz.is_polynomial(z):
        return None
    poly = sp.Poly(fz, z)
    return tuple((int(m[0]), c) for m, c in zip(poly.monoms(), poly.coeffs()))


def _homogeneous_form(spec: DeepMLP, l: int):
    r"""(p, c_+, c_-) with :math:`f(t) = c_+ t^p`, :math:`f(-t) = c_- t^p` for :math:`t > 0`, or None."""
    t = sp.Dummy("t", positive=True)
    sides = []
    for sign in (1, -1):
        e = sp.simplify(spec.activation_expr(l, sign * t))
        if e == 0:
            sides.append((None, sp.Integer(0)))
            continue
        c, p = e.as_coeff_exponent(t)
        if c.has(t) or p.has(t) or not (p.is_Integer and p >= 0):
            return None
        sides.append((int(p), c))
    ps = {p for p, _ in sides if p is not None}
    if len(ps) > 1:
        return None
    p = ps.pop() if ps else 1
    return p, sides[0][1], sides[1][1]


# ----------------------------------------------------------------------------- the layer map
class _GramAlgebra:
    r"""Polynomials in the Gram entries :math:`G_{ab}` of :math:`M` inputs (a sympy sparse
    polynomial ring), over one coefficient domain that holds the activation coefficients, the
    variances and the inverse widths :math:`1/n_l` of the layers used (so that a coefficient is a
    polynomial in the :math:`1/n_l`), and the layer maps between them."""

    def __init__(self, spec: DeepMLP, layers: Sequence[int], M: int, extra: Sequence = ()):
        self.M = M
        self.pairs = [(a, b) for a in range(M) for b in range(a, M)]
        self.index = {p: i for i, p in enumerate(self.pairs)}
        self.back: dict = {}
        params: list = [sp.Rational(1, 2), *extra]
        setup = {}
        for l in layers:
            coeffs = _polynomial_coefficients(spec, l)
            if coeffs is None:
                raise NoClosedForm(
                    f"exact finite-width moments at several inputs need polynomial activations (the deep linear "
                    f"network f(z) = z among them); layer {l} has f(z) = {spec.activation_expr(l, sp.Symbol('z'))}."
                    f" At a single input, positively homogeneous activations (ReLU, leaky ReLU, Abs, "
                    f"Max(0, z)**p) are exact too: exact_output_moment(spec, k, x)")
            C_W, C_b = (sp.sympify(c) for c in spec.layer_variances(l))
            n = spec.widths[l - 1]
            if n is sp.oo:
                inv = None
            elif isinstance(n, int):
                inv = sp.Rational(1, n)
            else:
                inv = sp.Dummy(f"1/{n}", positive=True)
                self.back[inv] = 1 / n
            params += [c for _, c in coeffs] + [C_W, C_b] + ([inv] if inv is not None else [])
            setup[l] = (coeffs, inv, C_W, C_b)
        self.dom, _ = construct_domain(params)
        self.R, *self.gens = ring([f"g{a}_{b}" for a, b in self.pairs], self.dom)
        self.maps = {l: _LayerMap(self, *args) for l, args in setup.items()}

    def convert(self, expr):
        return self.dom.from_sympy(sp.sympify(expr))

    def from_monomials(self, terms) -> PolyElement:
        """A ring element from (monomial as pairs, coefficient) items."""
        out: dict = {}
        for mono, c in terms:
            vec = [0] * len(self.pairs)
            for p in mono:
                vec[self.index[p]] += 1
            out[tuple(vec)] = out.get(tuple(vec), 0) + c
        return self.R.from_dict(out) if out else self.R.zero

    def wick(self, mult: tuple):
        return self.from_monomials(_wick(tuple(mult)))

    def factors(self, monom: tuple) -> tuple:
        """The exponent vector ``monom`` as the sorted tuple of its factors (a, b)."""
        return tuple(p for p, e in zip(self.pairs, monom) for _ in range(e))

    def evaluate(self, poly, values: Sequence):
        """``poly`` at :math:`G_{ab}` = ``values`` (in the order of ``self.pairs``), a domain element."""
        vals = [self.convert(v) for v in values]
        out = self.dom.zero
        for monom, c in poly.terms():
            for v, e in zip(vals, monom):
                if e:
                    c = c * v ** e
            out += c
        return out

    def as_expr(self, poly, value) -> sp.Expr:
        """``poly`` with :math:`G_{ab}` replaced by ``value(a, b)`` and the inverse widths by :math:`1/n_l`."""
        syms = [sp.Dummy() for _ in self.pairs]
        expr = poly.as_expr(*syms)
        return expr.xreplace({s: value(a, b) for s, (a, b) in zip(syms, self.pairs)}).xreplace(self.back)


class _LayerMap:
    r"""Given layer l, :math:`E[\prod_r G^{(l+1)}_{a_r b_r}]` as a polynomial in :math:`G^{(l)}`."""

    def __init__(self, alg: _GramAlgebra, coeffs: tuple, inv, C_W, C_b):
        self.alg, self.inv = alg, inv
        self.coeffs = tuple((p, alg.convert(c)) for p, c in coeffs)
        self.C_W, self.C_b, self.no_bias = alg.convert(C_W), alg.convert(C_b), sp.sympify(C_b).is_zero
        self._blocks: dict = {}
        self._sums: dict = {}
        self._monos: dict = {}

    def weight(self, r: int, t: int):
        r""":math:`n^{\underline r}/n^t = \nu^{t-r}\prod_{i<r}(1 - i\nu)`, :math:`\nu = 1/n`
        (1 if r == t, else 0, at infinite width)."""
        if self.inv is None:
            return self.alg.dom.one if r == t else None
        return self.alg.convert(sp.expand(self.inv ** (t - r) * sp.Mul(*[1 - i * self.inv for i in range(r)])))

    def block(self, factors: tuple):
        r""":math:`E[\prod_{(a,b)} f(u_a)f(u_b)]`, :math:`u\sim\mathcal N(0, G)`, by Wick."""
        if factors in self._blocks:
            return self._blocks[factors]
        dom = self.alg.dom
        terms = {(0,) * self.alg.M: dom.one}
        for a in itertools.chain.from_iterable(factors):
            new: dict = {}
            for mult, c in terms.items():
                for p, cp in self.coeffs:
                    m = list(mult)
                    m[a] += p
                    m = tuple(m)
                    new[m] = new.get(m, dom.zero) + c * cp
            terms = new
        out = self.alg.R.zero
        for mult, c in terms.items():
            out += self.alg.wick(mult).mul_ground(c)
        self._blocks[factors] = out
        return out

    def summed(self, factors: tuple):
        r""":math:`E[\prod_r n^{-1}\sum_j f(z_j(a_r))f(z_j(b_r))]`, by set partitions of the factors."""
        if factors in self._sums:
            return self._sums[factors]
        t = len(factors)
        by_blocks: dict = {}
        for pi in multiset_partitions(list(range(t))):
            prod = self.alg.R.one
            for B in pi:
                prod = prod * self.block(tuple(sorted(factors[r] for r in B)))
            by_blocks[len(pi)] = by_blocks.get(len(pi), self.alg.R.zero) + prod
        out = self.alg.R.zero
        for r, S in by_blocks.items():
            w = self.weight(r, t)
            if w is not None:
                out += S.mul_ground(w)
        self._sums[factors] = out
        return out

    def monomial(self, monom: tuple):
        if monom in self._monos:
            return self._monos[monom]
        mono = self.alg.factors(monom)
        m = len(mono)
        out = self.alg.R.zero
        for t in ([m] if self.no_bias else range(m + 1)):
            counts = Counter(tuple(mono[r] for r in T) for T in itertools.combinations(range(m), t))
            for factors, count in counts.items():
                c = self.alg.dom.convert(count) * self.C_W ** t
                out += self.summed(factors).mul_ground(c * self.C_b ** (m - t) if t < m else c)
        self._monos[monom] = out
        return out

    def __call__(self, poly):
        out = self.alg.R.zero
        for monom, c in poly.terms():
            out += self.monomial(monom).mul_ground(c)
        return out


def gram_moment_step(spec: DeepMLP, l: int, expr, inputs: int) -> sp.Expr:
    r"""One layer of the exact Gram-moment map: a polynomial in the Gram entries
    :math:`G^{(l+1)}_{ab}` (:func:`gram_symbol`) replaced by its expectation given layer
    :math:`l`, a polynomial in the :math:`G^{(l)}_{ab}`.

    .. math:: E\Big[\prod_{r=1}^m G^{(l+1)}_{a_rb_r}\,\Big|\,G^{(l)}\Big]
              = \sum_{T\subseteq[m]} (C_b^{(l)})^{m-|T|}\Big(\frac{C_W^{(l)}}{n_l}\Big)^{|T|}
                \sum_{\pi\in\Pi(T)} n_l^{\underline{|\pi|}}\prod_{B\in\pi}
                E_{u\sim\mathcal N(0,G^{(l)})}\Big[\prod_{r\in B}f_l(u_{a_r})f_l(u_{b_r})\Big].

    Parameters
    ----------
    spec : the network; the activation :math:`f_l` of hidden layer :math:`l` must be a polynomial.
    l : the hidden layer, :math:`1\le l\le L`.
    expr : a polynomial in the symbols ``G{l+1}_ab``.
    inputs : the number of inputs the labels :math:`a, b` run over.

    Returns
    -------
    The polynomial in the symbols ``G{l}_ab`` (coefficients exact in the width :math:`n_l`).

    Examples
    --------
    The second moment of a variance of a linear layer of width :math:`n` without bias:

    >>> import sympy as sp
    >>> n = sp.Symbol("n", positive=True, integer=True)
    >>> spec = DeepMLP(lambda z: z, 1, 1, widths=n, sigma_W=1, sigma_b=0)
    >>> sp.factor(gram_moment_step(spec, 1, gram_symbol(2, 1, 1)**2, 1))
    G1_11**2*(n + 2)/n
    """
    _check_spec(spec)
    if isinstance(l, bool) or not isinstance(l, numbers.Integral) or not 1 <= l <= spec.depth:
        raise ValueError(f"gram_moment_step: l must be a hidden layer 1..{spec.depth}, got {l!r}")
    M = _check_count(inputs, "inputs")
    upper = [gram_symbol(l + 1, a + 1, b + 1) for a in range(M) for b in range(a, M)]
    try:
        poly = sp.Poly(sp.sympify(expr), *upper)
    except sp.PolynomialError:
        raise ValueError(f"gram_moment_step: expr must be a polynomial in the Gram entries G{l + 1}_ab of "
                         f"{M} inputs, got {expr}") from None
    alg = _GramAlgebra(spec, [l], M, extra=poly.coeffs())
    P = alg.R.from_dict({m: alg.convert(c) for m, c in poly.terms()})
    return sp.expand(alg.as_expr(alg.maps[l](P), lambda a, b: gram_symbol(l, a + 1, b + 1)))


# ----------------------------------------------------------------------------- input handling
def _check_spec(spec) -> None:
    if not isinstance(spec, DeepMLP):
        raise TypeError(f"expected a DeepMLP specification, got {type(spec).__name__}")


def _check_count(k, name: str, low: int = 1) -> int:
    if isinstance(k, (bool, np.bool_)) or not isinstance(k, numbers.Integral) or k < low:
        raise ValueError(f"{name} must be an integer >= {low}, got {k!r}")
    return int(k)


def _labels(k: int, at) -> tuple:
    if at is None:
        return tuple(range(k))
    at = tuple(at)
    if len(at) != k or any(isinstance(a, bool) or not isinstance(a, numbers.Integral) or a < 0 for a in at):
        raise ValueError(f"at must list {k} input indices (integers >= 0), one per factor phi(x_a), got {at!r}")
    return tuple(int(a) for a in at)


def _dot_products(spec: DeepMLP, X, labels: Sequence[int]):
    """A function (a, b) -> x_a . x_b over the distinct labels (relabelled 0..M-1)."""
    distinct = sorted(set(labels))
    if X is None:
        return lambda a, b: input_product_symbol(distinct[a] + 1, distinct[b] + 1)
    if isinstance(X, sp.MatrixBase):
        rows = [list(X.row(i)) for i in range(X.rows)]
    else:
        arr = np.asarray(X, dtype=object)
        if arr.ndim == 1:
            arr = arr[None, :]
        if arr.ndim != 2:
            raise ValueError(f"X must be an array of input points, shape (M, d), got shape {arr.shape}")
        rows = [[sp.sympify(v) for v in row] for row in arr]
    if spec.d.is_Integer and any(len(r) != int(spec.d) for r in rows):
        raise ValueError(f"X must have rows of length d = {spec.d}, got {len(rows[0])}")
    if max(distinct) >= len(rows):
        raise ValueError(f"at refers to input {max(distinct)} but X has only {len(rows)} rows")
    pts = [rows[i] for i in distinct]
    return lambda a, b: sp.Add(*[u * v for u, v in zip(pts[a], pts[b])])


# ----------------------------------------------------------------------------- public results
def exact_moments(spec: DeepMLP, k: int, X=None, at: Sequence[int] | None = None) -> sp.Expr:
    r"""The exact moment :math:`E[\phi(x_{a_1})\cdots\phi(x_{a_k})]` of a deep MLP's output at
    finite widths, for polynomial activations (the deep linear network :math:`f(z) = z`, with or
    without biases, among them).

    Layer by layer (:func:`gram_moment_step`), from the output's Wick sum over pairings

    .. math:: E[\phi(x_{a_1})\cdots\phi(x_{a_k})]
              = E\Big[\sum_{\text{pairings}}\prod_{(r,s)} G^{(L+1)}_{a_r a_s}\Big]
              \ \xrightarrow{\,E[\cdot\,|\,G^{(L)}]\,}\ \cdots\ \xrightarrow{\,E[\cdot\,|\,G^{(1)}]\,}\
              \text{polynomial in } G^{(1)}_{ab} = C_b^{(0)} + C_W^{(0)}\frac{x_a\cdot x_b}{n_0},

    exact in the widths: for the deep linear network a polynomial in the :math:`1/n_l`, e.g. at
    depth 1 without biases
    :math:`E[\phi(x)^4] = 3\big(C_W^{(0)}C_W^{(1)}\,x^2/n_0\big)^2\,(1 + 2/n_1)`.
    At infinite width (``widths=None``) it is the Gaussian (NNGP) result.

    Parameters
    ----------
    spec : the deep network (:class:`~nnsym.DeepMLP`); widths ints, positive integer Symbols
        or infinite. Non-polynomial activations are exact only at one input: with one distinct
        input this delegates to :func:`exact_output_moment`, otherwise raises
        :class:`~nnsym.NoClosedForm`.
    k : the order, the number of factors :math:`\phi`.
    X : the input points, an array or sympy Matrix of shape (M, d); ``None`` (default) leaves the
        scalar products :math:`x_a\cdot x_b` as symbols ``xa.xb`` (:func:`input_product_symbol`).
    at : the input index of each factor (default ``range(k)``: :math:`k` distinct inputs);
        ``at=(0, 0, 0, 0)`` is :math:`E[\phi(x_0)^4]`, the rows of ``X`` being :math:`x_0, x_1, \dots`.

    Returns
    -------
    A sympy expression (expanded) in the widths, the variances and the scalar products. Odd
    :math:`k` give 0 for every activation (:math:`\phi\to-\phi` flips the readout).

    Examples
    --------
    >>> import sympy as sp
    >>> n = sp.Symbol("n", positive=True, integer=True)
    >>> spec = DeepMLP(lambda z: z, depth=1, d=1, widths=n, sigma_W=1, sigma_b=0)
    >>> exact_moments(spec, 4, X=[[1]], at=(0, 0, 0, 0))
    3 + 6/n
    >>> exact_moments(spec.replace(widths=[2]), 2, X=[[1], [2]])
    2
    """
    _check_spec(spec)
    k = _check_count(k, "k", low=0)
    labels = _labels(k, at)
    if k == 0:
        return sp.Integer(1)
    distinct = sorted(set(labels))
    dot = _dot_products(spec, X, labels)
    if k % 2:                     # phi -> -phi (the readout weights and bias are symmetric)
        return sp.Integer(0)
    polynomial = all(_polynomial_coefficients(spec, l) is not None for l in range(1, spec.depth + 1))
    if not polynomial and len(distinct) == 1:
        return exact_output_moment(spec, k, xx=dot(0, 0))
    M = len(distinct)
    mult = [0] * M
    for a in labels:
        mult[distinct.index(a)] += 1
    C_W0, C_b0 = spec.layer_variances(0)
    inv_d = sp.Rational(1, int(spec.d)) if spec.d.is_Integer else sp.Dummy(f"1/{spec.d}", positive=True)
    G1 = [C_b0 + C_W0 * dot(a, b) * inv_d for a in range(M) for b in range(a, M)]
    alg = _GramAlgebra(spec, range(1, spec.depth + 1), M, extra=G1)
    poly = alg.wick(tuple(mult))
    for l in range(spec.depth, 0, -1):
        poly = alg.maps[l](poly)
    return alg.dom.to_sympy(alg.evaluate(poly, G1)).xreplace(alg.back).xreplace({inv_d: 1 / spec.d})


def _q_moment(j: int, n, p: int, c_plus, c_minus):
    r""":math:`E[(Q/n)^j]`, :math:`Q = \sum_{i\le n} f(g_i)^2`, by integer partitions of j:
    :math:`E[Q^j] = \sum_\lambda \frac{j!}{\prod\lambda_i!\prod m_c!}\,n^{\underline{\ell(\lambda)}}
    \prod_i \mu_{\lambda_i}`, :math:`\mu_r = E[f(g)^{2r}] = (2pr-1)!!\,(c_+^{2r} + c_-^{2r})/2`."""
    mu = lambda r: sp.factorial2(2 * p * r - 1) * (c_plus ** (2 * r) + c_minus ** (2 * r)) / 2
    if n is sp.oo:
        return mu(1) ** j
    total = sp.Integer(0)
    for lam in partitions(j):
        parts = [r for r, m in lam.items() for _ in range(m)]
        count = sp.factorial(j) / (sp.Mul(*[sp.factorial(r) for r in parts])
                                   * sp.Mul(*[sp.factorial(m) for m in lam.values()]))
        total += count * sp.ff(n, len(parts)) * sp.Mul(*[mu(r) for r in parts])
    return total / sp.sympify(n) ** j


def exact_output_moment(spec: DeepMLP, k: int, x=None, xx=None) -> sp.Expr:
    r"""The exact moment :math:`E[\phi(x)^k]` at one input, for positively homogeneous
    activations (:math:`f(tz) = t^p f(z)`, :math:`t>0`, :math:`p` a non-negative integer: ReLU,
    leaky ReLU ``Max(a z, z)``, ``Abs``, ``Max(0, z)**p``, linear), at any widths.

    The neurons of layer :math:`l` are i.i.d. :math:`\mathcal N(0, s_l^2)` given the layer below,
    so :math:`s_{l+1}^2 = C_b^{(l)} + (C_W^{(l)}/n_l)\,s_l^{2p_l}\,Q_l` with
    :math:`Q_l = \sum_{i\le n_l} f_l(g_i)^2` independent of :math:`s_l`, and

    .. math:: E[\phi^{2k}] = (2k-1)!!\,E[s_{L+1}^{2k}],\qquad
              E[s_{l+1}^{2m}] = \sum_{j=0}^m\binom mj (C_b^{(l)})^{m-j}
              \Big(\frac{C_W^{(l)}}{n_l}\Big)^j E[Q_l^j]\,E[s_l^{2p_l j}],\qquad
              s_1^2 = C_b^{(0)} + C_W^{(0)}\frac{x\cdot x}{n_0}.

    For ReLU :math:`Q_l\sim\chi^2_{J}` with :math:`J\sim\mathrm{Binomial}(n_l, 1/2)`; without
    biases the moments factorise over the layers, e.g.
    :math:`E[\phi^2] = s_1^2\prod_l C_W^{(l)}/2` and
    :math:`E[\phi^4] = 3 s_1^4\prod_l (C_W^{(l)})^2\,\frac{n_l + 5}{4 n_l}`.
    Biases are allowed (the recursion stays closed at one input).

    Parameters
    ----------
    spec : the deep network; every activation positively homogeneous, else
        :class:`~nnsym.NoClosedForm`.
    k : the order of the moment.
    x : the input point (length d), or ``None``.
    xx : :math:`x\cdot x` instead of ``x`` (default the Symbol ``x1.x1``).

    Returns
    -------
    A sympy expression, exact in the widths (a polynomial in the :math:`1/n_l`).

    Examples
    --------
    >>> import sympy as sp
    >>> n = sp.Symbol("n", positive=True, integer=True)
    >>> relu = DeepMLP(lambda z: sp.Max(0, z), depth=1, d=1, widths=n, sigma_W=1, sigma_b=0)
    >>> sp.factor(exact_output_moment(relu, 4, x=[1]))
    3*(n + 5)/(4*n)
    """
    _check_spec(spec)
    k = _check_count(k, "k", low=0)
    if x is not None and xx is not None:
        raise ValueError("give the input x or its square norm xx, not both")
    if x is not None:
        xx = _dot_products(spec, [list(np.ravel(np.asarray(x, dtype=object)))], (0,))(0, 0)
    elif xx is None:
        xx = input_product_symbol(1, 1)
    if k % 2:
        return sp.Integer(0)
    forms = []
    for l in range(1, spec.depth + 1):
        form = _homogeneous_form(spec, l)
        if form is None:
            raise NoClosedForm(
                f"exact_output_moment needs positively homogeneous activations f(t z) = t^p f(z) (t > 0, p an "
                f"integer >= 0: ReLU, leaky ReLU Max(a*z, z) with a number a, Abs, Max(0, z)**p, z); layer {l} "
                f"has f(z) = {spec.activation_expr(l, sp.Symbol('z'))}. Polynomial activations are exact at any "
                f"inputs: exact_moments(spec, k, X)")
        forms.append(form)
    C_W0, C_b0 = spec.layer_variances(0)
    s1 = C_b0 + C_W0 * sp.sympify(xx) / spec.d

    @functools.lru_cache(maxsize=None)
    def moment(l: int, m: int):
        """E[(s_l^2)^m]."""
        if m == 0:
            return sp.Integer(1)
        if l == 1:
            return s1 ** m
        p, cp, cm = forms[l - 2]
        C_W, C_b = (sp.sympify(c) for c in spec.layer_variances(l - 1))
        n = spec.widths[l - 2]
        total = sp.Integer(0)
        for j in range(m + 1):
            if C_b.is_zero and j < m:
                continue
            total += (sp.binomial(m, j) * C_b ** (m - j) * C_W ** j * _q_moment(j, n, p, cp, cm)
                      * moment(l - 1, p * j))
        return total

    return sp.expand(sp.factorial2(k - 1) * moment(spec.depth + 1, k // 2))

