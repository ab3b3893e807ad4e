"""``nnsym axioms``: the Osterwalder-Schrader report (E0-E4) of a network."""

from __future__ import annotations

import argparse

from .networks import load_network
from .options import InputError, add_plot, add_quiet, check_names, dimension, name_value, save_plot, seed

__all__ = ["add_parser", "run"]


def add_parser(sub) -> argparse.ArgumentParser:
    ax = sub.add_parser(
        "axioms", help="the Osterwalder-Schrader report (E0-E4) of a network",
        description="Verdicts on the Osterwalder-Schrader axioms E0 (temperedness), E1 (Euclidean invariance), "
                    "E2 (reflection positivity), E3 (permutation symmetry) and E4 (cluster decomposition) of a "
                    "network, at finite width and as N -> oo, each with its reason. Exit code 0 when every "
                    "axiom holds, 1 when one fails or is undecided, 2 on bad input.")
    ax.add_argument("name", metavar="NAME|FILE.py:OBJECT", help="as for 'nnsym derive'")
    ax.add_argument("--d", type=dimension, default=None, metavar="D",
                    help="input dimension (default: the network's, a general d where it allows one)")
    ax.add_argument("--width", choices=("both", "finite", "infinite"), default="both",
                    help="the regime: finite N, N -> oo, or both with a headline per axiom (default)")
    ax.add_argument("--values", nargs="+", type=name_value, default=[], metavar="NAME=FLOAT",
                    help="numbers for the numeric checks (default: drawn in [0.6, 1.4] from --seed, N = 7)")
    ax.add_argument("--seed", type=seed, default=0, help="seed of the default numbers (default 0)")
    add_quiet(ax)
    add_plot(ax, "the power spectrum the report uses (E2 needs G(p) >= 0)")
    return ax


def run(args, out, err) -> int:
    import sympy as sp

    import nnsym

    net, _ = load_network(args.name, args.d)
    check_names([k for k, _ in args.values], {h.name for h in net.hyperparameters} | {str(net.dim)},
                "the network's parameters are")
    N = {"both": None, "finite": "finite", "infinite": sp.oo}[args.width]
    try:
        rep = nnsym.os_axioms(net, N=N, values=dict(args.values), seed=args.seed)
    except (ValueError, TypeError, NotImplementedError) as exc:
        raise InputError(f"{type(exc).__name__}: {exc}") from None
    print(rep, file=out)
    holds = rep.holds
    print(f"\nall five axioms: {'hold' if holds else 'fail' if holds is False else 'undecided'}", file=out)
    if args.plot:
        S = rep.spectrum
        if S is None:
            raise InputError(f"{args.name} has no power spectrum to plot (not translation invariant, or no transform)")
        names = {s.name for s in S.free_parameters}
        vals = {k: float(v) for k, v in rep.values.items() if k in names}
        save_plot(lambda plot: plot.power_spectrum(S, cutoff=vals.get("Lambda"), **vals), args.plot, out)
    return 0 if holds else 1
