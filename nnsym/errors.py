r"""The one error hierarchy of nnsym: every exception and warning nnsym raises on purpose.

They live in the lowest layer so that the laws, the engine, the numeric layer, the
model, the samplers and the analyses raise (and catch) the same classes.

* Errors derive from :class:`NNSymError` *and* from the builtin type they had before
  (``ValueError``, ``ArithmeticError``, ``NotImplementedError``), so ``except ValueError``
  in existing code keeps working, and ``except NNSymError`` catches every deliberate
  refusal of nnsym (and nothing else: a bug still surfaces as its own exception).
* Warnings derive from :class:`NNSymWarning` (a ``UserWarning``); filter them all with
  ``warnings.simplefilter("ignore", nnsym.NNSymWarning)``.

Invalid *input* (a negative variance, a wrong shape, an unknown symbol name) raises a
plain ``ValueError``/``TypeError`` with a message naming the problem; the classes here
are for the mathematical reasons a result cannot be given, or should not be trusted.

>>> import nnsym.errors as err
>>> issubclass(err.DivergentExpectation, err.NNSymError), issubclass(err.DivergentExpectation, ValueError)
(True, True)
>>> issubclass(err.UnreliableErrorWarning, err.NumericWarning), issubclass(err.NumericWarning, UserWarning)
(True, True)
"""
from __future__ import annotations

from sympy.polys.polyerrors import BasePolynomialError

__all__ = [
    "NNSymError",
    "DivergentExpectation",
    "NoClosedForm",
    "SpotCheckError",
    "TooExpensive",
    "NotACosLayer",
    "NoJointDensity",
    "CollapsedSampleSize",
    "FusedUnavailable",
    "LatexError",
    "CommandLineError",
    "NNSymWarning",
    "NumericWarning",
    "UnreliableErrorWarning",
    "CostWarning",
    "SYMBOLIC_FAILURES",
]


# ----------------------------------------------------------------------------- errors
class NNSymError(Exception):
    """Base class of every exception nnsym raises on purpose.

    Each subclass also derives from a builtin exception type (``ValueError``, ...), so code
    that catches the builtin type keeps working."""


class DivergentExpectation(NNSymError, ValueError):
    r"""The requested expectation does not exist.

    Raised by the laws and the expectation engine, e.g. for a moment of a Cauchy law, or
    :math:`E[e^{s\theta}]` outside the strip of convergence of the moment generating function
    (:math:`|\mathrm{Re}\,s| < 1/\lambda` for a Laplace law of scale :math:`\lambda`).
    """


class NoClosedForm(NNSymError, NotImplementedError):
    r"""nnsym does not handle this case in closed form: a refusal, not a bug.

    Raised when an expectation, a transform or a kernel has no closed form that nnsym knows
    (e.g. sympy cannot Fourier-transform a density, a 2-point function that is not isotropic,
    an NTK of a network with shared parameters). Callers that have a numeric fallback catch it;
    it is a ``NotImplementedError`` for code written before this class existed."""


class SpotCheckError(NNSymError, ArithmeticError):
    """A sympy closed form disagrees with numerical integration at random parameter values
    (see :func:`nnsym.core.checks.spot_check`); the closed form is not used."""


class TooExpensive(NNSymError, ValueError):
    """The requested derivation is estimated to be far too expensive (the estimate is in the
    message and in ``.cost``, a :class:`~nnsym.model.network.DerivationCost`); pass a larger
    ``max_terms`` (or ``float('inf')``) to force it."""

    def __init__(self, message: str, cost: object = None):
        super().__init__(message)
        self.cost = cost


class NotACosLayer(NNSymError, ValueError):
    r"""The network's neuron is not of the form :math:`F(b)\cos(\alpha\, b\cdot x + c)` with a
    uniform phase :math:`c`, so the spectral (cos-layer) analysis does not apply."""


class NoJointDensity(NotACosLayer):
    """A cos layer whose frequency has i.i.d. non-Gaussian components in a symbolic dimension d:
    the joint density (a product of d factors) has no closed form, so the delta-function rule
    cannot be written down (the power spectrum is then refused in symbolic d)."""


class CollapsedSampleSize(NNSymError, ValueError):
    r"""A reweighted Monte Carlo estimate is refused: the effective sample size
    :math:`(\sum w)^2/\sum w^2` of its weights fell below the threshold, so the reweighted measure lives
    where the draws rarely go and neither the estimate nor its error bar can be trusted."""


class FusedUnavailable(NNSymError, ImportError):
    """An opt-in compiled path cannot run here: ``monte_carlo(..., fused=True)`` without numba (the
    ``numba`` extra), or with a neuron numba cannot compile (e.g. scipy's erf)."""


class LatexError(NNSymError, RuntimeError):
    """The LaTeX engine failed on a document nnsym wrote (:func:`nnsym.compile_tex`); the message
    holds the log's first error line and the log's path."""


class CommandLineError(NNSymError, ValueError):
    """Bad input to an ``nnsym`` command: printed as the one line ``nnsym: error: ...`` with exit
    code 2 (no traceback)."""


# ----------------------------------------------------------------------------- sympy giving up
SYMBOLIC_FAILURES: tuple[type[BaseException], ...] = (
    TimeoutError, NotImplementedError, ValueError, TypeError, ArithmeticError, BasePolynomialError, RecursionError)
"""What sympy raises when it gives up on an integral, a limit, a solve or a simplification
(``TimeoutError`` from :func:`nnsym.core.checks.time_limit`; polynomial-domain failures; a recursion
too deep), and what nnsym's own refusals are (:class:`NoClosedForm`, :class:`DivergentExpectation`
are among them). Code with a numeric route catches exactly these, ``except SYMBOLIC_FAILURES:``,
never ``except Exception``: a bug (``NameError``, ``AttributeError``, ...) still surfaces."""


# ----------------------------------------------------------------------------- warnings
class NNSymWarning(UserWarning):
    """Base class of every warning nnsym issues."""


class NumericWarning(NNSymWarning):
    """A value was computed by numerical quadrature, or looks numerically unsafe.

    ``.error`` is the stated bound on the absolute error of the value (None when there is none);
    the message says the same in words."""

    def __init__(self, message: str = "", error: float | None = None):
        super().__init__(message)
        self.error = error


class UnreliableErrorWarning(NumericWarning):
    """The Monte Carlo standard error is not trustworthy: the estimate is dominated by a few
    rare draws (a heavy-tailed integrand, e.g. the Gauss-net at large sigma_b), so the
    jackknife error (and any z-score built on it) can be far too small."""


class CostWarning(NNSymWarning):
    """A derivation that will take long (the estimate is in the message)."""
