r"""Factor rules for exponentials: exp, cos, sin, cosh, sinh of an affine form.

Each is written as a sum of exponentials of affine forms (one list of alternatives
:math:`(c_a, L_a)` per factor), which the transform method (:mod:`nnsym.engine.transforms`)
multiplies out:

.. math:: \cos L = \tfrac12(e^{iL} + e^{-iL}),\quad \sin L = \tfrac{1}{2i}(e^{iL} - e^{-iL}),\quad
          \cosh L = \tfrac12(e^{L} + e^{-L}),\quad \sinh L = \tfrac12(e^{L} - e^{-L}).

>>> import sympy as sp
>>> from nnsym import Normal
>>> b = Normal("b", 0, 1)
>>> [(c, a.scal) for c, a in cosine(sp.cos(2*b), sp.Integer(1)).exps[0]]
[(1/2, {b: 2*I}), (1/2, {b: -2*I})]
"""
from __future__ import annotations

import sympy as sp

from .forms import affine
from .registry import factor_rule
from .terms import Piece

__all__ = ["exponential", "cosine", "sine", "hyperbolic_cosine", "hyperbolic_sine"]


def _powers(f, k, alternatives) -> Piece | None:
    """``f**k`` (k a positive integer) as k copies of the alternatives of ``f``; None if the argument
    is not affine."""
    if not (k.is_Integer and k > 0):
        return None
    a = affine(f.args[0])
    if a is None:
        return None
    return Piece(exps=[alternatives(a)] * int(k))


@factor_rule(sp.exp)
def exponential(f, k) -> Piece | None:
    r""":math:`(e^{L})^k = e^{kL}`, also for a non-integer k."""
    if not (k.is_Integer and k > 0):
        a = affine(f.args[0] * k)
        return None if a is None else Piece(exps=[[(sp.S.One, a)]])
    return _powers(f, k, lambda a: [(sp.S.One, a)])


@factor_rule(sp.cos)
def cosine(f, k) -> Piece | None:
    r""":math:`\cos L = \tfrac12(e^{iL} + e^{-iL})`."""
    return _powers(f, k, lambda a: [(sp.S.Half, a.scaled(sp.I)), (sp.S.Half, a.scaled(-sp.I))])


@factor_rule(sp.sin)
def sine(f, k) -> Piece | None:
    r""":math:`\sin L = -\tfrac{i}{2}e^{iL} + \tfrac{i}{2}e^{-iL}`."""
    return _powers(f, k, lambda a: [(-sp.I / 2, a.scaled(sp.I)), (sp.I / 2, a.scaled(-sp.I))])


@factor_rule(sp.cosh)
def hyperbolic_cosine(f, k) -> Piece | None:
    r""":math:`\cosh L = \tfrac12(e^{L} + e^{-L})`."""
    return _powers(f, k, lambda a: [(sp.S.Half, a), (sp.S.Half, a.scaled(-1))])


@factor_rule(sp.sinh)
def hyperbolic_sine(f, k) -> Piece | None:
    r""":math:`\sinh L = \tfrac12(e^{L} - e^{-L})`."""
    return _powers(f, k, lambda a: [(sp.S.Half, a), (-sp.S.Half, a.scaled(-1))])
