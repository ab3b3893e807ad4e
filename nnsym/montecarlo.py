r"""Monte Carlo of real networks, sampled from the *same* :class:`~nnsym.Network`.

Two estimators of :math:`G^{(n)}` and :math:`G^{(n)}_c`:

* ``"network"`` draws whole width-N networks
  :math:`\phi(x) = \sum_i a_i h_i(x) (+ b_{\rm out})` (shared parameters drawn once
  per network) and estimates the moments and joint cumulants of :math:`\phi`.
* ``"neuron"`` (i.i.d. neurons only) draws single neurons and uses the exact
  identities :math:`G^{(n)}_c = N\,\kappa(a h(x_1),\dots,a h(x_n))` and
  :math:`G^{(n)} = \sum_\pi N^{\underline{|\pi|}}\prod_B E[\prod_{k\in B} a h(x_k)]`:
  its variance is smaller by about :math:`N^3` at equal cost for :math:`G^{(4)}_c`.

Both are plug-in estimators built from sample means of the products
:math:`\prod_{k\in B} Y_k` over all subsets :math:`B` (bias :math:`O(1/S)`);
when the network is :math:`Z_2` symmetric (even readout, even or no bias) the odd
moments are exactly zero and are used as such (less variance). Standard errors
come from the delete-one-batch jackknife.

Reproducibility: the draws are cut into fixed blocks, block ``j`` drawing from
``SeedSequence(seed).spawn(n_blocks)[j]``; each block's sums are reduced in block
order. Hence the same seed gives bit-identical numbers for any ``chunk_size``, and
on a Dask cluster (``client=``) as locally. Memory is bounded by one chunk.
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np
import sympy as sp

from .distributions import RandomVector, numeric_value
from .kernels import compile_kernel
from .networks import Network, _check_n, cumulant, width_sum_moment, with_bias
from .vectors import ScalarPoint

__all__ = ["monte_carlo", "MonteCarloEstimate", "NetworkSampler"]

_BLOCK_ELEMENTS = 1 << 21  # draws x points per block (about 16 MB per array)


# ----------------------------------------------------------------------------- the sampler
class NetworkSampler:
    """Numeric view of a :class:`Network`: parameter draws from the laws' numpy
    samplers and the neuron lambdified to numpy (in a stable form: products of
    exponentials merged into one, e.g. the Gauss-net normalisation)."""

    def __init__(self, net: Network, values: Mapping[str, Any], dim: int):
        self.net = net
        self.dim = int(dim)
        self.values = dict(values)
        dsym = net.dim if not net.dim.is_Integer else None
        if dsym is not None:
            self.values[dsym.name] = self.dim
        neuron = sp.powsimp(net.neuron, combine="exp")  # exp(u)/sqrt(exp(2v)) -> exp(u - v): no overflow
        self.params = [p for p in net.params if p != net.readout]
        hyper = sorted(neuron.free_symbols - set(self.params) - {net.input}, key=sp.default_sort_key)
        missing = [h.name for h in hyper if h.name not in self.values]
        if missing:
            raise ValueError(f"monte_carlo: missing value(s) for {', '.join(sorted(missing))}")
        self._hyper = [self.values[h.name] for h in hyper]
        self._h = compile_kernel(self.params + [net.input] + hyper, neuron)
        self.width = int(round(numeric_value(net.width, self.values, "width N")))
        # laws frozen to numbers once (no sympy in the sampling loop)
        self._frozen = {p: p.law.frozen(self.values) for p in net.params}
        if self.width < 1:
            raise ValueError(f"monte_carlo: the width must be >= 1, got {self.width}")

    def _draw(self, p, rng, batch):
        draw = self._frozen[p]
        if isinstance(p, RandomVector):
            return draw(rng, batch + (self.dim,)).reshape(batch + (1, self.dim))
        return draw(rng, batch).reshape(batch + (1,))

    def neuron_values(self, rng, S: int, points: np.ndarray) -> np.ndarray:
        r"""``S`` single-neuron draws of :math:`a\,h(x_m)` at ``points`` (shape (M, d)): (S, M)."""
        a = self._draw(self.net.readout, rng, (S,))
        theta = [self._draw(p, rng, (S,)) for p in self.params]
        with np.errstate(over="ignore", invalid="ignore"):
            return a * self._h(*theta, self._point_arg(points), *self._hyper)

    def field_values(self, rng, S: int, points: np.ndarray) -> np.ndarray:
        r"""``S`` whole-network draws of :math:`\phi(x_m)`: (S, M)."""
        N = self.width
        a = self._draw(self.net.readout, rng, (S, N)) if self.net.readout not in self.net.shared else \
            np.broadcast_to(self._draw(self.net.readout, rng, (S, 1)), (S, N, 1))
        theta = []
        for p in self.params:
            theta.append(self._draw(p, rng, (S, 1)) if p in self.net.shared else self._draw(p, rng, (S, N)))
        with np.errstate(over="ignore", invalid="ignore"):
            h = np.broadcast_to(self._h(*theta, self._point_arg(points), *self._hyper), (S, N, len(points)))
            phi = np.einsum("sn,snm->sm", np.broadcast_to(a[..., 0], (S, N)), h)
        if self.net.bias is not None:
            phi = phi + self.net.bias.law.sample(rng, (S, 1), self.values)
        return phi

    def _point_arg(self, points):
        return points[:, 0] if isinstance(self.net.input, ScalarPoint) else points


# ----------------------------------------------------------------------------- subset sums
def _subset_sums(Y: np.ndarray) -> np.ndarray:
    r"""For Y of shape (S, P, n): ``out[mask, p] = sum_s prod_{k in mask} Y[s, p, k]``
    for every subset mask of {0..n-1} (mask 0: the count). Depth-first with an explicit
    stack (only n products alive at a time), on a contiguous (n, P, S) copy so every
    reduction runs along the fastest axis."""
    S, P, n = Y.shape
    Yt = np.ascontiguousarray(np.moveaxis(Y, 0, -1).transpose(1, 0, 2))  # (n, P, S)
    out = np.zeros((1 << n, P))
    out[0] = S
    stack = [(None, 0, 0)]
    while stack:
        prod, mask, start = stack.pop()
        for k in range(start, n):
            nxt = Yt[k] if prod is None else prod * Yt[k]
            m = mask | (1 << k)
            out[m] = nxt.sum(axis=-1)
            if k + 1 < n:
                stack.append((nxt, m, k + 1))
    return out


def _moments_to_estimate(m: np.ndarray, n: int, connected: bool, method: str, N: int, bias_moments) -> np.ndarray:
    """Combine raw subset moments m[mask, p] into the requested correlator."""
    full_mask = (1 << n) - 1

    def mask(B):
        return sum(1 << k for k in B)

    def m_of(B):
        return m[mask(B)]

    if method == "network":
        return cumulant(range(n), m_of) if connected else m[full_mask]
    # neuron estimator: m are moments of one neuron's a h(x_k)
    if connected:
        return N * cumulant(range(n), m_of) + cumulant(range(n), lambda B: bias_moments[len(B)])

    def partition(blocks):  # distinct i.i.d. neurons per block: the moments factorise
        return np.prod([m_of(B) for B in blocks], axis=0)

    return with_bias(range(n), lambda sub: width_sum_moment(sub, partition, N), lambda k: bias_moments[k])


# ----------------------------------------------------------------------------- the work unit
@dataclass
class _Plan:
    net: Network
    n: int
    X: np.ndarray  # (P, n, d)
    values: dict
    method: str
    block_sizes: list
    seeds: list

    @property
    def blocks(self) -> int:
        return len(self.block_sizes)


_SAMPLERS: dict = {}


def _sampler(plan: _Plan) -> NetworkSampler:
    key = (id(plan.net), tuple(sorted((k, float(v)) for k, v in plan.values.items())), plan.X.shape[-1])
    s = _SAMPLERS.get(key)
    if s is None:
        if len(_SAMPLERS) > 32:
            _SAMPLERS.clear()
        s = _SAMPLERS[key] = NetworkSampler(plan.net, plan.values, plan.X.shape[-1])
    return s


def _run_blocks(plan: _Plan, first: int, last: int) -> np.ndarray:
    """Subset sums of blocks ``first..last-1``: array (last-first, 2^n, P)."""
    sampler = _sampler(plan)
    P, n, D = plan.X.shape
    pts = plan.X.reshape(P * n, D)
    out = np.empty((last - first, 1 << n, P))
    for j in range(first, last):
        rng = np.random.default_rng(plan.seeds[j])
        S = plan.block_sizes[j]
        Y = sampler.neuron_values(rng, S, pts) if plan.method == "neuron" else sampler.field_values(rng, S, pts)
        if not np.all(np.isfinite(Y)):
            bad = np.argwhere(~np.isfinite(Y.reshape(S, P, n)).any(axis=0))
            raise FloatingPointError(
                f"overflow or nan in the sampled {'neurons' if plan.method == 'neuron' else 'fields'} "
                f"at point set(s) {sorted({int(b[0]) for b in bad})[:10]} (e.g. a Gauss-net at large |x|): "
                "the estimate would be inf/nan; use smaller |x| or rescale the network"
            )
        out[j - first] = _subset_sums(Y.reshape(S, P, n))
    return out


# ----------------------------------------------------------------------------- results
@dataclass
class MonteCarloEstimate:
    """A Monte Carlo estimate at each point set.

    ``mean`` and ``stderr`` have shape ``X.shape[:-2]``; ``method`` says which
    estimator ran, ``samples`` how many of its units (neurons or networks) were
    drawn and ``neuron_evaluations`` what that cost.
    """

    mean: np.ndarray
    stderr: np.ndarray
    method: str
    samples: int
    neuron_evaluations: int
    n: int
    connected: bool
    batches: int
    seed: Any = None
    extra: dict = field(default_factory=dict)

    def z(self, exact) -> np.ndarray:
        """z-scores (mean - exact) / stderr."""
        return (self.mean - np.asarray(exact)) / self.stderr

    def __repr__(self):
        return (f"MonteCarloEstimate(method={self.method!r}, samples={self.samples}, n={self.n}, "
                f"connected={self.connected}, mean={self.mean}, stderr={self.stderr})")


def _layout(samples: int, batches: int, S_per_block_max: int) -> list:
    """Block sizes: at least ``batches`` blocks, each at most ``S_per_block_max`` draws,
    a multiple of ``batches`` blocks (so batches are equal groups of whole blocks)."""
    nb = max(batches, math.ceil(samples / S_per_block_max))
    nb = math.ceil(nb / batches) * batches
    base, extra = divmod(samples, nb)
    return [base + (1 if j < extra else 0) for j in range(nb)]


def monte_carlo(
    net: Network,
    n: int,
    X,
    connected: bool = False,
    samples: int = 10**6,
    seed: int | None = 0,
    method: str = "auto",
    batches: int = 32,
    chunk_size: int | None = None,
    client=None,
    progress: bool = False,
    **values,
) -> MonteCarloEstimate:
    r"""Estimate :math:`G^{(n)}` (or :math:`G^{(n)}_c`) of ``net`` at point sets ``X`` (shape (..., n, d)).

    ``method``: ``"neuron"`` (i.i.d. neurons only), ``"network"`` or ``"auto"``
    (neuron when valid). ``samples`` counts the estimator's units. ``chunk_size``
    (draws per task) bounds memory and does not change the result; ``client``
    (a ``dask.distributed.Client`` or a scheduler address) runs the chunks as
    Dask tasks; ``progress=True`` shows a tqdm bar. Hyper-parameter values by name.

    >>> import numpy as np, nnsym as ns
    >>> est = ns.monte_carlo(ns.zoo.cos_net(2), 2, np.zeros((1, 2, 2)), samples=20000,
    ...                      sigma_a=1.0, sigma_b=0.7, N=10)
    >>> est.method, bool(abs(est.mean[0] - 0.5) < 5 * est.stderr[0])
    ('neuron', True)
    """
    n = _check_n(n)
    if not isinstance(net, Network):
        raise TypeError(f"monte_carlo needs an nnsym.Network, got {type(net).__name__}")
    X = np.asarray(X, dtype=float)
    if X.ndim < 2 or X.shape[-2] != n:
        raise ValueError(f"points must have shape (..., {n}, d) for a {n}-point function, got {X.shape}")
    if net.dim.is_Integer and X.shape[-1] != int(net.dim):
        raise ValueError(f"points must have shape (..., {n}, {net.dim}) in d = {net.dim}, got {X.shape}")
    if not np.all(np.isfinite(X)):
        raise ValueError("points contain inf or nan")
    if method not in ("auto", "neuron", "network"):
        raise ValueError(f"method must be 'auto', 'neuron' or 'network', got {method!r}")
    if method == "auto":
        method = "neuron" if net.iid else "network"
    if method == "neuron" and not net.iid:
        raise ValueError("the neuron estimator needs i.i.d. neurons; this network shares "
                         f"{', '.join(map(str, net.shared))}: use method='network'")
    samples = int(samples)
    if samples < 2 * batches:
        raise ValueError(f"samples must be at least 2*batches = {2 * batches}, got {samples}")
    if samples < 256 * batches:
        warnings.warn(f"only {samples // batches} draws per jackknife batch: standard errors of "
                      "connected functions may be underestimated (use >= 256 per batch)", stacklevel=2)
    batch_shape = X.shape[:-2]
    P = int(np.prod(batch_shape)) if batch_shape else 1
    Xf = X.reshape(P, n, X.shape[-1])
    if net.dim.is_Symbol:
        values = {**values, net.dim.name: X.shape[-1]}

    probe = NetworkSampler(net, values, X.shape[-1])  # validates values early
    N = probe.width
    per_draw = P * n * (N if method == "network" else 1)
    block_sizes = _layout(samples, batches, max(1, _BLOCK_ELEMENTS // per_draw))
    seeds = np.random.SeedSequence(seed).spawn(len(block_sizes))
    plan = _Plan(net, n, Xf, dict(values), method, block_sizes, seeds)

    nb = plan.blocks
    per_chunk = nb if chunk_size is None else max(1, int(chunk_size) // max(1, block_sizes[0]))
    chunks = [(s, min(nb, s + per_chunk)) for s in range(0, nb, per_chunk)]
    sums = np.empty((nb, 1 << n, P))
    if client is not None:
        from .distributed import run_on_dask

        for (s, e), part in zip(chunks, run_on_dask(client, plan, chunks, progress)):
            sums[s:e] = part
    else:
        bar = _progress(progress, samples)
        for s, e in chunks:
            sums[s:e] = _run_blocks(plan, s, e)
            if bar is not None:
                bar.update(sum(block_sizes[s:e]))
        if bar is not None:
            bar.close()

    if _z2_symmetric(net):  # odd moments are exactly 0 (known without integrating): use the exact value
        odd = [mask for mask in range(1 << n) if bin(mask).count("1") % 2]
        sums[:, odd, :] = 0.0
    bias_moments = [1.0] + [
        (numeric_value(net.bias.law.moment(k), values, "bias moment") if net.bias is not None else 0.0)
        for k in range(1, n + 1)
    ]
    # jackknife over equal batches of whole blocks
    per_batch = nb // batches
    batch_sums = sums.reshape(batches, per_batch, 1 << n, P).sum(axis=1)
    total = batch_sums.sum(axis=0)
    est = _moments_to_estimate(total / total[0], n, connected, method, N, bias_moments)
    jk = np.array([
        _moments_to_estimate((total - batch_sums[b]) / (total[0] - batch_sums[b][0]), n, connected, method, N, bias_moments)
        for b in range(batches)
    ])
    stderr = np.sqrt((batches - 1) / batches * np.sum((jk - jk.mean(axis=0)) ** 2, axis=0))
    est = np.broadcast_to(est, (P,))
    stderr = np.broadcast_to(stderr, (P,))
    return MonteCarloEstimate(
        mean=np.array(est).reshape(batch_shape),
        stderr=np.array(stderr).reshape(batch_shape),
        method=method,
        samples=samples,
        neuron_evaluations=samples * P * n * (N if method == "network" else 1),
        n=n,
        connected=connected,
        batches=batches,
        seed=seed,
    )


def _z2_symmetric(net: Network) -> bool:
    r"""phi -> -phi symmetry: an even readout independent of the neuron (and an even bias or none)."""
    from .distributions import random_atoms

    a = net.readout
    return (a.law.is_even and a not in random_atoms(net.neuron) and a not in net.shared
            and (net.bias is None or net.bias.law.is_even))


def _progress(progress: bool, total: int):
    if not progress:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        warnings.warn("progress=True needs tqdm (pip install 'nnsym[progress]')", stacklevel=3)
        return None
    return tqdm(total=total, unit="draws")
