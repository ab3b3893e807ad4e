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
from .latex import LINE_WIDTH, equation, points_latex

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
        r"""The left-hand side :math:`G^{(n)}_c(x_1, \ldots, x_n)` (all points listed for n <= 3).

        >>> import nnsym as ns
        >>> ns.zoo.cos_net(2).correlator(4, connected=True).symbol_latex()
        'G^{(4)}_c(x_{1}, \\ldots, x_{4})'
        """
        sub = "_c" if self.connected else ""
        base, _, label = self.name.partition("_")  # "G_c" -> G; "I_IB" -> I_{IB} (a named part)
        base = sp.latex(sp.Symbol(base))  # "Theta" -> \Theta
        if label and label != "c":
            base = r"%s_{\mathrm{%s}}" % (base, label)
        return r"%s^{(%d)}%s(%s)" % (base, self.n, sub, points_latex(self.points))

    def latex(self, style: str = "inline", label: str | None = None, *, distances: str = "abs",
              prefactor: bool = True, width: float = LINE_WIDTH) -> str:
        r"""LaTeX of the correlator in physics notation, :math:`G^{(n)}(x_1, \ldots) = \dots`.

        The point-independent common factor of the terms is pulled out in front,
        :math:`\frac{\sigma_a^4}{8N}\Big[\dots\Big]`; scalar products print as
        :math:`x_1\cdot x_2`. Printer: :mod:`nnsym.model.latex`.

        Parameters
        ----------
        style : ``"inline"`` (one equation string) or ``"align"`` (an ``align`` environment, a
            few terms per line, ``\nonumber`` on the continuation lines).
        label : ``\label`` of the equation, e.g. ``"eq:G4c"`` (``style="align"`` only).
        distances : ``"abs"`` for :math:`|x_1 - x_2|^2`, ``"x_ij"`` for :math:`x_{12}^2`.
        prefactor : pull the common constant factor out (default True).
        width : ``align`` line width, in :func:`~nnsym.model.latex.latex_width` units.

        Returns
        -------
        str

        Examples
        --------
        >>> import nnsym as ns
        >>> print(ns.zoo.cos_net(2).correlator(2).latex(distances="x_ij"))
        G^{(2)}(x_{1}, x_{2}) = \frac{\sigma_{a}^{2}}{2} e^{- \frac{\sigma_{b}^{2} x_{12}^{2}}{4}}
        >>> print(ns.zoo.cos_net(1).correlator(2).latex("align", label="eq:G2", distances="x_ij"))
        \begin{align}
        G^{(2)}(x_{1}, x_{2}) &= \frac{\sigma_{a}^{2}}{2} e^{- \frac{\sigma_{b}^{2} x_{12}^{2}}{2}} \label{eq:G2}
        \end{align}
        """
        note = "" if self.is_exact else r" \quad \text{(expectations left unevaluated: numeric)}"
        return equation(self.symbol_latex(), self.expr, self.points, style, label, distances=distances,
                        prefactor=prefactor, width=width, note=note)

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
        laws inside unevaluated expectations, and ``d``. Walked once per ``expr`` (kept in the kernel
        cache), not on every :meth:`evaluate`."""
        key = ("value symbols", self.expr, self.dim, id(self.network))
        if key not in self._cache:
            self._cache[key] = self._value_symbols()
        return list(self._cache[key])

    def _value_symbols(self) -> list:
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
