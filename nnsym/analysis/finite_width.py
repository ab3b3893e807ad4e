r"""The leading :math:`1/n` expansion of a deep MLP at finite width (Yaida 1910.00019; Roberts,
Yaida, Hanin, *The Principles of Deep Learning Theory*, ch. 4), numerically, for any activation
and any set of inputs.

**Conventions.** The network is a :class:`~nnsym.DeepMLP`: pre-activations
:math:`z^{(1)} = W^{(0)}x + b^{(0)}`, :math:`z^{(l+1)} = W^{(l)} f_l(z^{(l)}) + b^{(l)}`,
:math:`W^{(l)}_{ij}\sim\mathcal N(0, C_W^{(l)}/n_l)`, :math:`b^{(l)}_i\sim\mathcal N(0, C_b^{(l)})`,
widths :math:`n_1,\dots,n_L`, output :math:`\phi = z^{(L+1)}`. Inputs are labelled
:math:`a = 1,\dots,M`; :math:`\sigma_a = f_l(z_a)` and :math:`\langle\cdot\rangle_{K}` is the
expectation over the Gaussian vector :math:`(z_a)_a\sim\mathcal N(0, K)` (only the inputs the
integrand involves). The statistics of one neuron of layer :math:`l` are, to leading order,

.. math:: E\big[z^{(l)}_{i;a_1} z^{(l)}_{i;a_2}\big]
          = K^{(l)}_{a_1a_2} + \frac{1}{n_{l-1}}K^{(1),(l)}_{a_1a_2} + O(n^{-2}),

.. math:: E\big[z^{(l)}_{i;a_1}\cdots z^{(l)}_{i;a_4}\big]_{\rm conn}
          = \frac{1}{n_{l-1}}\Big[V^{(l)}_{(a_1a_2)(a_3a_4)} + V^{(l)}_{(a_1a_3)(a_2a_4)}
          + V^{(l)}_{(a_1a_4)(a_2a_3)}\Big] + O(n^{-2}),

so the :math:`1/n` of layer :math:`l` is :math:`1/n_{l-1}`, the width of the layer *feeding* it;
the output's is :math:`1/n_L`, the last hidden width. The first layer is exactly Gaussian:
:math:`K^{(1)}_{a_1a_2} = C_b^{(0)} + C_W^{(0)}\,x_{a_1}\!\cdot x_{a_2}/n_0`,
:math:`V^{(1)} = 0`, :math:`K^{(1),(1)} = 0`. With :math:`C_W = C_W^{(l)}`,
:math:`C_b = C_b^{(l)}`, :math:`\sigma = f_l`, all expectations under :math:`K^{(l)}`, and
:math:`\partial_b = \partial/\partial z_b`:

.. math:: K^{(l+1)}_{a_1a_2} = C_b + C_W\,\langle\sigma_{a_1}\sigma_{a_2}\rangle,

.. math:: V^{(l+1)}_{(a_1a_2)(a_3a_4)} = C_W^2\big[\langle\sigma_{a_1}\sigma_{a_2}\sigma_{a_3}\sigma_{a_4}\rangle
          - \langle\sigma_{a_1}\sigma_{a_2}\rangle\langle\sigma_{a_3}\sigma_{a_4}\rangle\big]
          + \frac{C_W^2}{4}\frac{n_l}{n_{l-1}}\sum_{b_1..b_4} V^{(l)}_{(b_1b_2)(b_3b_4)}
          \langle\partial_{b_1}\partial_{b_2}(\sigma_{a_1}\sigma_{a_2})\rangle
          \langle\partial_{b_3}\partial_{b_4}(\sigma_{a_3}\sigma_{a_4})\rangle,

.. math:: K^{(1),(l+1)}_{a_1a_2} = C_W\frac{n_l}{n_{l-1}}\Big[\frac12\sum_{b_1b_2}K^{(1),(l)}_{b_1b_2}
          \langle\partial_{b_1}\partial_{b_2}(\sigma_{a_1}\sigma_{a_2})\rangle
          + \frac18\sum_{b_1..b_4}V^{(l)}_{(b_1b_2)(b_3b_4)}
          \langle\partial_{b_1}\partial_{b_2}\partial_{b_3}\partial_{b_4}(\sigma_{a_1}\sigma_{a_2})\rangle\Big].

Unequal widths enter only through the ratios :math:`n_l/n_{l-1}` (:math:`l\ge 2`; the ratio
:math:`n_1/n_0` multiplies :math:`V^{(1)} = 0`), so :math:`K`, :math:`V` and :math:`K^{(1)}` are
width-independent when all hidden widths are equal. Derivation: conditional on layer
:math:`l`, :math:`z^{(l+1)}` is Gaussian with covariance
:math:`\hat G_{a_1a_2} = C_b + (C_W/n_l)\sum_j\sigma_{j;a_1}\sigma_{j;a_2}`; its mean and covariance
over layer :math:`l` follow from the Edgeworth (Price) expansion
:math:`E_{K+\delta K}[F] = \langle F\rangle_K + \tfrac12\sum\delta K_{b_1b_2}\langle\partial_{b_1}\partial_{b_2}F\rangle
+ \tfrac18\sum \tfrac{1}{n}V_{(b_1b_2)(b_3b_4)}\langle\partial^4_{b_1..b_4}F\rangle + \dots`
(the last term is the fourth cumulant). Equivalently: :math:`K^{(l+1)} = C_b + C_W P(K^{(l)})` with
:math:`P_{a_1a_2}(K) = \langle\sigma_{a_1}\sigma_{a_2}\rangle_K`, and :math:`V`, :math:`K^{(1)}` are
the covariance and mean shift of :math:`\delta K` propagated by the delta method (Price:
:math:`\langle\partial_{b_1}\partial_{b_2}F\rangle = 2\,\partial\langle F\rangle/\partial K_{b_1b_2}`
per ordered pair); the tests check that against finite differences of :math:`P`.

**Numerics.** Every expectation is a Gaussian integral of products of :math:`\sigma` only:
derivatives are moved onto the Gaussian by Stein's lemma in the Cholesky coordinates
:math:`z = Lw` (:math:`\partial_z = L^{-T}\partial_w`,
:math:`E[\partial_w^\beta G] = E[G\,\mathrm{He}_\beta(w)]`), which is exact also for ReLU (whose
:math:`\sigma''` is a delta) and steps. The integrals (1 to 4 dimensional) are nested
Gauss-Legendre panels on :math:`[-T, T]` in each Cholesky coordinate, split where
:math:`\sigma(z_k)` has a kink (:func:`nnsym.engine.piecewise.kink_points`); inside each panel the
integrand is analytic, so the rule converges exponentially. The whole recursion runs at two
orders (12 and 9 nodes per panel) and :attr:`FiniteWidthExpansion.error` is their largest difference,
an upper estimate: the 12-node result is typically ~1e-11 accurate (checked against the exact
single-layer correlators and closed-form kernels). ``V`` is returned as a full (M, M, M, M) array
(computed in pair coordinates, M(M+1)/2 squared 4-point moments per layer), so M up to a few tens.
"""
from __future__ import annotations

import dataclasses
import itertools
import math
import numbers

import numpy as np
import sympy as sp

from ..engine.piecewise import kink_points
from ..model.deep import DeepMLP
from ..numeric.kernels import as_points

__all__ = ["FiniteWidthExpansion", "finite_width_expansion"]

TAIL = 9.0  # the integration range [-TAIL, TAIL] in each standard-normal coordinate
BASE_PANELS = 4  # equal panels on [-TAIL, TAIL] before the kink splits
SOFT_BREAKS = (-1.0, 0.0, 1.0)  # extra splits (in z) where saturating activations turn
NODES, NODES_CHECK = 12, 9  # Gauss-Legendre nodes per panel: the result and its check
CHUNK = 2_000_000  # grid points held at once in the 3- and 4-dimensional integrals


# ---------------------------------------------------------------------------------------------- quadrature
def _legendre(n: int):
    t, w = np.polynomial.legendre.leggauss(n)
    return t, w


def _hermite_e(n: int, w: np.ndarray) -> np.ndarray:
    r"""Probabilists' Hermite polynomial :math:`\mathrm{He}_n(w)`."""
    if n == 0:
        return np.ones_like(w)
    h0, h1 = np.ones_like(w), w
    for k in range(1, n):
        h0, h1 = h1, w * h1 - k * h0
    return h1


def _panels(shift, scale: float, kinks, n: int):
    r"""Nodes and weights (standard-normal density included) in the coordinate :math:`w` of
    :math:`z = \mathrm{shift} + \mathrm{scale}\cdot w`, split where :math:`z` crosses a kink.
    ``shift`` has any shape S; returns arrays of shape S + (nodes,)."""
    shift = np.asarray(shift, float)
    edges = [np.full(shift.shape, e) for e in np.linspace(-TAIL, TAIL, BASE_PANELS + 1)]
    edges += [np.clip((k - shift) / scale, -TAIL, TAIL) for k in kinks]
    edges = np.sort(np.stack(edges, -1), -1)
    lo, hi = edges[..., :-1, None], edges[..., 1:, None]
    t, wt = _legendre(n)
    x = 0.5 * (lo + hi) + 0.5 * (hi - lo) * t
    w = 0.5 * (hi - lo) * wt * np.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)
    return x.reshape(shift.shape + (-1,)), w.reshape(shift.shape + (-1,))


def _pivoted_cholesky(C: np.ndarray):
    """``perm, L`` with ``C[perm][:, perm] = L L^T``, ``L`` lower triangular (zero columns beyond
    the numerical rank; the largest remaining variance is taken first)."""
    C = np.array(C, float)
    k = C.shape[0]
    perm = list(range(k))
    L = np.zeros((k, k))
    tol = 1e-12 * max(1.0, float(np.max(np.abs(np.diag(C)))))
    for j in range(k):
        resid = [C[perm[i], perm[i]] - L[i, :j] @ L[i, :j] for i in range(j, k)]
        p = j + int(np.argmax(resid))
        perm[j], perm[p] = perm[p], perm[j]
        L[[j, p]] = L[[p, j]]
        piv = resid[p - j]
        if piv <= tol:
            break
        L[j, j] = math.sqrt(piv)
        for i in range(j + 1, k):
            L[i, j] = (C[perm[i], perm[j]] - L[i, :j] @ L[j, :j]) / L[j, j]
    return perm, L


def _product_expectation(f, kinks, powers, C, n: int, hermite=None) -> float:
    r""":math:`E[\prod_k f(z_k)^{m_k}\,\prod_k \mathrm{He}_{h_k}(w_k)]`, :math:`z = Lw\sim\mathcal N(0, C)`
    (``C`` is k x k, k <= 4; ``hermite`` are the :math:`h_k` in the Cholesky coordinates of ``C``
    without pivoting, which needs ``C`` positive definite)."""
    k = len(powers)
    if hermite is None:
        perm, L = _pivoted_cholesky(C)
        powers = [powers[i] for i in perm]
        hermite = (0,) * k
    else:
        L = np.linalg.cholesky(np.asarray(C, float))
    rank = int(np.sum(np.abs(np.diag(L)) > 0))
    # level 1 nodes, then nested levels; chunk over the first coordinate
    w1, q1 = _panels(np.zeros(()), L[0, 0], kinks, n)
    per = max(1, CHUNK // max(1, w1.size ** (rank - 1)))
    total = 0.0

    def factor(j, ws, shape):  # f(z_j)^m_j He_h_j(w_j) on the current grid
        zj = sum(L[j, i] * ws[i] for i in range(min(j + 1, rank)))
        g = f(zj + np.zeros(shape)) ** powers[j]
        return g * _hermite_e(hermite[j], ws[j]) if hermite[j] else g

    for s in range(0, w1.size, per):
        ws, q = [w1[s:s + per]], q1[s:s + per]
        q = q * factor(0, ws, q.shape)
        for j in range(1, rank):
            shift = sum(L[j, i] * ws[i] for i in range(j))
            wj, qj = _panels(shift, L[j, j], kinks, n)
            ws = [wi.reshape(wi.shape + (1,)) for wi in ws] + [wj]
            q = q.reshape(q.shape + (1,)) * qj
            q = q * factor(j, ws, q.shape)
        for j in range(rank, k):  # coordinates determined by the earlier ones (singular C)
            q = q * factor(j, ws, q.shape)
        total += float(np.sum(q))
    return total


def _pair_derivatives(f, kinks, C, n: int):
    r"""For :math:`F = f(z_1)f(z_2)` (or :math:`f(z)^2` when ``C`` is 1 x 1):
    :math:`\langle\partial_i\partial_j F\rangle` and :math:`\langle\partial_i\partial_j\partial_k\partial_l F\rangle`
    by Stein's lemma in the Cholesky coordinates."""
    k = C.shape[0]
    L = np.linalg.cholesky(C)
    A = np.linalg.inv(L).T  # d/dz_i = sum_p A_ip d/dw_p
    powers = (2,) if k == 1 else (1, 1)
    table = {}
    for order in (2, 4):
        for beta in itertools.product(range(k), repeat=order):
            h = tuple(beta.count(p) for p in range(k))
            if h not in table:
                table[h] = _product_expectation(f, kinks, powers, C, n, hermite=h)
    T2 = np.array([table[tuple(b.count(p) for p in range(k))]
                   for b in itertools.product(range(k), repeat=2)]).reshape((k,) * 2)
    T4 = np.array([table[tuple(b.count(p) for p in range(k))]
                   for b in itertools.product(range(k), repeat=4)]).reshape((k,) * 4)
    D2 = np.einsum("ip,jq,pq->ij", A, A, T2)
    D4 = np.einsum("ip,jq,kr,ls,pqrs->ijkl", A, A, A, A, T4)
    return D2, D4


# ---------------------------------------------------------------------------------------------- recursion
def _pairs(M: int):
    pairs = [(a, b) for a in range(M) for b in range(a, M)]
    pid = np.zeros((M, M), int)
    for i, (a, b) in enumerate(pairs):
        pid[a, b] = pid[b, a] = i
    return pairs, pid


def _layer(f, kinks, K, V, K1, C_W, C_b, ratio, n: int):
    """One step l -> l+1 of the three recursions (``V`` and ``K1`` in pair coordinates); also returns the
    two terms of ``V_next``: the single-layer (fresh 4-point) term and the propagated one."""
    M = K.shape[0]
    pairs, pid = _pairs(M)
    P = len(pairs)
    cache = {}

    def moment(idx):  # <prod_a sigma_a> over the multiset idx of inputs
        key = tuple(sorted(idx))
        if key not in cache:
            dist = sorted(set(key))
            cache[key] = _product_expectation(f, kinks, [key.count(a) for a in dist],
                                              K[np.ix_(dist, dist)], n)
        return cache[key]

    Pm = np.array([moment(p) for p in pairs])
    Q = np.empty((P, P))
    for i, p in enumerate(pairs):
        for j in range(i, P):
            Q[i, j] = Q[j, i] = moment(p + pairs[j])
    K_next = C_b + C_W * Pm
    V_single = C_W**2 * (Q - np.outer(Pm, Pm))
    V_next = V_single
    V_prop = np.zeros((P, P))
    K1_next = np.zeros(P)
    if np.any(V) or np.any(K1):
        E2 = np.zeros((P, P))  # E2[p, beta] = sum over ordered (b1, b2) -> beta of <d_b1 d_b2 F_p>
        K1_next = np.zeros(P)
        for i, (a, b) in enumerate(pairs):
            loc = [a] if a == b else [a, b]
            C = K[np.ix_(loc, loc)]
            if np.linalg.det(C) <= 1e-10 * np.prod(np.diag(C)):
                raise ValueError(f"finite_width_expansion: the covariance of inputs {a} and {b} is singular at "
                                 "some layer (equal or parallel inputs): the derivative expectations do not "
                                 "exist there; drop repeated inputs")
            D2, D4 = _pair_derivatives(f, kinks, C, n)
            ids = pid[np.ix_(loc, loc)]
            np.add.at(E2[i], ids.ravel(), D2.ravel())
            v4 = V[ids[:, :, None, None], ids[None, None, :, :]]
            k1 = K1[ids]
            K1_next[i] = 0.5 * np.sum(k1 * D2) + 0.125 * np.sum(v4 * D4)
        V_prop = 0.25 * C_W**2 * ratio * E2 @ V @ E2.T
        V_next = V_next + V_prop
        K1_next = C_W * ratio * K1_next
    return K_next, V_next, K1_next, V_single, V_prop


@dataclasses.dataclass(frozen=True)
class FiniteWidthExpansion:
    r"""The leading :math:`1/n` expansion of a deep MLP at the inputs ``X`` (from
    :func:`finite_width_expansion`; conventions in :mod:`nnsym.analysis.finite_width`).

    Attributes
    ----------
    K, V, K1 : dicts by layer :math:`l = 1, \dots, L+1` (:math:`L+1` is the output):
        :math:`K^{(l)}` (M, M), :math:`V^{(l)}_{(a_1a_2)(a_3a_4)}` (M, M, M, M) and
        :math:`K^{(1),(l)}` (M, M).
    widths : the hidden widths :math:`n_1..n_L` used (floats; ``inf`` when not given: then only the
        ratios, all 1, are used and :meth:`two_point` / :meth:`connected_four_point` need ``n``).
    error : the estimated absolute quadrature error (largest difference of two quadrature orders
        over all entries of K, V, K1).
    V_single, V_propagated : dicts by layer (M, M, M, M), the two terms of the :math:`V` recursion,
        ``V[l] == V_single[l] + V_propagated[l]``: the single-layer term
        :math:`C_W^2[\langle\sigma\sigma\sigma\sigma\rangle
        - \langle\sigma\sigma\rangle\langle\sigma\sigma\rangle]_{K^{(l-1)}}`
        and the vertex of layer :math:`l-1` carried up,
        :math:`\frac{C_W^2}{4}\frac{n_{l-1}}{n_{l-2}}\sum V^{(l-1)}\langle\partial\partial\sigma\sigma\rangle
        \langle\partial\partial\sigma\sigma\rangle` (zero for :math:`l \le 2`). They give
        :meth:`independence_split`.
    """

    X: np.ndarray
    depth: int
    widths: tuple
    K: dict
    V: dict
    K1: dict
    error: float
    V_single: dict = dataclasses.field(default_factory=dict)
    V_propagated: dict = dataclasses.field(default_factory=dict)

    def _n(self, n):
        n = self.widths[-1] if n is None else n
        if not (isinstance(n, numbers.Real) and math.isfinite(n) and n > 0):
            raise ValueError(f"FiniteWidthExpansion: the last hidden width n_L is needed (give n=...), got {n!r}")
        return float(n)

    def two_point(self, n=None) -> np.ndarray:
        r""":math:`E[\phi(x_{a_1})\phi(x_{a_2})] = K^{(L+1)} + K^{(1),(L+1)}/n_L + O(n^{-2})`, shape (M, M)."""
        L = self.depth + 1
        return self.K[L] + self.K1[L] / self._n(n)

    def connected_four_point(self, indices=None, n=None) -> np.ndarray:
        r"""The output's leading connected 4-point function
        :math:`G^{(4)}_c = \frac{1}{n_L}[V_{(a_1a_2)(a_3a_4)} + V_{(a_1a_3)(a_2a_4)} + V_{(a_1a_4)(a_2a_3)}]`,
        :math:`V = V^{(L+1)}`: an (M, M, M, M) array, or at the 4-tuples ``indices`` (shape (T, 4)) a (T,) array."""
        return self._pairing_sum(self.V[self.depth + 1], indices, n, "connected_four_point")

    def independence_split(self, indices=None, n=None) -> tuple:
        r"""The output's leading :math:`G_c^{(4)}` split as :math:`G_c^{(4)} = I_N + I_{IB}`
        (:mod:`nnsym.analysis.independence`): finite width of i.i.d. neurons plus independence breaking.

        The output :math:`\phi = \sum_{j\le n_L} W^{(L)}_j\sigma_j + b^{(L)}`,
        :math:`\sigma_j = f_L(z^{(L)}_j)`, is a single-layer network of width :math:`N = n_L` whose
        readout :math:`a_j = W^{(L)}_j\sim\mathcal N(0, C_W/n_L)` is i.i.d. and independent of the
        neurons :math:`h_j = \sigma_j`; the neurons are identically distributed but *dependent*: they
        share all the lower layers. With :math:`C_W = C_W^{(L)}`, expectations under :math:`K^{(L)}`
        and the sums over the three pairings :math:`(a_1a_2)(a_3a_4)`, :math:`(a_1a_3)(a_2a_4)`,
        :math:`(a_1a_4)(a_2a_3)`:

        * :math:`I_N = N\kappa_4(ah)` of one last-layer neuron (the network's independent twin: each
          last-layer neuron with its own lower network) is, at leading order, the single-layer term of
          the :math:`V^{(L+1)}` recursion,

          .. math:: I_N = \frac{1}{n_L}\sum_{\rm pairings} C_W^2\big[\langle\sigma_{a_1}\sigma_{a_2}
                    \sigma_{a_3}\sigma_{a_4}\rangle - \langle\sigma_{a_1}\sigma_{a_2}\rangle
                    \langle\sigma_{a_3}\sigma_{a_4}\rangle\big]_{K^{(L)}} + O(n^{-2}),

          because :math:`N\kappa_4(ah) = \frac{C_W^2}{n_L}\sum_{\rm pairings}\mathrm{Cov}(h_{a_1}h_{a_2},
          h_{a_3}h_{a_4})` and one neuron's law is :math:`\mathcal N(0, K^{(L)})` up to
          :math:`O(1/n_{L-1})`;
        * :math:`I_{IB} = N(N-1)E[a^2]^2\sum_{\rm pairings}\mathrm{Cov}(h_{i;a_1}h_{i;a_2},
          h_{j;a_3}h_{j;a_4})`, :math:`i\ne j`, is, at leading order, the propagated term: given
          layer :math:`L-1` the neurons :math:`i\ne j` are independent Gaussians of covariance
          :math:`\hat G^{(L)}`, so the covariance is that of :math:`E[\sigma\sigma|\hat G] \approx
          \langle\sigma\sigma\rangle + \frac12\sum\delta\hat G_{b_1b_2}\langle\partial_{b_1}\partial_{b_2}
          (\sigma\sigma)\rangle` with :math:`\mathrm{Cov}(\delta\hat G,\delta\hat G) = V^{(L)}/n_{L-1}`:

          .. math:: I_{IB} = \frac{1}{n_L}\sum_{\rm pairings}\frac{C_W^2}{4}\frac{n_L}{n_{L-1}}
                    \sum_{b_1..b_4}V^{(L)}_{(b_1b_2)(b_3b_4)}\langle\partial_{b_1}\partial_{b_2}
                    (\sigma_{a_1}\sigma_{a_2})\rangle\langle\partial_{b_3}\partial_{b_4}
                    (\sigma_{a_3}\sigma_{a_4})\rangle + O(n^{-2}).

        So :math:`I_N + I_{IB}` is :meth:`connected_four_point`; at depth 1 the neurons are i.i.d.
        and :math:`I_{IB} = 0`; :math:`I_{IB}` is suppressed by the *lower* width :math:`n_{L-1}`
        only, so at fixed :math:`n_{L-1}` and :math:`n_L\to\infty`, :math:`G_c^{(4)}\to I_{IB}`
        (the Halverson statement :math:`\lim_N G_c = \lim_N I_{IB}` with :math:`N = n_L`).

        Parameters
        ----------
        indices : optional integer 4-tuples, shape (T, 4), as in :meth:`connected_four_point`.
        n : the last hidden width :math:`n_L` (default: the spec's).

        Returns
        -------
        (I_N, I_IB) : two (M, M, M, M) arrays, or (T,) arrays at ``indices``.

        Examples
        --------
        >>> import numpy as np, sympy as sp
        >>> spec = DeepMLP(lambda z: sp.Max(0, z), depth=2, d=2, widths=32, sigma_W=np.sqrt(2), sigma_b=0)
        >>> I_N, I_IB = finite_width_expansion(spec, np.array([[1.0, 0.0]])).independence_split()
        >>> round(float(I_N[0, 0, 0, 0]), 8), round(float(I_IB[0, 0, 0, 0]), 8)  # 3*5/32 each
        (0.46875, 0.46875)
        """
        if not self.V_single:
            raise ValueError("independence_split: this FiniteWidthExpansion was built without the parts of V "
                             "(V_single, V_propagated); build it with finite_width_expansion")
        L = self.depth + 1
        return (self._pairing_sum(self.V_single[L], indices, n, "independence_split"),
                self._pairing_sum(self.V_propagated[L], indices, n, "independence_split"))

    def _pairing_sum(self, V, indices, n, who: str) -> np.ndarray:
        G = (V + V.transpose(0, 2, 1, 3) + V.transpose(0, 3, 2, 1)) / self._n(n)
        if indices is None:
            return G
        idx = np.asarray(indices)
        if idx.ndim != 2 or idx.shape[1] != 4 or not np.issubdtype(idx.dtype, np.integer) or (
                idx.size and (idx.min() < 0 or idx.max() >= G.shape[0])):
            raise ValueError(f"{who}: indices must be integer 4-tuples in 0..{G.shape[0] - 1}, "
                             f"shape (T, 4); got shape {idx.shape}")
        return G[idx[:, 0], idx[:, 1], idx[:, 2], idx[:, 3]]

    def normalised_vertex(self) -> dict:
        r""":math:`V^{(l)}_{(aa)(aa)}/(K^{(l)}_{aa})^2` per layer (arrays (M,)): the single-input
        4-point vertex in units of the kernel; :math:`\frac{3}{n}` times it is the excess kurtosis."""
        a = np.arange(self.X.shape[0])
        return {l: self.V[l][a, a, a, a] / self.K[l][a, a] ** 2 for l in self.K}


def _full_V(Vp: np.ndarray, M: int) -> np.ndarray:
    _, pid = _pairs(M)
    return Vp[pid[:, :, None, None], pid[None, None, :, :]]


def _full_K(Kp: np.ndarray, M: int) -> np.ndarray:
    _, pid = _pairs(M)
    return Kp[pid]


def _run(fs, kinks, CW, Cb, ratios, K0, n: int):
    """The recursions from layer 1 to L+1: lists of K (full), V, K1 (pair coordinates) and the
    (single-layer, propagated) parts of each V."""
    M = K0.shape[0]
    P = M * (M + 1) // 2
    Ks, Vs, K1s = [K0], [np.zeros((P, P))], [np.zeros(P)]
    parts = [(np.zeros((P, P)), np.zeros((P, P)))]
    for l in range(len(fs)):
        K, V, K1, V_single, V_prop = _layer(fs[l], kinks[l], Ks[-1], Vs[-1], K1s[-1], CW[l], Cb[l], ratios[l], n)
        Ks.append(_full_K(K, M))
        Vs.append(V)
        K1s.append(K1)
        parts.append((V_single, V_prop))
    return Ks, Vs, K1s, parts


def finite_width_expansion(spec: DeepMLP, X, widths=None, nodes: tuple = (NODES, NODES_CHECK),
                           **values) -> FiniteWidthExpansion:
    r"""The leading :math:`1/n` expansion (:math:`K^{(l)}`, :math:`V^{(l)}`, :math:`K^{(1),(l)}`,
    :math:`l = 1..L+1`) of the deep MLP ``spec`` at the inputs ``X`` (shape (M, d)); any activation
    (numeric quadrature, see the module docstring for the recursions and conventions).

    Parameters
    ----------
    spec : the network (:class:`~nnsym.DeepMLP`).
    X : the M inputs, shape (M, d), pairwise non-parallel when there is no bias (the derivative
        expectations need a non-singular 2 x 2 covariance).
    widths : the hidden widths :math:`n_1..n_L` (default: the spec's); only the ratios
        :math:`n_l/n_{l-1}` enter K, V, K1; the last one, :math:`n_L`, is the :math:`n` of
        :meth:`~FiniteWidthExpansion.two_point` and :meth:`~FiniteWidthExpansion.connected_four_point`.
        Infinite (or all-equal symbolic) widths mean equal widths, ratios 1.
    nodes : Gauss-Legendre nodes per panel, (result, check); the error estimate is the difference.
    **values : numbers for the spec's symbols (``sigma_W``, ``sigma_b``, activation parameters, widths).

    Returns
    -------
    FiniteWidthExpansion

    Examples
    --------
    >>> import numpy as np, sympy as sp
    >>> spec = DeepMLP(lambda z: sp.Max(0, z), depth=2, d=2, widths=32, sigma_W=np.sqrt(2), sigma_b=0)
    >>> fw = finite_width_expansion(spec, np.array([[1.0, 0.0]]))
    >>> round(float(fw.K[3][0, 0]), 10), round(float(fw.V[3][0, 0, 0, 0]), 8)  # ReLU: V^{(l)} = 5 (l-1) K^2
    (1.0, 10.0)
    >>> round(float(fw.connected_four_point()[0, 0, 0, 0]), 8)   # 3 V / n_L
    0.9375
    >>> fw.error < 1e-5
    True
    """
    if not isinstance(spec, DeepMLP):
        raise TypeError(f"finite_width_expansion needs a DeepMLP, got {type(spec).__name__}")
    X = as_points(X, "X")
    if X.ndim != 2 or X.shape[0] < 1:
        raise ValueError(f"finite_width_expansion: X must have shape (M, d) with M >= 1, got {X.shape}")
    M, d = X.shape
    if spec.d.is_Integer and d != int(spec.d):
        raise ValueError(f"finite_width_expansion: X must have shape (M, {spec.d}), got {X.shape}")
    if not (isinstance(nodes, (tuple, list)) and len(nodes) == 2
            and all(isinstance(k, numbers.Integral) and k >= 2 for k in nodes)):
        raise ValueError(f"finite_width_expansion: nodes must be two integers >= 2, got {nodes!r}")
    L = spec.depth
    ws = _widths(spec, widths, values)
    ratios = [1.0] + [ws[l] / ws[l - 1] if math.isfinite(ws[l]) else 1.0 for l in range(1, L)]
    CW, Cb = zip(*(spec.layer_variances(l, values) for l in range(1, L + 1)))
    K0 = spec.input_kernel(X @ X.T, d, values) * np.ones((M, M))
    z = sp.Dummy("z", real=True)
    fs, kinks = [], []
    for l in range(1, L + 1):
        fz = spec.activation_expr(l, z)
        extra = sorted(fz.free_symbols - {z}, key=sp.default_sort_key)
        if extra:
            missing = [s.name for s in extra if s.name not in values]
            if missing:
                raise ValueError(f"finite_width_expansion: the activation of layer {l} needs values for {missing}")
            fz = fz.subs({s: values[s.name] for s in extra})
        ks = kink_points(fz, z)
        ks = sorted({float(k) for k in ks or []} | set(SOFT_BREAKS))
        kinks.append(ks)
        fs.append(sp.lambdify([z], fz, modules=["scipy", "numpy"]))
    runs = [_run(fs, kinks, CW, Cb, ratios, K0, k) for k in nodes]
    (Ks, Vs, K1s, parts), (Kc, Vc, K1c, _) = runs
    err = max(max(float(np.max(np.abs(a - b))) for a, b in zip(x, y)) for x, y in zip(runs[0][:3], runs[1][:3]))
    K = {l + 1: Ks[l] for l in range(L + 1)}
    V = {l + 1: _full_V(Vs[l], M) for l in range(L + 1)}
    K1 = {l + 1: _full_K(K1s[l], M) for l in range(L + 1)}
    V_single = {l + 1: _full_V(parts[l][0], M) for l in range(L + 1)}
    V_prop = {l + 1: _full_V(parts[l][1], M) for l in range(L + 1)}
    return FiniteWidthExpansion(X=X, depth=L, widths=tuple(ws), K=K, V=V, K1=K1, error=err,
                                V_single=V_single, V_propagated=V_prop)


def _widths(spec: DeepMLP, widths, values) -> list:
    """The hidden widths as floats (inf when infinite or symbolic without a value)."""
    ws = spec.widths if widths is None else spec.replace(widths=widths).widths
    out = []
    for n in ws:
        n = sp.sympify(n)
        if n is sp.oo:
            out.append(math.inf)
        elif n.is_Number:
            out.append(float(n))
        elif all(s.name in values for s in n.free_symbols):
            out.append(float(n.subs({s: values[s.name] for s in n.free_symbols})))
        elif len(set(ws)) == 1:
            out.append(math.inf)
        else:
            raise ValueError(f"finite_width_expansion: unequal symbolic widths {ws} need values (or widths=...)")
    return out
