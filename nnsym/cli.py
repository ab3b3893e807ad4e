"""Command-line interface: ``nnsym derive NAME --points n [--connected]``.

Derives a correlator of a network from :mod:`nnsym.zoo`, prints it (as a
sympy expression and as LaTeX) together with the derivation time and, unless
``--no-validate`` is given, checks it numerically against an independent
Monte Carlo estimate built only from the network *definition* (the neuron
expression and the parameter laws' samplers), not from the symbolic engine.

Monte Carlo check
-----------------
For a network ``phi(x) = sum_{i<=N} a_i h_i(x)`` with i.i.d. neurons the
terms ``Y_k = a h(x_k)`` of a single neuron carry all the information:

* full correlator:   ``G^(n) = sum_pi N(N-1)...(N-|pi|+1) prod_{B in pi} E[prod_{k in B} Y_k]``
* connected:         ``G_c^(n) = N * kappa(Y_1, ..., Y_n)`` (joint cumulant, Moebius sum over
  set partitions of the raw moments)
* neuron correlator: ``H^(n) = E[h(x_1) ... h(x_n)]``

where ``E[prod_{k in B} Y_k] = E[a^|B|] E[prod_{k in B} h(x_k)]`` because the
readout weight is independent of the neuron's parameters.  Raw moments are
estimated from single-neuron draws, the statistical error from batch means
over 20 batches, and every point set must agree within ``|z| < 5``.

Networks with parameters shared by all neurons or with an output bias are not
handled by this check (the note says so and validation is skipped).
"""

from __future__ import annotations

import argparse
import inspect
import math
import sys
import time
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any, Callable, Iterator, Sequence

__all__ = ["main", "build_parser", "available_networks"]

DEFAULT_VALUES: dict[str, float] = {
    "sigma_a": 1.0,
    "sigma_b": 0.7,
    "sigma_c": 0.3,
    "N": 10.0,
}
DEFAULT_SAMPLES = 200_000
N_POINT_SETS = 5
N_BATCHES = 20
Z_THRESHOLD = 5.0
MAX_MC_POINTS = 6
SYMBOLIC_D_NUMERIC = 2  # dimension used for the numeric check when d is symbolic


class ValidationSkipped(Exception):
    """Raised when the Monte Carlo check cannot be carried out for a network."""


@dataclass
class MonteCarloResult:
    exact: Any  # np.ndarray, shape (n_sets,)
    mean: Any  # np.ndarray, shape (n_sets,)
    stderr: Any  # np.ndarray, shape (n_sets,)
    samples: int
    batches: int
    method: str = "single-neuron draws (nnsym.cli)"
    notes: list[str] = field(default_factory=list)

    @property
    def z(self):
        import numpy as np

        diff = np.asarray(self.mean, float) - np.asarray(self.exact, float)
        err = np.asarray(self.stderr, float)
        with np.errstate(divide="ignore", invalid="ignore"):
            z = np.where(err > 0, diff / np.where(err > 0, err, 1.0),
                         np.where(diff == 0, 0.0, np.inf))
        return z

    @property
    def passed(self) -> bool:
        import numpy as np

        z = self.z
        return bool(np.all(np.isfinite(z)) and np.all(np.abs(z) < Z_THRESHOLD))


# --------------------------------------------------------------------------
# combinatorics
# --------------------------------------------------------------------------

def _set_partitions(items: Sequence[int]) -> Iterator[list[tuple[int, ...]]]:
    """All set partitions of ``items`` (as lists of tuples).

    >>> sorted(sorted(p) for p in _set_partitions((0, 1, 2)))
    [[(0,), (1,), (2,)], [(0,), (1, 2)], [(0, 1), (2,)], [(0, 1, 2)], [(0, 2), (1,)]]
    >>> [sum(1 for _ in _set_partitions(range(n))) for n in range(1, 7)]
    [1, 2, 5, 15, 52, 203]
    """
    items = tuple(items)
    if not items:
        yield []
        return
    first, rest = items[0], items[1:]
    for partition in _set_partitions(rest):
        # ``first`` in a block of its own ...
        yield [(first,)] + partition
        # ... or added to one of the existing blocks
        for i, block in enumerate(partition):
            yield partition[:i] + [(first,) + block] + partition[i + 1:]


def _falling_factorial(x: float, k: int) -> float:
    """``x (x-1) ... (x-k+1)``.

    >>> _falling_factorial(10, 3)
    720.0
    """
    out = 1.0
    for j in range(k):
        out *= x - j
    return out


def _cumulant_from_moments(n: int, moment: Callable[[tuple[int, ...]], Any]):
    """Joint cumulant ``kappa(Y_0..Y_{n-1})`` from raw moments ``moment(B) = E[prod_{k in B} Y_k]``.

    Moebius inversion over set partitions: ``kappa = sum_pi (-1)^(|pi|-1) (|pi|-1)! prod_B moment(B)``.

    >>> m = {(0,): 1.0, (1,): 2.0, (0, 1): 5.0}   # E[XY] - E[X]E[Y] = 3
    >>> _cumulant_from_moments(2, lambda B: m[B])
    3.0
    """
    total = 0.0
    for partition in _set_partitions(range(n)):
        k = len(partition)
        term = (-1.0) ** (k - 1) * math.factorial(k - 1)
        for block in partition:
            term = term * moment(tuple(sorted(block)))
        total = total + term
    return total


def _full_from_moments(n: int, width: float, moment: Callable[[tuple[int, ...]], Any]):
    """Full n-point function of a sum of ``width`` i.i.d. zero-mean-readout neurons.

    ``G^(n) = sum_pi N(N-1)...(N-|pi|+1) prod_B moment(B)``.

    >>> m = {(0,): 0.0, (1,): 0.0, (0, 1): 0.25}
    >>> _full_from_moments(2, 10, lambda B: m[B])
    2.5
    """
    total = 0.0
    for partition in _set_partitions(range(n)):
        term = _falling_factorial(width, len(partition))
        for block in partition:
            term = term * moment(tuple(sorted(block)))
        total = total + term
    return total


# --------------------------------------------------------------------------
# zoo look-up
# --------------------------------------------------------------------------

def _zoo_module():
    import importlib

    return importlib.import_module("nnsym.zoo")


def _is_builder(obj: Any) -> bool:
    """A zoo network builder: a callable taking the input dimension ``d``."""
    if not callable(obj) or isinstance(obj, type):
        return False
    try:
        sig = inspect.signature(obj)
        sig.bind(2)
    except (TypeError, ValueError):
        return False
    ret = sig.return_annotation
    if ret is not inspect.Signature.empty:
        return "Network" in (ret if isinstance(ret, str) else getattr(ret, "__name__", str(ret)))
    return True


def available_networks() -> list[str]:
    """Names (dash spelling) of the network builders in :mod:`nnsym.zoo`."""
    zoo = _zoo_module()
    names = getattr(zoo, "__all__", None)
    if names is None:
        names = [name for name, obj in vars(zoo).items()
                 if getattr(obj, "__module__", None) == zoo.__name__]
    return sorted(name.replace("_", "-") for name in names
                  if not name.startswith("_") and _is_builder(getattr(zoo, name, None)))


def _lookup_builder(name: str) -> Callable:
    zoo = _zoo_module()
    attr = name.strip().replace("-", "_")
    builder = getattr(zoo, attr, None) if not attr.startswith("_") else None
    if builder is None or not _is_builder(builder):
        raise LookupError(
            f"unknown network {name!r}; available networks: "
            + (", ".join(available_networks()) or "(none)"))
    return builder


# --------------------------------------------------------------------------
# argument parsing
# --------------------------------------------------------------------------

def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(
            f"the number of points must be a positive integer (>= 1), got {value}")
    return value


def _dimension(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"the dimension must be a positive integer, got {text!r} "
            "(omit --d for a general, symbolic dimension d)") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"the dimension must be a positive integer, got {value}")
    return value


def _name_value(text: str) -> tuple[str, float]:
    name, sep, value = text.partition("=")
    name = name.strip()
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"expected NAME=FLOAT, got {text!r}")
    try:
        return name, float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected NAME=FLOAT, got {text!r}") from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nnsym",
        description="Exact correlators of neural-network field theories.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    derive = sub.add_parser(
        "derive", help="derive a correlator of a zoo network",
        description="Derive the n-point correlator of a network from nnsym.zoo, print it "
                    "and check it against a Monte Carlo estimate.")
    derive.add_argument("name", metavar="NAME",
                        help="zoo network, e.g. cos-net or gauss-net ('nnsym list' shows all)")
    derive.add_argument("--points", "-n", type=_positive_int, required=True, metavar="n",
                        help="number of points n of the correlator")
    kind = derive.add_mutually_exclusive_group()
    kind.add_argument("--connected", action="store_true",
                      help="connected correlator G_c^(n) (cumulant) instead of the full G^(n)")
    kind.add_argument("--neuron", action="store_true",
                      help="single-neuron correlator H^(n) = E[h(x_1)...h(x_n)]")
    derive.add_argument("--d", type=_dimension, default=None, metavar="D",
                        help="input dimension (default: a general, symbolic d)")
    derive.add_argument("--validate", dest="validate", action="store_true", default=True,
                        help="check against Monte Carlo (default)")
    derive.add_argument("--no-validate", dest="validate", action="store_false",
                        help="skip the Monte Carlo check")
    derive.add_argument("--value", action="append", type=_name_value, default=[],
                        metavar="NAME=FLOAT",
                        help="numeric value of a parameter for the check (repeatable); defaults: "
                             + ", ".join(f"{k}={v:g}" for k, v in DEFAULT_VALUES.items()))
    derive.add_argument("--samples", type=_positive_int, default=DEFAULT_SAMPLES,
                        help=f"Monte Carlo draws (default {DEFAULT_SAMPLES})")
    derive.add_argument("--seed", type=int, default=0,
                        help="seed of the point sets and of the Monte Carlo draws (default 0)")
    derive.add_argument("--no-pretty", dest="pretty", action="store_false",
                        help="print the expression with str() instead of sympy.pretty()")

    sub.add_parser("list", help="list the zoo networks",
                   description="List the networks available in nnsym.zoo.")
    return parser


# --------------------------------------------------------------------------
# numeric helpers built from the network definition only
# --------------------------------------------------------------------------

def _is_law(obj: Any) -> bool:
    return callable(getattr(obj, "sample", None))


def _law_shape(law: Any):
    shape = getattr(law, "shape", None)
    if shape in ((), 1, (1,)):
        return None
    return shape


def _shape_length(shape: Any) -> int:
    if isinstance(shape, tuple):
        if len(shape) != 1:
            raise ValidationSkipped(f"parameter laws of shape {shape} are not supported")
        shape = shape[0]
    try:
        return int(shape)
    except TypeError:
        raise ValidationSkipped(f"parameter law with non-numeric shape {shape!r}") from None


def _as_list(value: Any) -> list:
    if value is None:
        return []
    if _is_law(value):
        return [value]
    try:
        return list(value)
    except TypeError:
        return [value]


def _neuron_laws(net: Any, expr: Any) -> list:
    """Laws of the neuron parameters (readout, shared and bias laws excluded).

    The random parameters are the atoms of the neuron expression that can be
    sampled (scalar laws are sympy Symbols, vector laws vector symbols); a
    ``params``-like attribute of the network is only a fallback.
    """
    import sympy as sp

    excluded = [getattr(net, "readout", None), getattr(net, "bias", None)]
    excluded += _as_list(getattr(net, "shared", ()))

    def keep(law: Any) -> bool:
        return (isinstance(law, sp.Basic) and _is_law(law)
                and not any(law is e or law == e for e in excluded if e is not None))

    laws: list = []
    for node in sp.preorder_traversal(expr):
        for cand in (node, getattr(node, "base", None)):
            if cand is not None and keep(cand) and not any(cand == l for l in laws):
                laws.append(cand)
    if laws:
        return sorted(laws, key=str)

    for attr in ("params", "laws", "parameters", "neuron_params", "neuron_laws"):
        value = getattr(net, attr, None)
        if callable(value) and not _is_law(value):
            try:
                value = value()
            except TypeError:
                value = None
        if value is None:
            continue
        if isinstance(value, dict):
            value = list(value.values())
        laws = [law for law in _as_list(value) if keep(law)]
        if laws:
            return laws
    return []


def _expand_components(expr: Any, dim: int) -> Any:
    """Write scalar products of vectors as sums over ``dim`` Cartesian components."""
    import sympy as sp

    try:
        from nnsym.vectors import Component, Dot
    except ImportError:  # no vector layer: nothing to expand
        return expr
    if dim < 1 or not expr.has(Dot):
        return expr
    return expr.replace(
        lambda e: isinstance(e, Dot),
        lambda e: sp.Add(*[Component(e.args[0], j) * Component(e.args[1], j)
                           for j in range(dim)]))


def _law_symbols(law: Any, dim: int) -> list:
    """Sympy objects standing for the law's value(s) inside the neuron expression."""
    shape = _law_shape(law)
    if shape is None:
        sym = getattr(law, "symbol", None)
        return [sym if sym is not None else law]
    length = _shape_length(shape)
    comps = getattr(law, "components", None)
    if comps is not None and not callable(comps):
        comps = list(comps)
        if len(comps) == length:
            return comps
    return [law[j] for j in range(length)]


def _input_symbols(inp: Any, dim: int) -> list[list]:
    """For each input component, the sympy objects that may stand for it in the neuron."""
    if dim == 1:
        spellings = [getattr(inp, "symbol", None) or inp]
        try:
            spellings.append(inp[0])
        except Exception:  # a plain scalar symbol
            pass
        return [spellings]
    return [[inp[j]] for j in range(dim)]


def _law_hyper_names(law: Any) -> set[str] | None:
    names: set[str] = set()
    found = False
    for attr in ("hyperparameters", "hyper", "args_", "parameters"):
        value = getattr(law, attr, None)
        if value is None or callable(value):
            continue
        found = True
        for item in (value.values() if isinstance(value, dict) else _as_list(value)):
            for sym in getattr(item, "free_symbols", ()):
                names.add(str(sym))
    return names if found else None


def _sample_law(law: Any, rng: Any, size: int, values: dict[str, float]):
    """``law.sample(rng, size, **values)``, retrying with only the names the law accepts."""
    import numpy as np

    try:
        return np.asarray(law.sample(rng, size, **values), dtype=float)
    except TypeError as first_error:
        names = _law_hyper_names(law)
        attempts = []
        if names is not None:
            attempts.append({k: v for k, v in values.items() if k in names})
        try:
            params = inspect.signature(law.sample).parameters
            if not any(p.kind == p.VAR_KEYWORD for p in params.values()):
                attempts.append({k: v for k, v in values.items() if k in params})
        except (TypeError, ValueError):
            pass
        attempts.append({})
        for kwargs in attempts:
            try:
                return np.asarray(law.sample(rng, size, **kwargs), dtype=float)
            except TypeError:
                continue
        raise ValidationSkipped(
            f"cannot sample parameter law {law!r}: {first_error}") from first_error


def _numeric_width(net: Any, values: dict[str, float]) -> float:
    import sympy as sp

    width = sp.sympify(getattr(net, "width"))
    width = width.xreplace({s: sp.Float(values[s.name]) for s in width.free_symbols
                            if s.name in values})
    if width.free_symbols:
        raise ValidationSkipped(f"no numeric value for the width {width} (use --value N=...)")
    return float(width)


def _compile_neuron(net: Any, dim: int, values: dict[str, float]):
    """Lambdify the neuron: returns ``(f, laws, n_param_columns)`` with
    ``f(*param_columns, *input_components)``."""
    import sympy as sp

    expr = sp.sympify(net.neuron)
    laws = _neuron_laws(net, expr)
    expr = _expand_components(expr, dim)
    param_syms: list = []
    for law in laws:
        param_syms.extend(_law_symbols(law, dim))
    input_syms = _input_symbols(net.input, dim)

    dummies = [sp.Dummy(f"p{i}") for i in range(len(param_syms))]
    xdummies = [sp.Dummy(f"x{j}") for j in range(len(input_syms))]
    mapping = dict(zip(param_syms, dummies))
    for spellings, dummy in zip(input_syms, xdummies):
        mapping.update({spelling: dummy for spelling in spellings})
    body = expr.xreplace(mapping)
    if hasattr(body, "doit"):
        body = body.doit()
    leftover = {s for s in body.free_symbols if not isinstance(s, sp.Dummy)}
    numeric = {s: values[s.name] for s in leftover if s.name in values}
    body = body.xreplace({s: sp.Float(v) for s, v in numeric.items()})
    leftover = {s for s in body.free_symbols if not isinstance(s, sp.Dummy)}
    if leftover:
        names = ", ".join(sorted(map(str, leftover)))
        raise ValidationSkipped(
            f"the neuron {expr} has symbols with no numeric value: {names} "
            "(give them with --value NAME=FLOAT)")
    func = sp.lambdify(dummies + xdummies, body, modules="numpy")
    return func, laws, len(param_syms)


def _draw_neuron_params(laws: list, dim: int, rng: Any, size: int, values: dict[str, float]):
    """One column (shape (size,)) per scalar parameter / vector component."""
    import numpy as np

    columns = []
    for law in laws:
        draw = _sample_law(law, rng, size, values)
        shape = _law_shape(law)
        if shape is None:
            columns.append(np.broadcast_to(draw.reshape(-1) if draw.size == size else draw,
                                           (size,)))
        else:
            length = _shape_length(shape)
            draw = draw.reshape(size, length)
            columns.extend(draw[:, j] for j in range(length))
    return columns


def _own_monte_carlo(net, n, connected, X, values, samples, seed, *, neuron=False,
                     batches=N_BATCHES):
    """Estimates (mean, stderr) per point set from single-neuron draws."""
    import numpy as np

    if n > MAX_MC_POINTS:
        raise ValidationSkipped(f"the Monte Carlo check handles n <= {MAX_MC_POINTS} points")
    if _as_list(getattr(net, "shared", ())):
        raise ValidationSkipped("the network has parameters shared by all neurons; "
                                "the single-neuron Monte Carlo check assumes i.i.d. neurons")
    if getattr(net, "bias", None) is not None and not neuron:
        raise ValidationSkipped("the network has an output bias; "
                                "the single-neuron Monte Carlo check does not handle it")
    for attr in ("neuron", "input") + (() if neuron else ("readout",)):
        if getattr(net, attr, None) is None:
            raise ValidationSkipped(f"the network object has no attribute {attr!r}")

    X = np.asarray(X, dtype=float)
    n_sets, n_pts, dim = X.shape
    assert n_pts == n
    func, laws, _ = _compile_neuron(net, dim, values)
    width = None if neuron else _numeric_width(net, values)

    rng = np.random.default_rng([seed, 1])
    per_batch = max(samples // batches, 1)
    subsets = [B for r in range(1, n + 1) for B in combinations(range(n), r)]
    estimates = np.empty((batches, n_sets))
    pooled_h = {B: np.zeros(n_sets) for B in subsets}
    pooled_a = np.zeros(n + 1)

    for b in range(batches):
        cols = _draw_neuron_params(laws, dim, rng, per_batch, values)
        h = np.empty((n_sets, n, per_batch))
        for s in range(n_sets):
            for k in range(n):
                h[s, k] = np.broadcast_to(func(*cols, *X[s, k]), (per_batch,))
        if not np.all(np.isfinite(h)):
            raise ValidationSkipped("the neuron evaluated to non-finite values")
        mean_h = {}
        for B in subsets:
            prod = h[:, B[0], :]
            for k in B[1:]:
                prod = prod * h[:, k, :]
            mean_h[B] = prod.mean(axis=-1)
            pooled_h[B] += mean_h[B] / batches
        if neuron:
            estimates[b] = mean_h[tuple(range(n))]
            continue
        a = _sample_law(net.readout, rng, per_batch, values).reshape(-1)
        mean_a = np.array([np.mean(a ** r) for r in range(n + 1)])
        pooled_a += mean_a / batches
        estimates[b] = _combine(n, connected, width, mean_a, mean_h)

    mean = pooled_h[tuple(range(n))] if neuron else _combine(n, connected, width, pooled_a, pooled_h)
    stderr = estimates.std(axis=0, ddof=1) / math.sqrt(batches)
    return mean, stderr, per_batch * batches, batches


def _combine(n, connected, width, mean_a, mean_h):
    def moment(B):  # E[prod_{k in B} a h(x_k)] = E[a^|B|] E[prod h]
        return mean_a[len(B)] * mean_h[B]

    if connected:
        return width * _cumulant_from_moments(n, moment)
    return _full_from_moments(n, width, moment)


def _engine_monte_carlo(net, n, connected, X, values, samples, seed, neuron):
    """Use ``nnsym.monte_carlo`` when the engine provides it; ``None`` if unusable."""
    import numpy as np
    import nnsym

    mc = nnsym.monte_carlo  # AttributeError when the engine has none
    kwargs = dict(connected=connected, samples=samples, seed=seed)
    if neuron:
        kwargs["neuron"] = True
    result = mc(net, n, X, **kwargs, **values)
    if isinstance(result, tuple) and len(result) >= 2:
        mean, err = result[0], result[1]
    else:
        mean = getattr(result, "mean", None)
        err = getattr(result, "stderr", None)
        if err is None:
            err = getattr(result, "error", None)
    if mean is None or err is None:
        return None
    mean = np.asarray(mean, float).reshape(-1)
    err = np.asarray(err, float).reshape(-1)
    if mean.shape != (X.shape[0],) or err.shape != (X.shape[0],):
        return None
    return mean, err


def _monte_carlo_check(net, corr, n, connected, X, values, samples, seed, *,
                       neuron=False, exact=None) -> MonteCarloResult:
    """Compare ``corr`` at the point sets ``X`` (shape (sets, n, d)) with Monte Carlo.

    ``net`` must be a network with a numeric input dimension equal to ``X.shape[-1]``.
    ``exact`` may carry precomputed exact values (otherwise ``corr.evaluate`` is used).
    Raises :class:`ValidationSkipped` when the check cannot be done.
    """
    import numpy as np

    X = np.asarray(X, dtype=float)
    if exact is None:
        exact = np.asarray(corr.evaluate(X, **values), dtype=float).reshape(-1)
    notes: list[str] = []
    try:
        engine = _engine_monte_carlo(net, n, connected, X, values, samples, seed, neuron)
    except AttributeError:
        engine = None
    except Exception as exc:  # engine API differs from what we expect: use our own
        engine = None
        notes.append(f"nnsym.monte_carlo not usable ({type(exc).__name__}: {exc}); "
                     "used the CLI's own estimator")
    if engine is not None:
        mean, err = engine
        return MonteCarloResult(exact, mean, err, samples, 0, method="nnsym.monte_carlo",
                                notes=notes)
    mean, err, used, batches = _own_monte_carlo(net, n, connected, X, values, samples, seed,
                                                neuron=neuron)
    return MonteCarloResult(exact, mean, err, used, batches, notes=notes)


# --------------------------------------------------------------------------
# driver
# --------------------------------------------------------------------------

def _evaluate_exact(corr, X, values, d_symbol):
    import numpy as np

    attempts = [dict(values)]
    if d_symbol is not None:
        attempts.insert(0, {**values, str(d_symbol): float(X.shape[-1])})
    error: Exception | None = None
    for kwargs in attempts:
        try:
            return np.asarray(corr.evaluate(X, **kwargs), dtype=float).reshape(-1)
        except Exception as exc:  # try the next spelling
            error = exc
    raise ValidationSkipped(f"Correlator.evaluate failed: {type(error).__name__}: {error}")


def _describe(n: int, connected: bool, neuron: bool) -> str:
    if neuron:
        return f"neuron correlator H^({n})"
    return f"{'connected' if connected else 'full'} correlator G{'_c' if connected else ''}^({n})"


def _validate(args, builder, net, corr, d, values, out) -> int:
    import numpy as np

    n = args.points
    symbolic = not isinstance(d, int)
    dim = SYMBOLIC_D_NUMERIC if symbolic else d
    rng = np.random.default_rng(args.seed)
    X = rng.uniform(-1.0, 1.0, size=(N_POINT_SETS, n, dim))

    print("", file=out)
    print("Validation against Monte Carlo", file=out)
    shown = ", ".join(f"{k}={v:g}" for k, v in values.items())
    print(f"  values: {shown}" + (f"; d={dim} (numeric check of the general-d result)"
                                  if symbolic else ""), file=out)
    try:
        exact = _evaluate_exact(corr, X, values, d if symbolic else None)
        num_net = builder(dim) if symbolic else net
        if symbolic:
            values = {**values, str(d): float(dim)}
        result = _monte_carlo_check(num_net, corr, n, args.connected, X, values,
                                    args.samples, args.seed, neuron=args.neuron, exact=exact)
    except ValidationSkipped as exc:
        print(f"  note: validation skipped: {exc}", file=out)
        return 0
    except (AttributeError, NotImplementedError) as exc:
        print(f"  note: validation skipped, the engine lacks something the check needs: "
              f"{type(exc).__name__}: {exc}", file=out)
        return 0
    except (ValueError, TypeError, KeyError, IndexError) as exc:
        print(f"  note: validation skipped, the network could not be simulated: "
              f"{type(exc).__name__}: {exc}", file=out)
        return 0

    if getattr(corr, "is_exact", True) is False:
        print("  note: the expression contains a numeric quadrature fallback", file=out)
    for note in result.notes:
        print(f"  note: {note}", file=out)
    batches = f", {result.batches} batches" if result.batches else ""
    print(f"  method: {result.method}, {result.samples} samples{batches}, seed {args.seed}",
          file=out)
    print(f"  {'set':>3}  {'exact':>14}  {'MC mean':>14}     {'stderr':<10}  {'z':>7}", file=out)
    z = result.z
    for i in range(len(result.exact)):
        print(f"  {i:>3}  {result.exact[i]:>14.7g}  {result.mean[i]:>14.7g} +- "
              f"{result.stderr[i]:<10.3g}  {z[i]:>7.2f}", file=out)
    worst = float(np.max(np.abs(z))) if len(z) else 0.0
    if result.passed:
        print(f"PASS: all {len(z)} point sets agree within |z| < {Z_THRESHOLD:g} "
              f"(max |z| = {worst:.2f})", file=out)
        return 0
    print(f"FAIL: max |z| = {worst:.2f} >= {Z_THRESHOLD:g}", file=out)
    return 1


def _print_expression(expr, pretty: bool, out) -> None:
    import sympy as sp

    if pretty:
        encoding = (getattr(out, "encoding", None) or "").lower()
        unicode_ok = encoding.replace("-", "").startswith("utf")
        try:
            print(sp.pretty(expr, use_unicode=unicode_ok), file=out)
            return
        except Exception:
            pass
    print(sp.sstr(expr), file=out)


def _derive(args, out, err) -> int:
    import sympy as sp

    try:
        builder = _lookup_builder(args.name)
    except LookupError as exc:
        print(f"nnsym: error: {exc.args[0]}", file=err)
        return 2
    d = args.d if args.d is not None else sp.Symbol("d", positive=True, integer=True)
    values = dict(DEFAULT_VALUES)
    values.update(dict(args.value))

    net = builder(d)
    what = _describe(args.points, args.connected, args.neuron)
    start = time.perf_counter()
    try:
        if args.neuron:
            corr = net.neuron_correlator(args.points)
        else:
            corr = net.correlator(args.points, connected=args.connected)
    except (ValueError, NotImplementedError) as exc:
        print(f"nnsym: error: cannot derive the {what} of {args.name}: {exc}", file=err)
        return 2
    elapsed = time.perf_counter() - start

    print(f"{args.name}: {what}, d = {d}", file=out)
    points = getattr(corr, "points", None)
    if points is not None:
        print(f"points: {', '.join(map(str, points))}", file=out)
    print("", file=out)
    _print_expression(corr.expr, args.pretty, out)
    print("", file=out)
    print("LaTeX:", file=out)
    print(corr.latex(), file=out)
    print("", file=out)
    print(f"derived in {elapsed:.3f} s", file=out)
    if not args.validate:
        return 0
    return _validate(args, builder, net, corr, d, values, out)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``nnsym`` command; returns the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(list(argv) if argv is not None else None)
    except SystemExit as exc:  # usage errors and --help
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else 2)
    out, err = sys.stdout, sys.stderr
    if args.command == "list":
        for name in available_networks():
            print(name, file=out)
        return 0
    return _derive(args, out, err)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
