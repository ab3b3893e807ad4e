"""The exceptions nnsym raises for mathematical (not input) reasons.

They live in the lowest layer so that the laws, the engine and the numeric
layer raise the same classes.
"""
from __future__ import annotations

__all__ = ["DivergentExpectation"]


class DivergentExpectation(ValueError):
    r"""The requested expectation does not exist.

    Examples: a moment of a Cauchy law, or :math:`E[e^{s\theta}]` outside the strip of
    convergence of the moment generating function (:math:`|\mathrm{Re}\,s| < 1/\lambda`
    for a Laplace law of scale :math:`\lambda`).
    """
