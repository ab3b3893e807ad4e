r"""Affine forms in the random parameters: the one parser the engine (and the analyses) use.

A pre-activation such as :math:`W\cdot x + b` is an affine form

.. math:: L(\theta) = c + \sum_\theta s_\theta\,\theta + \sum_b b\cdot v_b,

with coefficients :math:`c, s_\theta, v_b` free of parameters (:math:`v_b` a vector: a linear
combination of the points). :func:`affine` reads it off an expression, or says it is not one.

>>> import sympy as sp
>>> from nnsym import Normal, Input
>>> x = Input("x", 3); W, b = Normal("W", 0, 1, shape=3), Normal("b", 0, 1)
>>> A = affine(2 * W.dot(x) - b + 1)
>>> A.const, A.scal, A.vec
(1, {b: -1}, {W: 2*x})
>>> affine(b**2) is None
True
"""
from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp

from ..core.random import RandomSymbol, RandomVector, random_atoms
from ..core.vectors import Dot, VectorSymbol, expand_dot

__all__ = ["Affine", "affine", "ones_vector"]


@dataclass
class Affine:
    r"""``const + sum_theta s_theta theta + sum_b b . v_b`` (coefficients free of parameters)."""

    const: sp.Expr = sp.S.Zero
    scal: dict = field(default_factory=dict)
    vec: dict = field(default_factory=dict)

    def scaled(self, c) -> "Affine":
        r""":math:`c\,L`."""
        return Affine(
            sp.expand(c * self.const),
            {k: sp.expand(c * v) for k, v in self.scal.items()},
            {k: sp.expand(c * v) for k, v in self.vec.items()},
        )

    def __add__(self, o: "Affine") -> "Affine":
        scal, vec = dict(self.scal), dict(self.vec)
        for k, v in o.scal.items():
            scal[k] = sp.expand(scal.get(k, 0) + v)
        for k, v in o.vec.items():
            vec[k] = sp.expand(vec.get(k, 0) + v)
        return Affine(
            sp.expand(self.const + o.const),
            {k: v for k, v in scal.items() if v != 0},
            {k: v for k, v in vec.items() if v != 0},
        )

    @property
    def params(self) -> set:
        """The parameters the form depends on."""
        return set(self.scal) | set(self.vec)

    def key(self):
        """A hashable key: equal keys, equal forms."""
        return (
            self.const,
            frozenset(self.scal.items()),
            frozenset(self.vec.items()),
        )

    def as_expr(self) -> sp.Expr:
        """The form as a sympy expression again."""
        return self.const + sum(k * v for k, v in self.scal.items()) + sum(Dot(k, v) for k, v in self.vec.items())


def affine(L) -> Affine | None:
    r"""Decompose ``L`` as an affine form in the random parameters, or None if it is not one."""
    L = sp.expand(expand_dot(sp.sympify(L)))
    out = Affine()
    for term in sp.Add.make_args(L):
        rnd = random_atoms(term)
        if not rnd:
            out.const += term
            continue
        c, r = term.as_independent(*rnd, as_Add=False)
        if isinstance(r, RandomSymbol):
            out.scal[r] = out.scal.get(r, 0) + c
        elif isinstance(r, Dot):
            u, v = r.args
            if isinstance(u, RandomVector) and not random_atoms(v):
                b, w = u, v
            elif isinstance(v, RandomVector) and not random_atoms(u):
                b, w = v, u
            else:
                return None
            out.vec[b] = sp.expand(out.vec.get(b, 0) + c * w)
        else:
            return None
    return out


_ONES: dict = {}


def ones_vector(dim) -> VectorSymbol:
    r"""The vector :math:`\mathbf 1 = (1,\dots,1)\in\mathbb R^d` (mean of an i.i.d. vector law).

    >>> ones_vector(3)
    1_d
    """
    dim = sp.sympify(dim)
    if dim not in _ONES:
        _ONES[dim] = VectorSymbol("1_d", dim)
    return _ONES[dim]
