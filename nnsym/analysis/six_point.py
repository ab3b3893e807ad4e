r"""Gaussianity at finite width and the six-point test of the quartic effective action.

Two tests of the NN-QFT paper (Halverson, Maiti, Stoner, arXiv:2008.08601), made exact.

**Deviation from the Gaussian process.** The free (:math:`N\to\infty`) theory has the Wick
:math:`n`-point function :math:`G_{\rm GP}^{(n)} = \sum_{\rm pairings}\prod K`, with :math:`K = G^{(2)}`
(the full 2-point function, output bias included). The paper measures, over a set of point tuples,

.. math:: m_n(N) = \Big\langle \frac{|G^{(n)}(x_1..x_n) - G_{\rm GP}^{(n)}(x_1..x_n)|}
          {|G_{\rm GP}^{(n)}(x_1..x_n)|}\Big\rangle_{\rm tuples},

from Monte Carlo :math:`G^{(n)}`. nnsym gives it exactly (:func:`gaussian_deviation`): for a field of
zero mean :math:`G^{(4)} - G_{\rm GP}^{(4)} = G_c^{(4)}`, so for i.i.d. neurons with an
:math:`\sigma_a^2/N` readout :math:`m_4 \propto 1/N` exactly; and with Monte Carlo error bars
(:func:`gaussian_deviation_monte_carlo`), which show where the sampling noise, not :math:`1/N`,
sets the measured value (:math:`m_n^{\rm MC}` cannot fall below the noise floor
:math:`\langle\sigma_{\hat G}/|G_{\rm GP}|\rangle`).

**The six-point test.** A quartic action :math:`S = S_{\rm GP} + \frac{\lambda}{4!}\int\phi^4` predicts
at first order in :math:`\lambda`

.. math:: G^{(6)}(x_1..x_6) = \sum_{15\ \rm pairings} K K K
          \;+\; \sum_{15\ \{a,b\}} K(x_a, x_b)\,V(x_{\rm rest}) + O(\lambda^2),\qquad
          V(y_1..y_4) = -\lambda\int d^dy\,\prod_{i=1}^4 K_{\rm EFT}(y_i, y),

each of the 15 pairs :math:`\{a,b\}\subset\{1..6\}` with the 4-point vertex on the other four points,
the propagator on the pair being the full :math:`K` (an external line). The exact moment-cumulant
identity of a zero-mean field is

.. math:: G^{(6)} = \sum_{15} KKK + \sum_{15} K\,G_c^{(4)} + \sum_{10} G_c^{(3)}G_c^{(3)} + G_c^{(6)},

so with the exact vertex (``vertex="exact"``, :math:`V = G_c^{(4)}`) the remainder is
:math:`G_c^{(6)}` (plus the cubic term where :math:`G_c^{(3)}\ne0`), of order :math:`N^{-2}`; with the
local vertex (``vertex="local"``) the remainder also holds how far :math:`G_c^{(4)}` is from local.
Every part is a Laurent polynomial in :math:`N` (:class:`~nnsym.analysis.toolkit.WidthSeries`):
its coefficients are evaluated once and the parts are then known at every width.

>>> import numpy as np, nnsym as ns
>>> X6 = sorted_tuples(np.array([[0.1], [0.4], [0.9]]), 6)
>>> t = six_point_prediction(ns.zoo.cos_net(1), X6, sigma_a=1.0, sigma_b=1.0)
>>> bool(np.allclose(t.identity_residual(N=7), 0, atol=1e-12))
True
>>> bool(t.ratios(N=1000)["free+quartic"].min() > 0.999999)
True
"""
from __future__ import annotations

import itertools
import warnings
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np
import sympy as sp

from ..errors import UnreliableErrorWarning
from ..model.network import Network
from ..numeric.bindings import Bindings
from ..numeric.kernels import as_points
from ..sampling.sampler import network_sampler
from .couplings import kernel_integral, quartic_coupling
from .toolkit import WidthSeries, pairings, width_series

__all__ = [
    "sorted_tuples",
    "pairings",
    "gaussian_deviation",
    "GaussianDeviation",
    "gaussian_deviation_monte_carlo",
    "six_point_prediction",
    "SixPointPrediction",
]


_UNRELIABLE_SHARE = 0.8  # one network holding 80% of it: the error bar rests on one draw (as in monte_carlo)
# 2*10^4 networks: the paper's Gauss-net shows 0.11-0.97 with z down to -480 for m_6 at N <= 100, the ReLU and
# erf nets 0.1-0.77 with |z| < 2.6: no threshold on the share separates them; the exact value does.


# ============================================================================= tuples and pairings
def sorted_tuples(points, n: int) -> np.ndarray:
    r"""All :math:`\binom{M+n-1}{n}` non-decreasing :math:`n`-tuples of the ``M`` points ``points``
    (shape ``(M, d)``), as an array ``(T, n, d)``: each unordered tuple once, as in the paper
    (126 four-tuples and 462 six-tuples of 6 points).

    >>> sorted_tuples(np.array([[0.0], [1.0]]), 2)[:, :, 0].tolist()
    [[0.0, 0.0], [0.0, 1.0], [1.0, 1.0]]
    """
    P = np.asarray(points, float)
    if P.ndim != 2 or P.shape[0] < 1:
        raise ValueError(f"sorted_tuples: points must have shape (M, d) with M >= 1, got {P.shape}")
    return P[_sorted_indices(len(P), _order(n, "sorted_tuples"))]


def _sorted_indices(M: int, n: int) -> np.ndarray:
    """The indices (T, n) of the non-decreasing n-tuples of M points."""
    return np.array(list(itertools.combinations_with_replacement(range(M), n)))


def _order(n, context: str) -> int:
    if isinstance(n, (bool, np.bool_)) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"{context}: n must be a positive integer, got {n!r}")
    return int(n)


def _unique_tuples(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r"""The distinct unordered tuples of ``X`` (T, k, d) (points sorted lexicographically inside a tuple;
    the correlators are symmetric) and the index of each row of ``X`` among them."""
    T, k, d = X.shape
    order = np.lexsort(X.transpose(2, 0, 1)[::-1], axis=-1)  # lexicographic order of the points of each tuple
    Xs = np.take_along_axis(X, order[:, :, None], axis=1)
    uniq, inverse = np.unique(Xs.reshape(T, k * d), axis=0, return_inverse=True)
    return uniq.reshape(-1, k, d), inverse.reshape(-1)


def _zero_mean(net: Network, bindings: Bindings, context: str) -> None:
    r"""Refuse a field whose mean :math:`E[\phi(x)]` is not identically 0 at the given values (a mean
    such as :math:`N\mu\,E[h]` is accepted at :math:`\mu = 0`)."""
    G1 = net.correlator(1).expr
    if sp.simplify(G1) == 0:
        return
    at_values = G1.subs({s: bindings[s.name] for s in G1.free_symbols if s.name in bindings})
    if sp.simplify(at_values) != 0:
        raise ValueError(f"{context}: the field has a non-zero mean E[phi(x)] = {G1}; the Wick "
                         "decomposition used here is that of a zero-mean field (E[a] = 0, E[b_out] = 0)")


def _width_symbol(net: Network, values: Mapping, context: str):
    if isinstance(net.width, sp.Symbol) and net.width.name in values:
        raise TypeError(f"{context}: do not give the width {net.width.name} as a value: every part is computed for "
                        f"all widths at once; pass the width to the result's methods (e.g. .m({net.width.name}), "
                        f".ratios({net.width.name}))")
    if not isinstance(net.width, sp.Symbol):
        raise ValueError(f"{context}: the network's width {net.width} must be a symbol (e.g. N)")
    return net.width


# ============================================================================= m_n: deviation from the GP
@dataclass
class GaussianDeviation:
    r""":math:`G^{(n)}` and its Gaussian-process part :math:`G^{(n)}_{\rm GP} = \sum_{\rm pairings}\prod K`
    at the tuples ``X`` as :class:`WidthSeries` (``full``, ``free``); :meth:`m` gives
    :math:`m_n(N) = \langle|G^{(n)} - G^{(n)}_{\rm GP}|/|G^{(n)}_{\rm GP}|\rangle` with a bound on its error."""

    n: int
    X: np.ndarray
    full: WidthSeries
    free: WidthSeries

    def m(self, N) -> tuple[float, float]:
        r""":math:`m_n(N)` and a bound on its error (from the stated errors of numeric parts; 0 if exact)."""
        G, eG = self.full.at(N)
        F, eF = self.free.at(N)
        dev = np.abs(G - F) / np.abs(F)
        err = (eG + eF) / np.abs(F) + np.abs(G - F) * eF / (np.abs(F) * np.maximum(np.abs(F) - eF, 1e-300))
        return float(np.mean(dev)), float(np.mean(err))

    def per_tuple(self, N) -> np.ndarray:
        r""":math:`|G^{(n)} - G^{(n)}_{\rm GP}|/|G^{(n)}_{\rm GP}|` at each tuple."""
        G, _ = self.full.at(N)
        F, _ = self.free.at(N)
        return np.abs(G - F) / np.abs(F)


def _free_theory(K2: WidthSeries, Kidx: np.ndarray, n: int) -> WidthSeries:
    r""":math:`\sum_{\rm pairings}\prod K` from the pair values: ``Kidx[t, a, b]`` indexes the pair
    :math:`(x_a, x_b)` of tuple ``t`` in ``K2``."""
    terms = []
    for matching in pairings(range(n)):
        term = None
        for a, b in matching:
            f = K2.take(Kidx[:, a, b])
            term = f if term is None else term * f
        terms.append(term)
    return WidthSeries.sum(terms)


def _pair_index(X: np.ndarray, net: Network, bindings: Bindings, N, quadratures: dict) -> tuple:
    r"""``K`` at every pair of points of every tuple of ``X`` (T, n, d), each distinct pair evaluated once."""
    T, n, d = X.shape
    pairs = np.array([(a, b) for a in range(n) for b in range(n)])
    Xp = X[:, pairs]  # (T, n*n, 2, d)
    uniq, inverse = _unique_tuples(Xp.reshape(T * n * n, 2, d))
    K2 = width_series(net.correlator(2), uniq, bindings, N, quadratures)
    return K2, inverse.reshape(T, n, n)


def gaussian_deviation(net: Network, X, **values) -> GaussianDeviation:
    r"""The exact :math:`G^{(n)}` and :math:`G^{(n)}_{\rm GP}` at the tuples ``X`` (shape ``(T, n, d)``,
    ``n`` even), for every width at once; :meth:`GaussianDeviation.m` gives :math:`m_n(N)`.
    Hyper-parameter values by name, without the width.

    >>> import numpy as np, nnsym as ns
    >>> dev = gaussian_deviation(ns.zoo.cos_net(1), sorted_tuples(np.array([[0.0], [0.5]]), 4),
    ...                          sigma_a=1.0, sigma_b=1.0)
    >>> m10, m100 = dev.m(10)[0], dev.m(100)[0]
    >>> bool(np.isclose(m10 / m100, 10.0))          # m_4 is exactly proportional to 1/N
    True
    """
    if not isinstance(net, Network):
        raise TypeError(f"gaussian_deviation needs an nnsym.Network, got {type(net).__name__}")
    N = _width_symbol(net, values, "gaussian_deviation")
    X = _points(net, X, None, "gaussian_deviation")
    n = X.shape[1]
    if n % 2:
        raise ValueError(f"gaussian_deviation: the Gaussian process has no odd ({n}-point) function to compare with")
    bindings = net.bind(values, "gaussian_deviation")
    quadratures: dict = {}  # each unevaluated expectation integrated once per set of tuples
    _zero_mean(net, bindings, "gaussian_deviation")
    full = width_series(net.correlator(n), X, bindings, N, quadratures)
    K2, Kidx = _pair_index(X, net, bindings, N, quadratures)
    return GaussianDeviation(n, X, full, _free_theory(K2, Kidx, n))


def _points(net: Network, X, n: int | None, context: str) -> np.ndarray:
    X = as_points(X)
    if X.ndim != 3 or (n is not None and X.shape[1] != n):
        want = f"(T, {n}, d)" if n is not None else "(T, n, d)"
        raise ValueError(f"{context}: tuples must have shape {want}, got {X.shape}")
    if net.dim.is_Integer and X.shape[-1] != int(net.dim):
        raise ValueError(f"{context}: points must be in d = {net.dim}, got the last axis {X.shape[-1]}")
    if not np.all(np.isfinite(X)):
        raise ValueError(f"{context}: points contain inf or nan")
    return X


def gaussian_deviation_monte_carlo(net: Network, points, n: int, N: int, samples: int = 10**4, seed: int = 0,
                                   batches: int = 20, chunk: int = 2000, exact: GaussianDeviation | None = None,
                                   **values) -> dict:
    r"""Monte Carlo :math:`m_n(N)` as the paper measures it: ``samples`` networks of width ``N`` give
    :math:`\phi` at the distinct ``points`` (shape ``(M, d)``); :math:`\hat G^{(n)}` of every sorted
    :math:`n`-tuple is the mean of the products, and :math:`\hat m_n` its mean relative deviation from
    the exact :math:`G^{(n)}_{\rm GP}`. Returns ``{"m", "stderr", "noise_floor", "exact"}``: the jackknife
    error over ``batches`` batches of networks, :math:`\langle\sigma_{\hat G}/|G_{\rm GP}|\rangle` (the
    value :math:`\hat m_n` takes when :math:`G^{(n)} = G^{(n)}_{\rm GP}`, up to a factor
    :math:`\sqrt{2/\pi}`), the exact :math:`m_n(N)`, and ``max_draw_share``, the largest share
    :math:`\max_s Y_s^2/\sum_s Y_s^2` of one network in the second moment of a product :math:`Y`: above
    0.8 (``reliable`` False, :class:`~nnsym.errors.UnreliableErrorWarning`) one network holds the error bar.
    Below that the share is only a hint: the paper's Gauss-net at N <= 100 shows 0.11-0.97 with a bias of
    hundreds of standard errors (lognormal products whose tails were not sampled), the ReLU and erf nets
    0.1-0.77 with honest errors; the exact :math:`G^{(n)}` (``"z"`` below) tells them apart.
    Also the check of the exact :math:`G^{(n)}` itself: ``"G"``, ``"G_stderr"`` (the Monte Carlo
    :math:`\hat G^{(n)}` per tuple) and ``"z"``, ``"max_abs_z"`` (its z-scores against the exact value).
    ``exact``: the :func:`gaussian_deviation` of ``sorted_tuples(points, n)``, to reuse it across widths.
    Same seed, same numbers."""
    if not isinstance(net, Network):
        raise TypeError(f"gaussian_deviation_monte_carlo needs an nnsym.Network, got {type(net).__name__}")
    n = _order(n, "gaussian_deviation_monte_carlo")
    P = as_points(points)
    if P.ndim != 2:
        raise ValueError(f"gaussian_deviation_monte_carlo: points must have shape (M, d), got {P.shape}")
    if batches < 2 or samples < 2 * batches:
        raise ValueError(f"gaussian_deviation_monte_carlo: need batches >= 2 and samples >= 2*batches, "
                         f"got samples={samples}, batches={batches}")
    idx = _sorted_indices(len(P), n)
    X = P[idx]
    if exact is None:
        dev = gaussian_deviation(net, X, **values)
    elif not isinstance(exact, GaussianDeviation) or exact.X.shape != X.shape or not np.array_equal(exact.X, X):
        raise ValueError("gaussian_deviation_monte_carlo: exact= must be the gaussian_deviation of the sorted "
                         f"{n}-tuples of these points (gaussian_deviation(net, sorted_tuples(points, n)))")
    else:
        dev = exact
    GP, _ = dev.free.at(N)
    sampler = network_sampler(net, {**values, net.width.name: int(N)}, P.shape[1])
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    sums = np.zeros((batches, len(X)))
    sq = np.zeros(len(X))
    sq_max = np.zeros(len(X))
    per = samples // batches
    for b in range(batches):
        done = 0
        while done < per:
            S = min(chunk, per - done)
            phi = np.asarray(sampler.field_values(rng, S, P))  # (S, M)
            prod = np.prod(phi[:, idx], axis=-1)  # (S, T)
            sums[b] += prod.sum(axis=0)
            sq += (prod**2).sum(axis=0)
            sq_max = np.maximum(sq_max, (prod**2).max(axis=0))
            done += S
    total = per * batches
    mean = sums.sum(axis=0) / total
    sigma = np.sqrt(np.maximum(sq / total - mean**2, 0.0) / total)
    m_hat = float(np.mean(np.abs(mean - GP) / np.abs(GP)))
    loo = (sums.sum(axis=0)[None] - sums) / (total - per)  # leave-one-batch-out means
    m_loo = np.mean(np.abs(loo - GP) / np.abs(GP), axis=1)
    stderr = float(np.sqrt((batches - 1) / batches * np.sum((m_loo - m_loo.mean()) ** 2)))
    share = float(np.max(np.where(sq > 0, sq_max / np.where(sq > 0, sq, 1.0), 0.0)))
    if share > _UNRELIABLE_SHARE:
        warnings.warn(f"gaussian_deviation_monte_carlo: one network holds {100 * share:.0f}% of the sample second "
                      f"moment of a product of {n} field values (N = {N}): the products are heavy-tailed, the draws "
                      "that carry the mean may not have been sampled, and the error bar may be far too small",
                      UnreliableErrorWarning, stacklevel=2)
    G_exact, G_err = dev.full.at(N)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(sigma > 0, (mean - G_exact) / np.sqrt(sigma**2 + G_err**2), 0.0)
    return {"m": m_hat, "stderr": stderr, "noise_floor": float(np.mean(sigma / np.abs(GP))),
            "G": mean, "G_stderr": sigma, "z": z, "max_abs_z": float(np.max(np.abs(z))),
            "exact": dev.m(N)[0], "samples": total, "tuples": len(X), "max_draw_share": share,
            "reliable": share <= _UNRELIABLE_SHARE}


# ============================================================================= the six-point test
@dataclass
class SixPointPrediction:
    r"""The parts of :math:`G^{(6)}` at the tuples ``X6`` (module docstring), each a
    :class:`WidthSeries`: ``full`` (:math:`G^{(6)}`), ``free`` (:math:`\sum_{15}KKK`), ``quartic``
    (:math:`\sum_{15}K\,V` with the chosen ``vertex``), ``cubic`` (:math:`\sum_{10}G_c^{(3)}G_c^{(3)}`),
    ``connected`` (:math:`G_c^{(6)}`), ``exact_quartic`` (:math:`\sum_{15}K\,G_c^{(4)}`). ``vertex`` is
    ``"exact"`` or ``"local"``; ``coupling`` the :math:`\lambda` of the local vertex per unit
    :math:`1/N` (nnsym convention: :math:`\lambda(N) = ` ``coupling`` :math:`/N`), or None;
    ``region`` the integration region of the local vertex."""

    X6: np.ndarray
    full: WidthSeries
    free: WidthSeries
    quartic: WidthSeries
    cubic: WidthSeries
    connected: WidthSeries
    exact_quartic: WidthSeries
    vertex: str
    coupling: float | None
    region: Any

    def values(self, N) -> dict:
        r"""Every part at width ``N``: ``{name: (value, error)}``."""
        return {k: getattr(self, k).at(N) for k in ("full", "free", "quartic", "cubic", "connected",
                                                     "exact_quartic")}

    def remainder(self, N) -> np.ndarray:
        r""":math:`G^{(6)} - \sum KKK - \sum K V - \sum G_c^{(3)}G_c^{(3)}`: what the first-order quartic
        action leaves out (:math:`G_c^{(6)}` for the exact vertex)."""
        v = self.values(N)
        return v["full"][0] - v["free"][0] - v["quartic"][0] - v["cubic"][0]

    def identity_residual(self, N) -> np.ndarray:
        r"""The moment-cumulant identity, :math:`G^{(6)} - \sum KKK - \sum K G_c^{(4)} -
        \sum G_c^{(3)}G_c^{(3)} - G_c^{(6)}`: zero up to the stated errors (a check of the parts)."""
        v = self.values(N)
        return v["full"][0] - v["free"][0] - v["exact_quartic"][0] - v["cubic"][0] - v["connected"][0]

    def ratios(self, N) -> dict:
        r"""The paper's figures of merit at width ``N``: :math:`(\sum KKK + \sum G_c^{(3)}G_c^{(3)})/G^{(6)}`
        (``"free"``) and :math:`(\sum KKK + \sum KV + \sum G_c^{(3)}G_c^{(3)})/G^{(6)}` (``"free+quartic"``),
        per tuple (the cubic term is 0 for a readout of zero third moment)."""
        v = self.values(N)
        G = v["full"][0]
        return {"free": (v["free"][0] + v["cubic"][0]) / G,
                "free+quartic": (v["free"][0] + v["quartic"][0] + v["cubic"][0]) / G}

    def deviations(self, N) -> dict:
        r"""Mean relative deviations :math:`\langle|G^{(6)} - {\rm prediction}|/|G^{(6)}|\rangle` of the
        free and of the first-order quartic prediction at width ``N``."""
        return {k: float(np.mean(np.abs(1 - r))) for k, r in self.ratios(N).items()}


def six_point_prediction(net: Network, X6, vertex: str = "exact", coupling: float | None = None,
                         region="R^d", X4=None, **values) -> SixPointPrediction:
    r"""The six-point test at the tuples ``X6`` (shape ``(T, 6, d)``), for every width at once.

    ``vertex="exact"``: :math:`V = G_c^{(4)}`, the exact connected 4-point function. ``vertex="local"``:
    :math:`V = -\lambda\int_R\prod_{i=1}^4 K_{\rm EFT}(y_i, y)\,dy` (nnsym convention; ``region`` as in
    :func:`~nnsym.analysis.couplings.kernel_integral`: ``"R^d"`` where that converges, a box otherwise),
    with :math:`\lambda(N) = ` ``coupling``:math:`/N` if given, else measured: the mean of
    :func:`~nnsym.analysis.couplings.quartic_coupling` over the tuples ``X4`` (default: the sorted
    4-tuples of the distinct points of ``X6``), :math:`\bar\lambda \propto 1/N` exactly. Hyper-parameter
    values by name, without the width. Needs a zero-mean field.
    """
    if not isinstance(net, Network):
        raise TypeError(f"six_point_prediction needs an nnsym.Network, got {type(net).__name__}")
    if vertex not in ("exact", "local"):
        raise ValueError(f"six_point_prediction: vertex must be 'exact' or 'local', got {vertex!r}")
    N = _width_symbol(net, values, "six_point_prediction")
    X = _points(net, X6, 6, "six_point_prediction")
    bindings = net.bind(values, "six_point_prediction")
    quadratures: dict = {}  # each unevaluated expectation integrated once per set of tuples
    _zero_mean(net, bindings, "six_point_prediction")
    T, _, d = X.shape

    full = width_series(net.correlator(6), X, bindings, N, quadratures)
    K2, Kidx = _pair_index(X, net, bindings, N, quadratures)
    free = _free_theory(K2, Kidx, 6)

    # the 15 ways to put one propagator on a pair {a, b} and the 4-point vertex on the rest
    splits = [((a, b), tuple(c for c in range(6) if c not in (a, b))) for a, b in itertools.combinations(range(6), 2)]
    rest = np.stack([X[:, list(r)] for _, r in splits], axis=1)  # (T, 15, 4, d)
    U4, inv4 = _unique_tuples(rest.reshape(T * 15, 4, d))
    inv4 = inv4.reshape(T, 15)
    Gc4 = width_series(net.correlator(4, connected=True), U4, bindings, N, quadratures)

    def around(V4: WidthSeries) -> WidthSeries:
        return WidthSeries.sum([K2.take(Kidx[:, a, b]) * V4.take(inv4[:, s]) for s, ((a, b), _) in enumerate(splits)])

    exact_quartic = around(Gc4)
    lam = None
    if vertex == "exact":
        quartic = exact_quartic
    else:
        powers = sorted(p for p, c in K2.coefficients.items() if p != 0 and np.any(c != 0))
        if powers:
            raise ValueError("six_point_prediction: vertex='local' needs a width-independent 2-point function "
                             f"K_EFT (a sigma_a^2/N readout); this one has the powers N^{powers}")
        lam = _local_coupling(net, X, X4, coupling, region, values)
        I = kernel_integral(net, U4, region=region, **values)
        V4 = WidthSeries({-1: -lam * np.asarray(I.value, float)}, {-1: abs(lam) * np.asarray(I.error, float)},
                         not I.is_exact)
        quartic = around(V4)

    G3 = net.correlator(3, connected=True)
    if G3.expr == 0 or sp.simplify(G3.expr) == 0:
        cubic = WidthSeries.zeros(T)
    else:
        halves = [(h, tuple(c for c in range(6) if c not in h)) for h in itertools.combinations(range(6), 3) if 0 in h]
        U3, inv3 = _unique_tuples(np.stack([X[:, list(h)] for hh in halves for h in hh], axis=1).reshape(-1, 3, d))
        inv3 = inv3.reshape(T, len(halves), 2)
        G3s = width_series(G3, U3, bindings, N, quadratures)
        cubic = WidthSeries.sum([G3s.take(inv3[:, j, 0]) * G3s.take(inv3[:, j, 1]) for j in range(len(halves))])
    connected = width_series(net.correlator(6, connected=True), X, bindings, N, quadratures)
    return SixPointPrediction(X, full, free, quartic, cubic, connected, exact_quartic, vertex, lam, region)


def _local_coupling(net: Network, X6: np.ndarray, X4, coupling, region, values) -> float:
    r""":math:`\lambda\cdot N`: given, or the mean quartic coupling over ``X4`` at :math:`N = 1`
    (exactly :math:`\propto 1/N` for the :math:`\sigma_a^2/N` readout: checked at a second width)."""
    if coupling is not None:
        c = float(coupling)
        if not np.isfinite(c):
            raise ValueError(f"six_point_prediction: coupling must be a finite number, got {coupling!r}")
        return c
    if X4 is None:
        P = np.unique(X6.reshape(-1, X6.shape[-1]), axis=0)
        X4 = sorted_tuples(P, 4)
    lam1 = quartic_coupling(net, X4, region=region, **values, **{net.width.name: 1})
    lam2 = quartic_coupling(net, X4, region=region, **values, **{net.width.name: 2})
    m1, m2 = float(np.mean(lam1.value)), float(np.mean(lam2.value))
    if not np.isclose(m1, 2 * m2, rtol=1e-9, atol=1e-300):
        raise ValueError("six_point_prediction: the measured coupling is not proportional to 1/N "
                         f"(mean lambda = {m1:.6g} at N = 1, {m2:.6g} at N = 2); pass coupling= explicitly")
    return m1
