"""``nnsym validate``: a correlator, or the user's own closed form, against Monte Carlo (exit 1 on failure)."""

from __future__ import annotations

import argparse

from .networks import load_file_object, load_network
from .options import (
    DEFAULT_SAMPLES,
    DEFAULT_VALUES,
    SYMBOLIC_D_NUMERIC,
    InputError,
    add_plot,
    add_quiet,
    describe,
    dimension,
    name_value,
    point_sets,
    positive_int,
    probability,
    progress,
    save_plot,
    seed,
    values_for,
)

__all__ = ["add_parser", "run", "check"]


def add_parser(sub) -> argparse.ArgumentParser:
    val = sub.add_parser(
        "validate", help="check a correlator, or your own formula, against Monte Carlo (exit code 1 if it fails)",
        description="Compare the exact n-point correlator of a network (or, with --expected, a closed form of "
                    "your own) with Monte Carlo of networks sampled from the same definition, at random point "
                    "sets; one Bonferroni verdict at family-wise false-alarm rate --alpha. Exit code 0: pass, "
                    "1: fail, 2: bad input. Use it as a CI gate.")
    val.add_argument("name", metavar="NAME|FILE.py:OBJECT", help="as for 'nnsym derive'")
    val.add_argument("--points", "-n", type=positive_int, required=True, metavar="n",
                     help="number of points n of the correlator")
    val.add_argument("--connected", action="store_true", help="the connected correlator G_c^(n)")
    val.add_argument("--d", type=dimension, default=None, metavar="D",
                     help=f"input dimension (default: the network's, or {SYMBOLIC_D_NUMERIC} for a general d)")
    val.add_argument("--values", nargs="+", type=name_value, default=[], metavar="NAME=FLOAT",
                     help="parameter values (defaults: " + ", ".join(f"{k}={v:g}" for k, v in DEFAULT_VALUES.items())
                          + ", where the network has them)")
    val.add_argument("--expected", metavar="FILE.py:EXPR", default=None,
                     help="your closed form: EXPR in FILE.py, a sympy expression (or a string) in the points "
                          "x_1..x_n and the network's parameters")
    val.add_argument("--samples", type=positive_int, default=DEFAULT_SAMPLES,
                     help=f"Monte Carlo draws (default {DEFAULT_SAMPLES})")
    val.add_argument("--seed", type=seed, default=0,
                     help="seed of the point sets and of the Monte Carlo draws (default 0)")
    val.add_argument("--alpha", type=probability, default=1e-3,
                     help="family-wise false-alarm rate of the verdict (default 1e-3)")
    add_plot(val, "the histogram of the z-scores against the standard normal")
    add_quiet(val)
    return val


def _expected_formula(spec: str):
    """``--expected FILE.py:EXPR`` -> the formula EXPR defined there: a sympy expression or a string
    (read by :func:`nnsym.validate` with the network's symbols)."""
    import sympy as sp

    obj = load_file_object(spec)
    if isinstance(obj, (str, sp.Basic)) or hasattr(obj, "expr"):
        return obj
    raise InputError(f"{spec!r} is a {type(obj).__name__}, not a sympy expression or a string")


def check(args, net, n: int, connected: bool, d, values: dict, out, expected=None):
    """The validation report of ``net``'s (or ``expected``'s) n-point function at the CLI's point sets."""
    import nnsym

    _, X = point_sets(d, n, args.seed)
    return nnsym.validate(net, n, X, connected=connected, samples=args.samples, seed=args.seed,
                          alpha=getattr(args, "alpha", 1e-3), expected=expected, progress=progress(args), **values)


def run(args, out, err) -> int:
    net, d = load_network(args.name, args.d)
    expected = None if args.expected is None else _expected_formula(args.expected)
    values = values_for(net, args.values)
    dim, _ = point_sets(d, args.points, args.seed)
    print(f"{args.name}: {describe(args.points, args.connected)}, d = {dim}; values: "
          + ", ".join(f"{k}={v:g}" for k, v in values.items())
          + (f"; expected: {args.expected}" if expected is not None else ""), file=out)
    try:
        rep = check(args, net, args.points, args.connected, d, values, out, expected)
    except (ValueError, TypeError, NotImplementedError, FloatingPointError) as exc:
        raise InputError(f"{type(exc).__name__}: {exc}") from None
    print(rep, file=out)
    if args.plot:
        save_plot(lambda plot: plot.z_histogram(rep), args.plot, out)
    return 0 if rep.passed else 1
