"""Independent numerical toolkit for checking nnsym (does NOT import nnsym).

Everything here is hand-written numpy / scipy:

* joint moments and joint cumulants of sampled random vectors, with standard
  errors from a delete-one-batch jackknife over ``n_batches`` batches;
* Monte Carlo estimators for single-layer networks
  ``phi(x) = sum_{i<=N} a_i h_i(x) (+ bias)``:
    - single-neuron estimator of the connected function
      ``G_c^(n) = N * kappa(a h(x_1), ..., a h(x_n))`` (exact for i.i.d. neurons:
      cumulants of sums of independent terms add);
    - whole-network estimators (draw S networks of width N, form phi) of the
      full moments ``G^(n) = E[phi(x_1)...phi(x_n)]`` and of the connected
      functions (joint cumulant of ``phi(x_1), ..., phi(x_n)``), supporting
      parameters shared by all neurons of a network and an output bias;
* scipy quadrature / Gauss-Hermite helpers for low-dimensional expectations;
* an exact rejection sampler for unnormalised 1-d densities.

Conventions for the network estimators
--------------------------------------
``draw(rng, M)`` returns a dict of per-neuron parameters, each an array whose
leading dimension is ``M`` (the number of neurons drawn); it must contain the
readout weight under the key ``'a'`` (shape ``(M,)``).
``draw_shared(rng, S)`` (optional) returns a dict of shared parameters with
leading dimension ``S`` (one value per network); they are broadcast to all
neurons of the network and merged into the per-neuron dict before calling
``neuron``.
``neuron(p, X)`` gets such a dict with leading dimension ``M`` and the points
``X`` of shape ``(P, n, d)`` and returns ``h`` of shape ``(P, M, n)``
(``bdotx`` helps).
``bias(rng, S)`` (optional) returns the output bias, shape ``(S,)``.
"""
from __future__ import annotations

import math
import warnings
from functools import lru_cache

import numpy as np
from numpy.polynomial import hermite_e
from scipy import integrate

# ---------------------------------------------------------------------------
# set partitions and the Moebius (moment -> cumulant) formula
# ---------------------------------------------------------------------------


@lru_cache(maxsize=None)
def set_partitions(n: int) -> tuple:
    """All set partitions of {0..n-1}, each a tuple of block bitmasks."""
    if n == 0:
        return ((),)
    out = []
    for part in set_partitions(n - 1):
        bit = 1 << (n - 1)
        # new element in its own block
        out.append(part + (bit,))
        # or joined to one of the existing blocks
        for i in range(len(part)):
            out.append(part[:i] + (part[i] | bit,) + part[i + 1:])
    return tuple(out)


def cumulant_from_subset_moments(m: np.ndarray, n: int) -> np.ndarray:
    """Joint cumulant kappa(Y_1..Y_n) from raw moments of all subsets.

    ``m[..., mask] = E[prod_{k in mask} Y_k]`` (bitmask indexing, m[..., 0] = 1).
    kappa = sum_pi (-1)^(|pi|-1) (|pi|-1)! prod_{B in pi} m_B.
    """
    m = np.asarray(m, dtype=float)
    total = np.zeros(m.shape[:-1])
    for part in set_partitions(n):
        k = len(part)
        coef = (-1) ** (k - 1) * math.factorial(k - 1)
        term = np.full(m.shape[:-1], float(coef))
        for blk in part:
            term = term * m[..., blk]
        total = total + term
    return total


def subset_product_sums(Y: np.ndarray) -> np.ndarray:
    """Y (..., S, n) -> (..., 2**n): sums over the S samples of prod_{k in mask} Y_k."""
    Y = np.asarray(Y, dtype=float)
    n = Y.shape[-1]
    lead = Y.shape[:-2]
    S = Y.shape[-2]
    prods = np.empty((1 << n,) + lead + (S,))
    prods[0] = 1.0
    for mask in range(1, 1 << n):
        low = (mask & -mask).bit_length() - 1
        prods[mask] = prods[mask & (mask - 1)] * Y[..., low]
    sums = prods.sum(axis=-1)  # (2**n, ...)
    return np.moveaxis(sums, 0, -1)


class SubsetMomentAccumulator:
    """Streams batches of samples of (Y_1..Y_n) and keeps per-batch sums of all
    subset products; estimates moments/cumulants with jackknife errors.

    Each call to ``add`` is one batch (so call it >= 2 times, ~50 is good).
    """

    def __init__(self, n: int):
        self.n = n
        self.sums = []
        self.counts = []

    def add(self, Y: np.ndarray) -> None:
        Y = np.asarray(Y, dtype=float)
        assert Y.shape[-1] == self.n
        self.sums.append(subset_product_sums(Y))
        self.counts.append(Y.shape[-2])

    def _jackknife(self, stat):
        T = np.stack(self.sums)  # (B, ..., 2**n)
        c = np.asarray(self.counts, dtype=float)
        B = T.shape[0]
        if B < 2:
            raise ValueError("need at least two batches for an error estimate")
        cshape = (B,) + (1,) * (T.ndim - 1)
        tot = T.sum(axis=0)
        full = stat(tot / c.sum())
        loo = stat((tot[None] - T) / (c.sum() - c).reshape(cshape))  # (B, ...)
        var = (B - 1) / B * ((loo - loo.mean(axis=0)) ** 2).sum(axis=0)
        return full, np.sqrt(var)

    def moment(self):
        """(estimate, stderr) of E[Y_1 ... Y_n]."""
        full = (1 << self.n) - 1
        return self._jackknife(lambda m: m[..., full])

    def cumulant(self):
        """(estimate, stderr) of the joint cumulant kappa(Y_1, ..., Y_n)."""
        return self._jackknife(lambda m: cumulant_from_subset_moments(m, self.n))


def _batched(Y: np.ndarray, n_batches: int) -> SubsetMomentAccumulator:
    Y = np.asarray(Y, dtype=float)
    acc = SubsetMomentAccumulator(Y.shape[-1])
    S = Y.shape[-2]
    edges = np.linspace(0, S, n_batches + 1).astype(int)
    for lo, hi in zip(edges[:-1], edges[1:]):
        acc.add(Y[..., lo:hi, :])
    return acc


def joint_cumulant_from_samples(Y: np.ndarray, n_batches: int = 50):
    """Y shape (S, n) (or (..., S, n)) -> (kappa(Y_1..Y_n), stderr)."""
    return _batched(Y, n_batches).cumulant()


def moment_from_samples(Y: np.ndarray, n_batches: int = 50):
    """Y shape (S, n) (or (..., S, n)) -> (E[Y_1 ... Y_n], stderr)."""
    return _batched(Y, n_batches).moment()


# ---------------------------------------------------------------------------
# network Monte Carlo
# ---------------------------------------------------------------------------


def bdotx(b: np.ndarray, X: np.ndarray) -> np.ndarray:
    """b (M,) [d = 1 scalar weight] or (M, d); X (P, n, d) -> b . x of shape (P, M, n)."""
    X = np.asarray(X, dtype=float)
    b = np.asarray(b, dtype=float)
    if b.ndim == 1:
        assert X.shape[-1] == 1
        return b[None, :, None] * X[:, None, :, 0]
    return np.einsum("md,pnd->pmn", b, X)


def col(v: np.ndarray) -> np.ndarray:
    """per-neuron scalar (M,) -> (1, M, 1), broadcastable against (P, M, n)."""
    return np.asarray(v, dtype=float)[None, :, None]


def _chunks(total: int, n_batches: int):
    edges = np.linspace(0, total, n_batches + 1).astype(int)
    return [int(h - l) for l, h in zip(edges[:-1], edges[1:])]


def single_neuron_terms(rng, M, X, draw, neuron):
    """Samples of (a h(x_1), ..., a h(x_n)) for M independent neurons: (P, M, n)."""
    p = draw(rng, M)
    h = neuron(p, X)
    return col(p["a"]) * h


def single_neuron_accumulator(X, draw, neuron, seed, n_samples=10**6, n_batches=50):
    """Accumulator of samples of (a h(x_1), ..., a h(x_n)), one neuron per sample."""
    rng = np.random.default_rng(seed)
    X = np.asarray(X, dtype=float)
    acc = SubsetMomentAccumulator(X.shape[1])
    for m in _chunks(n_samples, n_batches):
        acc.add(single_neuron_terms(rng, m, X, draw, neuron))
    return acc


def single_neuron_connected(X, draw, neuron, N, seed, n_samples=10**6, n_batches=50):
    """G_c^(n)(X) = N * kappa(a h(x_1), ..., a h(x_n)) for i.i.d. neurons.

    Returns (estimate, stderr), each of shape (P,).
    """
    est, se = single_neuron_accumulator(X, draw, neuron, seed, n_samples, n_batches).cumulant()
    return N * est, N * se


def single_neuron_moment(X, draw, neuron, seed, n_samples=10**6, n_batches=50):
    """E[prod_k a h(x_k)] for one neuron: (estimate, stderr) of shape (P,)."""
    return single_neuron_accumulator(X, draw, neuron, seed, n_samples, n_batches).moment()


def network_outputs(rng, S, N, X, draw, neuron, draw_shared=None, bias=None):
    """phi(x_k) for S independent networks of width N: shape (P, S, n)."""
    X = np.asarray(X, dtype=float)
    p = dict(draw(rng, S * N))
    if draw_shared is not None:
        sh = draw_shared(rng, S)
        for k, v in sh.items():
            v = np.asarray(v)
            p[k] = np.repeat(v, N, axis=0)  # network s -> neurons s*N .. s*N+N-1
    h = neuron(p, X)  # (P, S*N, n)
    terms = col(p["a"]) * h
    P, _, n = terms.shape
    phi = terms.reshape(P, S, N, n).sum(axis=2)
    if bias is not None:
        phi = phi + np.asarray(bias(rng, S), dtype=float)[None, :, None]
    return phi


def network_accumulator(X, draw, neuron, N, seed, draw_shared=None, bias=None,
                        n_networks=None, n_batches=50, neuron_draws=10**6):
    """Accumulator of samples of (phi(x_1), ..., phi(x_n)), one network per sample
    (S = neuron_draws // N networks of width N unless n_networks is given)."""
    N = int(N)
    if n_networks is None:
        n_networks = max(neuron_draws // N, 100 * n_batches)
    rng = np.random.default_rng(seed)
    X = np.asarray(X, dtype=float)
    acc = SubsetMomentAccumulator(X.shape[1])
    for s in _chunks(n_networks, n_batches):
        acc.add(network_outputs(rng, s, N, X, draw, neuron, draw_shared, bias))
    return acc


def network_estimate(X, draw, neuron, N, seed, kind="moment", draw_shared=None,
                     bias=None, n_networks=None, n_batches=50, neuron_draws=10**6):
    """Whole-network Monte Carlo for a width-N network.

    kind = 'moment' -> G^(n) = E[phi(x_1)...phi(x_n)];
    kind = 'cumulant' -> G_c^(n) = kappa(phi(x_1), ..., phi(x_n)).
    By default S = neuron_draws // N networks are drawn.
    Returns (estimate, stderr) of shape (P,).
    """
    acc = network_accumulator(X, draw, neuron, N, seed, draw_shared, bias,
                              n_networks, n_batches, neuron_draws)
    if kind == "moment":
        return acc.moment()
    if kind == "cumulant":
        return acc.cumulant()
    raise ValueError(kind)


# ---------------------------------------------------------------------------
# samplers
# ---------------------------------------------------------------------------


def rejection_sample(rng, size, log_target, proposal_sample, proposal_logpdf, log_M):
    """Exact rejection sampling of an unnormalised 1-d density.

    Requires log_target(y) - proposal_logpdf(y) <= log_M for all y.
    """
    out = np.empty(0)
    while out.size < size:
        want = int(1.3 * (size - out.size)) + 16
        y = proposal_sample(rng, want)
        logr = log_target(y) - proposal_logpdf(y) - log_M
        if np.any(logr > 1e-12):
            raise ValueError("envelope constant log_M too small")
        keep = np.log(rng.uniform(size=want)) < logr
        out = np.concatenate([out, y[keep]])
    return out[:size]


def inverse_cdf_sampler(pdf, lo, hi, n_grid=200001):
    """Return sample(rng, size) drawing from pdf on [lo, hi] by inverse CDF on a
    fine grid (linear interpolation of the trapezoid CDF)."""
    grid = np.linspace(lo, hi, n_grid)
    f = pdf(grid)
    cdf = np.concatenate([[0.0], np.cumsum(0.5 * (f[1:] + f[:-1]) * np.diff(grid))])
    cdf /= cdf[-1]

    def sample(rng, size):
        return np.interp(rng.uniform(size=size), cdf, grid)

    return sample


# ---------------------------------------------------------------------------
# quadrature helpers
# ---------------------------------------------------------------------------


def gh_normal(n=80):
    """Nodes/weights with sum_i w_i f(z_i) ~= E[f(Z)], Z ~ N(0, 1) (Gauss-Hermite_e)."""
    z, w = hermite_e.hermegauss(n)
    return z, w / np.sqrt(2.0 * np.pi)


def normal_expectation(f, mean=0.0, std=1.0, n=80):
    """E[f(Y)], Y ~ N(mean, std^2) by Gauss-Hermite (f vectorised)."""
    z, w = gh_normal(n)
    return np.sum(w * f(mean + std * z))


def normal_expectation_2d(f, means, stds, n=60):
    """E[f(Y1, Y2)] with independent normals, tensor Gauss-Hermite."""
    z, w = gh_normal(n)
    y1 = means[0] + stds[0] * z[:, None]
    y2 = means[1] + stds[1] * z[None, :]
    return np.sum(w[:, None] * w[None, :] * f(y1, y2))


def expectation_quad(f, pdf, lo, hi, eps=1e-13, **kw):
    """E[f(Y)] for a density pdf (need not be normalised) on (lo, hi) by quad
    (absolute and relative tolerance eps). Returns (value, abs error estimate)."""
    z, ez = integrate.quad(pdf, lo, hi, epsabs=eps, epsrel=eps, limit=400, **kw)
    v, ev = integrate.quad(lambda y: f(y) * pdf(y), lo, hi, epsabs=eps,
                           epsrel=eps, limit=400, **kw)
    val = v / z
    return val, abs(ev / z) + abs(val) * abs(ez / z)


def symmetric_charfun_quad(pdf, v):
    """E[cos(b v)] for an even density pdf on R (normalised), via the QAWF
    Fourier-integral routine: 2 int_0^inf pdf(b) cos(b v) db. Returns (value, err)."""
    if v == 0:
        val, err = integrate.quad(pdf, 0, np.inf, epsabs=1e-14, limit=400)
        return 2 * val, 2 * err
    with warnings.catch_warnings():
        # QAWF warns about "bad integrand behaviour" in far cycles for tiny
        # tolerances; the returned error estimate is still honest.
        warnings.simplefilter("ignore", integrate.IntegrationWarning)
        val, err = integrate.quad(pdf, 0, np.inf, weight="cos", wvar=abs(v),
                                  epsabs=1e-14, limlst=200)
    return 2 * val, 2 * err


def normal_uniform_expectation(f, b_std, c_lo, c_hi, n_gh=100):
    """E_b E_c[f(b, c)] with b ~ N(0, b_std^2) (Gauss-Hermite) and
    c ~ U[c_lo, c_hi] (scipy quad_vec). f(b_array, c_scalar) -> array.
    Returns (value, error estimate of the c-integral)."""
    z, w = gh_normal(n_gh)
    b = b_std * z
    val, err = integrate.quad_vec(lambda c: w * f(b, c), c_lo, c_hi,
                                  epsabs=1e-14, epsrel=1e-13)
    L = c_hi - c_lo
    return np.sum(val) / L, err / L


def cosnet_H_quad_d1(xs, sigma_b):
    """H(x_1..x_k) = E_b E_c[prod_k cos(b x_k + c)] for b ~ N(0, sigma_b^2),
    c ~ U[-pi, pi], scalar points xs (d = 1). Returns (value, err)."""
    xs = [float(x) for x in xs]

    def f(b, c):
        out = np.ones_like(b)
        for x in xs:
            out = out * np.cos(b * x + c)
        return out

    return normal_uniform_expectation(f, sigma_b, -np.pi, np.pi)


def gaussnet_H_quad_d1(xs, sigma_b, sigma_c, n=60):
    """H(x_1..x_k) = E[prod_k exp(b x_k + c) / exp(sigma_c^2 + sigma_b^2 x_k^2)]
    for b ~ N(0, sigma_b^2), c ~ N(0, sigma_c^2), d = 1, by 2-d Gauss-Hermite."""
    xs = np.asarray(xs, dtype=float)

    def f(b, c):
        out = np.ones(np.broadcast(b, c).shape)
        for x in xs:
            out = out * np.exp(b * x + c - sigma_c**2 - sigma_b**2 * x**2)
        return out

    return normal_expectation_2d(f, (0.0, 0.0), (sigma_b, sigma_c), n=n)


def cumulant_from_quad_moments(moment_of_subset, n):
    """Joint cumulant of (Y_1..Y_n) from a callable giving E[prod_{k in mask} Y_k]
    (mask a bitmask); returns (value, propagated abs error bound)."""
    m = np.zeros(1 << n)
    e = np.zeros(1 << n)
    m[0] = 1.0
    for mask in range(1, 1 << n):
        m[mask], e[mask] = moment_of_subset(mask)
    val = cumulant_from_subset_moments(m, n)
    # crude first-order error bound
    err = 0.0
    for part in set_partitions(n):
        k = len(part)
        coef = math.factorial(k - 1)
        for i, blk in enumerate(part):
            others = np.prod([abs(m[b]) for j, b in enumerate(part) if j != i])
            err += coef * e[blk] * others
    return float(val), float(err)
