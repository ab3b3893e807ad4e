r"""The engine's fallback: an explicit, unevaluated :math:`E_\theta[f]`.

When no rule of :mod:`nnsym.engine.registry` gives a closed form, the expectation stays in the
result as an :class:`Expectation` object; the numeric layer integrates it by quadrature
(:func:`nnsym.numeric.kernels.numeric_expectation`) and says so.

>>> import sympy as sp
>>> from nnsym import Uniform, expectation
>>> c = Uniform("c", 0, 1)
>>> E = expectation(sp.tanh(c))  # no rule knows tanh of a uniform parameter: left unevaluated
>>> E, is_exact(E)
(Expectation(tanh(c), c), False)
"""
from __future__ import annotations

import sympy as sp

__all__ = ["Expectation", "is_exact"]


class Expectation(sp.Function):
    r"""An unevaluated :math:`E_{\theta}[f]`: no closed form was found.

    ``Expectation(f, theta_1, ..., theta_k)``; evaluated numerically by
    quadrature in :meth:`nnsym.Correlator.evaluate`.
    """

    is_real = None

    @classmethod
    def eval(cls, f, *params):
        return None

    @property
    def integrand(self):
        return self.args[0]

    @property
    def params(self):
        return self.args[1:]

    def _latex(self, printer):
        sub = ",".join(printer._print(p) for p in self.params)
        return r"\mathbb{E}_{%s}\left[%s\right]" % (sub, printer._print(self.integrand))


def is_exact(expr) -> bool:
    r"""False if ``expr`` still contains an unevaluated :class:`Expectation` (a part left to quadrature).

    >>> is_exact(sp.exp(-sp.Symbol("x")**2 / 2))
    True
    """
    return not sp.sympify(expr).has(Expectation)
