r"""Factor rules for moments: :math:`\theta^k` and :math:`(b\cdot w)^k`.

A positive integer power of a parameter is a moment; with exponentials next to it,
:math:`E[\theta^k e^{s\theta}] = M^{(k)}(s)` (:mod:`nnsym.engine.transforms`). Polynomials of
pre-activations, e.g. :math:`(w x + b)^3`, are multiplied out before (Isserlis/Wick then acts
through the moments).

>>> import sympy as sp
>>> from nnsym import Normal
>>> a = Normal("a", 0, 2)
>>> scalar_moment(a, sp.Integer(3))
Piece(polys={a: 3}, vpolys={}, exps=[])
"""
from __future__ import annotations

from ..core.random import RandomSymbol
from ..core.vectors import Dot
from .forms import affine
from .registry import factor_rule
from .terms import Piece

__all__ = ["scalar_moment", "vector_moment"]


@factor_rule(RandomSymbol)
def scalar_moment(theta: RandomSymbol, k) -> Piece | None:
    r""":math:`\theta^k`, k a positive integer: the moment :math:`E[\theta^k]`."""
    if k.is_Integer and k > 0:
        return Piece(polys={theta: int(k)})
    return None


@factor_rule(Dot)
def vector_moment(u: Dot, k) -> Piece | None:
    r""":math:`(b\cdot w)^k`, k a positive integer, one random vector :math:`b`: a vector moment."""
    if k.is_Integer and k > 0:
        a = affine(u)
        if a is not None and not a.scal and len(a.vec) == 1 and a.const == 0:
            (b, w), = a.vec.items()
            return Piece(vpolys={b: [(w, int(k))]})
    return None
