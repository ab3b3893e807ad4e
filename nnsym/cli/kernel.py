"""``nnsym kernel``: the NNGP kernel and the NTK of a deep network at infinite width."""

from __future__ import annotations

import argparse

from .options import InputError, add_plot, add_quiet, check_names, dimension, name_value, positive_int, save_plot

__all__ = ["add_parser", "run", "ACTIVATIONS", "activation"]

# name -> the activation as a sympy expression in z
ACTIVATIONS = {
    "relu": "Max(0, z)",
    "erf": "erf(z)",
    "tanh": "tanh(z)",
    "gelu": "z*(1 + erf(z/sqrt(2)))/2",
    "sigmoid": "1/(1 + exp(-z))",
    "abs": "Abs(z)",
    "linear": "z",
    "sign": "sign(z)",
    "step": "Heaviside(z)",
}
ANGLES = (0.0, 0.25, 0.5, 0.75, 1.0)  # in units of pi


def activation(text: str):
    """A name from ACTIVATIONS, a sympy expression in z (``"Max(0, z)**2"``) or ``FILE.py:FUNC``
    -> a sympy Lambda (or the user's callable)."""
    import sympy as sp

    from .networks import load_file_object

    if ":" in text and text.rpartition(":")[0].endswith(".py"):
        f = load_file_object(text)
        if not callable(f):
            raise InputError(f"{text!r} is a {type(f).__name__}, not a function of one variable")
        return f
    z = sp.Symbol("z", real=True)
    source = ACTIVATIONS.get(text.strip().lower(), text)
    try:
        expr = sp.sympify(source, locals={"z": z})
    except (sp.SympifyError, SyntaxError, TypeError) as exc:
        raise InputError(f"cannot read the activation {text!r} ({exc}); give one of "
                         f"{', '.join(ACTIVATIONS)}, a sympy expression in z, or FILE.py:FUNC") from None
    extra = expr.free_symbols - {z}
    if extra:
        raise InputError(f"the activation {text!r} may depend only on z, not on {', '.join(map(str, extra))}; "
                         f"known names: {', '.join(ACTIVATIONS)}")
    return sp.Lambda(z, expr)


def add_parser(sub) -> argparse.ArgumentParser:
    k = sub.add_parser(
        "kernel", help="the NNGP kernel and NTK of a deep network",
        description="The infinite-width NNGP kernel K(x, x') and neural tangent kernel Theta(x, x') of an MLP "
                    "with L hidden layers (NTK parameterisation: W ~ N(0, sigma_W^2/fan_in), b ~ N(0, sigma_b^2)), "
                    "in closed form where the layer recursion composes (ReLU, erf, ...), numerically otherwise; "
                    "tabulated at unit inputs an angle theta apart.")
    k.add_argument("activation", metavar="ACTIVATION",
                   help=f"one of {', '.join(ACTIVATIONS)}; a sympy expression in z (e.g. 'Max(0, z)**2'); "
                        "or FILE.py:FUNC")
    k.add_argument("--depth", "-L", type=positive_int, default=1, help="hidden layers L (default 1)")
    k.add_argument("--d", type=dimension, default=2, metavar="D", help="input dimension (default 2)")
    k.add_argument("--values", nargs="+", type=name_value, default=[], metavar="NAME=FLOAT",
                   help="sigma_W and sigma_b (defaults sigma_W=1.0, sigma_b=0.1)")
    k.add_argument("--format", choices=("table", "sympy", "latex"), default="table",
                   help="table of K and Theta vs angle (default), or the closed forms as sympy or LaTeX")
    add_quiet(k)
    add_plot(k, "K and Theta against the angle between the inputs")
    return k


def run(args, out, err) -> int:
    import warnings

    import numpy as np

    import nnsym

    f = activation(args.activation)
    values = {"sigma_W": 1.0, "sigma_b": 0.1}
    check_names([k for k, _ in args.values], values, "the kernels take")
    values.update(dict(args.values))
    try:
        K = nnsym.deep_kernels(f, args.depth, args.d)
    except (ValueError, TypeError, NotImplementedError) as exc:
        raise InputError(f"{type(exc).__name__}: {exc}") from None
    label = f"{args.activation}, depth {args.depth}, d = {args.d}"
    print(f"kernels of the MLP ({label}); {'closed form' if K.symbolic else 'numeric recursion'}", file=out)
    if args.format != "table":
        if not K.symbolic:
            raise InputError("no closed form for this activation: the kernels are computed numerically "
                             "(use --format table)")
        for what in ("nngp", "ntk"):
            try:
                C = getattr(K, what)
            except nnsym.DivergentExpectation as exc:
                print(f"{what}: does not exist ({exc})", file=out)
                continue
            print(f"{what.upper()}: " + (C.latex() if args.format == "latex" else str(C.expr)), file=out)
        return 0
    th = np.pi * np.array(ANGLES)
    X = np.zeros((len(th), 2, args.d))
    X[:, 0, 0] = 1.0
    if args.d == 1:
        th = np.array([0.0, np.pi])
        X = np.array([[[1.0], [1.0]], [[1.0], [-1.0]]])
    else:
        X[:, 1, 0], X[:, 1, 1] = np.cos(th), np.sin(th)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            nngp = K.evaluate_nngp(X, **values)
        except (ValueError, TypeError, FloatingPointError) as exc:
            raise InputError(f"{type(exc).__name__}: {exc}") from None
        try:
            ntk = K.evaluate_ntk(X, **values)
        except nnsym.DivergentExpectation:
            ntk = np.full(len(th), np.nan)
    print(f"values: {', '.join(f'{k}={v:g}' for k, v in values.items())}; |x| = |x'| = 1", file=out)
    print(f"{'theta/pi':>9}  {'K (NNGP)':>14}  {'Theta (NTK)':>14}", file=out)
    for t, a, b in zip(th / np.pi, nngp, ntk):
        print(f"{t:>9.3g}  {a:>14.7g}  {b:>14.7g}", file=out)
    if args.plot:
        if args.d < 2:
            raise InputError("--plot draws the kernels against the angle between two inputs: needs --d >= 2")
        save_plot(lambda plot: plot.kernels_vs_angle(K, **values), args.plot, out)
    return 0
