r"""Correlator objects: an exact expression in the points :math:`x_1..x_n`.

A :class:`Correlator` holds ``.expr`` (plain sympy), ``.points``, prints as
LaTeX (``.latex()``, ``_repr_latex_`` in Jupyter) and evaluates on numpy arrays
of point sets through a kernel compiled once (``.evaluate``).
"""
from __future__ import annotations

from typing import Any

import numpy as np
import sympy as sp

from ..engine.expectation import is_exact
from ..numeric.kernels import evaluate as _evaluate

__all__ = ["Correlator"]


def unknown_value_names(values, known) -> list:
    """The keywords of ``values`` that are not in ``known`` (a misspelling such as ``sigmaa=``,
    or a name of another network: one dict shared by several networks must be filtered, e.g.
    ``{k: v for k, v in VALUES.items() if k in corr.value_names()}``)."""
    return sorted(k for k in values if k not in known)


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
        return r"%s^{(%d)}%s(%s)" % (self.name.split("_")[0], self.n, sub, args)

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
        return Correlator(self.expr.subs(*args, **kwargs), self.points, self.dim, self.name, self.network, self.connected)

    def __eq__(self, other):
        return isinstance(other, Correlator) and self.points == other.points and self.expr == other.expr

    __hash__ = object.__hash__

    # ------------------------------------------------------------------ numbers
    def evaluate(self, X, **values) -> np.ndarray:
        """Evaluate at point sets ``X`` of shape ``(..., n, d)``; returns shape ``X.shape[:-2]``.

        Hyper-parameters are given by name (``sigma_a=1.0, N=10``); in a
        general dimension ``d`` is read from ``X.shape[-1]``. Parts without a
        closed form are integrated numerically (with a ``NumericWarning``).
        """
        self._check_value_names(values)
        if self.network is not None:  # values for symbols that cancelled out must still be valid
            from ..numeric.kernels import check_values

            known = [h for h in self.network.hyperparameters if h.name in values]
            check_values(known, values, "evaluate")
        return _evaluate(self.expr, self.points, self.dim, X, values, self._cache)

    def value_names(self) -> list:
        """The names ``evaluate`` expects as values: the correlator's hyper-parameters, those of the
        network it came from (values shared by several correlators of one network) and ``d``.
        Any other keyword is refused (``TypeError``) as a misspelling."""
        names = {s.name for s in self.free_parameters if not isinstance(s, sp.Dummy)}
        from ..core.laws import random_atoms

        for p in random_atoms(self.expr):  # laws inside unevaluated expectations, e.g. Uniform(-L, L)
            names.discard(p.name)  # a random parameter takes no value
            syms = p.law.free_symbols() | set(sp.sympify(getattr(p, "dim", None) or 1).free_symbols)
            names |= {s.name for s in syms if not isinstance(s, sp.Dummy)}
        if self.network is not None:
            names |= {s.name for s in self.network.hyperparameters}
        if not self.dim.is_Integer:
            names.add(self.dim.name)
        return sorted(names)

    def _check_value_names(self, values) -> None:
        known = self.value_names()
        unknown = unknown_value_names(values, known)
        if unknown:
            import difflib

            hints = [f"{u!r} (did you mean {m[0]!r}?)" if (m := difflib.get_close_matches(u, known, 1)) else repr(u)
                     for u in unknown]
            raise TypeError(f"evaluate() got value(s) for unknown name(s) {', '.join(hints)}; "
                            f"the known names are: {', '.join(known) or '(none)'}")

    # ------------------------------------------------------------------ symmetries (issue 4)
    def is_translation_invariant(self, **values) -> "Verdict":
        r"""Verdict on :math:`G(x_1+a,\dots,x_n+a) = G(x_1,\dots,x_n)` (see :mod:`nnsym.analysis.symmetries`);
        ``.holds`` is True / False / None, ``.evidence`` says why. Values (by name) for numeric checks.

        >>> import nnsym as ns
        >>> ns.zoo.cos_net(2).correlator(4, connected=True).is_translation_invariant().holds
        True
        """
        from ..analysis.symmetries import is_translation_invariant

        return is_translation_invariant(self, values)

    def is_rotation_invariant(self, **values) -> "Verdict":
        r"""Verdict on :math:`G(Rx_1,\dots,Rx_n) = G(x_1,\dots,x_n)`, :math:`R\in SO(d)` (see :mod:`nnsym.analysis.symmetries`).

        >>> import nnsym as ns
        >>> ns.zoo.gauss_net(3).correlator(2).is_rotation_invariant().method
        'symbolic'
        """
        from ..analysis.symmetries import is_rotation_invariant

        return is_rotation_invariant(self, values)
