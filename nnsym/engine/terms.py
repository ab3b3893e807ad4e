r"""One monomial of the integrand, sorted by what the rules can do with its factors.

The engine expands :math:`E[f]` into monomials :math:`c\prod_k u_k^{n_k}` and asks
:data:`~nnsym.engine.registry.FACTOR_RULES` about each factor. A rule answers with a
:class:`Piece`: a moment :math:`\theta^k`, a vector moment :math:`(b\cdot w)^k`, or
exponentials of affine forms (each factor a list of alternatives :math:`\sum_a c_a e^{L_a}`).
The factors no rule takes stay *opaque*. The parameters then split into independent groups
(:meth:`Term.groups`), each asked of :data:`~nnsym.engine.registry.GROUP_RULES`.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import sympy as sp

from ..core.random import RandomSymbol, random_atoms
from ..core.vectors import Dot

__all__ = ["Piece", "Term", "alternative_params"]


@dataclass
class Piece:
    r"""What one factor contributes: ``polys`` :math:`\{\theta: k\}`, ``vpolys`` :math:`\{b: [(w, k)]\}`
    (factors :math:`(b\cdot w)^k`), ``exps`` a list of alternatives lists ``[(c, Affine), ...]``
    (one per factor, :math:`\sum_a c_a e^{L_a}`)."""

    polys: dict = field(default_factory=dict)
    vpolys: dict = field(default_factory=dict)
    exps: list = field(default_factory=list)


def alternative_params(alts) -> set:
    r"""The parameters of one exponential factor :math:`\sum_a c_a e^{L_a}`."""
    return set().union(*[a.params for _, a in alts])


@dataclass
class Term:
    """A monomial: ``coeff`` (free of parameters) times its classified factors."""

    coeff: sp.Expr
    params: set
    polys: dict = field(default_factory=lambda: defaultdict(int))
    vpolys: dict = field(default_factory=lambda: defaultdict(list))
    exps: list = field(default_factory=list)
    opaque: list = field(default_factory=list)  # factors no rule knows
    factors: list = field(default_factory=list)  # every factor with parameters, as written

    def add(self, piece: Piece) -> None:
        """Take in the contribution of one factor."""
        for p, k in piece.polys.items():
            self.polys[p] += k
        for b, ws in piece.vpolys.items():
            self.vpolys[b].extend(ws)
        self.exps.extend(piece.exps)

    def exponentials_of(self, group: set) -> list:
        """The exponential factors (alternatives lists) that involve ``group``."""
        return [a for a in self.exps if alternative_params(a) & group]

    def opaque_of(self, group: set) -> list:
        """The opaque factors that involve ``group``."""
        return [o for o in self.opaque if random_atoms(o) & group]

    def factors_of(self, group: set) -> list:
        """The factors, as written, that involve ``group``."""
        return [f for f in self.factors if random_atoms(f) & group]

    def only_polynomial(self, group: set) -> bool:
        """Only moments of ``group`` (no exponential, no opaque factor)."""
        return not any(alternative_params(a) & group for a in self.exps) and not any(
            random_atoms(o) & group for o in self.opaque)

    def groups(self) -> list[set]:
        """Parameters that share a factor (connected components): independent groups."""
        parent = {p: p for p in self.params}

        def find(p):
            while parent[p] != p:
                parent[p] = parent[parent[p]]
                p = parent[p]
            return p

        def link(ps):
            ps = list(ps)
            for q in ps[1:]:
                parent[find(q)] = find(ps[0])

        for alts in self.exps:
            link(alternative_params(alts))
        for f in self.opaque:
            link(random_atoms(f))
        comps = defaultdict(set)
        for p in self.params:
            comps[find(p)].add(p)
        return list(comps.values())

    def product_over(self, group: set) -> sp.Expr:
        """The product of the factors that involve ``group`` (the integrand of the fallback)."""
        f = sp.S.One
        for p in group:
            if isinstance(p, RandomSymbol):
                f *= p ** self.polys.get(p, 0)
            else:
                for w, k in self.vpolys.get(p, []):
                    f *= Dot(p, w) ** k
        for alts in self.exps:
            if alternative_params(alts) & group:
                f *= sp.Add(*[c * sp.exp(a.as_expr()) for c, a in alts])
        for o in self.opaque:
            if random_atoms(o) & group:
                f *= o
        return f
