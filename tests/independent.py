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
from scipy import integrate, special

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
        self.nonzero = []  # per batch: draws whose full product Y_1...Y_n is non-zero
        self.square_sums = []  # per batch: sum of (Y_1...Y_n)^2
        self.square_tops = []  # per batch: max of (Y_1...Y_n)^2

    def add(self, Y: np.ndarray) -> None:
        Y = np.asarray(Y, dtype=float)
        assert Y.shape[-1] == self.n
        self.sums.append(subset_product_sums(Y))
        self.counts.append(Y.shape[-2])
        full = np.prod(Y, axis=-1)
        self.nonzero.append(np.count_nonzero(full, axis=-1))
        with np.errstate(over="ignore"):
            sq = full**2
        self.square_sums.append(sq.sum(axis=-1))
        self.square_tops.append(sq.max(axis=-1, initial=0.0))

    def trusted(self, min_nonzero: int = 50, max_share: float = 0.25) -> np.ndarray:
        """Whether the jackknife error of the estimate can be believed, per point set.

        A product that is non-zero only in rare draws (a ReLU firing in a far tail) is seen a
        handful of times: its jackknife error is then itself wrong, by orders of magnitude. Trusted:
        no non-zero draw at all (the estimate 0 +- 0 is judged at the caller's resolution), or at
        least ``min_nonzero`` of them with no single draw holding more than ``max_share`` of the
        sum of squares."""
        nz = np.sum(self.nonzero, axis=0)
        sq = np.sum(self.square_sums, axis=0)
        top = np.max(self.square_tops, axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            share = np.where(sq > 0, top / np.where(sq > 0, sq, 1.0), 0.0)
        return (nz == 0) | ((nz >= min_nonzero) & (share <= max_share) & np.isfinite(sq))

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


def single_neuron_moment(X, draw, neuron, seed, n_samples=10**6, n_batches=50, trust=False):
    """E[prod_k a h(x_k)] for one neuron: (estimate, stderr) of shape (P,); with ``trust``, also
    :meth:`SubsetMomentAccumulator.trusted`."""
    acc = single_neuron_accumulator(X, draw, neuron, seed, n_samples, n_batches)
    return (*acc.moment(), acc.trusted()) if trust else acc.moment()


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


# ---------------------------------------------------------------------------
# laws described by name (the random-architecture fuzzer, tests/test_fuzz.py)
# ---------------------------------------------------------------------------
# A law is ``(kind, args)`` with float args:
#   ("normal", (mean, var)), ("uniform", (lo, hi)), ("laplace", (loc, scale)),
#   ("cauchy", (loc, scale)), ("density", (key,)) with ``key`` in DENSITIES.
# Everything is written from the textbook definitions of the laws, with numpy's
# own generators (or exact rejection / inverse-transform samplers).


def _reject_uniform(rng, size, lo, hi, accept_prob):
    """Exact rejection sampling from a density proportional to accept_prob(y) <= 1 on [lo, hi]."""
    size = int(np.prod(size)) if np.ndim(size) else int(size)
    out = np.empty(0)
    while out.size < size:
        want = 2 * (size - out.size) + 16
        y = rng.uniform(lo, hi, want)
        out = np.concatenate([out, y[rng.uniform(size=want) < accept_prob(y)]])
    return out[:size]


def _shaped(sampler):
    def sample(rng, size):
        shape = (size,) if np.isscalar(size) else tuple(size)
        return sampler(rng, int(np.prod(shape))).reshape(shape)

    return sample


#: user densities (unnormalised pdf on (lo, hi)), with an exact sampler and the
#: open interval of s where E[exp(s b)] is finite
DENSITIES = {
    # 1 - b^2 on (-1, 1) (Epanechnikov)
    "epan": dict(pdf=lambda b: 1.0 - b**2, lo=-1.0, hi=1.0, mgf=(-np.inf, np.inf),
                 sample=_shaped(lambda rng, m: _reject_uniform(rng, m, -1.0, 1.0, lambda y: 1.0 - y**2))),
    # 1 - |b| on (-1, 1) (triangular)
    "tri": dict(pdf=lambda b: 1.0 - np.abs(b), lo=-1.0, hi=1.0, mgf=(-np.inf, np.inf),
                sample=lambda rng, size: rng.triangular(-1.0, 0.0, 1.0, size)),
    # b^2 on (0, 1): b = U^(1/3)
    "cubic": dict(pdf=lambda b: b**2, lo=0.0, hi=1.0, mgf=(-np.inf, np.inf),
                  sample=lambda rng, size: rng.uniform(size=size) ** (1.0 / 3.0)),
    # exp(-b^2) on (-1, 2) (a truncated Gaussian)
    "truncnorm": dict(pdf=lambda b: np.exp(-b**2), lo=-1.0, hi=2.0, mgf=(-np.inf, np.inf),
                      sample=_shaped(lambda rng, m: _reject_uniform(rng, m, -1.0, 2.0, lambda y: np.exp(-y**2)))),
    # b exp(-b) on (0, oo): Gamma(2, 1)
    "gamma2": dict(pdf=lambda b: b * np.exp(-b), lo=0.0, hi=np.inf, mgf=(-np.inf, 1.0),
                   sample=lambda rng, size: rng.gamma(2.0, 1.0, size)),
    # exp(-|b|) on R (a Laplace law written as a density)
    "laplace1": dict(pdf=lambda b: np.exp(-np.abs(b)), lo=-np.inf, hi=np.inf, mgf=(-1.0, 1.0),
                     sample=lambda rng, size: rng.laplace(0.0, 1.0, size)),
    # exp(-b^2/2) on (0, oo) (half-normal)
    "halfnormal": dict(pdf=lambda b: np.exp(-b**2 / 2), lo=0.0, hi=np.inf, mgf=(-np.inf, np.inf),
                       sample=lambda rng, size: np.abs(rng.standard_normal(size))),
    # 1/cosh(b) on R (hyperbolic secant law): b = log(tan(pi U / 2))
    "sech": dict(pdf=lambda b: 2.0 * np.exp(-np.abs(b)) / (1.0 + np.exp(-2.0 * np.abs(b))),
                 lo=-np.inf, hi=np.inf, mgf=(-1.0, 1.0),
                 sample=lambda rng, size: np.log(np.tan(np.pi * rng.uniform(size=size) / 2))),
}


@lru_cache(maxsize=None)
def _density_norm(key):
    spec = DENSITIES[key]
    z, _ = integrate.quad(spec["pdf"], spec["lo"], spec["hi"], epsabs=1e-14, epsrel=1e-13, limit=200)
    return z


def law_sample(rng, kind, args, size):
    """Draws of the law ``(kind, args)``; ``size`` an int or a shape tuple."""
    if kind == "normal":
        mean, var = args
        return rng.normal(mean, np.sqrt(var), size)
    if kind == "uniform":
        lo, hi = args
        return rng.uniform(lo, hi, size)
    if kind == "laplace":
        loc, scale = args
        return rng.laplace(loc, scale, size)
    if kind == "cauchy":
        loc, scale = args
        return loc + scale * rng.standard_cauchy(size)
    if kind == "density":
        return DENSITIES[args[0]]["sample"](rng, size)
    raise ValueError(kind)


def law_pdf(kind, args):
    """(normalised pdf, lo, hi) of the law."""
    if kind == "normal":
        mean, var = args
        return (lambda b: np.exp(-(b - mean) ** 2 / (2 * var)) / np.sqrt(2 * np.pi * var)), -np.inf, np.inf
    if kind == "uniform":
        lo, hi = args
        return (lambda b: np.full(np.shape(b), 1.0 / (hi - lo))), lo, hi
    if kind == "laplace":
        loc, scale = args
        return (lambda b: np.exp(-np.abs(b - loc) / scale) / (2 * scale)), -np.inf, np.inf
    if kind == "cauchy":
        loc, scale = args
        return (lambda b: scale / (np.pi * ((b - loc) ** 2 + scale**2))), -np.inf, np.inf
    if kind == "density":
        spec = DENSITIES[args[0]]
        z = _density_norm(args[0])
        f = spec["pdf"]
        return (lambda b: f(b) / z), spec["lo"], spec["hi"]
    raise ValueError(kind)


def law_mgf_domain(kind, args):
    """Open interval (s_lo, s_hi) of the real s with E[exp(s b)] finite (None: no mgf at all)."""
    if kind in ("normal", "uniform"):
        return (-np.inf, np.inf)
    if kind == "laplace":
        return (-1.0 / args[1], 1.0 / args[1])
    if kind == "cauchy":
        return None
    if kind == "density":
        return DENSITIES[args[0]]["mgf"]
    raise ValueError(kind)


def law_has_moments(kind, args) -> bool:
    """All moments finite."""
    return kind != "cauchy"


def law_moment(kind, args, k):
    """Raw moment E[b^k] (closed forms from the definitions; quadrature for densities)."""
    k = int(k)
    if k == 0:
        return 1.0
    if kind == "normal":
        mean, var = args
        m = [1.0, mean]  # m_k = mean m_{k-1} + (k-1) var m_{k-2}
        for j in range(2, k + 1):
            m.append(mean * m[j - 1] + (j - 1) * var * m[j - 2])
        return m[k]
    if kind == "uniform":
        lo, hi = args
        return (hi ** (k + 1) - lo ** (k + 1)) / ((k + 1) * (hi - lo))
    if kind == "laplace":
        loc, scale = args  # E[(loc + scale L)^k], E[L^j] = j! (even j), 0 (odd j)
        return float(sum(math.comb(k, j) * loc ** (k - j) * scale**j * math.factorial(j)
                         for j in range(0, k + 1, 2)))
    if kind == "cauchy":
        return np.nan
    if kind == "density":
        pdf, lo, hi = law_pdf(kind, args)
        v, _ = integrate.quad(lambda b: b**k * pdf(b), lo, hi, epsabs=1e-14, epsrel=1e-13, limit=200)
        return v
    raise ValueError(kind)


def law_cumulant(kind, args, k):
    """k-th cumulant of the law, from its raw moments (Moebius over set partitions)."""
    m = np.array([law_moment(kind, args, bin(mask).count("1")) for mask in range(1 << k)])
    return float(cumulant_from_subset_moments(m, k))


# ---------------------------------------------------------------------------
# correlators of a width-N network from the moments of ONE neuron
# ---------------------------------------------------------------------------
#   m[..., mask] = E[prod_{k in mask} a h(x_k)]   (one neuron; bitmask over the n points)
# Full moments: G^(n) = sum_pi N (N-1) ... (N-|pi|+1) prod_{B in pi} m_B (distinct i.i.d.
# neurons per block); connected: G_c^(n) = N kappa(a h(x_1), ..., a h(x_n)).
# An independent output bias beta with raw moments mb[k] adds
#   G^(n) = sum_{S} mb[|S|] G_sum(complement of S),   G_c^(n) += kappa_n(beta).


def _mask_partitions(mask):
    """Set partitions of the set bits of ``mask``, as tuples of sub-masks."""
    bits = [1 << j for j in range(mask.bit_length()) if mask >> j & 1]
    out = []
    for part in set_partitions(len(bits)):
        out.append(tuple(sum(bits[j] for j in range(len(bits)) if blk >> j & 1) for blk in part))
    return out


def _falling(N, k):
    out = 1.0
    for j in range(k):
        out *= N - j
    return out


def network_correlator_from_neuron_moments(m, n, N, connected=False, bias_moments=None):
    """G^(n) or G_c^(n) of a width-N network of i.i.d. neurons from the one-neuron subset
    moments ``m`` (..., 2**n); ``bias_moments[k] = E[beta^k]`` for an output bias.
    Returns (value, scale) with scale = sum of the absolute values of the terms
    (the size of the cancellations, for a rounding floor)."""
    m = np.asarray(m, dtype=float)
    full = (1 << n) - 1

    def sum_moment(mask):
        val = np.zeros(m.shape[:-1])
        scl = np.zeros(m.shape[:-1])
        if mask == 0:
            return val + 1.0, scl + 1.0
        for part in _mask_partitions(mask):
            t = np.full(m.shape[:-1], _falling(N, len(part)))
            for blk in part:
                t = t * m[..., blk]
            val, scl = val + t, scl + np.abs(t)
        return val, scl

    if connected:
        val = np.zeros(m.shape[:-1])
        scl = np.zeros(m.shape[:-1])
        for part in set_partitions(n):
            k = len(part)
            t = np.full(m.shape[:-1], float((-1) ** (k - 1) * math.factorial(k - 1)))
            for blk in part:
                t = t * m[..., blk]
            val, scl = val + t, scl + np.abs(t)
        val, scl = N * val, N * scl
        if bias_moments is not None:
            mb = np.array([bias_moments[bin(mask).count("1")] for mask in range(1 << n)])
            kb = float(cumulant_from_subset_moments(mb, n))
            val, scl = val + kb, scl + abs(kb)
        return val, scl
    if bias_moments is None:
        return sum_moment(full)
    val = np.zeros(m.shape[:-1])
    scl = np.zeros(m.shape[:-1])
    for S in range(1 << n):  # S: the points taken by the bias
        mb = bias_moments[bin(S).count("1")]
        if mb == 0:
            continue
        v, s = sum_moment(full & ~S)
        val, scl = val + mb * v, scl + abs(mb) * s
    return val, scl


def single_neuron_network_correlator(X, draw, neuron, N, seed, connected=False, bias_moments=None,
                                     n_samples=10**6, n_batches=50, trust=False):
    """Monte Carlo of G^(n) (or G_c^(n)) of a width-N network of i.i.d. neurons from samples of ONE
    neuron: the jackknifed plug-in of :func:`network_correlator_from_neuron_moments`.
    Returns (estimate, stderr), each of shape (P,); with ``trust``, also
    :meth:`SubsetMomentAccumulator.trusted`."""
    X = np.asarray(X, dtype=float)
    n = X.shape[1]
    acc = single_neuron_accumulator(X, draw, neuron, seed, n_samples, n_batches)
    out = acc._jackknife(lambda m: network_correlator_from_neuron_moments(m, n, N, connected, bias_moments)[0])
    return (*out, acc.trusted()) if trust else out


def subset_products(H):
    """H (..., n) -> (..., 2**n): prod_{k in mask} H[..., k] for every bitmask."""
    H = np.asarray(H)
    n = H.shape[-1]
    out = np.empty(H.shape[:-1] + (1 << n,), dtype=H.dtype)
    out[..., 0] = 1.0
    for mask in range(1, 1 << n):
        low = (mask & -mask).bit_length() - 1
        out[..., mask] = out[..., mask & (mask - 1)] * H[..., low]
    return out


def neuron_subset_moments_quad(neuron_1d, pdf, lo, hi, X, eps=1e-11):
    """E_b[prod_{k in mask} h(b; x_k)] for every bitmask and point set, ONE scalar parameter b
    with density ``pdf`` on (lo, hi), by adaptive Gauss-Kronrod (scipy quad_vec, vectorised over
    masks and point sets). ``neuron_1d(b, X)`` takes a float b and X (P, n, d), returns (P, n).
    Returns (moments (P, 2**n), abs error estimate (P, 2**n))."""
    X = np.asarray(X, dtype=float)
    P, n = X.shape[:2]

    def f(b):
        w = float(pdf(b))
        if w == 0.0:  # far in the tails (the integrand's growth is checked by the caller)
            return np.zeros(P << n)
        with np.errstate(over="ignore", invalid="ignore"):
            return (w * subset_products(neuron_1d(b, X))).ravel()

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", integrate.IntegrationWarning)
        val, err = integrate.quad_vec(f, lo, hi, epsabs=eps, epsrel=eps, norm="max", limit=20000)
    val = np.asarray(val).reshape(P, 1 << n)
    # quad_vec's error is a norm over the vector: take it for every entry (conservative)
    return val, np.full(val.shape, float(err))


def gauss_rule(kind, args, n):
    """A Gauss rule (nodes, weights summing to 1) with sum w f(b) ~= E[f(b)], exponentially
    accurate for smooth f, or None when the law has no such rule here.
    normal: Gauss-Hermite; uniform and finite-support smooth densities: Gauss-Legendre
    (with the density as a factor of the weights); laplace: Gauss-Laguerre on each side of loc;
    the triangle: Gauss-Legendre on each side of its kink."""
    if kind == "normal":
        z, w = gh_normal(n)
        mean, var = args
        return mean + np.sqrt(var) * z, w
    if kind == "uniform":
        lo, hi = args
        t, w = np.polynomial.legendre.leggauss(n)
        return lo + (hi - lo) * (t + 1) / 2, w / 2
    if kind == "laplace":
        loc, scale = args
        u, w = np.polynomial.laguerre.laggauss(n)
        return np.concatenate([loc + scale * u, loc - scale * u]), np.concatenate([w, w]) / 2
    if kind == "density" and args[0] in ("epan", "cubic", "truncnorm", "tri"):
        pdf, lo, hi = law_pdf(kind, args)
        t, w = np.polynomial.legendre.leggauss(n)
        pieces = [(lo, 0.0), (0.0, hi)] if args[0] == "tri" else [(lo, hi)]
        nodes, weights = [], []
        for a, b in pieces:
            y = a + (b - a) * (t + 1) / 2
            nodes.append(y)
            weights.append(w * (b - a) / 2 * pdf(y))
        nodes, weights = np.concatenate(nodes), np.concatenate(weights)
        return nodes, weights / weights.sum()
    return None


def neuron_subset_moments_rule(neuron, rules, X):
    """E[prod_{k in mask} h(x_k)] for every bitmask by a tensor product of Gauss rules.

    ``rules`` maps parameter names to (nodes, weights) (scalar parameters only);
    ``neuron(p, X)`` as for the Monte Carlo estimators (p arrays with leading dimension K,
    the number of tensor nodes). Returns (P, 2**n)."""
    names = list(rules)
    grids = np.meshgrid(*[rules[k][0] for k in names], indexing="ij")
    wgrid = np.ones(grids[0].shape)
    for g in np.meshgrid(*[rules[k][1] for k in names], indexing="ij"):
        wgrid = wgrid * g
    p = {k: g.ravel() for k, g in zip(names, grids)}
    h = neuron(p, X)  # (P, K, n)
    return np.einsum("k,pkm->pm", wgrid.ravel(), subset_products(h))


# ---------------------------------------------------------------------------
# Gaussian orthant moments (Owen's T), independent of nnsym
# ---------------------------------------------------------------------------


def bvn_cdf(h, k, rho):
    """P(X <= h, Y <= k), standard bivariate normal with correlation rho (Owen's T function)."""
    if h == 0 and k == 0:
        return 0.25 + math.asin(rho) / (2 * math.pi)
    h = h if h != 0 else math.copysign(1e-300, k)
    k = k if k != 0 else math.copysign(1e-300, h)
    s = math.sqrt(1 - rho * rho)
    beta = 0.0 if h * k > 0 else 0.5
    return (0.5 * (special.ndtr(h) + special.ndtr(k)) - special.owens_t(h, (k - rho * h) / (h * s))
            - special.owens_t(k, (h - rho * k) / (k * s)) - beta)


def orthant_sign_moment_4(R):
    """E[sgn y1 sgn y2 sgn y3 sgn y4], y ~ N(0, R), independently of nnsym: given (y1, y2) the pair
    (y3, y4) is Gaussian with E[sgn y3 sgn y4 | .] = 1 - 2P(y3<0) - 2P(y4<0) + 4P(y3<0, y4<0) (Owen's T);
    the remaining 2-dim integral in polar coordinates, split where y1 or y2 changes sign."""
    R = np.asarray(R, float)
    S11, S12, S22 = R[:2, :2], R[:2, 2:], R[2:, 2:]
    M = np.linalg.solve(S11, S12).T
    Sc = S22 - S12.T @ np.linalg.solve(S11, S12)
    s3, s4 = math.sqrt(Sc[0, 0]), math.sqrt(Sc[1, 1])
    rc = Sc[0, 1] / (s3 * s4)
    L = np.linalg.cholesky(S11)

    def g(y):
        m3, m4 = M @ y
        h, k = -m3 / s3, -m4 / s4
        return 1 - 2 * special.ndtr(h) - 2 * special.ndtr(k) + 4 * bvn_cdf(h, k, rc)

    cuts = {0.0, 2 * math.pi}
    for a1, a2 in L:
        t0 = math.atan2(-a1, a2) % math.pi
        cuts |= {t0, t0 + math.pi}
    cuts = sorted(cuts)

    def inner(t):
        w = L @ np.array([math.cos(t), math.sin(t)])
        f = lambda r: g(r * w) * r * math.exp(-r * r / 2)
        return np.sign(w[0]) * np.sign(w[1]) * integrate.quad(f, 0, np.inf, epsabs=1e-14, epsrel=1e-12, limit=200)[0]

    return sum(integrate.quad(inner, lo, hi, epsabs=1e-14, epsrel=1e-12, limit=200)[0]
               for lo, hi in zip(cuts[:-1], cuts[1:]) if hi - lo > 1e-15) / (2 * math.pi)


# ----------------------------------------------------------------------------- Gaussian pair kernels
def relu_P(k11, k12, k22):
    """docs/conventions.md: E[relu(u) relu(v)] = sqrt(k11 k22)/(2 pi) (sin t + (pi - t) cos t)."""
    c = np.clip(k12 / np.sqrt(k11 * k22), -1, 1)
    t = np.arccos(c)
    return np.sqrt(k11 * k22) / (2 * np.pi) * (np.sin(t) + (np.pi - t) * c)


def erf_P(k11, k12, k22):
    """docs/conventions.md: E[erf(u) erf(v)] = (2/pi) arcsin(2 k12 / sqrt((1 + 2 k11)(1 + 2 k22)))."""
    return 2 / np.pi * np.arcsin(2 * k12 / np.sqrt((1 + 2 * k11) * (1 + 2 * k22)))


def relu_moments(k11, k12, k22):
    """(E[relu(u) relu(v)], E[relu'(u) relu'(v)]) = (relu_P, (pi - t)/(2 pi)), cos t = rho, in one pass
    (the benchmarks' hand-written baseline uses it too)."""
    s = np.sqrt(k11 * k22)
    c = np.clip(k12 / s, -1, 1)
    t = np.arccos(c)
    return s / (2 * np.pi) * (np.sqrt(1 - c * c) + (np.pi - t) * c), (np.pi - t) / (2 * np.pi)


def erf_moments(k11, k12, k22):
    """(E[erf(u) erf(v)], E[erf'(u) erf'(v)]) = (erf_P, (4/pi)/sqrt((1 + 2 k11)(1 + 2 k22) - 4 k12^2))."""
    a = (1 + 2 * k11) * (1 + 2 * k22)
    return 2 / np.pi * np.arcsin(2 * k12 / np.sqrt(a)), 4 / np.pi / np.sqrt(a - 4 * k12 * k12)


def deep_gram(moments, X, depth, sw, sb):
    """NNGP and NTK Gram matrices of a depth-L MLP (NTK parameterisation) by the textbook layer
    recursion: K1 = sb^2 + sw^2 X X^T/d, K <- sb^2 + sw^2 P, Theta <- K + sw^2 Theta P'."""
    K = sb**2 + sw**2 * (X @ X.T) / X.shape[1]
    T = K
    for _ in range(depth):
        kd = np.diag(K)
        P, Pd = moments(kd[:, None], K, kd[None, :])
        Kn = sb**2 + sw**2 * P
        T, K = Kn + sw**2 * T * Pd, Kn
    return K, T


# ----------------------------------------------------------------------------- a long synthetic sum
def synthetic_sum(terms: int, xs):
    r"""``terms`` distinct products :math:`c_j e^{-r_j (x_a - x_b)^2}\cos(x_c - s_j x_d)` of the 8 sympy
    symbols ``xs``, built unevaluated (fast), and their parameters ``(idx, c, r, s)`` for numpy
    (:func:`synthetic_sum_terms`)."""
    import sympy as sp

    idx = np.array([[j % 8, (3 * j + 1) % 8, (5 * j + 2) % 8, (7 * j + 3) % 8] for j in range(terms)])
    c = [sp.Rational(j + 1, 7 * j + 3) for j in range(terms)]
    r = [sp.Rational(j + 1, 10 * terms) for j in range(terms)]
    s = [sp.Rational(j, 3 * terms) for j in range(terms)]
    out = []
    for j, (a, b, cc, d) in enumerate(idx):
        diff = sp.Add(xs[a], sp.Mul(-1, xs[b], evaluate=False), evaluate=False)
        gauss = sp.exp(sp.Mul(-r[j], sp.Pow(diff, 2, evaluate=False), evaluate=False), evaluate=False)
        wave = sp.cos(sp.Add(xs[cc], sp.Mul(-s[j], xs[d], evaluate=False), evaluate=False), evaluate=False)
        out.append(sp.Mul(c[j], gauss, wave, evaluate=False))
    return sp.Add(*out, evaluate=False), (idx, *(np.array([float(v) for v in p]) for p in (c, r, s)))


def synthetic_sum_terms(params, X):
    """The terms of :func:`synthetic_sum` evaluated one by one in numpy, X: (8, P) -> (terms, P)."""
    idx, c, r, s = params
    a, b, cc, d = (X[idx[:, k]] for k in range(4))
    return c[:, None] * np.exp(-r[:, None] * (a - b) ** 2) * np.cos(cc - s[:, None] * d)
