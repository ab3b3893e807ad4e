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

import functools
import warnings
from typing import Mapping

import numpy as np
import sympy as sp
from sympy.printing.numpy import SciPyPrinter

from ..core.vectors import ScalarPoint, VectorSymbol
from ..engine.expectation import DivergentExpectation, Expectation, split_domain
from ..errors import NumericWarning
from .bindings import Bindings, as_value, as_values, check_values  # noqa: F401 -- re-exported

__all__ = ["compile_kernel", "python_source", "evaluate", "NumericWarning", "check_values", "as_value", "as_values",
           "as_points"]


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


def numpy_printer() -> _Printer:
    """The printer of every kernel: numpy/scipy names, fully qualified, nnsym's helpers."""
    return _Printer({"fully_qualified_modules": True, "inline": True, "allow_unknown_functions": True,
                     "user_functions": {}})


def canonical_tree(expr):
    """Rebuild ``expr`` bottom-up with evaluation, so every ``Add``/``Mul`` is canonical.

    sympy's common-subexpression elimination assumes canonical trees; on a product left
    unevaluated (e.g. ``Mul(-1, 5/8, ...)``) it produced a wrong kernel (fuzzer finding:
    ``exp(W.x + c/2) sin(-c)`` with a shared Gaussian ``W``, 0.270 instead of 0.324)."""
    if not isinstance(expr, sp.Basic) or not expr.args or expr.is_Atom:
        return expr
    return expr.func(*[canonical_tree(a) for a in expr.args])


def compile_kernel(args, expr, modules=None):
    """``lambdify`` with nnsym's printer and CSE (on the canonical tree of ``expr``).

    ``modules``: the namespaces the printed code runs in (default: nnsym's numpy helpers, scipy,
    numpy); an array backend passes its own (see :mod:`nnsym.sampling.backends`)."""
    expr = canonical_tree(expr)
    printer = numpy_printer()
    if modules is None:
        modules = [_NAMESPACE, "scipy", "numpy"]
    return sp.lambdify(args, expr, modules=modules, printer=printer, cse=True, docstring_limit=0)


def python_source(expr, points, dim, name: str = "G", doc: str = "") -> str:
    r"""Self-contained Python source of a numpy function that evaluates ``expr`` at points.

    The same printer and common-subexpression elimination as :func:`compile_kernel`; the
    helpers the code calls (``_nn_sqrt``, ...) are copied into the source, which imports only
    numpy and scipy. The function takes the points ``x_1, ..., x_n`` (arrays of shape ``(..., d)``,
    or ``(...)`` for a scalar point in d = 1) and the hyper-parameters as keyword arguments; a
    symbolic dimension d is read off the points' last axis.

    Parameters
    ----------
    expr : sympy expression in ``points`` (exact: an unevaluated expectation is refused).
    points : the point symbols.
    dim : the dimension (int or Symbol).
    name : the function's name (a Python identifier).
    doc : its docstring.

    Examples
    --------
    >>> import sympy as sp, numpy as np
    >>> from nnsym.core.vectors import ScalarPoint
    >>> x1, x2, m = ScalarPoint("x_1"), ScalarPoint("x_2"), sp.Symbol("m", positive=True)
    >>> src = python_source(sp.exp(-m * sp.Abs(x1 - x2)) / 2, (x1, x2), 1, "G2")
    >>> space = {}; exec(src, space)
    >>> bool(space["G2"](np.array(0.0), np.array(1.0), m=1.0) == np.exp(-1) / 2)
    True
    """
    import inspect

    if not name.isidentifier():
        raise ValueError(f"the function name must be a Python identifier, got {name!r}")
    if expr.atoms(Expectation):
        raise ValueError("the expression holds expectations left unevaluated (a numeric result): "
                         "no closed form to write as Python")
    dim = sp.sympify(dim)
    dsym = None if dim.is_Integer else dim
    expr = canonical_tree(sp.sympify(expr))
    ones = ones_symbols(expr)
    hyper = sorted(expr.free_symbols - set(points) - set(ones) - ({dsym} if dsym is not None else set()),
                   key=sp.default_sort_key)
    printer = numpy_printer()
    pnames = [printer.doprint(p) for p in points]
    replacements, (body,) = sp.cse([expr], symbols=sp.numbered_symbols("t_"), optimizations=None)
    lines = ["import numpy", "import numpy as np", "import scipy", "import scipy.special", ""]
    for fn in _NAMESPACE.values():
        lines += [inspect.getsource(fn).rstrip(), ""]
    lines.append(f"_ROUNDING = {_ROUNDING!r}")
    lines.append("")
    lines.append("")
    kw = ", ".join(printer.doprint(h) for h in hyper)
    lines.append(f"def {name}({', '.join(pnames)}" + (f", *, {kw}" if kw else "") + "):")
    lines.append('    """' + (doc.strip() + "\n\n    " if doc else "")
                 + "Points: arrays of shape (..., d); hyper-parameters by keyword. Generated by nnsym."
                 + '\n    """')
    for p in pnames:
        lines.append(f"    {p} = numpy.asarray({p}, dtype=float)")
    if dsym is not None or ones:
        lines.append(f"    _d = numpy.shape({pnames[0]})[-1]")
    if dsym is not None:
        lines.append(f"    {printer.doprint(dsym)} = _d")
    for o in ones:
        lines.append(f"    {printer.doprint(o)} = numpy.ones(_d)")
    for sym, sub in replacements:
        lines.append(f"    {printer.doprint(sym)} = {printer.doprint(sub)}")
    lines.append(f"    return {printer.doprint(body)}")
    return "\n".join(lines) + "\n"


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


def point_arrays(points, Xf) -> list:
    """The points of the point sets ``Xf`` (shape (P, n, d)) as kernel arguments: (P,) for a scalar
    point, (P, d) for a vector point."""
    arrs = []
    for k, p in enumerate(points):
        arrs.append(Xf[:, k, 0] if isinstance(p, ScalarPoint) else Xf[:, k, :])
    return arrs


def ones_symbols(expr) -> list:
    r"""The vectors :math:`\mathbf 1` (``1_d``) in ``expr``: kernel arguments bound to ``np.ones(d)``."""
    return sorted((s for s in expr.free_symbols if isinstance(s, VectorSymbol) and s.name == "1_d"), key=str)


# ----------------------------------------------------------------------------- numeric expectations
@functools.singledispatch
def numeric_expectation(E: Expectation, points, Xf, values: Mapping, dsym=None) -> tuple[np.ndarray, float]:
    r"""Quadrature of the unevaluated expectation ``E`` at every point set ``Xf`` (shape (P, n, d)); returns
    the values (P,) and an error estimate that bounds the real error.

    Dispatched on the type of ``E``: the rules are registered in :mod:`nnsym.numeric.quadrature`
    (:func:`~nnsym.numeric.quadrature.law_quadrature` for an
    :class:`~nnsym.engine.unevaluated.Expectation`, :func:`~nnsym.numeric.quadrature.gaussian_numeric`
    for a :class:`~nnsym.engine.gaussian.GaussianExpectation`).

    >>> from nnsym.engine.gaussian import GaussianExpectation
    >>> numeric_expectation.dispatch(GaussianExpectation).__name__
    'gaussian_numeric'
    """
    raise TypeError(f"no quadrature rule is registered for {type(E).__name__}")


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
    """Raise :class:`DivergentExpectation` at point sets outside the ``domain`` of the expectation.
    The conjuncts of an ``And`` are compiled one by one (one may hold no point: a scalar, another an
    array over the point sets) and combined after broadcasting."""
    inside = np.ones(Xf.shape[0], dtype=bool)
    for part in (domain.args if isinstance(domain, sp.And) else (domain,)):
        key = ("domain", part, tuple(hyper))
        if key not in cache:
            cache[key] = compile_kernel(list(points) + ones + hyper + ([dsym] if dsym is not None else []), part)
        with np.errstate(all="ignore"):
            value = cache[key](*point_arrays(points, Xf), *[np.ones(D)] * len(ones),
                               *[hv[h] for h in hyper], *([D] if dsym is not None else []))
        inside &= np.broadcast_to(np.asarray(value, dtype=bool), (Xf.shape[0],))
    if not np.all(inside):
        bad = np.flatnonzero(~inside)
        raise DivergentExpectation(
            f"the expectation does not exist (it is infinite) at {bad.size} of {Xf.shape[0]} point sets, "
            f"e.g. point set {int(bad[0])}: it needs {domain} (the domain of a moment generating function)")


def evaluate(expr, points, dim, X, values: Mapping, cache: dict, quadratures: dict | None = None) -> np.ndarray:
    """Evaluate ``expr`` (in ``points``) at every point set of ``X`` (shape (..., n, d)).

    ``values``: a :class:`~nnsym.numeric.bindings.Bindings` (checked once by the caller, used as
    is) or a plain mapping ``name -> number`` (checked here). ``cache`` holds the compiled kernels of
    this one ``expr``; ``quadratures`` (optional, may be shared by many expressions) the quadrature of
    each unevaluated expectation at these point sets and values, done once."""
    n = len(points)
    X = as_points(X)
    if not isinstance(values, Bindings):
        values = Bindings(values, None, "evaluate")
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
        values = values.with_values(**{dsym.name: D})
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
    others = ((body.free_symbols | domain.free_symbols) - set(points) - set(dummies)
              - ({dsym} if dsym is not None else set()))
    ones = ones_symbols(body)
    hyper = sorted(others - set(ones), key=sp.default_sort_key)
    hv = check_values(hyper, values, "evaluate")
    if domain is not sp.true:
        _check_domain(domain, points, ones, hyper, dsym, Xf, hv, D, cache)
    key = (tuple(hyper), tuple(ones), tuple(dummies) and len(dummies))
    if key not in cache:
        cache[key] = (compile_kernel(list(points) + ones + dummies + hyper + ([dsym] if dsym is not None else []),
                                     body), dummies)
    fn, dums = cache[key]

    evals = []
    at = (Xf.shape, Xf.tobytes(), tuple(sorted((k, float(v)) for k, v in values.items())), dsym) if quadratures \
        is not None else None
    for E in expectations:
        if quadratures is None:
            val, err = numeric_expectation(E, points, Xf, values, dsym)
        else:
            if (E, at) not in quadratures:
                quadratures[(E, at)] = numeric_expectation(E, points, Xf, values, dsym)
            val, err = quadratures[(E, at)]
        warnings.warn(NumericWarning(f"evaluated {E.func.__name__} over {', '.join(map(str, E.params))} by "
                                     f"quadrature (estimated abs. error {err:.1e})", error=err), stacklevel=3)
        evals.append(val)
    with np.errstate(all="ignore"):
        out = fn(*point_arrays(points, Xf), *[np.ones(D)] * len(ones), *evals,
                 *[hv[h] for h in hyper], *([D] if dsym is not None else []))
    out = np.broadcast_to(np.asarray(out), (P,)).copy()
    if np.iscomplexobj(out):
        if np.all(np.abs(out.imag) <= 1e-12 * (1 + np.abs(out.real))):
            out = out.real
    if not np.all(np.isfinite(out)):
        bad = int(np.sum(~np.isfinite(out)))
        raise FloatingPointError(f"{bad} of {P} point sets gave inf or nan (overflow or 0/0 at these points)")
    return out.reshape(batch)
