r"""Numpy kernels: sympy correlators compiled once (with common-subexpression
elimination) and evaluated on arrays of point sets.

Array conventions: ``X`` has shape ``(..., n, d)``; inside a kernel a vector
point is an array ``(P, d)`` and a scalar an array ``(P,)``;
:math:`u\cdot v` is ``sum(u*v, axis=-1)``. Unevaluated
:class:`~nnsym.engine.expectation.Expectation` factors are integrated by a tensor
product of each law's Gauss rule (Gauss-Hermite for Gaussians, ...), and the
result says it is numeric.
"""
from __future__ import annotations

import math
import warnings
from typing import Mapping

import numpy as np
import sympy as sp
from sympy.printing.numpy import SciPyPrinter

from ..core.laws import RandomVector
from ..engine.expectation import DivergentExpectation, Expectation, split_domain
from ..core.vectors import ScalarPoint, VectorSymbol

__all__ = ["compile_kernel", "evaluate", "NumericWarning", "check_values", "as_value", "as_values", "as_points"]


class NumericWarning(UserWarning):
    """A value was computed by numerical quadrature, or looks numerically unsafe.

    ``.error`` is the stated bound on the absolute error of the value (None when there is none); the
    message says the same in words."""

    def __init__(self, message="", error=None):
        super().__init__(message)
        self.error = error


_ROUNDING = 1e-10


def _nn_sqrt(x):
    """sqrt that forgives rounding just below 0 (e.g. 1 - rho^2 at coincident points), nothing more."""
    x = np.asarray(x)
    if np.iscomplexobj(x):
        return np.sqrt(x)
    return np.sqrt(np.where((x < 0) & (x > -_ROUNDING), 0.0, x))


def _nn_correlation(k12, k11, k22):
    r"""The correlation :math:`k_{12}/\sqrt{k_{11}k_{22}}` clipped to [-1, 1]; 0 where a variance is 0.

    A pre-activation of variance 0 is the constant 0 (the zero-mean forms that use
    ``Correlation``, e.g. a ReLU without bias at x = 0): every closed form that holds a
    ``Correlation`` multiplies it by :math:`\sqrt{k_{11}k_{22}}` or is a bounded function of it
    whose value at :math:`\rho = 0` is the right one (:math:`\arcsin 0 = 0`), so 0 replaces 0/0."""
    k12, k11, k22 = np.broadcast_arrays(*(np.asarray(a, dtype=float) for a in (k12, k11, k22)))
    den = k11 * k22
    with np.errstate(all="ignore"):
        rho = np.where(den > 0, k12 / np.sqrt(np.where(den > 0, den, 1.0)), 0.0)
    return np.clip(rho, -1.0, 1.0)


def _nn_clip1(x):
    """Arguments of arccos/arcsin: forgive |x| = 1 + rounding."""
    x = np.asarray(x)
    if np.iscomplexobj(x):
        return x
    return np.where((np.abs(x) > 1) & (np.abs(x) < 1 + _ROUNDING), np.sign(x), x)


def _nn_dot(u, v):
    """u . v over the last axis; a batch of parameter vectors (..., 1, d) against points (M, d)
    goes through BLAS (matmul), everything else through einsum."""
    u, v = np.asarray(u), np.asarray(v)
    if v.ndim == 2 and u.ndim >= 3 and u.shape[-2] == 1:
        return u[..., 0, :] @ v.T
    if u.ndim == 2 and v.ndim >= 3 and v.shape[-2] == 1:
        return v[..., 0, :] @ u.T
    return np.einsum("...i,...i->...", u, v)


_NAMESPACE = {"_nn_sqrt": _nn_sqrt, "_nn_clip1": _nn_clip1, "_nn_dot": _nn_dot, "_nn_correlation": _nn_correlation}


class _Printer(SciPyPrinter):
    def _print_Max(self, e):  # elementwise, without functools.reduce
        return self._nested("numpy.maximum", e.args)

    def _print_Min(self, e):
        return self._nested("numpy.minimum", e.args)

    def _nested(self, fn, args):
        out = self._print(args[0])
        for a in args[1:]:
            out = "%s(%s, %s)" % (fn, out, self._print(a))
        return out

    def _print_Pow(self, e, rational=False):
        if e.exp == sp.S.Half:
            return "_nn_sqrt(%s)" % self._print(e.base)
        if e.exp == -sp.S.Half:
            return "1/_nn_sqrt(%s)" % self._print(e.base)
        return super()._print_Pow(e, rational=rational)

    def _print_Correlation(self, e):
        k12, k11, k22 = (self._print(a) for a in e.args)
        return "_nn_correlation(%s, %s, %s)" % (k12, k11, k22)

    def _print_acos(self, e):
        return "numpy.arccos(_nn_clip1(%s))" % self._print(e.args[0])

    def _print_asin(self, e):
        return "numpy.arcsin(_nn_clip1(%s))" % self._print(e.args[0])

    def _print_ScalarProduct(self, e):
        u, v = e.args
        return "_nn_dot(%s, %s)" % (self._print(u), self._print(v))

    def _print_Component(self, e):
        u, j = e.args
        return "(%s)[..., %s]" % (self._print(u), self._print(j))


def canonical_tree(expr):
    """Rebuild ``expr`` bottom-up with evaluation, so every ``Add``/``Mul`` is canonical.

    sympy's common-subexpression elimination assumes canonical trees; on a product left
    unevaluated (e.g. ``Mul(-1, 5/8, ...)``) it produced a wrong kernel (fuzzer finding:
    ``exp(W.x + c/2) sin(-c)`` with a shared Gaussian ``W``, 0.270 instead of 0.324)."""
    if not isinstance(expr, sp.Basic) or not expr.args or expr.is_Atom:
        return expr
    return expr.func(*[canonical_tree(a) for a in expr.args])


def compile_kernel(args, expr):
    """``lambdify`` with nnsym's printer and CSE (on the canonical tree of ``expr``)."""
    expr = canonical_tree(expr)
    printer = _Printer({"fully_qualified_modules": True, "inline": True, "allow_unknown_functions": True, "user_functions": {}})
    return sp.lambdify(args, expr, modules=[_NAMESPACE, "scipy", "numpy"], printer=printer, cse=True, docstring_limit=0)


def as_value(v, name: str, context: str):
    """One hyper-parameter value as a real number: sympy numbers (``Rational(1, 2)``, ``pi``) become
    floats; strings, arrays, complex numbers, symbols and nan/inf are refused, naming the value."""
    if isinstance(v, (bool, np.bool_)):
        raise TypeError(f"{context}: the value of {name} must be a real number, got {v!r}")
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, (str, bytes)):
        raise TypeError(f"{context}: the value of {name} must be a real number, got the string {v!r}")
    if isinstance(v, sp.Basic):
        if not v.is_number:
            raise TypeError(f"{context}: the value of {name} must be a number, got the expression {v}")
        c = complex(v.evalf())
        if c.imag != 0:
            raise ValueError(f"{context}: the value of {name} must be real, got {v}")
        v = int(v) if v.is_Integer else c.real
    else:
        a = np.asarray(v)
        if a.ndim != 0:
            raise TypeError(f"{context}: the value of {name} must be a single real number, got an array of shape {a.shape}")
        if np.iscomplexobj(a):
            if a.imag != 0:
                raise ValueError(f"{context}: the value of {name} must be real, got {v}")
            a = a.real
        try:
            v = float(a)
        except (TypeError, ValueError):
            raise TypeError(f"{context}: the value of {name} must be a real number, got {v!r}") from None
    if not math.isfinite(v):
        raise ValueError(f"{context}: the value of {name} must be finite, got {v}")
    return v


def as_values(values: Mapping, context: str) -> dict:
    """All named values through :func:`as_value`."""
    return {k: as_value(v, k, context) for k, v in values.items()}


def as_points(X, context: str = "points") -> np.ndarray:
    """Point sets as a real float array: complex points (not silently truncated), strings and
    other non-numbers are refused."""
    X = np.asarray(X)
    if X.dtype == object:
        try:
            X = np.asarray(X.tolist(), dtype=complex)
        except (TypeError, ValueError):
            raise TypeError(f"{context} must be a real numeric array, got objects such as {X.flat[0]!r}") from None
    if np.iscomplexobj(X):
        if np.any(X.imag != 0):
            raise ValueError(f"{context} must be real, got complex values (e.g. {X[X.imag != 0].flat[0]})")
        X = X.real
    if X.dtype.kind not in "biuf":
        raise TypeError(f"{context} must be a real numeric array, got dtype {X.dtype}")
    return X.astype(float)


def check_values(symbols, values: Mapping, context: str) -> dict:
    """Map the named ``values`` onto ``symbols``; clear errors for missing or invalid ones."""
    out = {}
    missing = []
    for s in symbols:
        if s.name not in values:
            missing.append(s.name)
            continue
        v = as_value(values[s.name], s.name, context)
        # a positive scale may be set to 0 (the limit, e.g. sigma_b = 0: no bias), a width may not
        if s.is_positive and (np.any(np.asarray(v) < 0) or (s.is_integer and np.any(np.asarray(v) == 0))):
            raise ValueError(f"{context}: {s.name} must be positive, got {v}")
        if s.is_integer and np.any(np.asarray(v) != np.round(np.asarray(v))):
            raise ValueError(f"{context}: {s.name} must be an integer, got {v}")
        out[s] = v
    if missing:
        raise ValueError(f"{context}: missing value(s) for {', '.join(sorted(missing))}")
    return out


def _point_arrays(points, Xf):
    arrs = []
    for k, p in enumerate(points):
        arrs.append(Xf[:, k, 0] if isinstance(p, ScalarPoint) else Xf[:, k, :])
    return arrs


def _ones_symbols(expr):
    return sorted((s for s in expr.free_symbols if isinstance(s, VectorSymbol) and s.name == "1_d"), key=str)


# ----------------------------------------------------------------------------- numeric expectations
_MAX_NODES = 200_000


def _nodes_per_dim(ndim: int) -> int:
    return int(max(6, min(160, math.floor(_MAX_NODES ** (1.0 / ndim)))))


def _quadrature_grid(params, D: int, n: int, values: Mapping):
    """Tensor-product nodes (as arrays per parameter) and weights."""
    axes = []  # (param, component or None, nodes, weights)
    for p in params:
        if isinstance(p, RandomVector) and p.law.joint:
            nodes, w = p.law.vector_quadrature(n, D, values)  # (K, D), (K,)
            axes.append((p, "joint", np.arange(len(w)), w, nodes))
            continue
        nodes, w = p.law.quadrature(n, values)
        if isinstance(p, RandomVector):
            for j in range(D):
                axes.append((p, j, nodes, w))
        else:
            axes.append((p, None, nodes, w))
    grids = np.meshgrid(*[a[2] for a in axes], indexing="ij")
    wgrid = np.ones_like(grids[0], dtype=float) if grids else np.ones(())
    for g, a in zip(np.meshgrid(*[a[3] for a in axes], indexing="ij"), axes):
        wgrid = wgrid * g
    K = wgrid.size
    arrays = {}
    for a, g in zip(axes, grids):
        p, j = a[0], a[1]
        if j is None:
            arrays[p] = g.reshape(K, 1)
        elif j == "joint":  # g indexes the law's own (K_p, D) nodes
            arrays[p] = a[4][g.reshape(K).astype(int)].reshape(K, 1, D)
        else:
            arrays.setdefault(p, np.empty((K, 1, D)))[:, 0, j] = g.reshape(K)
    return arrays, wgrid.reshape(K)


def numeric_expectation(E: Expectation, points, Xf, values: Mapping, dsym=None) -> tuple[np.ndarray, float]:
    """Quadrature of ``E`` at every point set; returns values and an error estimate
    (difference between two rule sizes)."""
    params = list(E.params)
    D = Xf.shape[-1]
    ndim = sum(D if isinstance(p, RandomVector) else 1 for p in params)  # joint laws size their own rule
    f = E.integrand
    others = sorted(f.free_symbols - set(params) - set(points) - ({dsym} if dsym is not None else set()), key=str)
    ones = [s for s in others if isinstance(s, VectorSymbol) and s.name == "1_d"]
    hyper = [s for s in others if s not in ones]
    hv = check_values(hyper, values, "numeric expectation")
    args = params + list(points) + ones + hyper + ([dsym] if dsym is not None else [])
    fn = compile_kernel(args, f)
    pts = _point_arrays(points, Xf)
    law_values = {**{k: v for k, v in values.items()}, **({dsym.name: D} if dsym is not None else {})}

    def run(n):
        arrays, w = _quadrature_grid(params, D, n, law_values)
        out = np.zeros(Xf.shape[0], dtype=complex)
        K = w.size
        chunk = max(1, int(2e7 // max(K, 1)))
        for s in range(0, Xf.shape[0], chunk):
            sl = slice(s, s + chunk)
            vals = fn(*[arrays[p] for p in params], *[a[sl] for a in pts], *[np.ones(D)] * len(ones),
                      *[hv[h] for h in hyper], *([D] if dsym is not None else []))
            vals = np.broadcast_to(vals, (K, min(chunk, Xf.shape[0] - s)))
            # far-tail nodes whose weight underflowed (a density ~ 0 there) contribute 0, even where
            # the integrand alone overflows (e^{s w} against sech w: the product decays; the domain
            # of the transform has been checked before)
            negligible = (w < 1e-250)[:, None] & ~np.isfinite(vals)
            if np.any(negligible):
                vals = np.where(negligible, 0.0, vals)
            out[sl] = w @ vals
        return out

    n = _nodes_per_dim(ndim)
    hi = run(n)
    lo = run(max(4, (3 * n) // 4))
    err = float(np.max(np.abs(hi - lo))) if hi.size else 0.0
    if f.has(*_KINKED):  # a kink: the rules converge slowly and the difference of two can be
        err *= 10.0      # smaller than the real error (fuzzer: 2.0e-4 stated, 2.3e-4 real)
    err = max(err, 1e-12 * float(np.max(np.abs(hi)))) if hi.size else err
    if np.all(np.abs(hi.imag) <= 1e-12 * (1 + np.abs(hi.real))):
        hi = hi.real
    return hi, err


_KINKED = (sp.Max, sp.Min, sp.Abs, sp.Heaviside, sp.sign, sp.Piecewise, sp.floor, sp.ceiling)


# ----------------------------------------------------------------------------- evaluation
def _zero_limits(expr, values: Mapping):
    r"""Substitute the positive symbols whose value is exactly 0 by their limit :math:`s\to 0^+`
    (e.g. :math:`\sigma_b = 0`, a network without biases); refuse when there is no finite limit."""
    zeros = [s for s in expr.free_symbols if s.is_positive and not s.is_integer and s.name in values
             and np.ndim(values[s.name]) == 0 and isinstance(values[s.name], (int, float, np.number, sp.Number))
             and values[s.name] == 0]
    for s in sorted(zeros, key=sp.default_sort_key):
        at = expr.subs(s, 0)
        if at.has(sp.nan, sp.zoo) or (at.has(sp.oo, -sp.oo) and not expr.has(sp.oo, -sp.oo)):
            at = sp.limit(expr, s, 0, "+")
            if at.has(sp.nan, sp.zoo, sp.Limit) or at.has(sp.oo, -sp.oo):
                raise ValueError(f"{s.name} = 0: the expression has no finite limit as {s.name} -> 0+")
        expr = at
    return expr


def _check_domain(domain, points, ones, hyper, dsym, Xf, hv, D, cache) -> None:
    """Raise :class:`DivergentExpectation` at point sets outside the ``domain`` of the expectation."""
    key = ("domain", domain, tuple(hyper))
    if key not in cache:
        cache[key] = compile_kernel(list(points) + ones + hyper + ([dsym] if dsym is not None else []), domain)
    with np.errstate(all="ignore"):
        inside = cache[key](*_point_arrays(points, Xf), *[np.ones(D)] * len(ones),
                            *[hv[h] for h in hyper], *([D] if dsym is not None else []))
    inside = np.broadcast_to(np.asarray(inside, dtype=bool), (Xf.shape[0],))
    if not np.all(inside):
        bad = np.flatnonzero(~inside)
        raise DivergentExpectation(
            f"the expectation does not exist (it is infinite) at {bad.size} of {Xf.shape[0]} point sets, "
            f"e.g. point set {int(bad[0])}: it needs {domain} (the domain of a moment generating function)")


def evaluate(expr, points, dim, X, values: Mapping, cache: dict) -> np.ndarray:
    """Evaluate ``expr`` (in ``points``) at every point set of ``X`` (shape (..., n, d))."""
    n = len(points)
    X = as_points(X)
    values = as_values(values, "evaluate")
    if X.ndim < 2 or X.shape[-2] != n:
        raise ValueError(f"points must have shape (..., {n}, d) for a {n}-point function, got {X.shape}")
    dim = sp.sympify(dim)
    D = X.shape[-1]
    dsym = None
    if dim.is_Integer:
        if D != int(dim):
            raise ValueError(f"points must have shape (..., {n}, {dim}) in d = {dim}, got {X.shape}")
    else:
        dsym = dim
        if dsym.name in values and values[dsym.name] != D:
            raise ValueError(f"{dsym.name} = {values[dsym.name]} disagrees with the points' last axis {D}")
        values = {**values, dsym.name: D}
    batch = X.shape[:-2]
    P = int(np.prod(batch)) if batch else 1
    Xf = X.reshape(P, n, D)
    if not np.all(np.isfinite(Xf)):
        raise ValueError("points contain inf or nan")

    # a positive scale set to 0 is the limit scale -> 0+, taken exactly
    expr = _zero_limits(expr, values)
    # an expectation that exists only on a domain (e.g. a Laplace MGF) is refused outside it
    expr, domain = split_domain(expr)
    expectations = sorted(expr.atoms(Expectation), key=sp.default_sort_key)
    dummies = [sp.Dummy(f"E{j}") for j in range(len(expectations))]
    body = expr.xreplace(dict(zip(expectations, dummies))) if expectations else expr
    others = (body.free_symbols | domain.free_symbols) - set(points) - set(dummies) - ({dsym} if dsym is not None else set())
    ones = _ones_symbols(body)
    hyper = sorted(others - set(ones), key=sp.default_sort_key)
    hv = check_values(hyper, values, "evaluate")
    if domain is not sp.true:
        _check_domain(domain, points, ones, hyper, dsym, Xf, hv, D, cache)
    key = (tuple(hyper), tuple(ones), tuple(dummies) and len(dummies))
    if key not in cache:
        cache[key] = (compile_kernel(list(points) + ones + dummies + hyper + ([dsym] if dsym is not None else []), body), dummies)
    fn, dums = cache[key]

    from ..engine.gaussian import GaussianExpectation, gaussian_numeric  # (gaussian imports kernels)

    evals = []
    for E in expectations:
        if isinstance(E, GaussianExpectation):
            val, err = gaussian_numeric(E, points, Xf, values, dsym)
        else:
            val, err = numeric_expectation(E, points, Xf, values, dsym)
        warnings.warn(NumericWarning(f"evaluated {E.func.__name__} over {', '.join(map(str, E.params))} by "
                                     f"quadrature (estimated abs. error {err:.1e})", error=err), stacklevel=3)
        evals.append(val)
    with np.errstate(all="ignore"):
        out = fn(*_point_arrays(points, Xf), *[np.ones(D)] * len(ones), *evals,
                 *[hv[h] for h in hyper], *([D] if dsym is not None else []))
    out = np.broadcast_to(np.asarray(out), (P,)).copy()
    if np.iscomplexobj(out):
        if np.all(np.abs(out.imag) <= 1e-12 * (1 + np.abs(out.real))):
            out = out.real
    if not np.all(np.isfinite(out)):
        bad = int(np.sum(~np.isfinite(out)))
        raise FloatingPointError(f"{bad} of {P} point sets gave inf or nan (overflow or 0/0 at these points)")
    return out.reshape(batch)
