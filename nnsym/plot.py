r"""Figures: exact correlators against Monte Carlo, width scaling, spectra, kernels, z-scores.

Each function draws one figure with matplotlib (the optional extra ``plot``:
``pip install "nnsym[plot]"``), imported only when a function is called. A function
returns the :class:`matplotlib.figure.Figure`; with ``ax=`` it draws into an existing
axes (and returns that axes' figure), with ``path=`` it also writes the figure
(:func:`save`: ``.png``, ``.pdf``, ``.svg``, or both ``.png`` and ``.pdf`` for a path
without suffix). The numbers plotted are kept on the figure, ``fig.nnsym_data`` (a dict
of numpy arrays and the estimates, also ``ax.nnsym_data``), so a figure can be checked against the
numbers it shows. Without a display the non-interactive ``Agg`` backend is used;
nothing here calls ``plt.show()``.

===================================  ==============================================================
:func:`monte_carlo_vs_exact`         :math:`G^{(n)}` (or :math:`G^{(n)}_c`) along a line of points:
                                     exact curve and Monte Carlo points with :math:`1\sigma` bars
:func:`width_scaling`                :math:`|G^{(4)}_c|` against the width :math:`N` (log-log), with
                                     a :math:`1/N` reference
:func:`power_spectrum`               :math:`G(p)` against :math:`|p|`, with the cutoff :math:`\Lambda`
:func:`kernels_vs_angle`             NNGP :math:`K(\theta)` and NTK :math:`\Theta(\theta)` on a circle
:func:`z_histogram`                  the z-scores of a :class:`~nnsym.ValidationReport` against
                                     :math:`\mathcal N(0, 1)` and the Bonferroni threshold
===================================  ==============================================================

>>> import nnsym as ns, nnsym.plot
>>> fig = nnsym.plot.monte_carlo_vs_exact(ns.zoo.cos_net(1), 2, samples=20_000,
...                                       sigma_a=1.0, sigma_b=1.0, N=10)
>>> data = fig.nnsym_data
>>> bool(abs(data["exact"][0] - 0.5) < 1e-12), bool(max(abs(data["z"])) < 5)
(True, True)
"""
from __future__ import annotations

import math
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Sequence

import numpy as np
import sympy as sp

from .analysis.nngp import DeepKernel
from .analysis.spectra import PowerSpectrum
from .model.network import Network
from .sampling.montecarlo import monte_carlo
from .sampling.validation import ValidationReport

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "save",
    "monte_carlo_vs_exact",
    "width_scaling",
    "power_spectrum",
    "kernels_vs_angle",
    "z_histogram",
]

#: the size of a new figure, inches
FIGSIZE = (6.4, 4.4)
#: resolution of the PNG files written by :func:`save`
PNG_DPI = 150
_SUFFIXES = (".png", ".pdf", ".svg")


# ----------------------------------------------------------------------------- matplotlib, lazily
def _pyplot():
    """matplotlib.pyplot, imported on first use; the ``Agg`` backend when there is no display."""
    try:
        import matplotlib
    except ImportError as exc:
        raise ImportError('nnsym.plot needs matplotlib: pip install "nnsym[plot]"') from exc
    if "matplotlib.pyplot" not in sys.modules and not os.environ.get("MPLBACKEND") and _no_display():
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _no_display() -> bool:
    if sys.platform.startswith(("win", "darwin")):
        return False
    return not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def _figure_and_axes(ax) -> tuple["Figure", "Axes"]:
    if ax is not None:
        if not hasattr(ax, "figure") or not hasattr(ax, "plot"):
            raise TypeError(f"ax must be a matplotlib Axes, got {type(ax).__name__}")
        return ax.figure, ax
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=FIGSIZE)
    return fig, ax


def _finish(fig, ax, data: dict, path, legend: bool = True):
    """Grid, legend, layout; the plotted numbers on the figure and the axes; :func:`save` if ``path``."""
    ax.grid(True, which="major", alpha=0.3)
    if ax.get_xscale() == "log" or ax.get_yscale() == "log":
        ax.grid(True, which="minor", alpha=0.1)
    if legend:
        ax.legend(frameon=False)
    engine = fig.get_layout_engine()
    if engine is None or type(engine).__name__ == "TightLayoutEngine":
        fig.tight_layout()
    fig.nnsym_data = data
    ax.nnsym_data = data
    if path is not None:
        save(fig, path)
    return fig


def save(fig: "Figure", path) -> list[Path]:
    """Write ``fig`` to ``path`` and return the files written.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    path : str or os.PathLike
        With suffix ``.png`` (150 dpi), ``.pdf`` or ``.svg``: that file. Without a suffix:
        both ``path.png`` and ``path.pdf``. Missing parent directories are created.

    Returns
    -------
    list of pathlib.Path
        The files written.

    Examples
    --------
    >>> import nnsym.plot  # doctest: +SKIP
    >>> nnsym.plot.save(fig, "figures/g2")   # doctest: +SKIP
    [PosixPath('figures/g2.png'), PosixPath('figures/g2.pdf')]
    """
    if not hasattr(fig, "savefig"):
        raise TypeError(f"save needs a matplotlib Figure, got {type(fig).__name__}")
    path = Path(os.fspath(path))
    if path.name in ("", ".", ".."):
        raise ValueError(f"save needs a file name, got the directory {str(path)!r}")
    suffix = path.suffix.lower()
    if suffix == "":
        targets = [path.with_name(path.name + ".png"), path.with_name(path.name + ".pdf")]
    elif suffix in _SUFFIXES:
        targets = [path]
    else:
        raise ValueError(f"save writes {', '.join(_SUFFIXES)} (or both .png and .pdf for a path without suffix); "
                         f"got the suffix {path.suffix!r} in {str(path)!r}")
    path.parent.mkdir(parents=True, exist_ok=True)
    for target in targets:
        kind = target.suffix.lower()
        if kind == ".png":
            fig.savefig(target, dpi=PNG_DPI)
        elif kind == ".pdf":  # no creation date: the same figure gives the same bytes
            fig.savefig(target, metadata={"CreationDate": None})
        else:
            fig.savefig(target, metadata={"Date": None})
    return targets


# ----------------------------------------------------------------------------- small helpers
def _integer_dim(dim, what: str) -> int:
    dim = sp.sympify(dim)
    if not dim.is_Integer:
        raise ValueError(f"{what} has the symbolic dimension {dim}: build it with a fixed d "
                         f"(e.g. nnsym.zoo.cos_net(2)) to plot it")
    return int(dim)


def _values_text(values: dict) -> str:
    r"""``$\sigma_{a} = 1,\ N = 10$`` for the title."""
    parts = []
    for name, value in values.items():
        try:
            v = f"{float(value):g}"
        except (TypeError, ValueError):
            v = sp.latex(sp.sympify(value))
        parts.append(f"{sp.latex(sp.Symbol(name))} = {v}")
    return "$" + r",\ ".join(parts) + "$" if parts else ""


def _title(ax, name: str | None, values: dict) -> None:
    text = ", ".join(t for t in (name, _values_text(values)) if t)
    if text:
        ax.set_title(text, fontsize="medium")


def _correlator_symbol(n: int, connected: bool) -> str:
    return f"G^{{({n})}}_c" if connected else f"G^{{({n})}}"


def _z(mean, exact, stderr) -> np.ndarray:
    """(mean - exact)/stderr; inf or nan where the standard error is 0, without a numpy warning."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return (mean - exact) / stderr


def _unit(method: str, samples: int) -> str:
    unit = "neurons" if method == "neuron" else "networks"
    return f"{samples:,} {unit}"


def _default_line(n: int, d: int) -> Callable[[float], np.ndarray]:
    """x_k = (k-1)/(n-1) t e_1 (n >= 2); x_1 = t e_1 for n = 1."""
    def line(t):
        X = np.zeros((n, d))
        if n == 1:
            X[0, 0] = t
        else:
            X[:, 0] = t * np.arange(n) / (n - 1)
        return X
    return line


def _points_on(line, ts, n: int, d: int) -> np.ndarray:
    X = np.array([np.asarray(line(float(t)), dtype=float) for t in ts])
    if d == 1 and X.ndim == 2:
        X = X[..., None]
    if X.shape[1:] != (n, d):
        raise ValueError(f"line(t) must return the {n} points as an array of shape ({n}, {d}), "
                         f"got shape {X.shape[1:]}")
    return X


# ----------------------------------------------------------------------------- exact vs Monte Carlo
def monte_carlo_vs_exact(
    net: Network,
    n: int = 2,
    *,
    line: Callable[[float], np.ndarray] | None = None,
    ts: Sequence[float] | None = None,
    connected: bool = False,
    samples: int = 100_000,
    seed: int | None = 0,
    path=None,
    ax=None,
    name: str | None = None,
    fine: int = 200,
    method: str = "auto",
    **values,
) -> "Figure":
    r"""The exact :math:`G^{(n)}` (or :math:`G^{(n)}_c`) of ``net`` along a line of point sets,
    against Monte Carlo estimates with :math:`1\sigma` error bars.

    The point sets are :math:`X(t) = (x_1(t), \dots, x_n(t))`; the exact correlator
    (``net.correlator(n, connected).evaluate``) is drawn on a fine grid of :math:`t`, the
    Monte Carlo estimate (:func:`nnsym.monte_carlo`, one call for all ``ts`` with the given
    ``samples`` and ``seed``) at the values ``ts``.

    Parameters
    ----------
    net : nnsym.Network
        A network with a fixed input dimension d.
    n : int
        Number of points.
    line : callable, optional
        ``t -> array (n, d)``, the points at ``t``. Default: :math:`x_k = \frac{k-1}{n-1}\,t\,e_1`,
        points evenly spaced on a segment of length :math:`t` (so for n = 2, :math:`x_1 = 0`,
        :math:`x_2 = t e_1`, and :math:`t = |x_1 - x_2|`); for n = 1, :math:`x_1 = t e_1`.
    ts : sequence of float, optional
        The :math:`t` of the Monte Carlo points (default 10 values in [0, 3]); the exact line
        spans ``[min(ts), max(ts)]`` with ``fine`` points.
    connected : bool
        :math:`G^{(n)}_c` instead of :math:`G^{(n)}`.
    samples, seed, method
        Passed to :func:`nnsym.monte_carlo` (``method``: ``"auto"``, ``"neuron"`` or ``"network"``;
        ``samples`` counts neurons or whole networks accordingly).
    fine : int
        Number of points of the exact line.
    path : str or os.PathLike, optional
        Write the figure there (:func:`save`).
    ax : matplotlib Axes, optional
        Draw into these axes.
    name : str, optional
        A name for the network, shown in the title with the values.
    **values
        Hyper-parameter values by name (e.g. ``sigma_a=1.0, sigma_b=0.7, N=10``).

    Returns
    -------
    matplotlib.figure.Figure
        ``fig.nnsym_data`` holds ``t``, ``exact`` (the line), ``t_mc``, ``exact_mc``,
        ``mean``, ``stderr``, ``z`` (the points), ``points`` (the point sets at ``t_mc``) and
        ``estimate`` (the :class:`~nnsym.MonteCarloEstimate`).

    Examples
    --------
    >>> import nnsym as ns, nnsym.plot
    >>> fig = nnsym.plot.monte_carlo_vs_exact(ns.zoo.cos_net(2), 2, samples=10_000,
    ...                                       sigma_a=1.0, sigma_b=0.7, N=10)
    >>> fig.axes[0].get_xlabel(), fig.nnsym_data["mean"].shape
    ('$|x_1 - x_2|$', (10,))
    """
    _pyplot()  # a missing matplotlib is reported before any work
    if not isinstance(net, Network):
        raise TypeError(f"monte_carlo_vs_exact needs an nnsym.Network, got {type(net).__name__}")
    d = _integer_dim(net.dim, "the network")
    n = int(n)
    if n < 1:
        raise ValueError(f"n must be a positive integer, got {n}")
    ts = np.linspace(0.0, 3.0, 10) if ts is None else np.asarray(ts, dtype=float).reshape(-1)
    if ts.size == 0 or not np.all(np.isfinite(ts)):
        raise ValueError(f"ts must be finite numbers, got {ts}")
    default_line = line is None
    line = _default_line(n, d) if default_line else line
    t_fine = np.linspace(ts.min(), ts.max(), int(fine)) if ts.max() > ts.min() else ts.copy()

    G = net.correlator(n, connected=connected)
    X_mc = _points_on(line, ts, n, d)
    X_fine = _points_on(line, t_fine, n, d)
    exact_fine = np.asarray(G.evaluate(X_fine, **values), dtype=float)
    exact_mc = np.asarray(G.evaluate(X_mc, **values), dtype=float)
    est = monte_carlo(net, n, X_mc, connected=connected, samples=samples, seed=seed, method=method, **values)
    mean, stderr = np.asarray(est.mean, dtype=float), np.asarray(est.stderr, dtype=float)

    fig, ax = _figure_and_axes(ax)
    ax.plot(t_fine, exact_fine, "-", color="C0", lw=1.8, label="exact")
    ax.errorbar(ts, mean, yerr=stderr, fmt="o", color="C3", ms=4.5, capsize=3, elinewidth=1.2,
                label=f"Monte Carlo ({_unit(est.method, est.samples)}, seed {seed})")
    if default_line:
        ax.set_xlabel(r"$|x_1 - x_2|$" if n == 2 else (r"$|x_1|$" if n == 1 else f"$t = |x_1 - x_{n}|$"))
    else:
        ax.set_xlabel("$t$")
    ax.set_ylabel(f"${_correlator_symbol(n, connected)}$")
    _title(ax, name, values)
    data = dict(t=t_fine, exact=exact_fine, t_mc=ts, exact_mc=exact_mc, mean=mean, stderr=stderr,
                z=_z(mean, exact_mc, stderr), points=X_mc, estimate=est)
    return _finish(fig, ax, data, path)


# ----------------------------------------------------------------------------- width scaling
def _integer_ticks(ax, widths: np.ndarray) -> None:
    """Major ticks at the widths (as plain integers) on a log axis, no minor labels."""
    from matplotlib.ticker import FixedLocator, NullFormatter, ScalarFormatter

    ticks = np.unique(widths)
    if ticks.size > 12:  # too many to label: keep matplotlib's decades
        return
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.xaxis.set_major_formatter(ScalarFormatter())
    ax.xaxis.set_minor_formatter(NullFormatter())


def _width_grid(widths: np.ndarray) -> np.ndarray:
    lo, hi = int(widths.min()), int(widths.max())
    if hi - lo <= 2000:
        return np.arange(lo, hi + 1)
    return np.unique(np.round(np.geomspace(lo, hi, 400)).astype(int))


def width_scaling(
    net: Network,
    X=None,
    *,
    widths: Sequence[int] = (2, 4, 8, 16, 32, 64),
    samples: int = 100_000,
    seed: int | None = 0,
    path=None,
    ax=None,
    name: str | None = None,
    method: str = "auto",
    **values,
) -> "Figure":
    r""":math:`|G^{(4)}_c(X)|` at one point set against the width :math:`N` (log-log), exact and Monte Carlo.

    For i.i.d. neurons :math:`G^{(4)}_c = N\,\kappa_4(a h)` with :math:`E[a^2]\propto 1/N`, so
    :math:`G^{(4)}_c \propto 1/N`: the interactions of the network field theory vanish at infinite
    width. The exact line is the symbolic correlator at every integer :math:`N` in the range,
    the points are :func:`nnsym.monte_carlo` (``connected=True``, ``samples`` draws at each width,
    independent across widths) with :math:`1\sigma` error bars, and the dashed line is the reference
    slope :math:`1/N` (through half the exact value at the smallest width).

    Parameters
    ----------
    net : nnsym.Network
        A network whose width is a symbol (e.g. ``N`` of the zoo) and with a fixed d.
    X : array (4, d), optional
        The point set; default :math:`x_k = \frac{k-1}{4}\,e_1` (k = 1..4).
    widths : sequence of int
        The widths of the Monte Carlo points.
    samples, seed, method
        Passed to :func:`nnsym.monte_carlo` at each width; the width ``k`` gets the seed
        ``numpy.random.SeedSequence(seed).spawn(len(widths))[k]``, so the points are independent
        (with one seed for all widths, the neuron estimator would rescale the same draws and put
        every point on an exact :math:`1/N` line). ``method="network"`` samples whole width-N
        networks.
    path, ax, name
        As in :func:`monte_carlo_vs_exact`.
    **values
        The other hyper-parameter values by name (not the width).

    Returns
    -------
    matplotlib.figure.Figure
        ``fig.nnsym_data``: ``N`` and ``exact`` (the line, signed), ``widths``, ``exact_mc``,
        ``mean``, ``stderr``, ``z`` (the points, signed), ``reference`` (the :math:`1/N` line on ``N``)
        and ``points`` (``X``).

    Examples
    --------
    >>> import nnsym as ns, nnsym.plot
    >>> fig = nnsym.plot.width_scaling(ns.zoo.cos_net(1), widths=(2, 8), samples=10_000,
    ...                                sigma_a=1.0, sigma_b=1.0)
    >>> data = fig.nnsym_data
    >>> bool(abs(data["exact_mc"][0] / data["exact_mc"][1] - 4) < 1e-9)     # G_c^(4) ~ 1/N
    True
    """
    _pyplot()  # a missing matplotlib is reported before any work
    if not isinstance(net, Network):
        raise TypeError(f"width_scaling needs an nnsym.Network, got {type(net).__name__}")
    d = _integer_dim(net.dim, "the network")
    width = net.width
    if not isinstance(width, sp.Symbol):
        raise ValueError(f"width_scaling needs a network whose width is a symbol (like N), got width {width}")
    if width.name in values:
        raise ValueError(f"width_scaling sets the width {width.name} itself (widths=...); "
                         f"do not pass {width.name}={values[width.name]!r}")
    widths = np.asarray(widths).reshape(-1)
    if widths.size == 0 or not np.all(widths == np.round(widths)) or np.any(widths < 1):
        raise ValueError(f"widths must be positive integers, got {widths}")
    widths = widths.astype(int)
    if X is None:
        X = np.zeros((4, d))
        X[:, 0] = np.arange(4) / 4
    X = np.asarray(X, dtype=float)
    if d == 1 and X.shape == (4,):
        X = X[:, None]
    if X.shape != (4, d):
        raise ValueError(f"X must be one point set of shape (4, {d}), got shape {X.shape}")

    G = net.correlator(4, connected=True)
    grid = _width_grid(widths)
    exact_line = np.array([float(G.evaluate(X[None], **values, **{width.name: int(w)})[0]) for w in grid])
    exact_mc = np.array([float(G.evaluate(X[None], **values, **{width.name: int(w)})[0]) for w in widths])
    means, errs, ests = [], [], []
    seeds = [None] * len(widths) if seed is None else np.random.SeedSequence(seed).spawn(len(widths))
    for w, seed_w in zip(widths, seeds):
        est = monte_carlo(net, 4, X[None], connected=True, samples=samples, seed=seed_w, method=method,
                          **values, **{width.name: int(w)})
        ests.append(est)
        means.append(float(est.mean[0]))
        errs.append(float(est.stderr[0]))
    mean, stderr = np.array(means), np.array(errs)
    reference = 0.5 * abs(exact_line[0]) * grid[0] / grid

    fig, ax = _figure_and_axes(ax)
    ax.set_xscale("log")
    ax.set_yscale("log", nonpositive="clip")
    ax.plot(grid, np.abs(exact_line), "-", color="C0", lw=1.8, label="exact")
    low = np.minimum(stderr, 0.999 * np.abs(mean))  # a bar below 0 cannot be drawn on a log axis
    ax.errorbar(widths, np.abs(mean), yerr=np.vstack([low, stderr]), fmt="o", color="C3", ms=4.5, capsize=3,
                elinewidth=1.2, label=f"Monte Carlo ({_unit(ests[0].method, ests[0].samples)}, seed {seed})")
    ax.plot(grid, reference, "--", color="0.4", lw=1.2, label=r"$\propto 1/N$")
    shown = np.concatenate([np.abs(exact_line), np.abs(mean), reference])
    shown = shown[shown > 0]
    if shown.size and ax.get_autoscaley_on():  # bars reaching below 0 must not stretch the log axis
        ax.set_ylim(shown.min() / 3, shown.max() * 3)
    _integer_ticks(ax, widths)
    ax.set_xlabel(f"${sp.latex(width)}$")
    ax.set_ylabel(r"$|G^{(4)}_c|$")
    _title(ax, name, values)
    data = dict(N=grid, exact=exact_line, widths=widths, exact_mc=exact_mc, mean=mean, stderr=stderr,
                z=_z(mean, exact_mc, stderr), reference=reference, points=X, estimates=ests)
    return _finish(fig, ax, data, path)


# ----------------------------------------------------------------------------- power spectrum
def power_spectrum(
    spectrum: PowerSpectrum,
    ks: Sequence[float] | None = None,
    *,
    cutoff: float | None = None,
    path=None,
    ax=None,
    name: str | None = None,
    logy: bool | None = None,
    **values,
) -> "Figure":
    r"""The power spectrum :math:`G(p)` against :math:`|p|`, along :math:`p = |p|\,e_1`.

    :math:`G(p) = \int d^dx\, e^{-ip\cdot x} G^{(2)}(x, 0)` (docs/conventions.md, "Momentum space"),
    from ``spectrum.evaluate``. Log-log axes when :math:`G > 0` at all ``ks``; a linear
    :math:`G` axis when it has zeros or changes sign (e.g. beyond a hard cutoff).

    Parameters
    ----------
    spectrum : nnsym.PowerSpectrum or nnsym.Network
        A spectrum (:func:`nnsym.power_spectrum`); a network is replaced by its spectrum.
    ks : sequence of float, optional
        The :math:`|p|`; default 400 values, :math:`\Lambda/100 \dots 2\Lambda` with a cutoff,
        :math:`10^{-2} m \dots 10^2 m` without (m the value of ``m`` in ``values``, else 1).
    cutoff : float, optional
        A momentum cutoff :math:`\Lambda`, marked by a vertical dashed line; ``None``: the value of
        ``Lambda`` in ``values`` if there is one; ``False``: none.
    logy : bool, optional
        Force (True) or forbid (False) a logarithmic :math:`G` axis.
    path, ax, name
        As in :func:`monte_carlo_vs_exact`.
    **values
        Hyper-parameter values by name.

    Returns
    -------
    matplotlib.figure.Figure
        ``fig.nnsym_data``: ``k`` and ``G`` (the curve), ``cutoff`` (float or None).

    Examples
    --------
    >>> import numpy as np, nnsym as ns, nnsym.plot
    >>> fig = nnsym.plot.power_spectrum(ns.zoo.cauchy_net().power_spectrum(), sigma_a=1.0, m=1.0)
    >>> data = fig.nnsym_data
    >>> bool(np.allclose(data["G"], 1 / (data["k"] ** 2 + 1)))     # sigma_a^2 m/(p^2 + m^2)
    True
    """
    _pyplot()  # a missing matplotlib is reported before any work
    if isinstance(spectrum, Network):
        spectrum = spectrum.power_spectrum()
    if not isinstance(spectrum, PowerSpectrum):
        raise TypeError(f"power_spectrum needs an nnsym.PowerSpectrum (nnsym.power_spectrum(net)), "
                        f"got {type(spectrum).__name__}")
    d = _integer_dim(spectrum.dim, "the spectrum")
    if cutoff is None:
        cutoff = values.get("Lambda")
    cutoff = None if cutoff is None or cutoff is False else float(cutoff)
    if cutoff is not None and not (cutoff > 0 and math.isfinite(cutoff)):
        raise ValueError(f"cutoff must be a positive number, got {cutoff}")
    if ks is None:
        scale = float(values.get("m", 1.0))  # a mass sets the scale of |p| if there is one
        ks = np.geomspace(cutoff / 100, 2 * cutoff, 400) if cutoff else np.geomspace(scale / 100, scale * 100, 400)
    ks = np.asarray(ks, dtype=float).reshape(-1)
    if ks.size == 0 or not np.all(np.isfinite(ks)) or np.any(ks < 0):
        raise ValueError(f"ks must be non-negative numbers |p|, got {ks}")
    P = np.zeros((ks.size, d))
    P[:, 0] = ks
    G = np.real(np.asarray(spectrum.evaluate(P, **values))).astype(float).reshape(-1)

    fig, ax = _figure_and_axes(ax)
    if ks.min() > 0:
        ax.set_xscale("log")
    positive = bool(np.all(G > 0))
    if logy if logy is not None else positive:
        ax.set_yscale("log", nonpositive="mask")
    ax.plot(ks, G, "-", color="C0", lw=1.8, label=f"$G(p)$, $d = {d}$")
    if cutoff is not None:
        ax.axvline(cutoff, ls="--", color="0.4", lw=1.2, label=r"cutoff $\Lambda$")
    ax.set_xlabel("$|p|$")
    ax.set_ylabel("$G(p)$")
    _title(ax, name, values)
    return _finish(fig, ax, dict(k=ks, G=G, cutoff=cutoff, momenta=P), path)


# ----------------------------------------------------------------------------- NNGP and NTK
def kernels_vs_angle(
    kernel: DeepKernel,
    *,
    angles: Sequence[float] | None = None,
    radius: float = 1.0,
    path=None,
    ax=None,
    name: str | None = None,
    d: int | None = None,
    ntk: bool = True,
    **values,
) -> "Figure":
    r"""The NNGP kernel :math:`K(x, x')` and the NTK :math:`\Theta(x, x')` on a circle, against the angle.

    :math:`x = r e_1`, :math:`x' = r(\cos\theta\, e_1 + \sin\theta\, e_2)`, :math:`\theta\in[0,\pi]`, so that
    :math:`x\cdot x' = r^2\cos\theta`. The kernels are those of :class:`~nnsym.DeepKernel`, e.g. for one
    hidden layer :math:`K = \sigma_b^2 + \sigma_W^2 E[f(u)f(v)]` with :math:`(u, v)` the Gaussian
    pre-activations at :math:`x, x'` (the arc-cosine kernel for ReLU).

    Parameters
    ----------
    kernel : nnsym.DeepKernel
        From :func:`nnsym.deep_kernels` (``.evaluate_nngp``, ``.evaluate_ntk``).
    angles : sequence of float, optional
        The :math:`\theta` (default 181 values in :math:`[0, \pi]`).
    radius : float
        :math:`r = |x| = |x'|`.
    d : int, optional
        The input dimension when the kernel's is symbolic (default 2); must be >= 2.
    ntk : bool
        Also draw the NTK (its evaluation raises for a sign or step activation).
    path, ax, name
        As in :func:`monte_carlo_vs_exact`.
    **values
        Hyper-parameter values by name (e.g. ``sigma_W``, ``sigma_b`` when symbolic).

    Returns
    -------
    matplotlib.figure.Figure
        ``fig.nnsym_data``: ``theta``, ``nngp``, ``ntk`` (None if not drawn), ``points`` (m, 2, d).

    Examples
    --------
    >>> import numpy as np, sympy as sp, nnsym as ns, nnsym.plot
    >>> K = ns.deep_kernels(lambda z: sp.Max(0, z), depth=1, d=2)
    >>> fig = nnsym.plot.kernels_vs_angle(K, sigma_W=1.0, sigma_b=0.0)
    >>> data = fig.nnsym_data
    >>> th = data["theta"]                       # arc-cosine kernel, sigma_b = 0, d = 2, r = 1
    >>> bool(np.allclose(data["nngp"], (np.sin(th) + (np.pi - th) * np.cos(th)) / (4 * np.pi)))
    True
    """
    _pyplot()  # a missing matplotlib is reported before any work
    if not isinstance(kernel, DeepKernel):
        raise TypeError(f"kernels_vs_angle needs an nnsym.DeepKernel (nnsym.deep_kernels(...)), "
                        f"got {type(kernel).__name__}")
    dim = sp.sympify(kernel.spec.d)
    if dim.is_Integer:
        if d is not None and int(d) != int(dim):
            raise ValueError(f"d = {d} but the kernel is built in d = {dim}")
        D = int(dim)
    else:
        D = 2 if d is None else int(d)
    if D < 2:
        raise ValueError(f"kernels_vs_angle needs d >= 2 (two directions for the angle), got d = {D}")
    radius = float(radius)
    if not (radius > 0 and math.isfinite(radius)):
        raise ValueError(f"radius must be a positive number, got {radius}")
    theta = np.linspace(0.0, math.pi, 181) if angles is None else np.asarray(angles, dtype=float).reshape(-1)
    if theta.size == 0 or not np.all(np.isfinite(theta)):
        raise ValueError(f"angles must be finite numbers, got {theta}")
    X = np.zeros((theta.size, 2, D))
    X[:, 0, 0] = radius
    X[:, 1, 0] = radius * np.cos(theta)
    X[:, 1, 1] = radius * np.sin(theta)
    K = np.asarray(kernel.evaluate_nngp(X, **values), dtype=float)
    T = np.asarray(kernel.evaluate_ntk(X, **values), dtype=float) if ntk else None

    fig, ax = _figure_and_axes(ax)
    ax.plot(theta, K, "-", color="C0", lw=1.8, label=r"NNGP $K(\theta)$")
    if T is not None:
        ax.plot(theta, T, "-", color="C1", lw=1.8, label=r"NTK $\Theta(\theta)$")
    if theta.min() >= 0 and theta.max() <= math.pi:
        ticks = [0, math.pi / 4, math.pi / 2, 3 * math.pi / 4, math.pi]
        ax.set_xticks(ticks, ["$0$", r"$\pi/4$", r"$\pi/2$", r"$3\pi/4$", r"$\pi$"])
    ax.set_xlabel(r"$\theta$")
    ax.set_ylabel("kernel" if T is None else r"$K$, $\Theta$")
    _title(ax, name, {**values, **({"r": radius} if radius != 1.0 else {})})
    return _finish(fig, ax, dict(theta=theta, nngp=K, ntk=T, points=X), path)


# ----------------------------------------------------------------------------- validation z-scores
def z_histogram(report: ValidationReport, *, path=None, ax=None, bins: int | Sequence[float] | None = None) -> "Figure":
    r"""Histogram of the z-scores of a validation against the standard normal density.

    :math:`z_i = (\bar G_i - G_i)/\sigma_i` at each point set; for a right correlator each is
    close to :math:`\mathcal N(0, 1)`, :math:`\varphi(z) = e^{-z^2/2}/\sqrt{2\pi}`. The point sets of
    one validation share their draws, so their z-scores are correlated: the histogram of one report
    can be much narrower (or shifted) than :math:`\varphi` for a right correlator; it is the
    threshold, not the shape, that carries the verdict. Independent runs (different seeds) give
    independent z-scores. The vertical
    lines are the Bonferroni threshold :math:`\pm z^*` of the report (``report.threshold``):
    the validation passes when every :math:`|z_i| < z^*`. Each z is also marked as a tick at
    the bottom (a rug), which matters when there are few point sets.

    Parameters
    ----------
    report : nnsym.ValidationReport
        From :func:`nnsym.validate` (or :func:`nnsym.testing.assert_matches_monte_carlo`).
    bins : int or sequence, optional
        Histogram bins (default about :math:`2\sqrt{m}` for m point sets, at least 5).
    path, ax
        As in :func:`monte_carlo_vs_exact`.

    Returns
    -------
    matplotlib.figure.Figure
        ``fig.nnsym_data``: ``z``, ``threshold``, ``passed``, ``counts`` and ``edges`` (the histogram,
        as a density), ``grid`` and ``pdf`` (the normal curve).

    Examples
    --------
    >>> import numpy as np, nnsym as ns, nnsym.plot
    >>> X = np.random.default_rng(0).uniform(-1, 1, size=(20, 2, 1))
    >>> rep = ns.validate(ns.zoo.cos_net(1), 2, X, samples=10_000, sigma_a=1.0, sigma_b=1.0, N=10)
    >>> fig = nnsym.plot.z_histogram(rep)
    >>> bool(np.array_equal(fig.nnsym_data["z"], rep.z)), fig.axes[0].get_title().split(":")[0]
    (True, 'PASS')
    """
    _pyplot()  # a missing matplotlib is reported before any work
    if not isinstance(report, ValidationReport):
        raise TypeError(f"z_histogram needs an nnsym.ValidationReport (nnsym.validate(...)), "
                        f"got {type(report).__name__}")
    z = np.asarray(report.z, dtype=float).reshape(-1)
    finite = z[np.isfinite(z)]
    if finite.size == 0:
        raise ValueError("the report has no finite z-score to plot")
    thr = float(report.threshold)
    zmax = float(np.max(np.abs(finite)))
    span = 1.15 * max(thr, zmax, 3.0)
    if bins is None:
        bins = max(5, int(round(2 * math.sqrt(finite.size))))
    grid = np.linspace(-span, span, 400)
    pdf = np.exp(-grid**2 / 2) / math.sqrt(2 * math.pi)

    fig, ax = _figure_and_axes(ax)
    counts, edges, _ = ax.hist(finite, bins=bins, density=True, color="C0", alpha=0.55, edgecolor="C0",
                               label=f"z-scores ({finite.size} point sets)")
    ax.plot(finite, np.zeros_like(finite), "|", color="C0", ms=12, mew=1.2)
    ax.plot(grid, pdf, "-", color="k", lw=1.5, label=r"$\mathcal{N}(0, 1)$")
    ax.axvline(thr, ls="--", color="C3", lw=1.2, label=rf"Bonferroni threshold $\pm{thr:.2f}$")
    ax.axvline(-thr, ls="--", color="C3", lw=1.2)
    ax.set_xlim(-span, span)
    ax.set_xlabel("$z$")
    ax.set_ylabel("density")
    verdict = "PASS" if report.passed else "FAIL"
    title = f"{verdict}: max$|z|$ = {zmax:.2f} (threshold {thr:.2f}, $\\alpha$ = {report.alpha:g})"
    ax.set_title(title + ("\n" + report.title if report.title else ""), fontsize="medium")
    data = dict(z=z, threshold=thr, passed=bool(report.passed), counts=counts, edges=edges, grid=grid, pdf=pdf)
    return _finish(fig, ax, data, path)

