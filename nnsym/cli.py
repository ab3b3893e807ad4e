"""Command-line interface: ``nnsym derive``, ``nnsym validate``, ``nnsym list``.

``nnsym derive NAME|FILE.py:OBJECT --points n [--connected]`` derives a correlator of a network from
:mod:`nnsym.zoo` or of a user's own (a ``Network`` in a Python file), prints it (as a sympy expression
and as LaTeX) with the derivation time and, unless ``--no-validate`` is given, validates it with
:func:`nnsym.validate`: the exact correlator against Monte Carlo of networks sampled from the same
definition, with z-scores and one Bonferroni verdict for all point sets.
``nnsym validate NAME|FILE.py:OBJECT --points n [--expected FILE.py:EXPR]`` runs only the check, of
nnsym's correlator or of a user's closed form, with exit code 1 when it fails: a CI gate.

>>> main(["derive", "cos-net", "--points", "2", "--d", "1", "--no-validate", "--no-pretty"])  # doctest: +ELLIPSIS
cos-net: full correlator G^(2), d = 1
...
0
"""

from __future__ import annotations

import argparse
import inspect
import sys
import time
from typing import Any, Callable, Sequence

__all__ = ["main", "build_parser", "available_networks"]

DEFAULT_VALUES: dict[str, float] = {
    "sigma_a": 1.0,
    "sigma_b": 0.7,
    "sigma_c": 0.3,
    "sigma_W": 1.0,
    "m": 1.0,
    "Lambda": 4.0,
    "N": 10,
}
DEFAULT_SAMPLES = 200_000
N_POINT_SETS = 5
SYMBOLIC_D_NUMERIC = 2  # dimension used for the numeric check when d is symbolic
PROGRESS_DELAY = 2.0  # seconds after which a derivation or Monte Carlo run shows a progress bar


# --------------------------------------------------------------------------
# zoo look-up
# --------------------------------------------------------------------------

def _zoo_module():
    import importlib

    return importlib.import_module("nnsym.model.zoo")


def _takes_dimension(obj: Any) -> bool:
    """Whether a builder takes the input dimension ``d`` (``cos_net(d)``) rather than fixing it (``cauchy_net()``)."""
    try:
        inspect.signature(obj).bind(2)
        return True
    except (TypeError, ValueError):
        return False


def _is_builder(obj: Any) -> bool:
    """A zoo network builder: a callable taking the input dimension ``d``, or none for a fixed dimension."""
    if not callable(obj) or isinstance(obj, type):
        return False
    try:
        sig = inspect.signature(obj)
    except (TypeError, ValueError):
        return False
    ret = sig.return_annotation
    if not _takes_dimension(obj):
        try:
            sig.bind()
        except TypeError:
            return False
        if ret is inspect.Signature.empty:  # a fixed-dimension builder says it returns a Network
            return False
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


def _load_file_object(spec: str):
    """``FILE.py:NAME`` -> the object NAME defined in the Python file FILE.py (run as a module)."""
    import importlib.util
    from pathlib import Path

    path, _, attr = spec.rpartition(":")
    file = Path(path)
    if not file.is_file():
        raise LookupError(f"no such file {path!r} (in {spec!r}; the form is FILE.py:NAME)")
    module_spec = importlib.util.spec_from_file_location(f"nnsym_user_{file.stem}", file)
    if module_spec is None or module_spec.loader is None:
        raise LookupError(f"cannot load {path!r} as Python")
    module = importlib.util.module_from_spec(module_spec)
    try:
        module_spec.loader.exec_module(module)
    except Exception as exc:  # noqa: BLE001 -- any error in the user's file is reported as one line
        raise LookupError(f"running {path!r} failed: {type(exc).__name__}: {exc}") from exc
    if not hasattr(module, attr):
        names = sorted(k for k in vars(module) if not k.startswith("_"))
        raise LookupError(f"{path!r} defines no {attr!r}; it defines: {', '.join(names) or '(nothing)'}")
    return getattr(module, attr)


def _load_network(spec: str, d):
    """A zoo name (``cos-net``) or ``FILE.py:OBJECT`` (a Network, or a function returning one, taking the
    dimension d or nothing) -> (network, dimension). ``d``: the --d option (None: symbolic if possible)."""
    import sympy as sp

    from .model.network import Network

    general = sp.Symbol("d", positive=True, integer=True)  # a general dimension when --d is not given
    if ":" in spec and spec.rpartition(":")[0].endswith(".py"):
        obj = _load_file_object(spec)
        if not isinstance(obj, Network):
            if not callable(obj):
                raise LookupError(f"{spec!r} is a {type(obj).__name__}, not an nnsym.Network or a function "
                                  "returning one")
            obj = obj(general if d is None else d) if _takes_dimension(obj) else obj()
            if not isinstance(obj, Network):
                raise LookupError(f"{spec!r} returned a {type(obj).__name__}, not an nnsym.Network")
        net = obj
    else:
        builder = _lookup_builder(spec)
        if _takes_dimension(builder):
            return builder(general if d is None else d), (general if d is None else d)
        net = builder()
    if d is not None and net.dim.is_Integer and int(net.dim) != d:
        raise LookupError(f"{spec} is defined in d = {net.dim} only, got --d {d}")
    return net, (net.dim if net.dim.is_Integer or d is None else d)


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


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"the seed must be a non-negative integer, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"the seed must be a non-negative integer, got {value}")
    return value


def _probability(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"expected a probability in (0, 1), got {text!r}")
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
        "derive", help="derive a correlator of a zoo network or of your own",
        description="Derive the n-point correlator of a network (from nnsym.zoo, or a Network defined in "
                    "your Python file), print it and check it against a Monte Carlo estimate.")
    derive.add_argument("name", metavar="NAME|FILE.py:OBJECT",
                        help="zoo network, e.g. cos-net or gauss-net ('nnsym list' shows all), or FILE.py:OBJECT, "
                             "a Network (or a function of d returning one) defined in FILE.py")
    derive.add_argument("--points", "-n", type=_positive_int, required=True, metavar="n",
                        help="number of points n of the correlator")
    kind = derive.add_mutually_exclusive_group()
    kind.add_argument("--connected", action="store_true",
                      help="connected correlator G_c^(n) (cumulant) instead of the full G^(n)")
    kind.add_argument("--neuron", action="store_true",
                      help="single-neuron correlator H^(n) = E[h(x_1)...h(x_n)]")
    derive.add_argument("--d", type=_dimension, default=None, metavar="D",
                        help="input dimension (default: a general, symbolic d)")
    derive.add_argument("--validate", dest="validate", action="store_true", default=None,
                        help="check against Monte Carlo (default)")
    derive.add_argument("--no-validate", dest="validate", action="store_false",
                        help="skip the Monte Carlo check")
    derive.add_argument("--value", action="append", type=_name_value, default=[],
                        metavar="NAME=FLOAT",
                        help="numeric value of a parameter for the check (repeatable); defaults: "
                             + ", ".join(f"{k}={v:g}" for k, v in DEFAULT_VALUES.items()))
    derive.add_argument("--samples", type=_positive_int, default=DEFAULT_SAMPLES,
                        help=f"Monte Carlo draws (default {DEFAULT_SAMPLES})")
    derive.add_argument("--seed", type=_seed, default=0,
                        help="seed of the point sets and of the Monte Carlo draws (default 0)")
    derive.add_argument("--no-pretty", dest="pretty", action="store_false",
                        help="print the expression with str() instead of sympy.pretty()")
    derive.add_argument("--quiet", "-q", action="store_true",
                        help="no progress bars (by default a derivation or Monte Carlo run still going after "
                             f"{PROGRESS_DELAY:g} s shows one, if tqdm is installed)")
    derive.add_argument("--format", choices=("sympy", "latex", "json"), default=None,
                        help="write only the result in this form (sympy: str(expr), latex: the LaTeX equation, "
                             "json: expression, LaTeX, points, d, n, exactness) to stdout or --output; "
                             "the Monte Carlo check then runs only with --validate")
    derive.add_argument("--output", "-o", metavar="FILE", default=None,
                        help="write the result to FILE (with --format; default format sympy)")

    val = sub.add_parser(
        "validate", help="check a correlator, or your own formula, against Monte Carlo (exit code 1 if it fails)",
        description="Compare the exact n-point correlator of a network (or, with --expected, a closed form of "
                    "your own) with Monte Carlo of networks sampled from the same definition, at random point "
                    "sets; one Bonferroni verdict at family-wise false-alarm rate --alpha. Exit code 0: pass, "
                    "1: fail, 2: bad input. Use it as a CI gate.")
    val.add_argument("name", metavar="NAME|FILE.py:OBJECT", help="as for 'nnsym derive'")
    val.add_argument("--points", "-n", type=_positive_int, required=True, metavar="n",
                     help="number of points n of the correlator")
    val.add_argument("--connected", action="store_true", help="the connected correlator G_c^(n)")
    val.add_argument("--d", type=_dimension, default=None, metavar="D",
                     help=f"input dimension (default: the network's, or {SYMBOLIC_D_NUMERIC} for a general d)")
    val.add_argument("--values", nargs="+", type=_name_value, default=[], metavar="NAME=FLOAT",
                     help="parameter values (defaults: " + ", ".join(f"{k}={v:g}" for k, v in DEFAULT_VALUES.items())
                          + ", where the network has them)")
    val.add_argument("--expected", metavar="FILE.py:EXPR", default=None,
                     help="your closed form: EXPR in FILE.py, a sympy expression (or a string) in the points "
                          "x_1..x_n and the network's parameters")
    val.add_argument("--samples", type=_positive_int, default=DEFAULT_SAMPLES,
                     help=f"Monte Carlo draws (default {DEFAULT_SAMPLES})")
    val.add_argument("--seed", type=_seed, default=0,
                     help="seed of the point sets and of the Monte Carlo draws (default 0)")
    val.add_argument("--alpha", type=_probability, default=1e-3,
                     help="family-wise false-alarm rate of the verdict (default 1e-3)")
    val.add_argument("--quiet", "-q", action="store_true",
                     help=f"no progress bars (by default a run still going after {PROGRESS_DELAY:g} s shows one)")

    sub.add_parser("list", help="list the zoo networks",
                   description="List the networks available in nnsym.zoo.")
    return parser


# --------------------------------------------------------------------------
# validation
# --------------------------------------------------------------------------

def _progress(args) -> bool | float:
    """No bars with --quiet or without tqdm; otherwise a bar for work still running after PROGRESS_DELAY s."""
    if getattr(args, "quiet", False):
        return False
    try:
        import tqdm  # noqa: F401 -- only whether it is installed
    except ImportError:
        return False
    return PROGRESS_DELAY


def _values(net, overrides) -> dict:
    """The defaults for the network's own hyper-parameters, then the user's ``NAME=FLOAT`` overrides (a
    name the network does not have is refused later, by the check of the values)."""
    known = {h.name for h in net.hyperparameters}
    values = {k: v for k, v in DEFAULT_VALUES.items() if k in known}
    values.update(dict(overrides))
    return values


def _point_sets(d, n: int, seed: int):
    """(dimension, N_POINT_SETS random point sets of n points): the network's d, or SYMBOLIC_D_NUMERIC for a
    general d; coordinates uniform in [-1, 1], from the seed."""
    import numpy as np

    dim = int(d) if isinstance(d, int) or getattr(d, "is_Integer", False) else SYMBOLIC_D_NUMERIC
    return dim, np.random.default_rng(seed).uniform(-1.0, 1.0, size=(N_POINT_SETS, n, dim))


def _describe(n: int, connected: bool, neuron: bool) -> str:
    if neuron:
        return f"neuron correlator H^({n})"
    return f"{'connected' if connected else 'full'} correlator G{'_c' if connected else ''}^({n})"


def _validate(args, net, corr, d, values, out) -> int:

    import nnsym

    if args.neuron:
        print("\nnote: validation covers field correlators G^(n); use without --neuron to validate", file=out)
        return 0
    dim, X = _point_sets(d, args.points, args.seed)
    used = {k: v for k, v in values.items()}
    print("", file=out)
    shown = ", ".join(f"{k}={v:g}" for k, v in used.items())
    print(f"values: {shown}" + (f"; d={dim} (numeric check of the general-d result)" if dim != d else ""), file=out)
    try:
        rep = nnsym.validate(net, args.points, X, connected=args.connected, samples=args.samples,
                             seed=args.seed, progress=_progress(args), **used)
    except (ValueError, TypeError, FloatingPointError) as exc:
        print(f"nnsym: validation failed to run: {type(exc).__name__}: {exc}", file=out)
        return 1
    if not corr.is_exact:
        print("note: the expression contains a numeric quadrature fallback", file=out)
    print(rep, file=out)
    return 0 if rep.passed else 1


def _expected_formula(spec: str):
    """``--expected FILE.py:EXPR`` -> the formula EXPR defined there: a sympy expression or a string
    (read by :func:`nnsym.validate` with the network's symbols)."""
    import sympy as sp

    obj = _load_file_object(spec)
    if isinstance(obj, (str, sp.Basic)) or hasattr(obj, "expr"):
        return obj
    raise LookupError(f"{spec!r} is a {type(obj).__name__}, not a sympy expression or a string")


def _validate_command(args, out, err) -> int:

    import nnsym

    try:
        net, d = _load_network(args.name, args.d)
        expected = None if args.expected is None else _expected_formula(args.expected)
    except LookupError as exc:
        print(f"nnsym: error: {exc.args[0]}", file=err)
        return 2
    values = _values(net, args.values)
    dim, X = _point_sets(d, args.points, args.seed)
    print(f"{args.name}: {_describe(args.points, args.connected, False)}, d = {dim}; values: "
          + ", ".join(f"{k}={v:g}" for k, v in values.items())
          + (f"; expected: {args.expected}" if expected is not None else ""), file=out)
    try:
        rep = nnsym.validate(net, args.points, X, connected=args.connected, samples=args.samples,
                             seed=args.seed, alpha=args.alpha, expected=expected, progress=_progress(args), **values)
    except (ValueError, TypeError, NotImplementedError, FloatingPointError) as exc:
        print(f"nnsym: error: {type(exc).__name__}: {exc}", file=err)
        return 2
    print(rep, file=out)
    return 0 if rep.passed else 1


def _print_expression(expr, pretty: bool, out) -> None:
    import sympy as sp

    if pretty:
        encoding = (getattr(out, "encoding", None) or "").lower()
        unicode_ok = encoding.replace("-", "").startswith("utf")
        try:
            print(sp.pretty(expr, use_unicode=unicode_ok), file=out)
            return
        except (NotImplementedError, UnicodeError):  # no picture of this object in sympy, or not in this encoding
            pass
    print(sp.sstr(expr), file=out)


def _derive(args, out, err) -> int:
    try:
        net, d = _load_network(args.name, args.d)
    except LookupError as exc:
        print(f"nnsym: error: {exc.args[0]}", file=err)
        return 2
    values = _values(net, args.value)
    what = _describe(args.points, args.connected, args.neuron)
    start = time.perf_counter()
    try:
        if args.neuron:
            corr = net.neuron_correlator(args.points)
        else:
            corr = net.correlator(args.points, connected=args.connected, progress=_progress(args))
    except (ValueError, NotImplementedError) as exc:
        print(f"nnsym: error: cannot derive the {what} of {args.name}: {exc}", file=err)
        return 2
    elapsed = time.perf_counter() - start

    if args.format is not None or args.output is not None:
        return _write_result(args, net, corr, d, values, what, elapsed, out, err)
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
    if args.validate is False:
        return 0
    return _validate(args, net, corr, d, values, out)


def _write_result(args, net, corr, d, values, what, elapsed, out, err) -> int:
    """``--format``/``--output``: the result alone, in one form, to stdout or a file."""
    import json

    fmt = args.format or "sympy"
    if fmt == "sympy":
        text = str(corr.expr) + "\n"
    elif fmt == "latex":
        text = corr.latex() + "\n"
    else:
        text = json.dumps({"network": args.name, "what": what, "n": args.points, "connected": bool(args.connected),
                           "d": str(d), "points": [str(p) for p in getattr(corr, "points", ())],
                           "expr": str(corr.expr), "latex": corr.latex(), "exact": bool(corr.is_exact),
                           "seconds": round(elapsed, 6)}, indent=2) + "\n"
    if args.output is None:
        out.write(text)
    else:
        try:
            with open(args.output, "w", encoding="utf-8") as fh:
                fh.write(text)
        except OSError as exc:
            print(f"nnsym: error: cannot write {args.output!r}: {exc.strerror}", file=err)
            return 2
        print(f"{args.name}: {what} written to {args.output} ({fmt})", file=out)
    if args.validate:
        return _validate(args, net, corr, d, values, out if args.output is not None else err)
    return 0


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
    if args.command == "validate":
        return _validate_command(args, out, err)
    return _derive(args, out, err)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
