r"""E3, permutation symmetry: :math:`G(x_{\pi(1)}, \dots, x_{\pi(n)}) = G(x_1, \dots, x_n)` for every
permutation :math:`\pi`.

It holds for every network: :math:`\phi(x_1), \dots, \phi(x_n)` are commuting random variables. The
verdict still checks :math:`G^{(2)}` and :math:`G^{(4)}_c` (on the generators of the symmetric group,
:func:`~nnsym.analysis.symmetries.is_permutation_symmetric`), as a test of the derivation.

>>> import nnsym as ns
>>> from nnsym.analysis.axioms.verdicts import AxiomCorrelators
>>> fin, lim = permutation_symmetry(AxiomCorrelators.of(ns.zoo.cos_net(1), {"sigma_a": 1.0, "sigma_b": 1.0, "N": 7}))
>>> fin.holds, lim.holds
(True, True)
"""
from __future__ import annotations

from ..symmetries import is_permutation_symmetric
from ..toolkit import Verdict
from .verdicts import AxiomCorrelators, every_correlator

__all__ = ["permutation_symmetry"]


def permutation_symmetry(C: AxiomCorrelators) -> tuple[Verdict, Verdict]:
    r"""E3 at finite N and for :math:`N\to\infty`: ``(finite_N, large_N)`` verdicts; the same verdict
    for both regimes (symmetry at every N holds in the limit), unless the limit does not exist.

    >>> import nnsym as ns
    >>> from nnsym.analysis.axioms.verdicts import AxiomCorrelators
    >>> fin, _ = permutation_symmetry(AxiomCorrelators.of(ns.zoo.cauchy_net(), {"sigma_a": 1.0, "m": 1.0, "N": 7}))
    >>> "commuting random variables" in fin.evidence
    True
    """
    e3f = every_correlator([C.G2, C.G4c], C.values, is_permutation_symmetric, "permutation symmetric")
    if e3f.holds:
        e3f = Verdict(True, "phi(x_1), ..., phi(x_n) are commuting random variables, so every correlator is "
                            "symmetric, at every n and N; checked: " + e3f.evidence, e3f.method)
    e3l = e3f if C.no_limit is None else C.no_limit
    return e3f, e3l
