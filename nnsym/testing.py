r"""Assertions for a user's own tests (pytest or plain ``assert``-style): nnsym in a paper's CI.

* :func:`assert_matches_monte_carlo`: the exact correlator of a network (or a formula of one's own,
  ``expected=``) against Monte Carlo of networks sampled from the same definition, with one verdict
  for all point sets at a stated family-wise false-alarm rate :math:`\alpha`: each
  :math:`|z_i| < z^* = \Phi^{-1}(1 - \alpha/(2m))` for :math:`m` point sets (Bonferroni), so a right
  formula fails with probability at most :math:`\alpha` (up to the normal approximation of the
  estimator). The seed is fixed: the same call gives the same numbers, pass or fail.
* :func:`assert_correlator_equal`: two expressions are the same function, proved symbolically
  (their difference simplifies to 0) or checked numerically at random points to a stated tolerance;
  the result says which.

Use them from pytest with a plain import (no plugin is needed)::

    from nnsym.testing import assert_matches_monte_carlo

    def test_my_four_point_function():
        assert_matches_monte_carlo(my_net, 4, X, connected=True, samples=200_000, seed=0, N=10, sigma_a=1.0)

>>> import numpy as np, nnsym as ns
>>> X = np.random.default_rng(0).normal(size=(3, 2, 1))
>>> rep = assert_matches_monte_carlo(ns.zoo.cos_net(1), 2, X, samples=40_000, sigma_a=1.0, sigma_b=0.7, N=10)
>>> rep.passed
True
>>> x1, x2 = ns.zoo.cos_net(1).correlator(2).points
>>> assert_correlator_equal(sp.exp(-(x1 - x2) ** 2), sp.exp(-x1**2 + 2 * x1 * x2 - x2**2), points=(x1, x2), dim=1)
'symbolic'
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import sympy as sp

from .analysis.toolkit import default_values
from .core.checks import time_limit
from .errors import SYMBOLIC_FAILURES
from .model.correlator import Correlator
from .model.network import Network
from .numeric.kernels import evaluate
from .sampling.validation import ValidationReport, validate

__all__ = ["assert_matches_monte_carlo", "assert_correlator_equal"]


def assert_matches_monte_carlo(net: Network, n: int, X, connected: bool = False, samples: int = 200_000,
                               seed: int = 0, alpha: float = 1e-3, expected: Any = None,
                               **values) -> ValidationReport:
    r"""Assert that the exact :math:`G^{(n)}` (or :math:`G_c^{(n)}`; or the formula ``expected``, a sympy
    expression or a string in the points ``x_1..x_n`` of ``net.correlator(n)`` and the hyper-parameters) agrees with
    Monte Carlo of ``samples`` sampled units at every point set of ``X`` (shape ``(m, n, d)``), at the
    family-wise false-alarm rate ``alpha`` (Bonferroni over the :math:`m` point sets).

    Returns the :class:`~nnsym.ValidationReport` when it passes; raises ``AssertionError`` with the table
    of every point set (exact, Monte Carlo mean, standard error, z) and the disagreeing ones named
    when it fails. Bad input (a misspelt keyword, points of the wrong shape) raises its own clear
    exception, not ``AssertionError``.

    >>> import numpy as np, sympy as sp, nnsym as ns
    >>> net = ns.zoo.cos_net(1)
    >>> x1, x2 = net.correlator(2).points
    >>> wrong = sp.Symbol("sigma_a") ** 2 * sp.exp(-(x1 - x2) ** 2) / 2      # the cos-net has (x_1 - x_2)^2/2 in d = 1
    >>> assert_matches_monte_carlo(net, 2, np.array([[[0.0], [1.5]]]), expected=wrong, samples=40_000,
    ...                            sigma_a=1.0, sigma_b=1.0, N=10)      # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    AssertionError: expected formula does not match Monte Carlo at 1 of 1 point sets (#0)...+26.21...
    """
    report = validate(net, n, X, connected=connected, samples=samples, seed=seed, alpha=alpha, expected=expected,
                      **values)
    if not report.passed:
        bad = np.flatnonzero(~(np.abs(report.z) < report.threshold))
        what = "expected formula" if expected is not None else ("G_c^(%d)" % n if connected else "G^(%d)" % n)
        raise AssertionError(
            f"{what} does not match Monte Carlo at {bad.size} of {report.z.size} point sets "
            f"({', '.join('#%d' % i for i in bad[:10])}{', ...' if bad.size > 10 else ''}): "
            f"|z| >= {report.threshold:.2f} (family-wise alpha = {alpha:g}, seed = {seed})\n{report}")
    return report


def _expression(obj, points, dim):
    if isinstance(obj, Correlator):
        return obj.expr, tuple(obj.points), obj.dim
    return sp.sympify(obj), None if points is None else tuple(points), None if dim is None else sp.sympify(dim)


def assert_correlator_equal(a: Any, b: Any, points: Sequence | None = None, dim: Any = None,
                            values: dict | None = None, samples: int = 20, rtol: float = 1e-9, atol: float = 1e-12,
                            seed: int = 0, simplify_seconds: float = 10.0) -> str:
    r"""Assert that ``a`` and ``b`` (Correlators, or sympy expressions in ``points`` of dimension ``dim``)
    are the same function. First symbolically: :math:`a - b` simplifies to 0 (within ``simplify_seconds``)
    → returns ``"symbolic"``. Otherwise numerically at ``samples`` random point sets (standard normal
    coordinates, seed ``seed``) and hyper-parameter ``values`` (default: positive numbers in
    :math:`[0.6, 1.4]`, integers 7): :math:`|a - b| \le \mathrm{atol} + \mathrm{rtol}\,|b|` everywhere →
    returns ``"numeric"``. Raises ``AssertionError`` with the largest disagreement otherwise.

    >>> import nnsym as ns
    >>> G = ns.zoo.cos_net(1).correlator(4, connected=True)
    >>> assert_correlator_equal(G, G.expr * (1 + sp.Symbol("N") * 0))
    'symbolic'
    """
    ea, pa, da = _expression(a, points, dim)
    eb, pb, db = _expression(b, points, dim)
    pts = pa or pb
    D = da if da is not None else db
    if pts is None or D is None:
        raise TypeError("assert_correlator_equal: pass Correlators, or expressions with points= and dim=")
    # a plain Symbol of the same name as a point or hyper-parameter is that symbol
    names = {s.name: s for s in (set(pts) | ea.free_symbols)}
    eb = eb.xreplace({s: names[s.name] for s in eb.free_symbols if s.name in names and names[s.name] != s})
    ea = ea.xreplace({s: names[s.name] for s in ea.free_symbols if s.name in names and names[s.name] != s})
    try:
        with time_limit(simplify_seconds):
            if sp.simplify(ea - eb) == 0:
                return "symbolic"
    except SYMBOLIC_FAILURES:
        pass  # sympy gave up: the numeric check decides
    hyper = sorted((ea.free_symbols | eb.free_symbols) - set(pts) - ({D} if D.is_Symbol else set()),
                   key=sp.default_sort_key)
    hyper = [s for s in hyper if s.name != "1_d"]
    vals = default_values(hyper, seed)
    vals.update(values or {})
    d = int(D) if D.is_Integer else 2
    X = np.random.default_rng(seed).normal(size=(samples, len(pts), d))
    va = np.asarray(evaluate(ea, pts, D, X, vals, {}), float)
    vb = np.asarray(evaluate(eb, pts, D, X, vals, {}), float)
    diff = np.abs(va - vb)
    bound = atol + rtol * np.abs(vb)
    if np.all(diff <= bound):
        return "numeric"
    k = int(np.argmax(diff - bound))
    raise AssertionError(f"the expressions differ: at point set {np.array2string(X[k], precision=3)} "
                         f"(values {vals}) a = {va[k]:.12g}, b = {vb[k]:.12g}, |a - b| = {diff[k]:.3g} > "
                         f"{bound[k]:.3g} = atol + rtol |b|; not equal symbolically either")
