"""``nnsym derive``: derive a correlator, print it (sympy, LaTeX, Python, JSON) and check it."""

from __future__ import annotations

import argparse
import time

from . import validate
from .networks import load_network
from .options import (
    DEFAULT_SAMPLES,
    DEFAULT_VALUES,
    InputError,
    add_quiet,
    describe,
    dimension,
    name_value,
    point_sets,
    positive_int,
    print_expression,
    progress,
    seed,
    values_for,
)

__all__ = ["add_parser", "run", "FORMATS"]

FORMATS = ("sympy", "latex", "python", "json")


def add_parser(sub) -> argparse.ArgumentParser:
    derive = sub.add_parser(
        "derive", help="derive a correlator of a zoo network or of your own",
        description="Derive the n-point correlator of a network (from nnsym.zoo, or a Network defined in "
                    "your Python file), print it and check it against a Monte Carlo estimate.")
    derive.add_argument("name", metavar="NAME|FILE.py:OBJECT",
                        help="zoo network, e.g. cos-net or gauss-net ('nnsym list' shows all), or FILE.py:OBJECT, "
                             "a Network (or a function of d returning one) defined in FILE.py")
    derive.add_argument("--points", "-n", type=positive_int, required=True, metavar="n",
                        help="number of points n of the correlator")
    kind = derive.add_mutually_exclusive_group()
    kind.add_argument("--connected", action="store_true",
                      help="connected correlator G_c^(n) (cumulant) instead of the full G^(n)")
    kind.add_argument("--neuron", action="store_true",
                      help="single-neuron correlator H^(n) = E[h(x_1)...h(x_n)]")
    derive.add_argument("--d", type=dimension, default=None, metavar="D",
                        help="input dimension (default: a general, symbolic d)")
    derive.add_argument("--validate", dest="validate", action="store_true", default=None,
                        help="check against Monte Carlo (default)")
    derive.add_argument("--no-validate", dest="validate", action="store_false",
                        help="skip the Monte Carlo check")
    derive.add_argument("--value", action="append", type=name_value, default=[],
                        metavar="NAME=FLOAT",
                        help="numeric value of a parameter for the check (repeatable); defaults: "
                             + ", ".join(f"{k}={v:g}" for k, v in DEFAULT_VALUES.items()))
    derive.add_argument("--samples", type=positive_int, default=DEFAULT_SAMPLES,
                        help=f"Monte Carlo draws (default {DEFAULT_SAMPLES})")
    derive.add_argument("--seed", type=seed, default=0,
                        help="seed of the point sets and of the Monte Carlo draws (default 0)")
    derive.add_argument("--no-pretty", dest="pretty", action="store_false",
                        help="print the expression with str() instead of sympy.pretty()")
    add_quiet(derive)
    derive.add_argument("--format", choices=FORMATS, default=None,
                        help="write only the result in this form (sympy: str(expr); latex: the equation in an "
                             "align environment; python: a numpy function of the points with the parameters as "
                             "keywords; json: expression, LaTeX, points, d, n, exactness) to stdout or --output; "
                             "the Monte Carlo check then runs only with --validate")
    derive.add_argument("--output", "-o", metavar="FILE", default=None,
                        help="write the result to FILE (with --format; default format sympy)")
    return derive


def _check(args, net, corr, d, values, out) -> int:
    if args.neuron:
        print("\nnote: validation covers field correlators G^(n); use without --neuron to validate", file=out)
        return 0
    dim, _ = point_sets(d, args.points, args.seed)
    print("", file=out)
    shown = ", ".join(f"{k}={v:g}" for k, v in values.items())
    print(f"values: {shown}" + (f"; d={dim} (numeric check of the general-d result)" if dim != d else ""), file=out)
    try:
        rep = validate.check(args, net, args.points, args.connected, d, values, out)
    except (ValueError, TypeError, FloatingPointError) as exc:
        print(f"nnsym: validation failed to run: {type(exc).__name__}: {exc}", file=out)
        return 1
    if not corr.is_exact:
        print("note: the expression contains a numeric quadrature fallback", file=out)
    print(rep, file=out)
    return 0 if rep.passed else 1


def _label_stem(spec: str) -> str:
    """The name in an equation label: the zoo name, or OBJECT of FILE.py:OBJECT."""
    import re

    stem = spec.rpartition(":")[2] if spec.rpartition(":")[0].endswith(".py") else spec
    return re.sub(r"[^A-Za-z0-9-]+", "-", stem).strip("-") or "G"


def _function_name(corr) -> str:
    return "G" + ("_c" if getattr(corr, "connected", False) else "") + str(corr.n)


def _formatted(args, corr, d, what: str, elapsed: float) -> str:
    import json

    fmt = args.format or "sympy"
    if fmt == "sympy":
        return str(corr.expr) + "\n"
    if fmt == "latex":
        try:
            return corr.latex(style="align", label=f"eq:{_label_stem(args.name)}-{_function_name(corr)}") + "\n"
        except TypeError:  # a correlator type without styles (the neuron correlator)
            return corr.latex() + "\n"
    if fmt == "python":
        from ..numeric.kernels import python_source

        try:
            return python_source(corr.expr, corr.points, corr.dim, _function_name(corr),
                                 doc=f"{what} of {args.name}, d = {d}.")
        except ValueError as exc:
            raise InputError(f"--format python: {exc}") from None
    return json.dumps({"network": args.name, "what": what, "n": args.points, "connected": bool(args.connected),
                       "d": str(d), "points": [str(p) for p in getattr(corr, "points", ())],
                       "expr": str(corr.expr), "latex": corr.latex(), "exact": bool(corr.is_exact),
                       "seconds": round(elapsed, 6)}, indent=2) + "\n"


def _write_result(args, net, corr, d, values, what, elapsed, out, err) -> int:
    """``--format``/``--output``: the result alone, in one form, to stdout or a file."""
    text = _formatted(args, corr, d, what, elapsed)
    if args.output is None:
        out.write(text)
    else:
        try:
            with open(args.output, "w", encoding="utf-8") as fh:
                fh.write(text)
        except OSError as exc:
            raise InputError(f"cannot write {args.output!r}: {exc.strerror}") from None
        print(f"{args.name}: {what} written to {args.output} ({args.format or 'sympy'})", file=out)
    if args.validate:
        return _check(args, net, corr, d, values, out if args.output is not None else err)
    return 0


def run(args, out, err) -> int:
    net, d = load_network(args.name, args.d)
    values = values_for(net, args.value)
    what = describe(args.points, args.connected, args.neuron)
    start = time.perf_counter()
    try:
        if args.neuron:
            corr = net.neuron_correlator(args.points)
        else:
            corr = net.correlator(args.points, connected=args.connected, progress=progress(args))
    except (ValueError, NotImplementedError) as exc:
        raise InputError(f"cannot derive the {what} of {args.name}: {exc}") from None
    elapsed = time.perf_counter() - start

    if args.format is not None or args.output is not None:
        return _write_result(args, net, corr, d, values, what, elapsed, out, err)
    print(f"{args.name}: {what}, d = {d}", file=out)
    points = getattr(corr, "points", None)
    if points is not None:
        print(f"points: {', '.join(map(str, points))}", file=out)
    print("", file=out)
    print_expression(corr.expr, args.pretty, out)
    print("", file=out)
    print("LaTeX:", file=out)
    print(corr.latex(), file=out)
    print("", file=out)
    print(f"derived in {elapsed:.3f} s", file=out)
    if args.validate is False:
        return 0
    return _check(args, net, corr, d, values, out)
