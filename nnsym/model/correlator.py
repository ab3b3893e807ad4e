r"""Correlator objects: an exact expression in the points :math:`x_1..x_n`.

A :class:`Correlator` holds ``.expr`` (plain sympy), ``.points``, prints as
LaTeX (``.latex()``, ``_repr_latex_`` in Jupyter) and evaluates on numpy arrays
of point sets through a kernel compiled once (``.evaluate``).
"""
from __future__ import annotations

from typing import Any

import numpy as np
import sympy as sp

from ..core.random import random_atoms
from ..engine.expectation import is_exact
from ..numeric.bindings import Bindings
from ..numeric.kernels import evaluate as evaluate_kernel
from .extensions import call

__all__ = ["Correlator"]


class Correlator:
    r"""An exact n-point function.

    Attributes
    ----------
    expr : sympy expression in the point symbols (and hyper-parameters).
    points : the point symbols :math:`x_1, \dots, x_n` that ``expr`` uses.
    dim : the dimension d (int or Symbol).
    is_exact : False if part of ``expr`` is an unevaluated expectation,
        computed numerically (quadrature) by :meth:`evaluate`.
    """

    def __init__(self, expr, points, dim, name: str = "G", network: Any = None, connected: bool = False):
        self.expr = sp.sympify(expr)
        self.points = tuple(points)
        self.dim = sp.sympify(dim)
        self.name = name
        self.network = network
        self.connected = connected
        self._cache: dict = {}

    @property
    def n(self) -> int:
        return len(self.points)

    @property
    def is_exact(self) -> bool:
        return is_exact(self.expr)

    @property
    def free_parameters(self) -> list:
        """The hyper-parameters ``evaluate`` needs values for."""
        syms = self.expr.free_symbols - set(self.points)
        if not self.dim.is_Integer:
            syms -= {self.dim}
        return sorted((s for s in syms if s.name != "1_d"), key=sp.default_sort_key)

    # ------------------------------------------------------------------ printing
    def symbol_latex(self) -> str:
        args = ", ".join(sp.latex(p) for p in self.points)
        sub = "_c" if self.connected else ""
        base, _, label = self.name.partition("_")  # "G_c" -> G; "I_IB" -> I_{IB} (a named part)
        if label and label != "c":
            base = r"%s_{\mathrm{%s}}" % (base, label)
        return r"%s^{(%d)}%s(%s)" % (base, self.n, sub, args)

    def latex(self) -> str:
        r"""LaTeX of the correlator, ``G^{(n)}(x_1, ...) = ...``."""
        body = sp.latex(self.expr)
        note = "" if self.is_exact else r" \quad \text{(expectations left unevaluated: numeric)}"
        return r"%s = %s%s" % (self.symbol_latex(), body, note)

    def _repr_latex_(self) -> str:
        return "$\\displaystyle " + self.latex() + "$"

    def __repr__(self):
        return f"Correlator({self.name}{'c' if self.connected else ''}^({self.n}) = {self.expr})"

    # ------------------------------------------------------------------ algebra
    def subs(self, *args, **kwargs) -> "Correlator":
        """A new correlator with ``expr.subs(...)`` (e.g. values of hyper-parameters)."""
        return Correlator(self.expr.subs(*args, **kwargs), self.points, self.dim, self.name, self.network,
                          self.connected)

    def __eq__(self, other):
        return isinstance(other, Correlator) and self.points == other.points and self.expr == other.expr

    __hash__ = object.__hash__

    # ------------------------------------------------------------------ numbers
    def evaluate(self, X, **values) -> np.ndarray:
        r"""Evaluate :math:`G^{(n)}(x_1,\dots,x_n)` at point sets ``X`` of shape ``(..., n, d)``;
        returns shape ``X.shape[:-2]``.

        Hyper-parameters are given by name (``sigma_a=1.0, N=10``); in a
        general dimension ``d`` is read from ``X.shape[-1]``. Parts without a
        closed form are integrated numerically (with a ``NumericWarning``). The values are
        checked once (:meth:`bind`) on their way to the kernel.

        >>> import numpy as np, nnsym as ns
        >>> ns.zoo.cos_net(2).correlator(2).evaluate(np.zeros((1, 2, 2)), sigma_a=1.0, sigma_b=0.7, N=10)
        array([0.5])
        """
        return self.evaluate_bound(X, self.bind(values))

    def bind(self, values) -> Bindings:
        r"""The named ``values`` checked once against :meth:`value_symbols` (unknown names, numbers,
        the symbols' assumptions; also the values of the network's symbols that cancelled out of
        ``expr``): a :class:`~nnsym.numeric.bindings.Bindings` for :meth:`evaluate_bound`."""
        return Bindings(values, self.value_symbols(), "evaluate")

    def evaluate_bound(self, X, bindings: Bindings) -> np.ndarray:
        r""":meth:`evaluate` with values already checked by :meth:`bind` (not checked again)."""
        return evaluate_kernel(self.expr, self.points, self.dim, X, bindings, self._cache)

    def value_symbols(self) -> list:
        r"""The symbols ``evaluate`` takes values for: the correlator's hyper-parameters, those of
        the network it came from (values shared by several correlators of one network), those of
        laws inside unevaluated expectations, and ``d``."""
        syms = {s for s in self.free_parameters if not isinstance(s, sp.Dummy)}
        for p in random_atoms(self.expr):  # laws inside unevaluated expectations, e.g. Uniform(-L, L)
            syms = {s for s in syms if s.name != p.name}  # a random parameter takes no value
            law_syms = p.law.free_symbols() | set(sp.sympify(getattr(p, "dim", None) or 1).free_symbols)
            syms |= {s for s in law_syms if not isinstance(s, sp.Dummy)}
        if self.network is not None:
            syms |= set(self.network.hyperparameters)
        if not self.dim.is_Integer:
            syms.add(self.dim)
        return sorted(syms, key=sp.default_sort_key)

    def value_names(self) -> list:
        """The names ``evaluate`` expects as values: the correlator's hyper-parameters, those of the
        network it came from (values shared by several correlators of one network) and ``d``.
        Any other keyword is refused (``TypeError``) as a misspelling."""
        return sorted({s.name for s in self.value_symbols()})

    # ------------------------------------------------------------------ symmetries (issue 4)
    def is_translation_invariant(self, **values) -> Any:
        r"""Verdict on :math:`G(x_1+a,\dots,x_n+a) = G(x_1,\dots,x_n)` (see :mod:`nnsym.analysis.symmetries`);
        ``.holds`` is True / False / None, ``.evidence`` says why. Values (by name) for numeric checks.

        >>> import nnsym as ns
        >>> ns.zoo.cos_net(2).correlator(4, connected=True).is_translation_invariant().holds
        True
        """
        return call("is_translation_invariant", self, values)

    def is_rotation_invariant(self, **values) -> Any:
        r"""Verdict on :math:`G(Rx_1,\dots,Rx_n) = G(x_1,\dots,x_n)`, :math:`R\in SO(d)`
        (a :class:`~nnsym.analysis.symmetries.Verdict`; see :mod:`nnsym.analysis.symmetries`).

        >>> import nnsym as ns
        >>> ns.zoo.gauss_net(3).correlator(2).is_rotation_invariant().method
        'symbolic'
        """
        return call("is_rotation_invariant", self, values)
