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

**Numerics.** Two backends compute the Gaussian expectations of a layer (``method=``).

*Closed form* (the default where it applies: sign polynomials such as ReLU, leaky ReLU, rectified
powers, :math:`|z|`, polynomials; and :math:`A\,\mathrm{erf}(Bz)`). The pair moment
:math:`P(K_{11}, K_{12}, K_{22}) = \langle\sigma_1\sigma_2\rangle` is the engine's closed form
(:func:`nnsym.engine.gaussian.pair_expectation`) and its derivatives follow by Price's theorem,
:math:`\langle\partial_i\partial_j F\rangle = D_{ij}P` with :math:`D_{ii} = 2\partial/\partial K_{ii}`,
:math:`D_{12} = \partial/\partial K_{12}` (differentiated by sympy, compiled once). The 4-point moments of
all :math:`\binom{M+3}{4}` multisets of inputs are computed at once as arrays
(:func:`nnsym.numeric.gaussian_moments.activation_moments`); their only approximation is a smooth
one-dimensional integral (the four-sign moment), done at two orders whose difference is carried up the
layers by the same linear maps and reported as :attr:`FiniteWidthExpansion.error`. Linearly dependent
inputs (more inputs than dimensions, no bias) have no density there and go to the quadrature.

*Quadrature* (any activation). Every expectation is a Gaussian integral of products of :math:`\sigma`
only: derivatives are moved onto the Gaussian by Stein's lemma in the Cholesky coordinates
:math:`z = Lw` (:math:`\partial_z = L^{-T}\partial_w`,
:math:`E[\partial_w^\beta G] = E[G\,\mathrm{He}_\beta(w)]`), which is exact also for ReLU (whose
:math:`\sigma''` is a delta) and steps. The integrals (1 to 4 dimensional) are nested
Gauss-Legendre panels on :math:`[-T, T]` in each Cholesky coordinate, split where
:math:`\sigma(z_k)` has a kink (:func:`nnsym.engine.piecewise.kink_points`); inside each panel the
integrand is analytic, so the rule converges exponentially. The whole recursion runs at two
orders (12 and 9 nodes per panel) and :attr:`FiniteWidthExpansion.error` is their largest difference,
an upper estimate: the 12-node result is typically ~1e-11 accurate (checked against the exact
single-layer correlators and closed-form kernels). One integral per entry: M up to a few tens.

``V`` is kept in pair coordinates (a :class:`PairTensor`, (M(M+1)/2)^2 numbers per layer; ``V[l]`` builds
the (M, M, M, M) array on demand), at every layer or only at the output (``keep=``).
"""
from __future__ import annotations

import dataclasses
import itertools
import math
import numbers
from collections.abc import Mapping

import numpy as np
import sympy as sp
from scipy import sparse

from ..core.random import random_atoms
from ..engine.gaussian import Correlation, pair_expectation
from ..engine.piecewise import kink_points
from ..model.deep import DeepMLP
from ..numeric.bindings import Bindings
from ..numeric.gaussian_moments import activation_moments, conditional_variances
from ..numeric.kernels import as_points

__all__ = ["FiniteWidthExpansion", "FiniteWidthCorrelator", "PairTensor", "finite_width_expansion",
           "finite_width_correlator", "spec_symbols"]

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


# ---------------------------------------------------------------------------------------------- moments
class _QuadratureMoments:
    """The Gaussian expectations of one layer by the panel quadrature above (any activation; one
    integral per entry, so for a few tens of inputs). Its error is estimated by a second run."""

    exact = False

    def __init__(self, f, kinks, n: int):
        self.f, self.kinks, self.n = f, kinks, n

    def pair_moments(self, K, pairs) -> np.ndarray:
        return np.array([self.multiset_moment(K, p) for p in pairs])

    def multiset_moment(self, K, idx) -> float:
        dist = sorted(set(idx))
        return _product_expectation(self.f, self.kinks, [list(idx).count(a) for a in dist], K[np.ix_(dist, dist)],
                                    self.n)

    def multiset_moments(self, K, multisets) -> tuple:
        return np.array([self.multiset_moment(K, tuple(m)) for m in multisets]), np.zeros(len(multisets))

    def pair_derivatives(self, K, pairs) -> tuple:
        D2, D4 = np.zeros((len(pairs), 2, 2)), np.zeros((len(pairs),) + (2,) * 4)
        for i, (a, b) in enumerate(pairs):
            loc = [a] if a == b else [a, b]
            d2, d4 = _pair_derivatives(self.f, self.kinks, K[np.ix_(loc, loc)], self.n)
            k = len(loc)
            D2[i, :k, :k], D4[i, :k, :k, :k, :k] = d2, d4
        return D2, D4


class _ClosedMoments:
    r"""The Gaussian expectations of one layer in closed form, vectorised over all inputs: pair moments
    and their Price derivatives (:math:`\langle\partial_i\partial_j F\rangle = D_{ij}P`,
    :math:`D_{ii} = 2\partial/\partial K_{ii}`, :math:`D_{12} = \partial/\partial K_{12}`) from the engine's
    closed form :math:`P(K_{11}, K_{12}, K_{22})` of :math:`\langle\sigma\sigma\rangle`, and the 4-point moments
    from :func:`nnsym.numeric.gaussian_moments.activation_moments` (whose four-sign integral, run at two
    orders, is the only approximation: the difference of the two orders is carried up the layers by the
    same linear recursion, as a second run would)."""

    exact = True
    NODES = (8, 5)  # Gauss-Legendre nodes per panel of the four-sign integral: the result and its check
    CHUNK = 40_000  # 4-point moments per call

    def __init__(self, moments, pair_form, k11, k12, k22, k, fallback):
        self.moments, self.fallback = moments, fallback
        D = {(0, 0): lambda e: 2 * sp.diff(e, k11), (1, 1): lambda e: 2 * sp.diff(e, k22),
             (0, 1): lambda e: sp.diff(e, k12), (1, 0): lambda e: sp.diff(e, k12)}
        two = list(itertools.product(range(2), repeat=2))
        first = {ij: D[ij](pair_form) for ij in two}
        exprs = [pair_form] + [first[ij] for ij in two] + [D[kl](first[ij]) for ij in two for kl in two]
        self._pair = sp.lambdify([k11, k12, k22], exprs, modules="numpy", cse=True)
        one = pair_form.subs({k11: k, k12: k, k22: k})
        d1 = sp.diff(one, k)
        self._one = sp.lambdify([k], [one, 2 * d1, 4 * sp.diff(d1, k)], modules="numpy", cse=True)

    def _evaluate(self, K, pairs):
        pairs = np.asarray(pairs)
        a, b = pairs[:, 0], pairs[:, 1]
        diag = a == b
        P = np.empty(len(pairs))
        D2, D4 = np.zeros((len(pairs), 2, 2)), np.zeros((len(pairs),) + (2,) * 4)
        if np.any(~diag):
            off = np.nonzero(~diag)[0]
            vals = self._pair(K[a[off], a[off]], K[a[off], b[off]], K[b[off], b[off]])
            vals = [np.broadcast_to(v, off.shape) for v in vals]
            P[off] = vals[0]
            D2[off] = np.stack(vals[1:5], -1).reshape(-1, 2, 2)
            D4[off] = np.stack(vals[5:], -1).reshape((-1,) + (2,) * 4)
        if np.any(diag):
            on = np.nonzero(diag)[0]
            vals = [np.broadcast_to(v, on.shape) for v in self._one(K[a[on], a[on]])]
            P[on], D2[on, 0, 0], D4[on, 0, 0, 0, 0] = vals
        return P, D2, D4

    def pair_moments(self, K, pairs) -> np.ndarray:
        return self._evaluate(K, pairs)[0]

    def pair_derivatives(self, K, pairs) -> tuple:
        return self._evaluate(K, pairs)[1:]

    def multiset_moments(self, K, multisets) -> tuple:
        m = np.asarray(multisets)
        eq = (m[:, 1:] == m[:, :-1])
        vals, err = np.empty(len(m)), np.empty(len(m))
        for pattern in itertools.product((False, True), repeat=3):
            sel = np.nonzero(np.all(eq == pattern, axis=1))[0]
            if not sel.size:
                continue
            cols = [0] + [j + 1 for j in range(3) if not pattern[j]]  # first member of each run of equal indices
            mult = tuple(np.diff(cols + [4]))
            for s in range(0, sel.size, self.CHUNK):
                part = sel[s:s + self.CHUNK]
                idx = m[part][:, cols]
                C = K[idx[:, :, None], idx[:, None, :]]
                flat = np.min(conditional_variances(C), axis=-1) <= 1e-9
                if np.any(flat):  # linearly dependent inputs (more inputs than dimensions, no bias): quadrature
                    for j in np.nonzero(flat)[0]:
                        v = [q.multiset_moment(K, tuple(m[part[j]])) for q in self.fallback]
                        vals[part[j]], err[part[j]] = v[0], v[0] - v[1]
                    part, C = part[~flat], C[~flat]
                if part.size:
                    both = self.moments(C, mult, nodes=self.NODES)
                    vals[part], err[part] = both[0], both[0] - both[1]
        return vals, err


def _moment_backend(method: str, fz, z, n: int, f, kinks, cache: dict):
    """The closed-form backend when ``method`` allows it and the activation has one, else the quadrature
    (``cache``: one closed-form backend per activation)."""
    if method in ("auto", "closed") and fz in cache:
        return cache[fz]
    if method in ("auto", "closed"):
        mom = activation_moments(fz, z)
        k11, k22, k = (sp.Dummy(name, positive=True) for name in ("k11", "k22", "k"))
        k12 = sp.Dummy("k12", real=True)
        form = None
        if mom is not None:
            form = pair_expectation(lambda u: fz.xreplace({z: u}), k11, k12, k22)
        if form is not None and not form.has(sp.Integral) and not random_atoms(form):
            form = form.replace(Correlation, lambda c12, c11, c22: c12 / sp.sqrt(c11 * c22))
            fallback = [_QuadratureMoments(f, kinks, q) for q in (NODES, NODES_CHECK)]
            cache[fz] = _ClosedMoments(mom, form, k11, k12, k22, k, fallback)
            return cache[fz]
        if method == "closed":
            raise ValueError(f"finite_width_expansion: method='closed' needs an activation with closed-form Gaussian "
                             f"moments (sign polynomials such as ReLU, or A*erf(B*z)); got {fz}")
    return _QuadratureMoments(f, kinks, n)


# ---------------------------------------------------------------------------------------------- recursion
def _pairs(M: int):
    pairs = [(a, b) for a in range(M) for b in range(a, M)]
    pid = np.zeros((M, M), int)
    for i, (a, b) in enumerate(pairs):
        pid[a, b] = pid[b, a] = i
    return pairs, pid


class _Tables:
    """Index tables shared by every layer: the pairs (a <= b), the sorted 4-multisets of inputs, and for each
    (pair, pair) the multiset it makes (its rank in the combinatorial number system)."""

    def __init__(self, M: int):
        self.M = M
        self.pairs, self.pid = _pairs(M)
        P = len(self.pairs)
        combos = np.fromiter(itertools.chain.from_iterable(itertools.combinations(range(M + 3), 4)),
                             dtype=np.int64).reshape(-1, 4)
        multisets = combos - np.arange(4)  # a <= b <= c <= d
        self.multisets = np.empty_like(multisets)
        self.multisets[self._rank(multisets)] = multisets  # each at its rank (the ranks are 0 .. C(M+3, 4) - 1)
        pa = np.asarray(self.pairs)
        self.rank = np.empty((P, P), np.int32)
        step = max(1, 4_000_000 // max(P, 1))
        for s in range(0, P, step):
            quads = np.concatenate([np.broadcast_to(pa[s:s + step, None, :], (min(step, P - s), P, 2)),
                                    np.broadcast_to(pa[None, :, :], (min(step, P - s), P, 2))], -1)
            self.rank[s:s + step] = self._rank(np.sort(quads, axis=-1))

    @staticmethod
    def _rank(q: np.ndarray) -> np.ndarray:
        """The colex rank of sorted multisets (a <= b <= c <= d): C(a, 1) + C(b+1, 2) + C(c+2, 3) + C(d+3, 4)."""
        a, b, c, d = (q[..., i].astype(np.int64) + i for i in range(4))
        return a + b * (b - 1) // 2 + c * (c - 1) * (c - 2) // 6 + d * (d - 1) * (d - 2) * (d - 3) // 24


def _layer(mom, tables: _Tables, K, V, K1, C_W, C_b, ratio, diff: dict):
    """One step l -> l+1 of the three recursions (``V`` and ``K1`` in pair coordinates); also returns the
    two terms of ``V_next``: the single-layer (fresh 4-point) term and the propagated one. ``diff`` holds
    the difference of V and K1 between two quadrature orders of the closed-form backend's 4-point moments
    (zero for the quadrature backend, which is run twice instead), carried up by the same linear maps;
    updated in place."""
    pairs, pid = tables.pairs, tables.pid
    P = len(pairs)
    pa = np.asarray(pairs)
    off = pa[:, 0] != pa[:, 1]
    a, b = pa[off, 0], pa[off, 1]
    bad = np.nonzero(K[a, a] * K[b, b] - K[a, b] ** 2 <= 1e-10 * K[a, a] * K[b, b])[0]
    if bad.size:
        raise ValueError(f"finite_width_expansion: the covariance of inputs {a[bad[0]]} and {b[bad[0]]} is "
                         "singular at some layer (equal or parallel inputs): the 4-point and derivative "
                         "expectations do not exist there; drop repeated inputs")
    Pm = mom.pair_moments(K, pairs)
    vals, dvals = mom.multiset_moments(K, tables.multisets)
    V_single = vals[tables.rank]
    V_single -= np.outer(Pm, Pm)
    V_single *= C_W**2
    K_next = C_b + C_W * Pm
    dV = C_W**2 * dvals[tables.rank] if np.any(dvals) else None
    dK1 = None
    V_prop = np.zeros((P, P))
    K1_next = np.zeros(P)
    if np.any(V) or np.any(K1):
        D2, D4 = mom.pair_derivatives(K, pairs)
        a, b = pa[:, 0], pa[:, 1]
        ids = np.stack([np.stack([pid[a, a], pid[a, b]], -1), np.stack([pid[a, b], pid[b, b]], -1)], -2)
        ids[~off] = pid[a[~off], a[~off]][:, None, None]
        E2 = sparse.csr_matrix((D2.reshape(-1), (np.repeat(np.arange(P), 4), ids.reshape(-1))), shape=(P, P))

        def propagate(W):  # (C_W^2 / 4) (n_l / n_{l-1}) E2 W E2^T
            out = np.asarray((E2 @ np.asarray(E2 @ W).T).T)
            out *= 0.25 * C_W**2 * ratio
            return out

        def correction(W, k1):  # the K^{(1)} recursion
            return C_W * ratio * (0.5 * np.einsum("pij,pij->p", k1[ids], D2)
                                  + 0.125 * np.einsum("pijkl,pijkl->p", W[ids[:, :, :, None, None],
                                                                         ids[:, None, None, :, :]], D4))

        V_prop = propagate(V)
        K1_next = correction(V, K1)
        if diff["V"] is not None:
            dV = propagate(diff["V"]) if dV is None else dV + propagate(diff["V"])
            dK1 = correction(diff["V"], diff["K1"])
    diff["V"], diff["K1"] = dV, (dK1 if dK1 is not None else np.zeros(P)) if dV is not None else None
    V_next = V_single + V_prop
    return K_next, V_next, K1_next, V_single, V_prop


class PairTensor(Mapping):
    r"""Layer :math:`l` :math:`\to` a tensor :math:`T_{(a_1a_2)(a_3a_4)}` symmetric in :math:`a_1\leftrightarrow a_2`
    and :math:`a_3\leftrightarrow a_4` (a vertex :math:`V^{(l)}` or one of its parts), kept in pair coordinates:
    ``T[l]`` builds the full (M, M, M, M) array (:math:`M^4` numbers: ask for it only for a few tens of
    inputs), :meth:`pairs` gives the (P, P) array over the pairs :math:`a \le b` (:attr:`pair_index`
    numbers them) and :meth:`at` picks entries without building the full array.

    >>> T = PairTensor(2, {1: np.arange(9.0).reshape(3, 3)})   # pairs (0,0), (0,1), (1,1)
    >>> float(T[1][1, 0, 1, 1]), float(T.at(1, 0, 1, 1, 1))
    (5.0, 5.0)
    """

    def __init__(self, M: int, layers: dict):
        self.M = M
        self._layers = dict(layers)
        self.pair_index = _pairs(M)[1]

    def __getitem__(self, l) -> np.ndarray:
        pid = self.pair_index
        return self._layers[l][pid[:, :, None, None], pid[None, None, :, :]]

    def __iter__(self):
        return iter(self._layers)

    def __len__(self) -> int:
        return len(self._layers)

    def __repr__(self):
        return f"PairTensor(M={self.M}, layers={sorted(self._layers)})"

    def pairs(self, l) -> np.ndarray:
        r"""The (P, P) array of layer ``l`` over the pairs :math:`a \le b`."""
        return self._layers[l]

    def at(self, l, a1, a2, a3, a4) -> np.ndarray:
        r""":math:`T_{(a_1a_2)(a_3a_4)}` at layer ``l`` (integer arrays broadcast together)."""
        pid = self.pair_index
        return self._layers[l][pid[a1, a2], pid[a3, a4]]


@dataclasses.dataclass(frozen=True)
class FiniteWidthExpansion:
    r"""The leading :math:`1/n` expansion of a deep MLP at the inputs ``X`` (from
    :func:`finite_width_expansion`; conventions in :mod:`nnsym.analysis.finite_width`).

    Attributes
    ----------
    K, K1 : dicts by layer :math:`l = 1, \dots, L+1` (:math:`L+1` is the output):
        :math:`K^{(l)}` and :math:`K^{(1),(l)}`, (M, M) arrays.
    V : :math:`V^{(l)}_{(a_1a_2)(a_3a_4)}` by layer, a :class:`PairTensor` (``V[l]`` is the (M, M, M, M) array);
        every layer, or only the output :math:`L+1` (``keep="output"``).
    widths : the hidden widths :math:`n_1..n_L` used (floats; ``inf`` when not given: then only the
        ratios, all 1, are used and :meth:`two_point` / :meth:`connected_four_point` need ``n``).
    error : the estimated bound on the absolute numerical error of every entry of K, V, K1: the largest
        difference between two quadrature orders (quadrature backend: the whole recursion run twice;
        closed-form backend: the four-sign integral at two orders, its difference carried up the layers by
        the same linear maps). The :math:`O(1/n^2)` truncation of the expansion is not part of it.
    method : "closed" (closed-form Gaussian moments at every layer) or "quadrature".
    V_single, V_propagated : :class:`PairTensor` by layer (as ``V``), the two terms of the :math:`V` recursion,
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
    V: PairTensor
    K1: dict
    error: float
    V_single: PairTensor | None = None
    V_propagated: PairTensor | None = None
    method: str = "quadrature"

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
        return self._pairing_sum(self.V, indices, n, "connected_four_point")

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
        if self.V_single is None:
            raise ValueError("independence_split: this FiniteWidthExpansion was built without the parts of V "
                             "(V_single, V_propagated); build it with finite_width_expansion")
        return (self._pairing_sum(self.V_single, indices, n, "independence_split"),
                self._pairing_sum(self.V_propagated, indices, n, "independence_split"))

    def _pairing_sum(self, T: PairTensor, indices, n, who: str) -> np.ndarray:
        M, L = self.X.shape[0], self.depth + 1
        if indices is None:
            V = T[L]
            return (V + V.transpose(0, 2, 1, 3) + V.transpose(0, 3, 2, 1)) / self._n(n)
        idx = np.asarray(indices)
        if idx.ndim != 2 or idx.shape[1] != 4 or not np.issubdtype(idx.dtype, np.integer) or (
                idx.size and (idx.min() < 0 or idx.max() >= M)):
            raise ValueError(f"{who}: indices must be integer 4-tuples in 0..{M - 1}, "
                             f"shape (T, 4); got shape {idx.shape}")
        a1, a2, a3, a4 = idx.T
        return (T.at(L, a1, a2, a3, a4) + T.at(L, a1, a3, a2, a4) + T.at(L, a1, a4, a2, a3)) / self._n(n)

    def normalised_vertex(self) -> dict:
        r""":math:`V^{(l)}_{(aa)(aa)}/(K^{(l)}_{aa})^2` per layer kept (arrays (M,)): the single-input
        4-point vertex in units of the kernel; :math:`\frac{3}{n}` times it is the excess kurtosis."""
        a = np.arange(self.X.shape[0])
        return {l: self.V.at(l, a, a, a, a) / self.K[l][a, a] ** 2 for l in self.V}


def _run(backends, tables: _Tables, CW, Cb, ratios, K0, keep_all: bool):
    """The recursions from layer 1 to L+1: dicts by layer of K (full), K1 (pair coordinates), V and its
    (single-layer, propagated) parts (pair coordinates; every layer or the output only), and the largest
    difference of two orders of the closed-form backend carried up the layers (zero for the quadrature
    backend, whose error comes from a second run)."""
    P = len(tables.pairs)
    L = len(backends)
    K, K1 = {1: K0}, {1: np.zeros(P)}
    V, Vs, Vp = ({1: np.zeros((P, P))} if keep_all else {} for _ in range(3))
    diff = {"V": None, "K1": None}
    err = 0.0
    V_last = np.zeros((P, P))
    for l in range(1, L + 1):
        k, v, k1, v_single, v_prop = _layer(backends[l - 1], tables, K[l], V_last, K1[l], CW[l - 1], Cb[l - 1],
                                            ratios[l - 1], diff)
        if diff["V"] is not None:
            err = max(err, float(np.max(np.abs(diff["V"]))), float(np.max(np.abs(diff["K1"]))))
        K[l + 1], K1[l + 1], V_last = k[tables.pid], k1, v
        if keep_all or l == L:
            V[l + 1], Vs[l + 1], Vp[l + 1] = v, v_single, v_prop
    return K, K1, V, Vs, Vp, err


def finite_width_expansion(spec: DeepMLP, X, widths=None, nodes: tuple = (NODES, NODES_CHECK),
                           method: str = "auto", keep: str = "auto", **values) -> FiniteWidthExpansion:
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
    nodes : Gauss-Legendre nodes per panel of the quadrature backend, (result, check); the error estimate is
        the difference.
    method : "auto" (closed form where the activation has one, else quadrature), "closed" (refused for an
        activation without closed-form moments) or "quadrature". The closed form covers sign polynomials
        (ReLU, leaky ReLU, rectified powers, :math:`|z|`, polynomials) and :math:`A\,\mathrm{erf}(Bz)`:
        every expectation is exact except a smooth one-dimensional integral in each 4-point moment of four
        distinct inputs (:mod:`nnsym.numeric.gaussian_moments`), and all of them are computed at once
        as arrays, so a hundred inputs are practical (4.4 million 4-point moments per layer). The quadrature
        backend integrates each entry on its own: a few tens of inputs.
    keep : "all" (V and its parts at every layer), "output" (only at the output, :math:`L+1`; the memory of
        one layer, :math:`(M(M+1)/2)^2` numbers per array) or "auto" (all layers up to 44 inputs).
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
    values = dict(Bindings(values, known=spec_symbols(spec), context="finite_width_expansion"))
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
    fs, fzs, kinks = [], [], []
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
        fzs.append(fz)
        fs.append(sp.lambdify([z], fz, modules=["scipy", "numpy"]))
    if method not in ("auto", "closed", "quadrature"):
        raise ValueError(f"finite_width_expansion: method must be 'auto', 'closed' or 'quadrature', got {method!r}")
    if keep not in ("auto", "all", "output"):
        raise ValueError(f"finite_width_expansion: keep must be 'auto', 'all' or 'output', got {keep!r}")
    keep_all = keep == "all" or (keep == "auto" and M <= 44)
    tables = _Tables(M)
    runs, cache = [], {}
    for n in nodes:
        backends = [_moment_backend(method, fz, z, n, f, ks, cache) for fz, f, ks in zip(fzs, fs, kinks)]
        runs.append(_run(backends, tables, CW, Cb, ratios, K0, keep_all))
        if all(b.exact for b in backends):
            break
    (K, K1, V, Vs, Vp, err) = runs[0]
    if len(runs) == 2:
        (Kc, K1c, Vc, _, _, _) = runs[1]
        diffs = [np.max(np.abs(K[l] - Kc[l])) for l in K] + [np.max(np.abs(K1[l] - K1c[l])) for l in K1]
        diffs += [np.max(np.abs(V[l] - Vc[l])) for l in V]
        err = max(err, float(max(diffs)))
    K1 = {l: v[tables.pid] for l, v in K1.items()}
    used = "closed" if all(b.exact for b in backends) else "quadrature"
    return FiniteWidthExpansion(X=X, depth=L, widths=tuple(ws), K=K, V=PairTensor(M, V), K1=K1, error=err,
                                V_single=PairTensor(M, Vs), V_propagated=PairTensor(M, Vp), method=used)


def spec_symbols(spec: DeepMLP) -> set:
    """The symbols of a deep network's definition that take values by name: variances, widths, the input
    dimension and the activations' parameters.

    >>> sorted(s.name for s in spec_symbols(DeepMLP(sp.erf, depth=2, d=3, widths=sp.Symbol("n"))))
    ['n', 'sigma_W', 'sigma_b']
    """
    z = sp.Dummy("z", real=True)
    syms = set(sp.sympify(spec.d).free_symbols)
    for l in range(1, spec.depth + 1):
        syms |= spec.activation_expr(l, z).free_symbols - {z}
    for e in (*spec.sigma_W, *spec.sigma_b, *spec.widths):
        syms |= sp.sympify(e).free_symbols
    return syms


class FiniteWidthCorrelator:
    r"""The output's two- or four-point function of a deep MLP at leading order in :math:`1/n`, as a
    function of the points (a :class:`~nnsym.Correlator`-like view of :func:`finite_width_expansion`):

    .. math:: G^{(2)}(x_1, x_2) = K^{(L+1)}_{12} + \frac{1}{n_L}K^{(1),(L+1)}_{12},\qquad
              G^{(4)}_c(x_1..x_4) = \frac{1}{n_L}\big[V_{(12)(34)} + V_{(13)(24)} + V_{(14)(23)}\big],

    and the full :math:`G^{(4)} = G^{(4)}_c + \sum_{\rm pairings} G^{(2)}G^{(2)}`, all up to
    :math:`O(1/n^2)`. Numeric: :meth:`evaluate` runs the recursions on the distinct points of all the
    point sets at once and reports the numerical error bound with ``error=True``.

    Examples
    --------
    >>> import numpy as np, sympy as sp
    >>> relu = lambda z: sp.Max(0, z)
    >>> spec = DeepMLP(relu, depth=2, d=2, widths=sp.Symbol("n"), sigma_W=np.sqrt(2), sigma_b=0)
    >>> G4 = finite_width_correlator(spec, 4)
    >>> x = np.array([1.0, 0.0])
    >>> G4.evaluate(np.array([[x, x, x, x]]), n=32)     # 3 V / n with V = 5 (l - 1) K^2 = 10
    array([0.9375])
    >>> G4.latex().split(" = ")[0]
    'G^{(4)}_c(x_1, x_2, x_3, x_4)'
    """

    numeric = True

    def __init__(self, spec: DeepMLP, points: int, connected: bool = True, method: str = "auto"):
        if not isinstance(spec, DeepMLP):
            raise TypeError(f"finite_width_correlator needs a DeepMLP, got {type(spec).__name__}")
        if isinstance(points, bool) or points not in (2, 4):
            raise ValueError(f"finite_width_correlator: points must be 2 or 4 (the leading 1/n expansion), "
                             f"got {points!r}")
        self.spec, self.points, self.connected, self.method = spec, int(points), bool(connected), method

    def __repr__(self):
        what = "connected " if self.connected and self.points == 4 else ""
        return f"FiniteWidthCorrelator({what}{self.points}-point, {self.spec!r})"

    def value_names(self) -> list:
        """The names :meth:`evaluate` takes values for (besides ``n``, ``widths``, ``error``)."""
        return sorted(s.name for s in spec_symbols(self.spec))

    def evaluate(self, X, n=None, widths=None, error: bool = False, **values):
        r"""The correlator at point sets ``X`` of shape (..., points, d); returns shape ``X.shape[:-2]``
        (and the numerical error bound, a float, with ``error=True``). ``n`` is the last hidden width
        :math:`n_L` of the :math:`1/n` (default: the spec's, with ``values``); ``widths`` as in
        :func:`finite_width_expansion`."""
        X = as_points(X, "X")
        if X.ndim < 2 or X.shape[-2] != self.points:
            raise ValueError(f"FiniteWidthCorrelator.evaluate: X must have shape (..., {self.points}, d), "
                             f"got {X.shape}")
        sets = X.reshape((-1,) + X.shape[-2:])
        inputs, inverse = np.unique(sets.reshape(-1, X.shape[-1]), axis=0, return_inverse=True)
        idx = inverse.reshape(sets.shape[:2])
        fw = finite_width_expansion(self.spec, inputs, widths=widths, method=self.method, keep="output", **values)
        if n is None:
            n = fw.widths[-1]
        if self.points == 2:
            out = fw.two_point(n)[idx[:, 0], idx[:, 1]]
        else:
            out = fw.connected_four_point(idx, n=n)
            if not self.connected:
                G2 = fw.two_point(n)
                a1, a2, a3, a4 = idx.T
                out = out + G2[a1, a2] * G2[a3, a4] + G2[a1, a3] * G2[a2, a4] + G2[a1, a4] * G2[a2, a3]
        out = out.reshape(X.shape[:-2])
        return (out, fw.error) if error else out

    def latex(self) -> str:
        """The leading-order formula in LaTeX."""
        if self.points == 2:
            return r"G^{(2)}(x_1, x_2) = K^{(L+1)}_{12} + \frac{1}{n_L}K^{(1),(L+1)}_{12} + O(n^{-2})"
        Gc = (r"\frac{1}{n_L}\left[V^{(L+1)}_{(12)(34)} + V^{(L+1)}_{(13)(24)} + V^{(L+1)}_{(14)(23)}\right]")
        if self.connected:
            return rf"G^{{(4)}}_c(x_1, x_2, x_3, x_4) = {Gc} + O(n^{{-2}})"
        pairs = " + ".join(rf"G^{{(2)}}_{{{p}}}G^{{(2)}}_{{{q}}}"
                           for p, q in (("12", "34"), ("13", "24"), ("14", "23")))
        return rf"G^{{(4)}}(x_1, x_2, x_3, x_4) = {Gc} + {pairs} + O(n^{{-2}})"


def finite_width_correlator(spec: DeepMLP, points: int, connected: bool = True,
                            method: str = "auto") -> FiniteWidthCorrelator:
    r"""The output's leading-order :math:`1/n` two-point function (``points=2``) or connected
    (``connected=False``: full) four-point function of the deep MLP ``spec``, evaluated at any points:
    a :class:`FiniteWidthCorrelator`."""
    return FiniteWidthCorrelator(spec, points, connected, method)


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
