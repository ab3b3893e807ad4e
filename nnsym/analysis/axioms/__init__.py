r"""The Osterwalder-Schrader axioms E0-E4 for a network's correlators, one module per axiom.

:func:`os_axioms` returns an :class:`OSReport` with one :class:`AxiomVerdict` per axiom:

* **E0 temperedness** (``temperedness``, :mod:`.temperedness`): from growth bounds. A neuron in which the
  input enters only through bounded functions (:math:`|h|\le|F|`) with finite moments
  of :math:`a` and :math:`F` gives bounded correlators for every n and N. Otherwise
  each exponential of :math:`G^{(2)}, G^{(4)}_c` is checked for a positive direction of
  its quadratic form in the points (Gaussian growth, confirmed numerically).
* **E1 Euclidean invariance** (``euclidean_invariance``, :mod:`.euclidean`): translation and rotation
  verdicts of :mod:`nnsym.analysis.symmetries` for :math:`G^{(2)}` and :math:`G^{(4)}_c`.
* **E2 reflection positivity** (``reflection_positivity``, :mod:`.reflection`) of the 2-point function:
  from the spectral representation
  :math:`\rho(\vec p,\tau)=\int\frac{dp_0}{2\pi}e^{ip_0\tau}G(p)` when :math:`G(p)` is known
  (:math:`\rho = A^*(\tau_x)A(\tau_y)B` with :math:`B\ge0` is sufficient; a
  band-limited or Gaussian :math:`\rho` is not completely monotone, which Widder's
  theorem shows is a violation), and numerically by the reflection matrix
  :math:`M_{ij} = G^{(2)}(\theta x_i, x_j)` at points with :math:`\tau > 0`
  (its smallest eigenvalue is reported). For a Gaussian process (N -> oo, i.i.d.
  neurons) the 2-point condition is sufficient; at finite N it is only necessary.
* **E3 permutation symmetry** (``permutation_symmetry``, :mod:`.symmetry`).
* **E4 cluster decomposition** (``cluster_decomposition``, :mod:`.cluster`): the limit of the connected
  correlators when a subset of the points is sent to infinity,
  :math:`x_k\to x_k+\lambda e`, :math:`\lambda\to\infty` -- term by term (exponents
  polynomial in :math:`\lambda`; unevaluated expectations by the Riemann-Lebesgue
  lemma: a term :math:`E_b[R(b)e^{i\lambda k\, b\cdot e}]` with :math:`k\ne0` vanishes),
  with a numeric fallback.

:mod:`.report` collects them (:func:`os_axioms`); :mod:`.verdicts` holds the correlators they are
decided on and combines verdicts. Every axiom is decided at finite N (``.finite_N``) and for N -> oo (``.large_N``); the
headline ``.holds`` / ``.evidence`` says which N it is about (``.N``). Verdicts are True,
False or None (undecided, with the reason).

>>> import nnsym as ns
>>> rep = ns.os_axioms(ns.zoo.cauchy_net())
>>> rep.reflection_positivity.holds, rep.reflection_positivity.N
(True, 'N -> oo')
>>> rep.cluster_decomposition.finite_N.holds, rep.cluster_decomposition.large_N.holds
(False, True)
"""
from __future__ import annotations

from .cluster import ClusterLimit, cluster_limit
from .reflection import reflection_matrix
from .report import AxiomVerdict, OSReport, os_axioms

__all__ = ["os_axioms", "OSReport", "AxiomVerdict", "cluster_limit", "ClusterLimit", "reflection_matrix"]
