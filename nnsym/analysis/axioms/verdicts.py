r"""What every axiom is decided on, and how verdicts combine.

:class:`AxiomCorrelators` holds the correlators of one network the axioms look at:
:math:`G^{(2)}` and :math:`G^{(4)}_c` at finite N and, for a symbolic width, their limits
:math:`N\to\infty` (a Gaussian limit when :math:`\lim G^{(4)}_c = 0`). :func:`every_correlator`
and :func:`both` combine the verdicts of single correlators and of two checks.

>>> import nnsym as ns
>>> C = AxiomCorrelators.of(ns.zoo.cos_net(1), {"sigma_a": 1.0, "sigma_b": 1.0, "N": 7})
>>> correlator_label(C.G4c), C.gaussian, C.limit_correlators == [C.G2_inf]
('G_c^(4)', True, True)
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence

import sympy as sp

from ..toolkit import Verdict, large_n_limit

if TYPE_CHECKING:  # pragma: no cover
    from ...model.correlator import Correlator
    from ...model.network import Network

__all__ = ["AxiomCorrelators", "correlator_label", "every_correlator", "both"]


def correlator_label(G: "Correlator") -> str:
    r"""``"G^(n)"`` or, for a connected correlator, ``"G_c^(n)"``: how the reports name :math:`G^{(n)}`,
    :math:`G^{(n)}_c`.

    >>> import nnsym as ns
    >>> correlator_label(ns.zoo.cos_net(1).correlator(2))
    'G^(2)'
    """
    return f"G{'_c' if G.connected else ''}^({G.n})"


@dataclass
class AxiomCorrelators:
    r"""The correlators the axioms are decided on, for one network at numeric ``values``.

    ``G2``, ``G4c``: :math:`G^{(2)}` and :math:`G^{(4)}_c` (connected; :math:`G^{(2)}_c = G^{(2)}` without
    a bias mean). ``G2_inf``, ``G4c_inf``: their :math:`N\to\infty` limits, None when there is none.
    ``no_limit``: None when both limits exist, else the undecided verdict that says why (every
    N -> oo statement is then this verdict). ``gaussian``: the limit is a Gaussian process
    (:math:`\lim G^{(4)}_c = 0`, so only :math:`G^{(2)}` matters there, by Wick's theorem).
    """

    network: Any
    G2: Any
    G4c: Any
    G2_inf: Any
    G4c_inf: Any
    no_limit: Verdict | None
    values: dict

    @property
    def gaussian(self) -> bool:
        return self.no_limit is None and self.G4c_inf.expr == 0

    @property
    def limit_correlators(self) -> list:
        r"""The N -> oo correlators that decide an axiom: :math:`G^{(2)}` alone in a Gaussian limit."""
        return [self.G2_inf] + ([] if self.gaussian else [self.G4c_inf])

    @classmethod
    def of(cls, net: "Network", values: Mapping) -> "AxiomCorrelators":
        r"""Derive :math:`G^{(2)}, G^{(4)}_c` of ``net`` and their :math:`N\to\infty` limits
        (:func:`~nnsym.analysis.toolkit.large_n_limit`, in the width symbol ``net.width``).

        Raises what the derivation raises (e.g. :class:`~nnsym.errors.DivergentExpectation`);
        warnings of the derivation are silenced.

        >>> import nnsym as ns
        >>> C = AxiomCorrelators.of(ns.zoo.cauchy_net(), {})
        >>> C.no_limit is None, C.gaussian
        (True, True)
        """
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            G2 = net.correlator(2, connected=True)
            G4c = net.correlator(4, connected=True)
        return cls.from_correlators(net, G2, G4c, values)

    @classmethod
    def from_correlators(cls, net: "Network", G2: "Correlator", G4c: "Correlator",
                         values: Mapping) -> "AxiomCorrelators":
        r"""The set for :math:`G^{(2)}, G^{(4)}_c` derived already: only the :math:`N\to\infty` limits are taken.

        >>> import nnsym as ns
        >>> net = ns.zoo.cos_net(1)
        >>> C = AxiomCorrelators.from_correlators(net, net.correlator(2), net.correlator(4, connected=True), {})
        >>> C.G4c_inf.expr
        0
        """
        Nsym = net.width if isinstance(net.width, sp.Symbol) else None
        if Nsym is None:
            return cls(net, G2, G4c, None, None, Verdict(
                None, f"the width is fixed (N = {net.width}); build the network with a symbolic width "
                      "for N -> oo statements", "undecided"), dict(values))
        G2i_expr, G4ci_expr = large_n_limit(G2.expr, Nsym), large_n_limit(G4c.expr, Nsym)
        G2i = None if G2i_expr is None else G2.__class__(G2i_expr, G2.points, G2.dim, "G", net, True)
        G4ci = None if G4ci_expr is None else G4c.__class__(G4ci_expr, G4c.points, G4c.dim, "G", net, True)
        no_limit = None if (G2i is not None and G4ci is not None) else Verdict(
            None, "the N -> oo limit of the correlators was not found", "undecided")
        return cls(net, G2, G4c, G2i, G4ci, no_limit, dict(values))


def every_correlator(corrs: Sequence, values: Mapping, check: Callable[[Any, Mapping], Verdict],
                     what: str) -> Verdict:
    r"""One verdict for "every correlator in ``corrs`` is ``what``": False at the first counterexample,
    undecided if any is undecided, else True (method ``"structural"`` if any proof is structural,
    ``"numeric"`` if any check is numeric). Vanishing correlators (and None) are skipped.

    >>> import nnsym as ns
    >>> from nnsym.analysis.symmetries import is_permutation_symmetric
    >>> G2 = ns.zoo.cos_net(1).correlator(2)
    >>> every_correlator([G2], {}, lambda G, v: is_permutation_symmetric(G, v), "symmetric").holds
    True
    """
    outs = []
    for G in corrs:
        if G is None or G.expr == 0:
            continue
        v = check(G, values)
        outs.append((G, v))
        if v.holds is False:
            return Verdict(False, f"{correlator_label(G)} is not {what}: {v.evidence}", v.method)
    if not outs:
        return Verdict(None, "no correlators to check", "undecided")
    if any(v.holds is None for _, v in outs):
        return Verdict(None, "; ".join(f"{correlator_label(G)}: {v.evidence}" for G, v in outs), "undecided")
    structural = [v for _, v in outs if v.method == "structural"]
    method = "structural" if structural else ("numeric" if any(v.method == "numeric" for _, v in outs) else "symbolic")
    return Verdict(True, "; ".join(f"{correlator_label(G)} {what}: {v.evidence}" for G, v in outs), method)


def both(a: Verdict, b: Verdict, regime: str) -> Verdict:
    r"""The conjunction :math:`a \wedge b` of two verdicts (False wins, then undecided), its evidence
    prefixed by ``regime``.

    >>> str(both(Verdict(True, "t"), Verdict(None, "r", "undecided"), "finite N"))
    'undecided [undecided]: finite N: t; r'
    """
    if a.holds is False:
        return Verdict(False, f"{regime}: {a.evidence}", a.method)
    if b.holds is False:
        return Verdict(False, f"{regime}: {b.evidence}", b.method)
    if a.holds and b.holds:
        m = a.method if a.method == b.method else f"{a.method}+{b.method}"
        return Verdict(True, f"{regime}: {a.evidence}; {b.evidence}", m)
    return Verdict(None, f"{regime}: {a.evidence}; {b.evidence}", "undecided")
