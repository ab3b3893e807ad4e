r"""Layer 3, numeric: from exact expressions to numbers.

Value bindings checked once on their way in, expressions compiled to numpy kernels, and
quadrature of the expectations the engine left unevaluated (dispatched per expectation
type, with an error estimate that bounds the real error). Knows expressions, not networks.
"""
from . import quadrature  # noqa: F401  (registers the quadrature rules of kernels.numeric_expectation)
