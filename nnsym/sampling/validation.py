r"""Validation: the exact correlator against Monte Carlo of real networks.

:func:`validate` evaluates the exact :math:`G^{(n)}` (or :math:`G^{(n)}_c`) at
every point set, estimates it by :func:`~nnsym.monte_carlo`, and gives one
verdict for all point sets: every :math:`|z|` below the Bonferroni threshold
:math:`z^* = \Phi^{-1}(1 - \alpha/(2m))` for :math:`m` point sets (family-wise
error rate :math:`\alpha`).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy as sp
from scipy.stats import norm

from ..model.correlator import Correlator
from ..model.network import Network
from ..numeric.kernels import as_points
from .montecarlo import MonteCarloEstimate, monte_carlo_bound

__all__ = ["validate", "ValidationReport"]


@dataclass
class ValidationReport:
    """Exact vs Monte Carlo at each point set, with one verdict (``passed``)."""

    title: str
    points: np.ndarray  # (m, n, d)
    exact: np.ndarray  # (m,)
    estimate: MonteCarloEstimate
    z: np.ndarray  # (m,)
    threshold: float
    alpha: float
    passed: bool

    @property
    def mean(self):
        return self.estimate.mean.reshape(-1)

    @property
    def stderr(self):
        return self.estimate.stderr.reshape(-1)

    def __str__(self) -> str:
        est = self.estimate
        unit = "neurons" if est.method == "neuron" else "networks"
        lines = [
            self.title,
            f"estimator {est.method!r}: {est.samples:,} {unit} ({est.neuron_evaluations:,} neuron evaluations), "
            f"jackknife over {est.batches} batches",
            f"{'#':>3}  {'point set':<34} {'exact':>14} {'MC mean':>14}   {'stderr':>10} {'z':>7}",
        ]
        for i in range(len(self.exact)):
            pts = np.array2string(self.points[i], precision=2, separator=",", suppress_small=True).replace("\n", "")
            pts = pts if len(pts) <= 34 else pts[:31] + "..."
            lines.append(f"{i:>3}  {pts:<34} {self.exact[i]:>14.7g} {self.mean[i]:>14.7g} ± {self.stderr[i]:>10.3g} "
                         f"{self.z[i]:>+7.2f}")
        verdict = "PASS" if self.passed else "FAIL"
        lines.append(
            f"verdict: {verdict}: max |z| = {np.max(np.abs(self.z)):.2f} vs {self.threshold:.2f} "
            f"(Bonferroni, family-wise alpha = {self.alpha:g} over {len(self.exact)} point sets)"
        )
        return "\n".join(lines)

    def _repr_pretty_(self, p, cycle):  # IPython
        p.text(str(self))


#: options passed on to the Monte Carlo as they are
_MONTE_CARLO_OPTIONS = ("batches", "chunk_size", "client", "progress", "dtype", "fused")


def validate(
    net: Network,
    n: int,
    X,
    connected: bool = False,
    samples: int = 10**6,
    seed: int | None = 0,
    method: str = "auto",
    alpha: float = 1e-3,
    expected=None,
    **kwargs,
) -> ValidationReport:
    r"""Compare the exact correlator of ``net`` with Monte Carlo at every point set of ``X``.

    ``expected``: instead of nnsym's correlator, a formula of one's own to check against the
    sampled networks: a sympy expression (or a string) in the point symbols of ``net.correlator(n)``
    (``x_1, ..., x_n``; vectors in ``d > 1``) and the hyper-parameters, or a
    :class:`~nnsym.Correlator`. Extra keyword arguments go to :func:`~nnsym.monte_carlo` (``batches``,
    ``chunk_size``, ``client``, ``progress``, ``dtype``, ``fused``; with ``dtype="float32"`` the z-scores divide by
    the standard error plus the stated rounding error) or are hyper-parameter values.

    >>> import numpy as np, nnsym as ns
    >>> X = np.random.default_rng(0).normal(size=(3, 2, 2))
    >>> rep = ns.validate(ns.zoo.cos_net(2), 2, X, samples=50_000, sigma_a=1.0, sigma_b=0.7, N=10)
    >>> rep.passed
    True
    """
    if not isinstance(net, Network):
        raise TypeError(f"validate needs an nnsym.Network, got {type(net).__name__}")
    real = isinstance(alpha, (int, float, np.integer, np.floating)) and not isinstance(alpha, (bool, np.bool_))
    if not real or not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha!r}")
    mc_opts = {k: kwargs.pop(k) for k in _MONTE_CARLO_OPTIONS if k in kwargs}
    # the values are checked here (validate's own message for a misspelt option), and passed to the
    # Monte Carlo as Bindings; the correlator's public evaluate() takes them as plain numbers
    values = net.bind(kwargs, "validate",
                      ("connected", "samples", "seed", "method", "alpha", "expected") + _MONTE_CARLO_OPTIONS)
    X = as_points(X)
    corr = net.correlator(n, connected=connected)
    if expected is not None:
        corr = _expected_correlator(expected, corr)
    exact = np.asarray(corr.evaluate(X, **values)).reshape(-1)
    est = monte_carlo_bound(net, n, X, values, connected=connected, samples=samples, seed=seed, method=method,
                            **mc_opts)
    mean, se = est.mean.reshape(-1), (est.stderr + est.rounding_error).reshape(-1)  # rounding: 0 in float64
    with np.errstate(divide="ignore", invalid="ignore"):
        same = np.isclose(mean, exact, rtol=1e-12, atol=1e-15)
        z = np.where(se > 0, (mean - exact) / se, np.where(same, 0.0, np.inf))
    m = z.size
    threshold = float(norm.isf(alpha / (2 * m)))
    name = f"G^({n})_c" if connected else f"G^({n})"
    title = f"validate {name}: {'expected formula' if expected is not None else 'exact'} vs Monte Carlo"
    passed = bool(np.all(np.abs(z) < threshold))
    return ValidationReport(title, X.reshape(m, n, -1), exact, est, z, threshold, alpha, passed)


def _expected_correlator(expected, corr: Correlator) -> Correlator:
    r"""A user's formula as a :class:`~nnsym.Correlator` in the points of ``corr``: a Correlator, a sympy
    expression, or a string (read with the point and parameter symbols of the network, so that ``N``
    is the width, not sympy's ``N`` function). Refused (``ValueError``) when sympy cannot read it, or
    when it uses a symbol that is neither one of those points nor a hyper-parameter of the network."""
    allowed = set(corr.points) | set(corr.expr.free_symbols) | set(corr.network.hyperparameters if corr.network
                                                                       is not None else ())
    names = {s.name: s for s in allowed}
    if isinstance(expected, Correlator):
        expr = expected.expr
    else:
        try:
            expr = sp.sympify(expected, locals=names if isinstance(expected, str) else None)
        except (sp.SympifyError, SyntaxError, TypeError) as exc:
            raise ValueError(f"validate: the expected formula {expected!r} is not one sympy can read: {exc}") from exc
    allowed_names = set(names) | ({corr.dim.name} if corr.dim.is_Symbol else set())
    unknown = sorted(s.name for s in expr.free_symbols if s.name not in allowed_names)
    if unknown:
        raise ValueError(f"validate: the expected formula uses {', '.join(unknown)}, which is neither a point "
                         f"({', '.join(str(p) for p in corr.points)}) nor a hyper-parameter of the network")
    expr = expr.xreplace({s: names[s.name] for s in expr.free_symbols if s.name in names})
    return Correlator(expr, corr.points, corr.dim, name=corr.name, network=corr.network, connected=corr.connected)
