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
on a Dask cluster (``client=``) as locally; the promise is stated per array backend in
:mod:`nnsym.sampling.backends` (numpy by default). The blocks are run by an executor
(:mod:`nnsym.sampling.executors`) that receives the work function :class:`BlockWork`.
Memory is bounded by one chunk.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..core.progress import check_progress, progress_bar
from ..core.random import numeric_value
from ..engine.expectation import DivergentExpectation, growth_degree
from ..errors import SYMBOLIC_FAILURES, UnreliableErrorWarning
from ..model.network import Network, check_n
from ..numeric.bindings import Bindings
from ..numeric.kernels import NumericWarning, as_points
from .backends import ArrayBackend, get_backend
from .executors import chunks_of, executor_for
from .fused import FusedUnavailable, fused_block_sums, numba_available
from .moments import (
    BLOCK_ELEMENTS,
    block_layout,
    estimate_from_moments,
    moment_error_bound,
    point_major,
    subset_rounding_sums,
    subset_sums_point_major,
)
from .sampler import NetworkSampler, network_sampler

__all__ = ["monte_carlo", "monte_carlo_bound", "MonteCarloEstimate", "BlockWork", "ROUNDING_PILOT",
           "jackknife_replicas", "UnreliableErrorWarning"]


# ----------------------------------------------------------------------------- the work unit
@dataclass
class BlockWork:
    r"""The work function of one estimate: ``work(first, last)`` draws blocks ``first..last-1``
    (block ``j``: ``block_sizes[j]`` neurons or networks from the generator of ``seeds[j]``) and
    returns their subset sums, an array (last - first, rows, P): ``[:, :2^n]`` the subset sums
    :math:`\sum_s\prod_{k\in B} Y_{s,k}`, ``[:, 2^n]`` the sum and ``[:, 2^n + 1]`` the maximum of
    the squared full product :math:`(\prod_k Y_k)^2` (for the trust check); with
    ``dtype="float32"`` also ``[:, 2^n + 2:]``, the rounding sums of a float64 pilot
    (:func:`~nnsym.sampling.moments.subset_rounding_sums` of the first :data:`ROUNDING_PILOT` draws).

    Each distinct input point is evaluated once per draw (:meth:`distinct_points`), and the point
    sets index into those values: the numbers are those of evaluating every point of every set.

    Executors (:mod:`nnsym.sampling.executors`) call it, here or on Dask workers; the compiled
    sampler does not travel, it is rebuilt once per process (and cached on the network)."""

    net: Network
    n: int
    X: np.ndarray  # (P, n, d)
    values: dict
    method: str
    block_sizes: list
    seeds: list
    backend: Any = None  # an ArrayBackend (None: numpy)
    dtype: str = "float64"  # or "float32" (opt-in single precision)
    fused: bool = False  # the numba loop of nnsym.sampling.fused (neuron estimator, float64, numpy)
    sampler: "NetworkSampler | None" = field(default=None, repr=False, compare=False)

    @property
    def blocks(self) -> int:
        return len(self.block_sizes)

    @property
    def rows(self) -> int:
        """Rows per block of the result (see the class docstring)."""
        return (1 << self.n) + 2 + ((1 << self.n) if self.dtype == "float32" else 0)

    def __getstate__(self):
        return {**self.__dict__, "sampler": None}

    def get_sampler(self) -> NetworkSampler:
        r"""The network's sampler at these values (:func:`network_sampler`)."""
        if self.sampler is None:
            self.sampler = network_sampler(self.net, self.values, self.X.shape[-1], self.backend)
        return self.sampler

    def distinct_points(self) -> tuple:
        r"""``(points, index)``: the distinct rows (U, d) of the points of all sets, and ``index``
        (P, n) with ``X[p, k] == points[index[p, k]]`` (rows equal bit for bit)."""
        P, n, D = self.X.shape
        points, index = np.unique(self.X.reshape(P * n, D), axis=0, return_inverse=True)
        return points, index.reshape(P, n)

    def __call__(self, first: int, last: int) -> np.ndarray:
        sampler = self.get_sampler()
        backend = sampler.backend
        xp = backend.xp
        n = self.n
        P = self.X.shape[0]
        points, index = self.distinct_points()
        single = self.dtype == "float32"
        draw, at = ((sampler.draw_neurons, sampler.neurons_at) if self.method == "neuron" else
                    (sampler.draw_networks, sampler.fields_at))
        # a backend may form the subset sums its own way (e.g. one compiled computation): optional
        sums_of = getattr(backend, "subset_sums_point_major", None) or \
            (lambda Yt, full_sq: subset_sums_point_major(Yt, full_sq, xp))
        out = np.empty((last - first, self.rows, P))
        for j in range(first, last):
            rng = backend.generator(self.seeds[j])
            S = self.block_sizes[j]
            drawn = draw(rng, S)
            if self.fused:
                full_sq = np.empty((2, P))
                out[j - first, : 1 << n] = fused_block_sums(sampler, drawn, points, index, full_sq)
                out[j - first, 1 << n: (1 << n) + 2] = full_sq
                continue
            Yt = self._point_major_values(at, drawn, points, index, S, xp.float32 if single else None, xp)
            full_sq = xp.empty((2, P))
            out[j - first, : 1 << n] = backend.asnumpy(sums_of(Yt, full_sq))
            out[j - first, 1 << n: (1 << n) + 2] = backend.asnumpy(full_sq)
            if single:  # the first draws once more in float64: the rounding of the float32 path
                K = min(S, ROUNDING_PILOT)
                exact = point_major(at(_draw_range(drawn, 0, K), points), index, xp)
                out[j - first, (1 << n) + 2:] = backend.asnumpy(subset_rounding_sums(Yt[:, :, :K], exact, xp))
        return out

    def _point_major_values(self, at, drawn, points, index, S: int, dtype, xp):
        r"""The sampled values at every point of every set, (n, P, S), from the values at the distinct
        points. Single neurons with numpy arrays go in slices of about :data:`CHUNK_ELEMENTS` draws x
        points (each slice's temporaries stay in the cache; every value is elementwise, hence as in
        one go); whole networks go at once (their sum over the neurons is an ``einsum``, whose
        rounding may depend on the shape it is given)."""
        P, n = index.shape
        chunked = xp is np and self.method == "neuron"
        step = max(1, CHUNK_ELEMENTS // len(points)) if chunked else S
        Yt = None
        for lo in range(0, S, step):
            hi = min(S, lo + step)
            Y = at(drawn if step >= S else _draw_range(drawn, lo, hi), points, dtype)  # (hi - lo, U)
            self._check_finite(Y, index, dtype, xp)
            if step >= S:
                return point_major(Y, index, xp)
            if Yt is None:
                Yt = np.empty((n, P, S), dtype=Y.dtype)
            Yt[:, :, lo:hi] = point_major(Y, index, xp)
        return Yt

    def _check_finite(self, Y, index, dtype, xp) -> None:
        finite = self.get_sampler().backend.asnumpy(xp.isfinite(Y))
        if not np.all(finite):
            bad = np.flatnonzero((~finite).any(axis=0)[index].any(axis=1))
            raise FloatingPointError(
                f"overflow or nan in the sampled {'neurons' if self.method == 'neuron' else 'fields'} "
                f"at point set(s) {bad[:10].tolist()} (e.g. a Gauss-net at large |x|"
                f"{'; or float32, whose range ends at 3e38' if dtype is not None else ''}): "
                "the estimate would be inf/nan; use smaller |x| or rescale the network")


CHUNK_ELEMENTS = 1 << 17
"""Neuron draws x points evaluated at a time inside a block (1 MB of float64): the neuron's
temporaries stay in the cache, about twice as fast as one pass per block."""

ROUNDING_PILOT = 512
"""Draws per block evaluated in float64 as well on the float32 path (the rounding error's pilot)."""


def _draw_range(drawn, lo: int, hi: int):
    """Draws ``lo..hi-1`` of the parameter arrays ``drawn`` (nested tuples/lists, None kept)."""
    if drawn is None:
        return None
    if isinstance(drawn, (tuple, list)):
        return type(drawn)(_draw_range(d, lo, hi) for d in drawn)
    return drawn[lo:hi]


# ----------------------------------------------------------------------------- results
@dataclass
class MonteCarloEstimate:
    """A Monte Carlo estimate at each point set.

    ``mean`` and ``stderr`` have shape ``X.shape[:-2]``; ``method`` says which
    estimator ran, ``samples`` how many of its units (neurons or networks) were
    drawn and ``neuron_evaluations`` what that cost (each distinct input point once per unit).
    ``rounding_error`` (same shape) bounds the floating-point rounding of the mean, to be added to
    the statistical error: 0 in float64 (``dtype``), measured and propagated on the float32 path
    (see :func:`monte_carlo`).
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
    rounding_error: Any = 0.0
    dtype: str = "float64"

    def z(self, exact) -> np.ndarray:
        """z-scores (mean - exact) / (stderr + rounding_error) (the rounding error is 0 in float64)."""
        return (self.mean - np.asarray(exact)) / (self.stderr + self.rounding_error)

    def __repr__(self):
        rounding = f", rounding_error={self.rounding_error}" if self.dtype != "float64" else ""
        return (f"MonteCarloEstimate(method={self.method!r}, samples={self.samples}, n={self.n}, "
                f"connected={self.connected}, mean={self.mean}, stderr={self.stderr}{rounding})")


def monte_carlo(
    net: Network,
    n: int,
    X,
    connected: bool = False,
    samples: int = 10**6,
    seed: "int | np.random.SeedSequence | None" = 0,
    method: str = "auto",
    batches: int = 32,
    chunk_size: int | None = None,
    client=None,
    progress: bool | float = False,
    backend: "ArrayBackend | str | None" = None,
    dtype: str = "float64",
    fused: bool = False,
    **values,
) -> MonteCarloEstimate:
    r"""Estimate :math:`G^{(n)}` (or :math:`G^{(n)}_c`) of ``net`` at point sets ``X`` (shape (..., n, d)).

    ``method``: ``"neuron"`` (i.i.d. neurons only), ``"network"`` or ``"auto"``
    (neuron when valid). ``samples`` counts the estimator's units. ``seed``: an integer or a
    ``numpy.random.SeedSequence`` (e.g. one of ``SeedSequence(s).spawn(k)``, for independent runs);
    the same seed gives the same numbers. ``chunk_size``
    (draws per task) bounds memory and does not change the result; ``client``
    (a ``dask.distributed.Client`` or a scheduler address) runs the chunks as
    Dask tasks; ``progress=True`` shows a tqdm bar (a number: only after that many seconds);
    ``backend`` is the array backend of the draws (default numpy, see :mod:`nnsym.sampling.backends`).
    ``dtype="float32"`` (opt-in) evaluates the neurons and the products over the points in single
    precision (several times faster for cos or exp) from the same float64 draws, and sums them in
    float64; its rounding error is stated in ``rounding_error``: the first
    :data:`ROUNDING_PILOT` draws of every block are evaluated in float64 as well, twice the mean
    absolute difference of every subset product bounds the error of that moment, and
    :func:`~nnsym.sampling.moments.moment_error_bound` carries it through the estimator. Add it to
    ``stderr`` (``z`` does). ``fused=True`` (opt-in, needs numba: ``pip install 'nnsym[numba]'``)
    runs the neuron estimator's neuron values and subset sums in one compiled loop
    (:mod:`nnsym.sampling.fused`): the same draws, the numbers of the numpy path to rounding.
    Hyper-parameter values by name; a keyword that is neither an option nor a hyper-parameter of
    ``net`` raises ``TypeError``.

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
    return monte_carlo_bound(net, n, X, net.bind(values, "monte_carlo", _MC_OPTIONS), connected=connected,
                             samples=samples, seed=seed, method=method, batches=batches, chunk_size=chunk_size,
                             client=client, progress=progress, backend=backend, dtype=dtype, fused=fused)


def monte_carlo_bound(net: Network, n: int, X, bindings: Bindings, connected: bool = False, samples: int = 10**6,
                      seed: int | None = 0, method: str = "auto", batches: int = 32, chunk_size: int | None = None,
                      client=None, progress: bool | float = False,
                      backend: "ArrayBackend | str | None" = None, dtype: str = "float64",
                      fused: bool = False) -> MonteCarloEstimate:
    r""":func:`monte_carlo` with the hyper-parameter values already checked once
    (``bindings = net.bind(values, ...)``, a :class:`~nnsym.numeric.bindings.Bindings`), as
    :func:`~nnsym.validate` passes them along; the estimate of
    :math:`G^{(n)}` or :math:`G^{(n)}_c` is the same."""
    if not isinstance(net, Network):
        raise TypeError(f"monte_carlo needs an nnsym.Network, got {type(net).__name__}")
    n = check_n(n)
    values = bindings
    samples = _count(samples, "samples", 1)
    batches = _count(batches, "batches", 2, "(the jackknife needs at least two batches)")
    if chunk_size is not None:
        chunk_size = _count(chunk_size, "chunk_size", 1, "(or None for one chunk)")
    _check_seed(seed)
    if not isinstance(connected, (bool, np.bool_)):
        raise TypeError(f"monte_carlo: connected must be True or False, got {connected!r}")
    progress = check_progress(progress, "monte_carlo")
    dtype = _check_dtype(dtype)
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
                      "connected functions may be underestimated (use >= 256 per batch)", stacklevel=3)
    batch_shape = X.shape[:-2]
    P = int(np.prod(batch_shape)) if batch_shape else 1
    Xf = X.reshape(P, n, X.shape[-1])
    if net.dim.is_Symbol:
        if net.dim.name in values and values[net.dim.name] != X.shape[-1]:
            raise ValueError(f"monte_carlo: {net.dim.name} = {values[net.dim.name]} disagrees with the points' "
                             f"last axis {X.shape[-1]}")
        values = values.with_values(**{net.dim.name: X.shape[-1]})
    backend = get_backend(backend)
    _check_fused(fused, method, dtype, backend)

    probe = network_sampler(net, values, X.shape[-1], backend)  # validates values early
    N = probe.width
    _check_moments(net, n, connected)
    per_draw = P * n * (N if method == "network" else 1)
    block_sizes = block_layout(samples, batches, max(1, BLOCK_ELEMENTS // per_draw))
    if isinstance(seed, np.random.SeedSequence):  # a copy, so the caller's object is not advanced by spawn
        root = np.random.SeedSequence(seed.entropy, spawn_key=seed.spawn_key, pool_size=seed.pool_size)
    else:
        root = np.random.SeedSequence(seed)
    seeds = root.spawn(len(block_sizes))
    work = BlockWork(net, n, Xf, dict(values), method, block_sizes, seeds, backend, dtype, bool(fused),
                     sampler=probe)
    distinct = len(work.distinct_points()[0])

    nb = work.blocks
    per_chunk = nb if chunk_size is None else max(1, int(chunk_size) // max(1, block_sizes[0]))
    chunks = chunks_of(nb, per_chunk)
    sums = np.empty((nb, work.rows, P))
    executor = executor_for(client)
    if client is not None:
        parts = executor.map_blocks(work, chunks, progress)
    else:
        bar = progress_bar(progress)
        bar = None if bar is None else bar(total=samples, unit="draws")
        parts = executor.map_blocks(work, chunks, None if bar is None else
                                    (lambda s, e: bar.update(sum(block_sizes[s:e]))))
        if bar is not None:
            bar.close()
    for (s, e), part in zip(chunks, parts):
        sums[s:e] = part

    sq_sum, sq_max = sums[:, 1 << n].sum(axis=0), sums[:, (1 << n) + 1].max(axis=0)
    rounding = sums[:, (1 << n) + 2:].sum(axis=0) if dtype == "float32" else None
    sums = sums[:, : 1 << n]
    odd = [mask for mask in range(1 << n) if bin(mask).count("1") % 2]
    if net.is_z2_symmetric:  # odd moments are exactly 0 (known without integrating): use the exact value
        sums[:, odd, :] = 0.0
    bias_moments = [1.0] + [
        (numeric_value(net.bias.law.moment(k), values, "bias moment") if net.bias is not None else 0.0)
        for k in range(1, n + 1)
    ]
    # jackknife over equal batches of whole blocks: the estimate and the delete-one-batch replicas
    # in one pass over the set partitions (replica axis in front of the point sets)
    per_batch = nb // batches
    batch_sums = sums.reshape(batches, per_batch, 1 << n, P).sum(axis=1)
    total = batch_sums.sum(axis=0)
    est, jk = jackknife_replicas(total, batch_sums, n, connected, method, N, bias_moments)
    stderr = np.sqrt((batches - 1) / batches * np.sum((jk - jk.mean(axis=0)) ** 2, axis=0))
    rounding_error = np.zeros(P)
    if rounding is not None:  # twice the pilot's mean |float32 - float64| per subset moment, carried through
        err = 2.0 * rounding / rounding[0]
        err[0] = 0.0
        if net.is_z2_symmetric:
            err[odd] = 0.0
        rounding_error = np.broadcast_to(
            moment_error_bound(total / total[0], err, n, connected, method, N, bias_moments), (P,))
    est = np.broadcast_to(est, (P,))
    stderr = np.broadcast_to(stderr, (P,))
    if net.is_z2_symmetric and n % 2:  # the estimate is exactly 0: nothing to trust
        sq_sum = sq_max = np.zeros(P)
    trust = _trust(net, n, Xf, values, method, samples, sq_sum, sq_max)
    if trust["warning"]:
        warnings.warn(f"monte_carlo: the standard error is unreliable at {trust['warning']}. The estimate is "
                      "dominated by rare draws (a heavy-tailed integrand, e.g. exponentials of wide Gaussians): "
                      "the error bar and z-scores may be far too small; use smaller |x| or parameters, or many "
                      "more samples", UnreliableErrorWarning, stacklevel=3)
    return MonteCarloEstimate(
        mean=np.array(est).reshape(batch_shape),
        stderr=np.array(stderr).reshape(batch_shape),
        method=method,
        samples=samples,
        neuron_evaluations=samples * distinct * (N if method == "network" else 1),
        n=n,
        connected=connected,
        batches=batches,
        seed=seed,
        extra={"max_draw_share": trust["max_draw_share"].reshape(batch_shape),
               "second_moment_ratio": (None if trust["second_moment_ratio"] is None
                                       else trust["second_moment_ratio"].reshape(batch_shape))},
        rounding_error=np.array(rounding_error).reshape(batch_shape),
        dtype=dtype,
    )


def jackknife_replicas(total: np.ndarray, batch_sums: np.ndarray, n: int, connected: bool, method: str, N: int,
                       bias_moments) -> tuple:
    r"""The estimate and its delete-one-batch jackknife replicas from the subset sums ``total``
    (2^n, P) and ``batch_sums`` (batches, 2^n, P), in one pass over the set partitions: the moments
    :math:`\hat m_B = \Sigma_B/\Sigma_\emptyset` of all replicas are stacked along an axis in front
    of the point sets. Returns ``(estimate (P,), replicas (batches, P))``, the numbers of one
    :func:`~nnsym.sampling.moments.estimate_from_moments` call per replica."""
    batches = len(batch_sums)
    P = total.shape[-1]
    moments = np.empty((1 << n, 1 + batches, P))
    moments[:, 0] = total / total[0]
    kept = total - batch_sums  # (batches, 2^n, P)
    moments[:, 1:] = np.moveaxis(kept / (total[0] - batch_sums[:, 0])[:, None, :], 0, 1)
    out = np.broadcast_to(estimate_from_moments(moments, n, connected, method, N, bias_moments), (1 + batches, P))
    return out[0], out[1:]


_MC_OPTIONS = ("connected", "samples", "seed", "method", "batches", "chunk_size", "client", "progress", "backend",
               "dtype", "fused")


def _check_fused(fused, method: str, dtype: str, backend) -> None:
    """``fused=True`` runs the numba loop: the neuron estimator, float64 and numpy draws only."""
    if not isinstance(fused, (bool, np.bool_)):
        raise TypeError(f"monte_carlo: fused must be True or False, got {fused!r}")
    if not fused:
        return
    if method != "neuron":
        raise ValueError("monte_carlo: fused=True runs the neuron estimator only (i.i.d. neurons); "
                         f"this estimate uses method={method!r}")
    if dtype != "float64" or backend.name != "numpy":
        raise ValueError(f"monte_carlo: fused=True computes in float64 on numpy draws, not dtype={dtype!r} "
                         f"with the {backend.name!r} backend")
    if not numba_available():
        raise FusedUnavailable("monte_carlo: fused=True needs numba: pip install 'nnsym[numba]' (or pip install "
                               "numba)")


def _check_dtype(dtype) -> str:
    """The evaluation precision: ``"float64"`` (default) or ``"float32"`` (numpy types accepted)."""
    try:
        name = np.dtype(dtype).name
    except TypeError:
        name = None
    if name not in ("float64", "float32"):
        raise ValueError(f"monte_carlo: dtype must be 'float64' or 'float32', got {dtype!r}")
    return name


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
                              "the estimate may not converge", NumericWarning, stacklevel=4)
            continue
        if verdict is False:
            raise DivergentExpectation(
                f"monte_carlo: {name} needs E[|{p}|^{k}] of {role} {p} ~ {p.law}, which is infinite "
                f"(the law has no finite moment of order {k}): the estimand does not exist and a "
                "sample mean would not converge")
        if verdict is None:
            warnings.warn(f"monte_carlo: cannot decide whether E[|{p}|^{k}] of {role} {p} ~ {p.law} is finite; "
                          f"if it is not, {name} does not exist and the estimate does not converge",
                          NumericWarning, stacklevel=4)


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
            from ..engine.expectation import is_exact
            from ..model.correlator import Correlator

            pts = net.points(n)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                with time_limit(seconds):
                    expr = net.neuron_moment(tuple(p for p in pts for _ in range(2)))
            if is_exact(expr):
                corr = Correlator(expr, pts, net.dim, name="E[Y^2]", network=net)
        except SYMBOLIC_FAILURES:  # no quick closed form (sympy gave up, timed out or refused): the data check alone
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
    except SYMBOLIC_FAILURES:  # the closed form cannot be evaluated at these values: the data check alone
        return None
