"""``nnsym spectrum``: the power spectrum G(p) of a translation-invariant network."""

from __future__ import annotations

import argparse

from .networks import load_network
from .options import (
    DEFAULT_VALUES,
    InputError,
    add_plot,
    add_quiet,
    dimension,
    name_value,
    numeric_dimension,
    save_plot,
    values_for,
)

__all__ = ["add_parser", "run", "momenta_table"]

MOMENTA = (0.0, 0.5, 1.0, 2.0, 4.0, 8.0)


def add_parser(sub) -> argparse.ArgumentParser:
    spec = sub.add_parser(
        "spectrum", help="the power spectrum G(p) of a network",
        description="The power spectrum G(p) = int d^dx e^{-ip.x} G^(2)(x, 0) of a translation-invariant network "
                    "(the delta rule for a cos(b.x + c) layer, else a Fourier/Hankel transform of G^(2), numeric "
                    "where no closed form exists): printed, tabulated at a few |p| and optionally plotted.")
    spec.add_argument("name", metavar="NAME|FILE.py:OBJECT", help="as for 'nnsym derive'")
    spec.add_argument("--d", type=dimension, default=None, metavar="D",
                      help="input dimension (default: a general, symbolic d where the network allows it)")
    spec.add_argument("--values", nargs="+", type=name_value, default=[], metavar="NAME=FLOAT",
                      help="parameter values for the table and plot (defaults: "
                           + ", ".join(f"{k}={v:g}" for k, v in DEFAULT_VALUES.items())
                           + ", where the network has them)")
    spec.add_argument("--format", choices=("sympy", "latex"), default="sympy",
                      help="print G(p) as a sympy expression (default) or as LaTeX")
    add_quiet(spec)
    add_plot(spec, "G(|p|) (the cutoff Lambda marked when the network has one)")
    return spec


def momenta_table(S, D: int, values: dict) -> list[tuple[float, float]]:
    """(|p|, G(p)) at p = |p| e_1 for the CLI's momenta."""
    import numpy as np

    P = np.zeros((len(MOMENTA), D))
    P[:, 0] = MOMENTA
    G = S.evaluate(P, **values)
    return list(zip(MOMENTA, (float(g) for g in np.ravel(G))))


def run(args, out, err) -> int:
    import warnings

    import nnsym

    net, d = load_network(args.name, args.d)
    values = values_for(net, args.values)
    try:
        S = nnsym.power_spectrum(net)
    except (ValueError, NotImplementedError) as exc:
        raise InputError(f"no power spectrum of {args.name}: {exc}") from None
    print(f"{args.name}: power spectrum, d = {d} [{S.method}{'' if S.is_exact else ', numeric'}]", file=out)
    print(S.latex() if args.format == "latex" else f"G({S.momentum}) = {S.expr}", file=out)
    if S.zero_mode != 0:
        print(f"plus a zero mode (2 pi)^d c_0 delta(p) with c_0 = {S.zero_mode}", file=out)
    D = numeric_dimension(d)
    names = {s.name for s in S.free_parameters}
    values = {k: v for k, v in values.items() if k in names}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            table = momenta_table(S, D, values)
    except (ValueError, TypeError, FloatingPointError) as exc:
        raise InputError(f"cannot evaluate the spectrum: {exc}") from None
    print(f"\nvalues: {', '.join(f'{k}={v:g}' for k, v in values.items())}" + (f"; d = {D}" if D != d else ""),
          file=out)
    print(f"{'|p|':>8}  {'G(p)':>14}", file=out)
    for k, g in table:
        print(f"{k:>8.3g}  {g:>14.7g}", file=out)
    if args.plot:
        cutoff = values.get("Lambda")
        save_plot(lambda plot: plot.power_spectrum(S, cutoff=cutoff, **values), args.plot, out)
    return 0
