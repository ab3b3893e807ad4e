r"""Plug-in moments of sampled neurons or fields: subset sums, block layout, and the correlator.

Draws :math:`Y_{s,k}` (draw :math:`s`, point :math:`x_k`) of single neurons :math:`a\,h(x_k)`
or whole fields :math:`\phi(x_k)` are reduced, block by block, to the sums over draws of the
products over every subset :math:`B \subseteq \{1..n\}` of the points,

.. math:: \Sigma_B = \sum_s \prod_{k\in B} Y_{s,k},\qquad \hat m_B = \Sigma_B/\Sigma_\emptyset,

from which :func:`estimate_from_moments` builds :math:`G^{(n)}` or :math:`G^{(n)}_c` (the joint
cumulant by Moebius inversion, the width sum over set partitions for the neuron estimator).

>>> import numpy as np
>>> Y = np.arange(1.0, 7.0).reshape(3, 1, 2)        # 3 draws, 1 point set, 2 points
>>> subset_sums(Y)[:, 0].tolist()                   # masks 0 (count), {0}, {1}, {0, 1}
[3.0, 9.0, 12.0, 44.0]
"""
from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

from ..model.network import cumulant, moebius, set_partitions, width_sum_moment, with_bias

__all__ = ["BLOCK_ELEMENTS", "block_layout", "subset_sums", "point_major", "subset_sums_point_major",
           "subset_rounding_sums", "estimate_from_moments", "moment_error_bound"]

BLOCK_ELEMENTS = 1 << 21
"""Draws x points per block (about 16 MB per float64 array): the memory bound of a run."""


def block_layout(samples: int, batches: int, max_block: int) -> list:
    r"""Block sizes for ``samples`` draws: at least ``batches`` blocks, each at most ``max_block``
    draws, a multiple of ``batches`` blocks (so the jackknife batches are equal groups of whole
    blocks); sizes differ by at most one.

    >>> block_layout(10, 2, 3)
    [3, 3, 2, 2]
    """
    nb = max(batches, math.ceil(samples / max_block))
    nb = math.ceil(nb / batches) * batches
    base, extra = divmod(samples, nb)
    return [base + (1 if j < extra else 0) for j in range(nb)]


def subset_sums(Y, full_sq=None, xp: Any = np):
    r"""For ``Y`` of shape (S, P, n): ``out[mask, p]`` :math:`= \sum_s \prod_{k\in\text{mask}} Y_{s,p,k}`
    for every subset mask of :math:`\{0..n-1\}` (mask 0: the count S).

    The sums run on a contiguous (n, P, S) copy (see :func:`subset_sums_point_major`, which takes
    that layout directly). ``full_sq`` (2, P), if given, receives the sum and the maximum over
    draws of the squared product over all n points. ``xp`` is the array namespace of ``Y``
    (see :mod:`nnsym.sampling.backends`).
    """
    return subset_sums_point_major(xp.ascontiguousarray(xp.moveaxis(Y, 0, -1).transpose(1, 0, 2)), full_sq, xp)


def point_major(values, index, xp: Any = np):
    r"""The sampled values at the points of every point set, laid out for :func:`subset_sums_point_major`.

    ``values`` (S, U): draw :math:`s` at the distinct point :math:`u`; ``index`` (P, n): which
    distinct point is point :math:`k` of point set :math:`p`. Returns ``out[k, p, s] = values[s,
    index[p, k]]``, a new contiguous (n, P, S) array (one gather, no other copy).

    >>> point_major(np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([[1, 0, 1]]))[:, 0].tolist()
    [[2.0, 4.0], [1.0, 3.0], [2.0, 4.0]]
    """
    return values.T[xp.asarray(index).T]


def _subset_products(Yt):
    r"""Yield ``(mask, product)`` for every non-empty subset of the n points of ``Yt`` (n, ...): the
    product :math:`\prod_{k\in\text{mask}} Yt_k`, always formed left to right in k. Depth-first
    with an explicit stack: only n products are alive at a time."""
    n = Yt.shape[0]
    stack = [(None, 0, 0)]
    while stack:
        prod, mask, start = stack.pop()
        for k in range(start, n):
            nxt = Yt[k] if prod is None else prod * Yt[k]
            yield mask | (1 << k), nxt
            if k + 1 < n:
                stack.append((nxt, mask | (1 << k), k + 1))


def subset_sums_point_major(Yt, full_sq=None, xp: Any = np):
    r""":func:`subset_sums` of values already laid out as a contiguous (n, P, S) array ``Yt``
    (point, point set, draw): ``out[mask, p]`` :math:`= \sum_s \prod_{k\in\text{mask}} Yt_{k,p,s}`.

    Every reduction runs along the fastest axis. The products are formed in the dtype of ``Yt``
    (float32 in the opt-in single-precision path) and always summed in float64.
    """
    n, P, S = Yt.shape
    wide = {} if Yt.dtype == xp.float64 else {"dtype": xp.float64}  # float32 products, float64 sums
    out = xp.zeros((1 << n, P))
    out[0] = S
    for m, prod in _subset_products(Yt):
        out[m] = prod.sum(axis=-1, **wide)
        if full_sq is not None and m == (1 << n) - 1:
            with np.errstate(over="ignore"):
                sq = prod * prod
            full_sq[0], full_sq[1] = sq.sum(axis=-1, **wide), sq.max(axis=-1)
    return out


def subset_rounding_sums(Yt, Yt_exact, xp: Any = np):
    r"""How far the subset products of ``Yt`` (n, P, K; e.g. float32 values) are from those of
    ``Yt_exact`` (the same draws in float64): ``out[mask, p]`` :math:`= \sum_s \bigl|\prod_{k\in
    \text{mask}} Yt_{k,p,s} - \prod_{k\in\text{mask}} Yt^{\rm exact}_{k,p,s}\bigr|`, both products
    formed as :func:`subset_sums_point_major` forms them; ``out[0]`` is the count K."""
    n, P, K = Yt.shape
    out = xp.zeros((1 << n, P))
    out[0] = K
    for (m, prod), (_, exact) in zip(_subset_products(Yt), _subset_products(Yt_exact)):
        out[m] = xp.abs(prod.astype(xp.float64) - exact).sum(axis=-1)
    return out


def moment_error_bound(m, err, n: int, connected: bool, method: str, N: int,
                       bias_moments: Sequence[float]) -> np.ndarray:
    r"""A bound on how far :func:`estimate_from_moments` moves when every moment ``m[mask]`` is off
    by at most ``err[mask]``: the same sums over set partitions with every coefficient and moment
    replaced by its absolute value, each product :math:`\prod_B m_B` by
    :math:`\prod_B(|m_B| + e_B) - \prod_B |m_B|` (which bounds :math:`|\prod_B(m_B+\delta_B) -
    \prod_B m_B|` for :math:`|\delta_B|\le e_B`).

    >>> m = np.array([1.0, 0.5, 0.5, 2.0]); e = np.array([0.0, 0.1, 0.1, 0.1])
    >>> round(float(moment_error_bound(m, e, 2, True, "network", 1, [1.0, 0.0, 0.0])), 6)  # 0.1 + 0.6^2 - 0.5^2
    0.21
    """
    full_mask = (1 << n) - 1
    absm, err = np.abs(m), np.asarray(err)

    def spread(blocks):
        masks = [sum(1 << k for k in B) for B in blocks]
        return np.prod([absm[q] + err[q] for q in masks], axis=0) - np.prod([absm[q] for q in masks], axis=0)

    def abs_cumulant():
        return sum(abs(moebius(len(blocks))) * spread(blocks) for blocks in set_partitions(range(n)))

    if method == "network":
        return abs_cumulant() if connected else err[full_mask]
    if connected:
        return N * abs_cumulant()
    # the bias moments are exact: the part with every point in the bias carries no error
    return with_bias(range(n), lambda sub: width_sum_moment(sub, spread, N) if sub else 0.0,
                     lambda k: abs(bias_moments[k]))


def estimate_from_moments(m: np.ndarray, n: int, connected: bool, method: str, N: int,
                          bias_moments: Sequence[float]) -> np.ndarray:
    r"""Combine raw subset moments ``m[mask, ...]`` into the requested correlator.

    The axes after the first (point sets, and e.g. the jackknife replicas in front of them) are
    carried along elementwise, so one pass over the set partitions serves all of them with the
    same numbers as one pass each.

    ``method="network"`` (moments of :math:`\phi`): :math:`G^{(n)} = \hat m_{\{1..n\}}`, or the joint
    cumulant. ``method="neuron"`` (moments of one neuron's :math:`a h`):

    .. math:: G^{(n)}_c = N\,\kappa(a h(x_1),\dots,a h(x_n)) + \kappa_n(b_{\rm out}),\qquad
              G^{(n)} = \sum_\pi N^{\underline{|\pi|}}\prod_{B\in\pi}\hat m_B\ (\text{with the bias}).
    """
    full_mask = (1 << n) - 1

    def m_of(B):
        return m[sum(1 << k for k in B)]

    if method == "network":
        return cumulant(range(n), m_of) if connected else m[full_mask]
    if connected:
        return N * cumulant(range(n), m_of) + cumulant(range(n), lambda B: bias_moments[len(B)])

    def partition(blocks):  # distinct i.i.d. neurons per block: the moments factorise
        return np.prod([m_of(B) for B in blocks], axis=0)

    return with_bias(range(n), lambda sub: width_sum_moment(sub, partition, N), lambda k: bias_moments[k])
