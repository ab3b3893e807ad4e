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

Trust: an estimand that needs a moment the laws do not have (e.g. :math:`E[a^2]` of a Cauchy
readout for :math:`G^{(2)}`) is refused with :class:`~nnsym.DivergentExpectation` before any
draw. After sampling, :class:`UnreliableErrorWarning` says when the jackknife error cannot be
trusted because rare draws dominate (see :func:`_trust`); the statistics are in ``extra``.

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

from ..core.laws import RandomVector, numeric_value
from ..engine.expectation import DivergentExpectation, growth_degree
from ..numeric.kernels import NumericWarning, as_points, as_values, check_values, compile_kernel
from ..model.network import Network, _check_n, cumulant, width_sum_moment, with_bias
from ..core.vectors import ScalarPoint

__all__ = ["monte_carlo", "MonteCarloEstimate", "NetworkSampler", "UnreliableErrorWarning"]


class UnreliableErrorWarning(NumericWarning):
    """The Monte Carlo standard error is not trustworthy: the estimate is dominated by a few
    rare draws (a heavy-tailed integrand, e.g. the Gauss-net at large sigma_b), so the
    jackknife error (and any z-score built on it) can be far too small."""

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
        width = numeric_value(net.width, self.values, "width N")
        if width != round(width) or width < 1:
            raise ValueError(f"monte_carlo: the width {net.width} must be a positive integer, got {width:g}")

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
def _subset_sums(Y: np.ndarray, full_sq: np.ndarray | None = None) -> np.ndarray:
    r"""For Y of shape (S, P, n): ``out[mask, p] = sum_s prod_{k in mask} Y[s, p, k]``
    for every subset mask of {0..n-1} (mask 0: the count). Depth-first with an explicit
    stack (only n products alive at a time), on a contiguous (n, P, S) copy so every
    reduction runs along the fastest axis. ``full_sq`` (2, P), if given, receives the sum and the
    maximum over draws of the squared product over all n points."""
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
            if full_sq is not None and m == (1 << n) - 1:
                with np.errstate(over="ignore"):
                    sq = nxt * nxt
                full_sq[0], full_sq[1] = sq.sum(axis=-1), sq.max(axis=-1)
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
    r"""Subset sums of blocks ``first..last-1``: array (last-first, 2^n + 2, P); ``[:, :2^n]`` the
    subset sums, ``[:, 2^n]`` the sum and ``[:, 2^n + 1]`` the maximum of the squared full product
    :math:`(\prod_k Y_k)^2` (for the trust check)."""
    sampler = _sampler(plan)
    P, n, D = plan.X.shape
    pts = plan.X.reshape(P * n, D)
    out = np.empty((last - first, (1 << n) + 2, P))
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
        out[j - first, : 1 << n] = _subset_sums(Y.reshape(S, P, n), out[j - first, 1 << n:])
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
    Dask tasks; ``progress=True`` shows a tqdm bar. Hyper-parameter values by name; a keyword
    that is neither an option nor a hyper-parameter of ``net`` raises ``TypeError``.

    Raises :class:`~nnsym.DivergentExpectation` when the estimand needs a moment that does not
    exist (a Cauchy readout); warns :class:`UnreliableErrorWarning` when the standard error is
    dominated by rare draws (``extra["max_draw_share"]``, ``extra["second_moment_ratio"]``).

    >>> import numpy as np, nnsym as ns
    >>> est = ns.monte_carlo(ns.zoo.cos_net(2), 2, np.zeros((1, 2, 2)), samples=20000,
    ...                      sigma_a=1.0, sigma_b=0.7, N=10)
    >>> est.method, bool(abs(est.mean[0] - 0.5) < 5 * est.stderr[0])
    ('neuron', True)
    """
    if not isinstance(net, Network):
        raise TypeError(f"monte_carlo needs an nnsym.Network, got {type(net).__name__}")
    n = _check_n(n)
    check_value_names(net, values, "monte_carlo", _MC_OPTIONS)
    values = as_values(values, "monte_carlo")
    check_values([h for h in net.hyperparameters if h.name in values], values, "monte_carlo")
    samples = _count(samples, "samples", 1)
    batches = _count(batches, "batches", 2, "(the jackknife needs at least two batches)")
    if chunk_size is not None:
        chunk_size = _count(chunk_size, "chunk_size", 1, "(or None for one chunk)")
    _check_seed(seed)
    for flag, name in ((connected, "connected"), (progress, "progress")):
        if not isinstance(flag, (bool, np.bool_)):
            raise TypeError(f"monte_carlo: {name} must be True or False, got {flag!r}")
    X = as_points(X)
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
    if samples < 2 * batches:
        raise ValueError(f"samples must be at least 2*batches = {2 * batches}, got {samples}")
    if samples < 256 * batches:
        warnings.warn(f"only {samples // batches} draws per jackknife batch: standard errors of "
                      "connected functions may be underestimated (use >= 256 per batch)", stacklevel=2)
    batch_shape = X.shape[:-2]
    P = int(np.prod(batch_shape)) if batch_shape else 1
    Xf = X.reshape(P, n, X.shape[-1])
    if net.dim.is_Symbol:
        if net.dim.name in values and values[net.dim.name] != X.shape[-1]:
            raise ValueError(f"monte_carlo: {net.dim.name} = {values[net.dim.name]} disagrees with the points' "
                             f"last axis {X.shape[-1]}")
        values = {**values, net.dim.name: X.shape[-1]}

    probe = NetworkSampler(net, values, X.shape[-1])  # validates values early
    N = probe.width
    _check_moments(net, n, connected)
    per_draw = P * n * (N if method == "network" else 1)
    block_sizes = _layout(samples, batches, max(1, _BLOCK_ELEMENTS // per_draw))
    seeds = np.random.SeedSequence(seed).spawn(len(block_sizes))
    plan = _Plan(net, n, Xf, dict(values), method, block_sizes, seeds)

    nb = plan.blocks
    per_chunk = nb if chunk_size is None else max(1, int(chunk_size) // max(1, block_sizes[0]))
    chunks = [(s, min(nb, s + per_chunk)) for s in range(0, nb, per_chunk)]
    sums = np.empty((nb, (1 << n) + 2, P))
    if client is not None:
        from ..sampling.executors import run_on_dask

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

    sq_sum, sq_max = sums[:, 1 << n].sum(axis=0), sums[:, (1 << n) + 1].max(axis=0)
    sums = sums[:, : 1 << n]
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
    if _z2_symmetric(net) and n % 2:  # the estimate is exactly 0: nothing to trust
        sq_sum = sq_max = np.zeros(P)
    trust = _trust(net, n, Xf, values, method, samples, sq_sum, sq_max)
    if trust["warning"]:
        warnings.warn(f"monte_carlo: the standard error is unreliable at {trust['warning']}. The estimate is "
                      "dominated by rare draws (a heavy-tailed integrand, e.g. exponentials of wide Gaussians): "
                      "the error bar and z-scores may be far too small; use smaller |x| or parameters, or many "
                      "more samples", UnreliableErrorWarning, stacklevel=2)
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
        extra={"max_draw_share": trust["max_draw_share"].reshape(batch_shape),
               "second_moment_ratio": (None if trust["second_moment_ratio"] is None
                                       else trust["second_moment_ratio"].reshape(batch_shape))},
    )


_MC_OPTIONS = ("connected", "samples", "seed", "method", "batches", "chunk_size", "client", "progress")


def check_value_names(net: Network, values, func: str, options=()) -> None:
    """Refuse value keywords that name no hyper-parameter of ``net`` (a misspelt option such as
    ``progres=True`` or ``sample=...`` must not be ignored in silence)."""
    from ..model.correlator import unknown_value_names

    known = sorted({h.name for h in net.hyperparameters} | ({net.dim.name} if net.dim.is_Symbol else set()))
    unknown = unknown_value_names(values, known)
    if unknown:
        import difflib

        hints = [f"{u!r}" + (f" (did you mean {m[0]!r}?)" if (m := difflib.get_close_matches(u, list(options) + known, 1)) else "")
                 for u in unknown]
        raise TypeError(f"{func}() got unexpected keyword argument(s) {', '.join(hints)}: neither an option "
                        f"({', '.join(options)}) nor a hyper-parameter of the network ({', '.join(known) or 'none'})")


def _count(v, name: str, least: int, note: str = "") -> int:
    """A count argument: an integer >= ``least`` (2.5, "10" or True are refused, not rounded)."""
    if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer)):
        if not (isinstance(v, (float, np.floating)) and float(v).is_integer()):
            raise TypeError(f"monte_carlo: {name} must be an integer, got {v!r}")
    if int(v) < least:
        raise ValueError(f"monte_carlo: {name} must be >= {least}{' ' + note if note else ''}, got {v}")
    return int(v)


def _check_seed(seed) -> None:
    if seed is None or isinstance(seed, np.random.SeedSequence):
        return
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"monte_carlo: seed must be a non-negative integer or None, got {seed!r}")
    if seed < 0:
        raise ValueError(f"monte_carlo: seed must be a non-negative integer or None, got {seed}")


# ----------------------------------------------------------------------------- trust
def _check_moments(net: Network, n: int, connected: bool) -> None:
    r"""Refuse (:class:`DivergentExpectation`) an estimand that needs a moment the laws do not
    have, e.g. :math:`E[a^2]` of a Cauchy readout for :math:`G^{(2)}`; warn where undecided.
    A parameter entering the summand :math:`a\,h` as a polynomial of degree g needs
    :math:`E[|p|^{ng}]` (all n points can fall in one neuron)."""
    name = f"G^({n}){'_c' if connected else ''}"
    summand = net.readout * net.neuron
    params = [(p, growth_degree(summand, p)) for p in net.params]
    if net.bias is not None:
        params.append((net.bias, 1))
    for p, g in params:
        role = "the readout" if p == net.readout else "the output bias" if p == net.bias else "the parameter"
        if g == 0:
            continue
        k = n * g if g is not None else n
        verdict = p.law.moment_exists(k)
        if g is None:
            if verdict is not True:
                warnings.warn(f"monte_carlo: cannot decide whether {name} exists: {role} {p} ~ {p.law} "
                              f"enters {summand} in a way nnsym cannot bound, and its law may lack moments; "
                              "the estimate may not converge", NumericWarning, stacklevel=3)
            continue
        if verdict is False:
            raise DivergentExpectation(
                f"monte_carlo: {name} needs E[|{p}|^{k}] of {role} {p} ~ {p.law}, which is infinite "
                f"(the law has no finite moment of order {k}): the estimand does not exist and a "
                "sample mean would not converge")
        if verdict is None:
            warnings.warn(f"monte_carlo: cannot decide whether E[|{p}|^{k}] of {role} {p} ~ {p.law} is finite; "
                          f"if it is not, {name} does not exist and the estimate does not converge",
                          NumericWarning, stacklevel=3)


_MAX_DRAW_SHARE = 0.8  # one draw holding 80% of the sample second moment: the error bar rests on it
_SECOND_MOMENT_RATIO = 0.1  # sample second moment below 1/10 of the exact one: the mass is not sampled yet
_HEAVY_TAIL_HINT = 0.1  # a draw holding 10% of the sample second moment: worth the exact E[Y^2]


def _trust(net, n, Xf, values, method, samples, sq_sum, sq_max) -> dict:
    r"""Is the jackknife error trustworthy? Two checks on the full product :math:`Y = \prod_k Y_k`
    (the term that dominates the estimator's variance when the integrand is heavy-tailed):

    * ``max_draw_share`` = :math:`\max_s Y_s^2/\sum_s Y_s^2`: it tends to 0 if and only if
      :math:`E[Y^2] < \infty`; above 0.8, one draw holds the variance estimate (for the
      cos-net's G_c^(4) at 2*10^4 draws it stays below 0.5).
    * ``second_moment_ratio`` (neuron estimator, when some draw holds more than 10% of the sample
      second moment and the engine gives the closed form quickly):
      the sample :math:`\overline{Y^2}` over the exact :math:`E[Y^2] = E[\prod_k (a h(x_k))^2]`
      (a neuron moment at doubled points). Far below 1, the draws that carry the variance have not
      been seen yet: the estimate is biased and its error bar far too small.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(sq_sum > 0, sq_max / np.where(sq_sum > 0, sq_sum, 1.0), 0.0)
    out = {"max_draw_share": share, "second_moment_ratio": None, "warning": ""}
    msgs = []
    bad = np.flatnonzero(share > _MAX_DRAW_SHARE)
    if bad.size:
        msgs.append(f"{bad.size} of {share.size} point set(s) (e.g. {bad[:10].tolist()}): a single draw holds "
                    f"{100 * share[bad].max():.0f}% of the sample second moment of the product over the points")
    # the exact E[Y^2] costs a derivation (~0.1-0.3 s): asked for only when the draws hint at heavy
    # tails (some draw holds > 10% of the sample second moment; heavy-tailed Gauss-nets show 20-99%,
    # the cos-net's G_c^(4) below 4% from 2*10^5 draws on)
    hint = np.any(share > _HEAVY_TAIL_HINT)
    exact = (_exact_second_moment(net, n, Xf, values)
             if method == "neuron" and hint and np.any(sq_sum > 0) else None)
    if exact is not None:
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(exact > 0, sq_sum / samples / np.where(exact > 0, exact, 1.0), 1.0)
        out["second_moment_ratio"] = ratio
        low = np.flatnonzero(ratio < _SECOND_MOMENT_RATIO)
        if low.size:
            msgs.append(f"{low.size} of {ratio.size} point set(s) (e.g. {low[:10].tolist()}): the sample second "
                        f"moment of the product over the points is {ratio[low].min():.1e} of its exact value, "
                        "so the draws that carry the variance have not been sampled")
    out["warning"] = "; ".join(msgs)
    return out


def _exact_second_moment(net, n, Xf, values, seconds: float = 2.0):
    r""":math:`E[\prod_k (a\,h(x_k))^2]` at the point sets ``Xf`` (P, n, d), or None when the engine
    has no quick closed form (memoised per network and n; a failure is remembered too)."""
    import threading

    cache = net.__dict__.setdefault("_mc_second_moment", {})
    if n not in cache:
        if threading.current_thread() is not threading.main_thread():
            return None  # no time limit outside the main thread: do not risk a long derivation
        corr = None
        try:
            from ..core.checks import time_limit
            from ..model.correlator import Correlator
            from ..engine.expectation import is_exact

            pts = net.points(n)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                with time_limit(seconds):
                    expr = net._neuron_moment(tuple(p for p in pts for _ in range(2)))
            if is_exact(expr):
                corr = Correlator(expr, pts, net.dim, name="E[Y^2]", network=net)
        except Exception:  # noqa: BLE001 -- no quick closed form: the data check alone
            corr = None
        cache[n] = corr
    corr = cache[n]
    if corr is None:
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            vals = {k: v for k, v in values.items() if k in corr.value_names()}
            return np.asarray(corr.evaluate(Xf, **vals), dtype=float).reshape(-1)
    except Exception:  # noqa: BLE001
        return None


def _z2_symmetric(net: Network) -> bool:
    r"""phi -> -phi symmetry: an even readout independent of the neuron (and an even bias or none)."""
    from ..core.laws import random_atoms

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
