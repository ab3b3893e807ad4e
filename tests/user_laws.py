"""Laws written the way a user writes them (the ``Law`` docstring's "Subclassing" contract), shared by
the tests of the law protocol and of the field density. Importable from the tests (``pythonpath`` in
``pyproject.toml``)."""
from __future__ import annotations

import numpy as np
import sympy as sp

from nnsym.core.laws import Law, check_positive


class TwoPointLaw(Law):
    r"""theta = +w or -w with probability 1/2 each: :math:`\varphi(u) = \cos(wu)`, the law of the
    ``Law`` docstring's Subclassing section, written as a user would (tests of the law protocol and of
    the field density)."""

    name = "TwoPoint"
    is_even = True

    def __init__(self, w):
        super().__init__(w)
        check_positive(self.params[0], "TwoPoint w")

    def mgf(self, s):
        return sp.cosh(self.params[0] * s)

    def characteristic_function(self, t):
        return sp.cos(self.params[0] * t)

    @property
    def support(self):
        return (-self.params[0], self.params[0])

    def frozen(self, values, xp=None):
        (w,) = self.numeric_params(values)
        return lambda rng, size: w * (2.0 * (rng.uniform(0.0, 1.0, size) < 0.5) - 1.0)

    def quadrature(self, n, values):
        (w,) = self.numeric_params(values)
        return np.array([-w, w]), np.array([0.5, 0.5])
