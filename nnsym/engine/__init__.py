r"""Layer 2, engine: exact expectations over parameter space.

:math:`E_\theta[f(\theta; x)]` is derived by rules registered for patterns of the integrand
(moments, transforms of exponentials and trigonometric functions, Gaussian preactivations
with closed forms); what no rule can do stays an explicit, unevaluated ``Expectation`` for
the numeric layer. Imports only from :mod:`nnsym.core` and :mod:`nnsym.errors`.

The modules, lowest first: :mod:`~nnsym.engine.registry` (the rule tables and their order),
:mod:`~nnsym.engine.unevaluated` (the fallback), :mod:`~nnsym.engine.forms` (affine forms),
:mod:`~nnsym.engine.domains` (where an expectation exists), :mod:`~nnsym.engine.terms`
(monomials), :mod:`~nnsym.engine.piecewise` (kinks, sign polynomials); the rules
:mod:`~nnsym.engine.rules_moments`, :mod:`~nnsym.engine.rules_exponential`,
:mod:`~nnsym.engine.transforms`, :mod:`~nnsym.engine.rules_wick`, :mod:`~nnsym.engine.gaussian`; and the driver
:mod:`~nnsym.engine.expectation`.
"""
from .expectation import clear_caches

__all__ = ["clear_caches"]
