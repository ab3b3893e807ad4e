r"""E1, Euclidean invariance: the correlators are invariant under translations and rotations,

.. math:: G(Rx_1 + a, \dots, Rx_n + a) = G(x_1, \dots, x_n),\qquad R\in SO(d),\ a\in\mathbb R^d,

decided for :math:`G^{(2)}` and :math:`G^{(4)}_c` by the verdicts of :mod:`nnsym.analysis.symmetries`
(symbolic, structural for cos layers, numeric otherwise), at finite N and for :math:`N\to\infty`.

>>> import nnsym as ns
>>> from nnsym.analysis.axioms.verdicts import AxiomCorrelators
>>> fin, lim = euclidean_invariance(AxiomCorrelators.of(ns.zoo.cos_net(1), {"sigma_a": 1.0, "sigma_b": 1.0, "N": 7}))
>>> fin.holds, lim.holds
(True, True)
"""
from __future__ import annotations

from ..symmetries import is_rotation_invariant, is_translation_invariant
from ..toolkit import Verdict
from .verdicts import AxiomCorrelators, both, every_correlator

__all__ = ["euclidean_invariance"]


def euclidean_invariance(C: AxiomCorrelators) -> tuple[Verdict, Verdict]:
    r"""E1 at finite N and for :math:`N\to\infty`: ``(finite_N, large_N)`` verdicts.

    Both need every checked correlator translation and rotation invariant; in a Gaussian limit
    only :math:`G^{(2)}` is checked (Wick's theorem builds every correlator from it).

    >>> import nnsym as ns
    >>> from nnsym.analysis.axioms.verdicts import AxiomCorrelators
    >>> vals = {"sigma_a": 1.0, "sigma_b": 1.0, "sigma_c": 1.0, "N": 7}
    >>> fin, lim = euclidean_invariance(AxiomCorrelators.of(ns.zoo.gauss_net(1), vals))
    >>> fin.holds, lim.holds
    (False, True)
    """
    vals = C.values
    t_f = every_correlator([C.G2, C.G4c], vals, is_translation_invariant, "translation invariant")
    r_f = every_correlator([C.G2, C.G4c], vals, is_rotation_invariant, "rotation invariant")
    e1f = both(t_f, r_f, "finite N")
    if C.no_limit is not None:
        return e1f, C.no_limit
    lim = C.limit_correlators
    e1l = both(every_correlator(lim, vals, is_translation_invariant, "translation invariant"),
               every_correlator(lim, vals, is_rotation_invariant, "rotation invariant"),
               "N -> oo" + (" (Gaussian: only G^(2) matters)" if C.gaussian else ""))
    return e1f, e1l
