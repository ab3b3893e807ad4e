"""What the CLI's commands share: option types, default values, point sets, progress, plots."""

from __future__ import annotations

import argparse
from typing import Any

from ..errors import CommandLineError

__all__ = [
    "DEFAULT_VALUES", "DEFAULT_SAMPLES", "N_POINT_SETS", "SYMBOLIC_D_NUMERIC", "PROGRESS_DELAY", "InputError",
    "positive_int", "dimension", "seed", "probability", "name_value", "progress", "values_for", "check_names",
    "point_sets", "numeric_dimension", "describe", "print_expression", "add_quiet", "add_plot", "save_plot",
]

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


InputError = CommandLineError  # bad input to a command: one line ``nnsym: error: ...``, exit code 2


# --------------------------------------------------------------------------
# option types
# --------------------------------------------------------------------------

def _integer_at_least(text: str, least: int, what: str, hint: str = "") -> int:
    """``text`` as an integer >= ``least``, else an argparse error naming ``what``."""
    try:
        value = int(text)
    except ValueError:
        value = None
    if value is None or value < least:
        shown = repr(text) if value is None else value
        kind = {0: "a non-negative integer", 1: "a positive integer"}.get(least, f"an integer >= {least}")
        raise argparse.ArgumentTypeError(f"{what} must be {kind}, got {shown}{hint}")
    return value


def positive_int(text: str) -> int:
    return _integer_at_least(text, 1, "the number of points")


def dimension(text: str) -> int:
    return _integer_at_least(text, 1, "the dimension", " (omit --d for a general, symbolic dimension d)")


def seed(text: str) -> int:
    return _integer_at_least(text, 0, "the seed")


def probability(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"expected a probability in (0, 1), got {text!r}")
    return value


def name_value(text: str) -> tuple[str, float]:
    name, sep, value = text.partition("=")
    name = name.strip()
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"expected NAME=FLOAT, got {text!r}")
    try:
        return name, float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected NAME=FLOAT, got {text!r}") from None


def add_quiet(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--quiet", "-q", action="store_true",
                        help="no progress bars (by default work still going after "
                             f"{PROGRESS_DELAY:g} s shows one, if tqdm is installed)")


def add_plot(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument("--plot", metavar="FILE", default=None,
                        help=f"save {what} to FILE (.png or .pdf; without a suffix both); needs matplotlib "
                             "(the 'plot' extra)")


# --------------------------------------------------------------------------
# shared behaviour
# --------------------------------------------------------------------------

def progress(args) -> bool | float:
    """No bars with --quiet or without tqdm; otherwise a bar for work still running after PROGRESS_DELAY s."""
    if getattr(args, "quiet", False):
        return False
    try:
        import tqdm  # noqa: F401 -- only whether it is installed
    except ImportError:
        return False
    return PROGRESS_DELAY


def values_for(net, overrides) -> dict:
    """The defaults for the network's own hyper-parameters, then the user's ``NAME=FLOAT`` overrides (a
    name the network does not have is an InputError)."""
    known = {h.name for h in net.hyperparameters}
    check_names([k for k, _ in overrides], known | {str(net.dim)}, "the network's parameters are")
    values = {k: v for k, v in DEFAULT_VALUES.items() if k in known}
    values.update(dict(overrides))
    return values


def check_names(given, known, what: str = "known names") -> None:
    """Refuse a parameter name that is not in ``known``, with the closest known name as a hint."""
    import difflib

    unknown = sorted(set(given) - set(known))
    if unknown:
        hints = [repr(u) + (f" (did you mean {m[0]!r}?)" if (m := difflib.get_close_matches(u, sorted(known), 1))
                            else "") for u in unknown]
        raise InputError(f"unknown parameter{'s' if len(unknown) > 1 else ''} {', '.join(hints)}; "
                         f"{what}: {', '.join(sorted(known)) or '(none)'}")


def numeric_dimension(d) -> int:
    """The network's d, or SYMBOLIC_D_NUMERIC for a general d."""
    return int(d) if isinstance(d, int) or getattr(d, "is_Integer", False) else SYMBOLIC_D_NUMERIC


def point_sets(d, n: int, seed: int):
    """(dimension, N_POINT_SETS random point sets of n points): the network's d, or SYMBOLIC_D_NUMERIC for a
    general d; coordinates uniform in [-1, 1], from the seed."""
    import numpy as np

    dim = numeric_dimension(d)
    return dim, np.random.default_rng(seed).uniform(-1.0, 1.0, size=(N_POINT_SETS, n, dim))


def describe(n: int, connected: bool, neuron: bool = False) -> str:
    if neuron:
        return f"neuron correlator H^({n})"
    return f"{'connected' if connected else 'full'} correlator G{'_c' if connected else ''}^({n})"


def print_expression(expr, pretty: bool, out) -> None:
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


def save_plot(make: Any, path: str, out) -> None:
    """Draw with ``make()`` (returns a matplotlib Figure) and save it to ``path`` through
    :func:`nnsym.plot.save`; a missing matplotlib or an unwritable path is an InputError."""
    try:
        import nnsym.plot as nplot
    except ImportError as exc:
        raise InputError(f"--plot needs matplotlib: {exc}") from None
    fig = make(nplot)
    try:
        written = nplot.save(fig, path)
    except OSError as exc:
        raise InputError(f"cannot write the plot {path!r}: {exc.strerror or exc}") from None
    finally:
        import matplotlib.pyplot as plt

        plt.close(fig)
    print("plot written to " + ", ".join(str(p) for p in written), file=out)
