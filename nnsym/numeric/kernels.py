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
from typing import Any, Mapping, NamedTuple

import numpy as np
import sympy as sp
from sympy.functions.elementary.piecewise import ExprCondPair
from sympy.printing.numpy import SciPyPrinter

from ..core.vectors import ScalarPoint, VectorSymbol
from ..engine.expectation import DivergentExpectation, Expectation, split_domain
from ..engine.gaussian import Correlation
from ..errors import NumericWarning
from .bindings import Bindings, as_value, as_values, check_values  # noqa: F401 -- re-exported

__all__ = ["compile_kernel", "straight_line_kernel", "straight_line_code", "tree_size_exceeds", "python_source",
           "evaluate", "evaluation_plan", "EvaluationPlan", "QUADRATURE_CHUNK_VALUES", "HELPER_ROUNDING",
           "NumericWarning", "check_values", "as_value", "as_values", "as_points"]


HELPER_ROUNDING = 1e-10
r"""How far past a boundary the kernels' helpers forgive a value as rounding: ``sqrt`` of
:math:`x > -10^{-10}` is taken at 0, ``arcsin``/``arccos`` of :math:`|x| < 1 + 10^{-10}` at :math:`\pm 1`
(the same in every array backend and in the fused Monte Carlo loop)."""


# The helpers below run on whole arrays inside every compiled kernel (the deep kernels' layer map calls
# them on Gram blocks, many times per evaluation): each first checks, in one pass, whether any argument
# needs forgiving, and only then takes the slower elementwise path (same numbers either way).
def _nn_sqrt(x):
    """sqrt that forgives rounding just below 0 (e.g. 1 - rho^2 at coincident points), nothing more."""
    x = np.asarray(x)
    if np.iscomplexobj(x) or x.size == 0 or x.min() >= 0:
        return np.sqrt(x)
    return np.sqrt(np.where((x < 0) & (x > -HELPER_ROUNDING), 0.0, x))


def _nn_correlation(k12, k11, k22):
    r"""The correlation :math:`k_{12}/\sqrt{k_{11}k_{22}}` clipped to [-1, 1]; 0 where a variance is 0.

    A pre-activation of variance 0 is the constant 0 (the zero-mean forms that use
    ``Correlation``, e.g. a ReLU without bias at x = 0): every closed form that holds a
    ``Correlation`` multiplies it by :math:`\sqrt{k_{11}k_{22}}` or is a bounded function of it
    whose value at :math:`\rho = 0` is the right one (:math:`\arcsin 0 = 0`), so 0 replaces 0/0."""
    den = np.multiply(k11, k22, dtype=float)
    if den.size and den.min() > 0:
        return np.clip(np.divide(k12, np.sqrt(den), dtype=float), -1.0, 1.0)
    k12, den = np.broadcast_arrays(np.asarray(k12, dtype=float), den)
    with np.errstate(all="ignore"):
        rho = np.where(den > 0, k12 / np.sqrt(np.where(den > 0, den, 1.0)), 0.0)
    return np.clip(rho, -1.0, 1.0)


def _nn_clip1(x):
    """Arguments of arccos/arcsin: forgive |x| = 1 + rounding."""
    x = np.asarray(x)
    if np.iscomplexobj(x) or x.size == 0 or (x.max() <= 1 and x.min() >= -1):
        return x
    return np.where((np.abs(x) > 1) & (np.abs(x) < 1 + HELPER_ROUNDING), np.sign(x), x)


SMALL_DOT_DIM = 16
r"""Largest inner dimension d for which :func:`_nn_dot` sums :math:`\sum_{k<d} u_k v_k` by broadcast
multiply-adds instead of a BLAS matmul: at d = 2, 3 OpenBLAS splits the product over threads and
runs 2-3x slower than the broadcast when another core is busy."""


def _nn_dot(u, v):
    r"""u . v over the last axis, :math:`\sum_k u_k v_k`; a batch of parameter vectors (..., 1, d)
    against points (M, d) gives (..., M): by broadcast multiply-adds for d <= ``SMALL_DOT_DIM``,
    through BLAS (matmul) above; everything else through einsum."""
    u, v = np.asarray(u), np.asarray(v)
    if v.ndim == 2 and u.ndim >= 3 and u.shape[-2] == 1:
        w, x = u[..., 0, :], v
    elif u.ndim == 2 and v.ndim >= 3 and v.shape[-2] == 1:
        w, x = v[..., 0, :], u
    else:
        return np.einsum("...i,...i->...", u, v)
    d, M = w.shape[-1], x.shape[0]
    if d > SMALL_DOT_DIM or d == 0 or d != x.shape[-1]:
        return w @ x.T
    if w.size // d >= M:  # many draws, few points: the draws on the inner (long) loop, a view (..., M)
        at = (M,) + (1,) * (w.ndim - 1)
        out = x[:, 0].reshape(at) * w[..., 0]
        for k in range(1, d):
            out += x[:, k].reshape(at) * w[..., k]
        return np.moveaxis(out, 0, -1)
    out = w[..., 0, None] * x[:, 0]
    for k in range(1, d):
        out += w[..., k, None] * x[:, k]
    return out


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
        return "numpy.arccos(%s)" % self._clipped(e.args[0])

    def _print_asin(self, e):
        return "numpy.arcsin(%s)" % self._clipped(e.args[0])

    def _clipped(self, arg) -> str:
        """The argument of arccos/arcsin, forgiving |x| = 1 + rounding; a ``Correlation`` (or minus one)
        is clipped to [-1, 1] already."""
        if isinstance(arg, Correlation) or (arg.could_extract_minus_sign() and isinstance(-arg, Correlation)):
            return self._print(arg)
        return "_nn_clip1(%s)" % self._print(arg)

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


LARGE_KERNEL_NODES = 20_000
r"""Expressions of more tree nodes than this compile through :func:`straight_line_kernel` (one
assignment per subexpression of sympy's common-subexpression elimination, long sums as partial
sums) instead of ``lambdify``, whose one-line sums overflow Python's compiler (``RecursionError``
at a few thousand terms)."""

HUGE_KERNEL_NODES = 150_000
r"""Expressions of more tree nodes than this skip sympy's common-subexpression elimination (its cost
grows faster than the expression: a minute at ~4e4 nodes of distinct terms) and name only the
repeated subexpressions (:func:`straight_line_kernel` with ``cse=False``, linear in the size)."""

SUM_CHUNK = 64
"""Terms of a long sum (factors of a long product) per generated line: partial sums."""

INLINE_DEPTH = 48
"""Largest nesting of one generated line; a deeper subexpression gets its own assignment."""


def compile_kernel(args, expr, modules=None):
    r"""``lambdify`` with nnsym's printer and CSE (on the canonical tree of ``expr``); above
    ``LARGE_KERNEL_NODES`` tree nodes (or when Python's compiler refuses the one-line code),
    :func:`straight_line_kernel`, with sympy's CSE up to ``HUGE_KERNEL_NODES``.

    ``modules``: the namespaces the printed code runs in (default: nnsym's numpy helpers, scipy,
    numpy); an array backend passes its own (see :mod:`nnsym.sampling.backends`)."""
    if modules is None:
        modules = [_NAMESPACE, "scipy", "numpy"]
    if tree_size_exceeds(expr, HUGE_KERNEL_NODES):
        return straight_line_kernel(args, expr, modules, cse=False)
    if tree_size_exceeds(expr, LARGE_KERNEL_NODES):
        return straight_line_kernel(args, expr, modules, cse=True)
    try:
        return sp.lambdify(args, canonical_tree(expr), modules=modules, printer=numpy_printer(), cse=True,
                           docstring_limit=0)
    except RecursionError:  # a sum of thousands of small terms: too deep for Python's compiler
        return straight_line_kernel(args, expr, modules, cse=True)


def tree_size_exceeds(expr, limit: int) -> bool:
    """True if the expression tree of ``expr`` (shared subtrees counted each time) has more than
    ``limit`` nodes; stops counting there (an explicit stack, no recursion).

    >>> import sympy as sp
    >>> x = sp.Symbol("x")
    >>> tree_size_exceeds(sp.exp(x) + x**2, 3), tree_size_exceeds(sp.exp(x) + x**2, 10)
    (True, False)
    """
    stack, seen = [expr], 0
    while stack:
        seen += 1
        if seen > limit:
            return True
        stack.extend(getattr(stack.pop(), "args", ()))
    return False


class _StraightLinePrinter(_Printer):
    """nnsym's printer that prints a named subexpression by its name, and sums and products as
    flat chains in their stored order (no sorting of the terms)."""

    def __init__(self, names: dict, settings: dict):
        super().__init__(settings)
        self.names = names
        self.used: set = set()

    def _print(self, expr, **kwargs):
        try:
            name = self.names.get(expr)
        except TypeError:  # unhashable (a list inside a printer method)
            name = None
        if name is not None:
            self.used.add(name)
            return name
        return self.print_node(expr, **kwargs)

    def print_node(self, expr, **kwargs):
        """``expr`` itself (not its name), its arguments by name where they have one."""
        if isinstance(expr, (sp.Add, sp.Mul)):
            return self.chain(expr, expr.args)
        return super()._print(expr, **kwargs)

    def chain(self, expr, args) -> str:
        return (" + " if isinstance(expr, sp.Add) else " * ").join("(%s)" % self._print(a) for a in args)


_UNNAMED = (sp.Tuple, ExprCondPair)


def _post_order(expr) -> tuple[list, dict]:
    """The distinct subexpressions of ``expr``, children before parents, and how many distinct
    parents use each (an explicit stack: no recursion)."""
    users: dict = {}
    order, entered = [], set()
    stack = [(expr, False)]
    while stack:
        e, expanded = stack.pop()
        if expanded:  # its arguments are all in ``order`` by now
            order.append(e)
            continue
        if e in entered:
            continue
        entered.add(e)
        args = getattr(e, "args", ())
        for a in args:
            users[a] = users.get(a, 0) + 1
        stack.append((e, True))
        stack.extend((a, False) for a in args if a not in entered)
    return order, users


def straight_line_kernel(args, expr, modules=None, cse: bool = False):
    r"""Compile ``expr`` to a numpy function of ``args`` as straight-line code, one assignment per
    line: the subexpressions of sympy's common-subexpression elimination (``cse=True``, on the
    canonical tree), or else (``cse=False``) every subexpression used more than once; besides, every
    sum or product of more than ``SUM_CHUNK`` terms (as partial sums of ``SUM_CHUNK`` terms) and
    every subexpression nested deeper than ``INLINE_DEPTH``. Temporaries are deleted after their last
    use. The walks use explicit stacks, so neither the size of ``expr`` nor the length of a sum
    meets a recursion limit (of sympy's printer or of Python's compiler); the result agrees with
    :func:`compile_kernel`'s ``lambdify`` code to rounding.

    >>> import sympy as sp, numpy as np
    >>> x = sp.symbols("x_1:4")
    >>> f = straight_line_kernel(x, sp.Add(*[sp.cos(k * (x[0] - x[1])) * sp.exp(-x[2] / k) for k in range(1, 201)]))
    >>> bool(np.isclose(f(0.1, 0.2, 0.3), sum(np.cos(k * -0.1) * np.exp(-0.3 / k) for k in range(1, 201))))
    True
    """
    if modules is None:
        modules = [_NAMESPACE, "scipy", "numpy"]
    names: dict = {a: f"_a{j}" for j, a in enumerate(args)}
    code, result, printer = straight_line_code(expr, names, cse)
    source = "\n".join([f"def _straight_line_kernel({', '.join(names[a] for a in args)}):",
                        *("    " + line for line in code), f"    return {result}", ""])
    namespace = dict(sp.lambdify([], sp.Integer(0), modules=modules, printer=numpy_printer()).__globals__)
    for mod, keys in (getattr(printer, "module_imports", None) or {}).items():
        for key in keys:
            if key not in namespace:
                exec(f"from {mod} import {key}", {}, namespace)
    exec(compile(source, "<nnsym straight-line kernel>", "exec"), namespace)
    fn = namespace["_straight_line_kernel"]
    fn.source = source
    return fn


def straight_line_code(expr, names: dict | None = None, cse: bool = False) -> tuple[list, str, Any]:
    r"""The lines of :func:`straight_line_kernel`'s code (assignments and ``del`` of temporaries) and
    the expression of its result; ``names`` maps symbols to the names they have in the code (others
    print as nnsym's printer prints them). Also returns the printer (its ``module_imports``).

    >>> import sympy as sp
    >>> x = sp.Symbol("x")
    >>> straight_line_code(sp.exp(x) * sp.cos(sp.exp(x)))[:2]
    (['_t0 = numpy.exp(x)', '_result = (numpy.cos(_t0)) * (_t0)', 'del _t0'], '_result')
    """
    expr = sp.sympify(expr)
    names = dict(names or {})
    if cse:
        replacements, (body,) = sp.cse([canonical_tree(expr)], symbols=sp.numbered_symbols("_cse_"),
                                       optimizations=None)
    else:
        replacements, body = [], expr
    printer = _StraightLinePrinter(names, dict(numpy_printer()._settings))
    lines: list = []   # (target, code, names it uses)
    for k, (sym, sub) in enumerate(replacements):
        _emit(sub, f"_c{k}", names, printer, lines)
        names[sym] = f"_c{k}"
    result = _emit(body, "_result", names, printer, lines)
    last_use: dict = {}
    for k, (_, _, used) in enumerate(lines):
        for u in used:
            last_use[u] = k
    free_after: dict = {}
    for u, k in last_use.items():
        if u[:2] in ("_t", "_c") and u != result:
            free_after.setdefault(k, []).append(u)
    code = []
    for k, (target, rhs, _) in enumerate(lines):
        code.append(f"{target} = {rhs}")
        if k in free_after:
            code.append(f"del {', '.join(sorted(free_after[k]))}")
    return code, result, printer


def _emit(expr, target: str, names: dict, printer: _StraightLinePrinter, lines: list) -> str:
    """Append the assignments of ``expr`` (its long, deep or repeated subexpressions, then itself as
    ``target``) to ``lines``; returns the name of its value (or its code, if it is an atom)."""
    if expr in names or not getattr(expr, "args", ()):
        printer.used = set()
        code = printer._print(expr)
        return code
    order, users = _post_order(expr)
    depth: dict = {}
    mine: list = []
    for e in order:
        if e in names or not getattr(e, "args", ()):
            depth[e] = 0
            continue
        chain = isinstance(e, (sp.Add, sp.Mul))
        d = max(depth[a] for a in e.args) + (len(e.args) if chain else 2)
        if e is expr or (not isinstance(e, _UNNAMED) and (users.get(e, 0) > 1 or d > INLINE_DEPTH
                                                          or (chain and len(e.args) > SUM_CHUNK))):
            names[e] = target if e is expr else f"_t{len(names)}"
            mine.append(e)
            d = 0
        depth[e] = d
    for e in mine:
        name = names[e]
        printer.used = set()
        if isinstance(e, (sp.Add, sp.Mul)) and len(e.args) > SUM_CHUNK:
            op = " + " if isinstance(e, sp.Add) else " * "
            parts = [e.args[k:k + SUM_CHUNK] for k in range(0, len(e.args), SUM_CHUNK)]
            lines.append((name, printer.chain(e, parts[0]), printer.used))
            for part in parts[1:]:
                printer.used = {name}
                lines.append((name, f"{name}{op}({printer.chain(e, part)})", printer.used))
        else:
            lines.append((name, printer.print_node(e), printer.used))
    return target


def python_source(expr, points, dim, name: str = "G", doc: str = "") -> str:
    r"""Self-contained Python source of a numpy function that evaluates ``expr`` at points.

    The same printer and common-subexpression elimination as :func:`compile_kernel` (straight-line
    code above ``LARGE_KERNEL_NODES`` nodes, :func:`straight_line_code`); the
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
    if not name.isidentifier():
        raise ValueError(f"the function name must be a Python identifier, got {name!r}")
    if expr.atoms(Expectation):
        raise ValueError("the expression holds expectations left unevaluated (a numeric result): "
                         "no closed form to write as Python")
    dim = sp.sympify(dim)
    dsym = None if dim.is_Integer else dim
    expr = sp.sympify(expr)
    large = tree_size_exceeds(expr, LARGE_KERNEL_NODES)  # straight-line code, as compile_kernel writes it
    if not large:
        expr = canonical_tree(expr)
    ones = ones_symbols(expr)
    hyper = sorted(expr.free_symbols - set(points) - set(ones) - ({dsym} if dsym is not None else set()),
                   key=sp.default_sort_key)
    printer = numpy_printer()
    pnames = [printer.doprint(p) for p in points]
    if large:
        code, result, _ = straight_line_code(expr, None, cse=not tree_size_exceeds(expr, HUGE_KERNEL_NODES))
    else:
        replacements, (body,) = sp.cse([expr], symbols=sp.numbered_symbols("t_"), optimizations=None)
        code = [f"{printer.doprint(sym)} = {printer.doprint(sub)}" for sym, sub in replacements]
        result = printer.doprint(body)
    source = _module_source(name, doc, printer, pnames, hyper, dsym, ones, code, result)
    if not large:
        try:
            compile(source, "<python_source>", "exec")
        except RecursionError:  # a sum of thousands of terms on one line: straight-line code instead
            code, result, _ = straight_line_code(expr, None, cse=True)
            source = _module_source(name, doc, printer, pnames, hyper, dsym, ones, code, result)
    return source


def _module_source(name, doc, printer, pnames, hyper, dsym, ones, code, result) -> str:
    """The module text of :func:`python_source`: imports, nnsym's helpers, the function."""
    import inspect

    lines = ["import numpy", "import numpy as np", "import scipy", "import scipy.special", ""]
    for fn in _NAMESPACE.values():
        lines += [inspect.getsource(fn).rstrip(), ""]
    lines.append(f"HELPER_ROUNDING = {HELPER_ROUNDING!r}")
    lines.append(f"SMALL_DOT_DIM = {SMALL_DOT_DIM!r}")
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
    lines += ["    " + line for line in code]
    lines.append(f"    return {result}")
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
QUADRATURE_CHUNK_VALUES = 2_000_000
r"""The most integrand values (quadrature nodes :math:`\times` point sets) a quadrature rule of
:func:`numeric_expectation` holds at once: the point sets go in chunks of
``QUADRATURE_CHUNK_VALUES // nodes`` (at least one). At 2e6 complex values (32 MB an array, a few alive
at once) ``os_axioms(free_scalar(3))`` peaks at +0.3 GB and takes 6 s, against +1.35 GB and 13.5 s at
2e7 (same verdicts, same values: the chunks only split the point sets)."""


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


class EvaluationPlan(NamedTuple):
    r"""Everything :func:`evaluate` needs that depends on the expression alone (and on which positive
    scales are set to 0): built once per expression, kept in the kernel cache."""

    hyper: list
    """The hyper-parameters, in the kernel's argument order."""
    ones: list
    r"""The vectors :math:`\mathbf 1` (bound to ``np.ones(d)``)."""
    expectations: list
    """The unevaluated expectations (integrated numerically), in the kernel's argument order."""
    domain: Any
    """The condition on the points for the expectations to exist (``sympy.true`` if none)."""
    kernel: Any
    """The compiled kernel of (points, ones, expectations, hyper-parameters[, d])."""


def _is_zero_value(v) -> bool:
    return (np.ndim(v) == 0 and isinstance(v, (int, float, np.number, sp.Number)) and v == 0)


def evaluation_plan(expr, points, dsym, values: Mapping, cache: dict) -> EvaluationPlan:
    r"""The :class:`EvaluationPlan` of ``expr`` at ``values``, from ``cache`` or built and stored there.

    Per call it only looks up which of the expression's positive scales are set to exactly 0 (the
    limit :math:`s \to 0^+`, a different expression); the tree walks (free symbols, expectations,
    domains) and the compilation are done once per expression and set of zero scales.

    >>> import sympy as sp
    >>> x, s = sp.Symbol("x", real=True), sp.Symbol("s", positive=True)
    >>> cache = {}
    >>> plan = evaluation_plan(sp.exp(-s * x**2), (x,), None, {"s": 0.5}, cache)
    >>> plan.hyper, evaluation_plan(sp.exp(-s * x**2), (x,), None, {"s": 0.5}, cache) is plan
    ([s], True)
    >>> evaluation_plan(sp.exp(-s * x**2), (x,), None, {"s": 0}, cache).hyper  # the limit s -> 0+
    []
    """
    scales_key = ("positive scales", expr)
    scales = cache.get(scales_key)
    if scales is None:
        scales = cache[scales_key] = sorted((s for s in expr.free_symbols if s.is_positive and not s.is_integer),
                                            key=sp.default_sort_key)
    zeros = tuple(s for s in scales if s.name in values and _is_zero_value(values[s.name]))
    key = ("plan", expr, tuple(points), dsym, zeros)
    plan = cache.get(key)
    if plan is None:
        plan = cache[key] = _build_plan(expr, points, dsym, values, cache)
    return plan


def _build_plan(expr, points, dsym, values: Mapping, cache: dict) -> EvaluationPlan:
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
    key = (tuple(hyper), tuple(ones), tuple(dummies) and len(dummies), body)
    if key not in cache:
        cache[key] = compile_kernel(list(points) + ones + dummies + hyper + ([dsym] if dsym is not None else []),
                                    body)
    return EvaluationPlan(hyper, ones, expectations, domain, cache[key])


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

    plan = evaluation_plan(expr, points, dsym, values, cache)
    hyper, ones, expectations, domain = plan.hyper, plan.ones, plan.expectations, plan.domain
    hv = check_values(hyper, values, "evaluate")
    if domain is not sp.true:
        _check_domain(domain, points, ones, hyper, dsym, Xf, hv, D, cache)
    fn = plan.kernel

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
