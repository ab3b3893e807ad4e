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

from ..model.network import cumulant, width_sum_moment, with_bias

__all__ = ["BLOCK_ELEMENTS", "block_layout", "subset_sums", "estimate_from_moments"]

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

    Depth-first with an explicit stack (only n products alive at a time), on a contiguous
    (n, P, S) copy so every reduction runs along the fastest axis. ``full_sq`` (2, P), if given,
    receives the sum and the maximum over draws of the squared product over all n points.
    ``xp`` is the array namespace of ``Y`` (see :mod:`nnsym.sampling.backends`).
    """
    S, P, n = Y.shape
    Yt = xp.ascontiguousarray(xp.moveaxis(Y, 0, -1).transpose(1, 0, 2))  # (n, P, S)
    out = xp.zeros((1 << n, P))
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


def estimate_from_moments(m: np.ndarray, n: int, connected: bool, method: str, N: int,
                          bias_moments: Sequence[float]) -> np.ndarray:
    r"""Combine raw subset moments ``m[mask, p]`` into the requested correlator.

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
