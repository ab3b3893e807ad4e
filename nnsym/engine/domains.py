r"""Where an expectation exists: domains of transforms, and growth against moments.

A moment generating function converges only on a strip, e.g. :math:`E[e^{sb}] = 1/(1 - s^2)`
for :math:`b\sim\mathrm{Laplace}(0, 1)` needs :math:`|\mathrm{Re}\,s| < 1`. The rules record the
condition of each transform they use (:func:`require`); the engine gathers the conditions of one
expectation (:func:`collecting_domains`) and returns ``Piecewise((value, condition), (oo, True))``
(:func:`with_domain`). A condition that is surely false raises
:class:`~nnsym.errors.DivergentExpectation`.

>>> x = sp.Symbol("x", real=True)
>>> with collecting_domains() as conditions:
...     require(abs(x) < 1, "E[exp(x b)]")
>>> with_domain(1/(1 - x**2), sp.And(*conditions))
Piecewise((1/(1 - x**2), Abs(x) < 1), (oo, True))
"""
from __future__ import annotations

import math
from contextlib import contextmanager

import sympy as sp

from ..core.vectors import Component, Dot
from ..errors import DivergentExpectation

__all__ = ["with_domain", "split_domain", "require", "collecting_domains", "growth_degree"]

#: conditions met by the transforms of the expectation being taken (a stack: one set per call)
_DOMAINS: list = []


def with_domain(value, condition) -> sp.Expr:
    r"""``value`` where ``condition`` holds and :math:`+\infty` (no finite expectation) elsewhere:
    ``Piecewise((value, condition), (oo, True))``; just ``value`` if the condition is always true.

    >>> x = sp.Symbol("x", real=True)
    >>> with_domain(1/(1 - x**2), abs(x) < 1)
    Piecewise((1/(1 - x**2), Abs(x) < 1), (oo, True))
    """
    condition = sp.sympify(condition)
    if condition is sp.true:
        return value
    if condition is sp.false:
        raise DivergentExpectation(f"the expectation {value} does not exist anywhere")
    return sp.Piecewise((value, condition), (sp.oo, True))


def _is_domain(e) -> bool:
    return isinstance(e, sp.Piecewise) and len(e.args) == 2 and e.args[1] == (sp.oo, sp.true)


def split_domain(expr) -> tuple:
    r"""Undo :func:`with_domain` everywhere in ``expr``: returns ``(value, condition)`` with every
    domain ``Piecewise`` replaced by its value and the conjunction of their conditions.

    >>> x = sp.Symbol("x", real=True)
    >>> split_domain(2*with_domain(1/(1 - x), x < 1) + 1)
    (1 + 2/(1 - x), x < 1)
    """
    conds: list = []

    def take(e):
        conds.append(e.args[0][1])
        return e.args[0][0]

    expr = sp.sympify(expr)
    while True:  # domains inside domains (nested expectations) come out one level at a time
        inner = expr.replace(_is_domain, take) if expr.has(sp.Piecewise) else expr
        if inner == expr:
            break
        expr = inner
    return expr, sp.And(*conds)


def require(condition, what: str) -> None:
    r"""Record the domain ``condition`` of a transform (a symbolic condition on the points) for the
    expectation being taken; raise :class:`DivergentExpectation` if it is surely false.

    >>> require(sp.true, "E[exp(0)]")  # nothing to record
    """
    condition = sp.sympify(condition)
    if condition is sp.true:
        return
    if condition is sp.false:
        raise DivergentExpectation(f"{what} does not exist (outside the domain of the transform)")
    if _DOMAINS:
        _DOMAINS[-1].add(condition)


@contextmanager
def collecting_domains():
    r"""Collect the conditions :func:`require` records while the block runs (nested calls each
    get their own set); yields the set, sorted by the caller as it likes."""
    _DOMAINS.append(set())
    try:
        yield _DOMAINS[-1]
    finally:
        _DOMAINS.pop()


_BOUNDED = (sp.cos, sp.sin, sp.tanh, sp.erf, sp.erfc, sp.sign, sp.Heaviside, sp.atan, sp.sinc)


def growth_degree(e, p):
    r"""An integer :math:`g` with :math:`|e| = O(|p|^g)` as the parameter :math:`|p|\to\infty`
    (uniformly in the rest), or None if unknown (exponentials, negative powers, unknown functions).
    The engine and the Monte Carlo layer use it to ask for the moment :math:`E|p|^g` an
    expectation needs (a ReLU of a Cauchy parameter has none).

    >>> p = sp.Symbol("p", real=True)
    >>> growth_degree(sp.Max(0, 2*p - 1) * sp.tanh(p) + p**2, p), growth_degree(sp.exp(p), p)
    (2, None)
    """
    if not e.has(p):
        return 0
    if e == p:
        return 1
    if isinstance(e, (Dot, Component)) or e.is_Mul:
        parts = [growth_degree(a, p) for a in e.args]
        return None if None in parts else sum(parts)
    if e.is_Add or isinstance(e, (sp.Max, sp.Min, sp.Abs)):
        parts = [growth_degree(a, p) for a in e.args]
        return None if None in parts else max(parts)
    if e.is_Pow:
        base, ex = e.args
        if ex.has(p) or not ex.is_number or not ex.is_extended_real or ex < 0:
            return None
        g = growth_degree(base, p)
        return None if g is None else math.ceil(g * float(ex))
    if isinstance(e, _BOUNDED):
        return 0
    return None
