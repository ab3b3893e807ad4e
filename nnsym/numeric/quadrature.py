r"""Quadrature of the expectations the engine left unevaluated, each with a stated error.

:func:`~nnsym.numeric.kernels.numeric_expectation` is dispatched on the type of the unevaluated
expectation (``functools.singledispatch``); the rules registered here are

* :class:`~nnsym.engine.unevaluated.Expectation` -- :func:`law_quadrature`: the tensor product of
  each law's Gauss rule, :math:`E_\theta[f] \approx \sum_j w_j f(\theta_j)`;
* :class:`~nnsym.engine.gaussian.GaussianExpectation` -- :func:`gaussian_numeric`:
  :math:`E[g(z)]`, :math:`z\sim\mathcal N(\mu, C)`, by the rule that fits the integrand: orthant
  moments (:func:`sign_moment`), angular rules, Gaussian integration by parts, and Gauss-Legendre
  panels split at the kinks (:func:`gauss1_kinked`, :func:`gauss2_kinked`).

A new kind of unevaluated expectation gets its rule with
``@numeric_expectation.register(MyExpectation)``.

>>> import numpy as np, sympy as sp
>>> from nnsym import Normal, expectation
>>> from nnsym.numeric.kernels import numeric_expectation
>>> b = Normal("b", 0, 1)
>>> E = expectation(sp.tanh(b)**2)
>>> numeric_expectation.dispatch(type(E)).__name__
'gaussian_numeric'
>>> value, error = numeric_expectation(E, [], np.zeros((1, 0, 1)), {})
>>> round(float(value[0]), 6), error < 1e-8  # E[tanh(b)^2], b ~ N(0, 1)
(0.394294, True)
"""
from __future__ import annotations

import itertools
import math
from functools import lru_cache
from typing import Mapping

import numpy as np
import sympy as sp

from ..core.random import RandomVector
from ..core.vectors import VectorSymbol
from ..engine.gaussian import GaussianExpectation, factor_per_variable
from ..engine.piecewise import kink_points, sign_polynomial
from ..engine.unevaluated import Expectation
from .bindings import check_values
from .kernels import QUADRATURE_CHUNK_VALUES, compile_kernel, numeric_expectation, ones_symbols, point_arrays

__all__ = ["law_quadrature", "log_space_integrand", "gaussian_numeric", "sign_moment", "gauss1_kinked", "gauss2_kinked",
           "PANEL_NODES", "PANEL_NODES_CHECK", "smooth_pair_moments", "KINKED_FUNCTIONS"]


# ----------------------------------------------------------------------------- any law: tensor-product rules
_MAX_NODES = 200_000


def _nodes_per_dim(ndim: int) -> int:
    return int(max(6, min(160, math.floor(_MAX_NODES ** (1.0 / ndim)))))


def _quadrature_grid(params, D: int, n: int, values: Mapping):
    """Tensor-product nodes (as arrays per parameter) and weights."""
    axes = []  # (param, component or None, nodes, weights)
    for p in params:
        if isinstance(p, RandomVector) and p.law.joint:
            nodes, w = p.law.vector_quadrature(n, D, values)  # (K, D), (K,)
            axes.append((p, "joint", np.arange(len(w)), w, nodes))
            continue
        nodes, w = p.law.quadrature(n, values)
        if isinstance(p, RandomVector):
            for j in range(D):
                axes.append((p, j, nodes, w))
        else:
            axes.append((p, None, nodes, w))
    grids = np.meshgrid(*[a[2] for a in axes], indexing="ij")
    wgrid = np.ones_like(grids[0], dtype=float) if grids else np.ones(())
    for g in np.meshgrid(*[a[3] for a in axes], indexing="ij"):  # one weight grid per axis
        wgrid = wgrid * g
    K = wgrid.size
    arrays = {}
    for a, g in zip(axes, grids):
        p, j = a[0], a[1]
        if j is None:
            arrays[p] = g.reshape(K, 1)
        elif j == "joint":  # g indexes the law's own (K_p, D) nodes
            arrays[p] = a[4][g.reshape(K).astype(int)].reshape(K, 1, D)
        else:
            arrays.setdefault(p, np.empty((K, 1, D)))[:, 0, j] = g.reshape(K)
    return arrays, wgrid.reshape(K)


_MAX_EXPANDED_TERMS = 64


def log_space_integrand(f, logw) -> sp.Expr:
    r"""``f`` times the weight :math:`e^{\log w}` with the exponentials of each product merged into one:
    :math:`\sum_k c_k\,e^{E_k + \log w}` (the products of sums with exponentials multiplied out when
    that gives at most 64 terms). A quadrature rule then evaluates one combined exponent per term,
    so :math:`e^{9c^2/2}` never meets :math:`e^{-4b^2x^2}` or a far node's weight as
    :math:`\infty\cdot 0`.

    >>> b, c, L = sp.symbols("b c L", real=True)
    >>> log_space_integrand(sp.exp(-b**2) * sp.exp(3*b*c) * sp.sin(c), L)
    exp(L - b**2 + 3*b*c)*sin(c)
    """
    sums = [a for a in sp.Mul.make_args(f) if (a.is_Add or (a.is_Pow and a.base.is_Add)) and a.has(sp.exp)]
    size = math.prod(len(sp.Add.make_args(a.base if a.is_Pow else a)) ** (int(a.exp) if a.is_Pow and a.exp.is_Integer
                                                                           and a.exp > 0 else 1) for a in sums)
    if sums and size <= _MAX_EXPANDED_TERMS:
        f = sp.expand(f, deep=False, power_exp=False, log=False)
    terms = []
    for term in sp.Add.make_args(f):
        exps = [a for a in sp.Mul.make_args(term) if isinstance(a, sp.exp)]
        rest = sp.Mul(*[a for a in sp.Mul.make_args(term) if not isinstance(a, sp.exp)])
        terms.append(rest * sp.exp(sp.Add(*[e.args[0] for e in exps]) + logw))
    return sp.Add(*terms)


@numeric_expectation.register(Expectation)
def law_quadrature(E: Expectation, points, Xf, values: Mapping, dsym=None) -> tuple[np.ndarray, float]:
    r""":math:`E_\theta[f]` at every point set by the tensor product of each law's Gauss rule,
    :math:`\sum_{j} w_j f(\theta_j)` (Gauss-Hermite for a Normal, Gauss-Legendre for a Uniform, ...),
    each term evaluated in log space as :math:`c(\theta_j)\,e^{E(\theta_j) + \log w_j}`
    (:func:`log_space_integrand`); returns values and an error estimate (the difference between two
    rule sizes, times 10 at a kink of the integrand; a law's own kinks are split by its rule)."""
    params = list(E.params)
    D = Xf.shape[-1]
    ndim = sum(D if isinstance(p, RandomVector) else 1 for p in params)  # joint laws size their own rule
    f = E.integrand
    others = sorted(f.free_symbols - set(params) - set(points) - ({dsym} if dsym is not None else set()), key=str)
    ones = [s for s in others if isinstance(s, VectorSymbol) and s.name == "1_d"]
    hyper = [s for s in others if s not in ones]
    hv = check_values(hyper, values, "numeric expectation")
    logw = sp.Dummy("logw", real=True)
    args = params + list(points) + ones + hyper + ([dsym] if dsym is not None else []) + [logw]
    fn = compile_kernel(args, log_space_integrand(f, logw))
    pts = point_arrays(points, Xf)
    law_values = {**{k: v for k, v in values.items()}, **({dsym.name: D} if dsym is not None else {})}

    def run(n):
        arrays, w = _quadrature_grid(params, D, n, law_values)
        with np.errstate(divide="ignore"):
            lw = np.log(np.abs(w))[:, None]  # a weight 0 (a density 0 at a node): log w = -oo, term 0
        sign = np.sign(w)
        out = np.zeros(Xf.shape[0], dtype=complex)
        K = w.size
        chunk = max(1, QUADRATURE_CHUNK_VALUES // max(K, 1))
        for s in range(0, Xf.shape[0], chunk):
            sl = slice(s, s + chunk)
            with np.errstate(over="ignore", invalid="ignore", under="ignore"):
                vals = fn(*[arrays[p] for p in params], *[a[sl] for a in pts], *[np.ones(D)] * len(ones),
                          *[hv[h] for h in hyper], *([D] if dsym is not None else []), lw)
            vals = np.broadcast_to(vals, (K, min(chunk, Xf.shape[0] - s)))
            # far-tail nodes whose weight underflowed (a density ~ 0 there) contribute 0, even where
            # a factor that is not an exponential overflows (the domain has been checked before)
            negligible = (np.abs(w) < 1e-250)[:, None] & ~np.isfinite(vals)
            if np.any(negligible):
                vals = np.where(negligible, 0.0, vals)
            out[sl] = sign @ vals
        return out

    n = _nodes_per_dim(ndim)
    hi = run(n)
    lo = run(max(4, (3 * n) // 4))
    err = float(np.max(np.abs(hi - lo))) if hi.size else 0.0
    if f.has(*_KINKED):  # a kink: the rules converge slowly and the difference of two can be
        err *= 10.0      # smaller than the real error (fuzzer: 2.0e-4 stated, 2.3e-4 real)
    err = max(err, 1e-12 * float(np.max(np.abs(hi)))) if hi.size else err
    if np.all(np.abs(hi.imag) <= 1e-12 * (1 + np.abs(hi.real))):
        hi = hi.real
    return hi, err


_KINKED = (sp.Max, sp.Min, sp.Abs, sp.Heaviside, sp.sign, sp.Piecewise, sp.floor, sp.ceiling)


# ----------------------------------------------------------------------------- Gaussian pre-activations
def sign_moment(R: np.ndarray, n: int = 20) -> float:
    r"""Orthant moment :math:`S(R) = E[\prod_j \mathrm{sgn}\,y_j]`, :math:`y\sim\mathcal N(0, R)`,
    R a correlation matrix.

    Price's theorem along :math:`R(\lambda) = 1 + \lambda R_{\rm off}` gives a smooth one-dimensional
    integral per level (Gauss-Legendre, exponential convergence):

    .. math:: S(R) = \int_0^1 d\lambda \sum_{i<j} R_{ij}\,\frac{2}{\pi\sqrt{1-\lambda^2R_{ij}^2}}\,
              S\big(R^{(ij)}(\lambda)\big),\qquad S = \tfrac{2}{\pi}\arcsin R_{12}\ (m = 2),

    with :math:`R^{(ij)}` the correlation of the other coordinates given :math:`y_i = y_j = 0`;
    each pair's integral is taken in :math:`\varphi = \arcsin(\lambda R_{ij})`, which removes the
    endpoint singularity at strong correlation.

    >>> R = np.array([[1, .3, .2, .1], [.3, 1, .4, .2], [.2, .4, 1, .5], [.1, .2, .5, 1]])
    >>> round(float(sign_moment(R)), 10)  # Monte Carlo, 4e6 draws: 0.0735 +- 0.0005
    0.0742550122
    """
    m = len(R)
    if m == 0:
        return 1.0
    if m % 2:
        return 0.0
    if m == 2:
        return 2 / math.pi * math.asin(max(-1.0, min(1.0, float(R[0, 1]))))
    x, w = _leg(n)
    if m == 4:
        return _sign_moment4(np.asarray(R, float), x, w)
    off = R - np.diag(np.diag(R))
    total = 0.0
    for i in range(m):
        for j in range(i + 1, m):
            r = float(R[i, j])
            if r == 0:
                continue
            # lambda = sin(phi)/r removes the 1/sqrt(1 - lambda^2 r^2) endpoint singularity exactly
            top = math.asin(max(-1.0, min(1.0, r)))
            rest = [k for k in range(m) if k not in (i, j)]
            acc = 0.0
            for xi, wi in zip(x, w):
                phi = top * (xi + 1) / 2
                lam = min(1.0, math.sin(phi) / r)
                Rl = np.eye(m) + lam * off
                Cr = Rl[np.ix_(rest, [i, j])]
                cond = Rl[np.ix_(rest, rest)] - Cr @ np.linalg.solve(Rl[np.ix_([i, j], [i, j])], Cr.T)
                dn = np.sqrt(np.clip(np.diag(cond), 1e-300, None))
                acc += wi * sign_moment(np.clip(cond / np.outer(dn, dn), -1.0, 1.0), n)
            total += 2 / math.pi * top / 2 * acc
    return total


def _sign_moment4(R: np.ndarray, x: np.ndarray, w: np.ndarray) -> float:
    r""":func:`sign_moment` for :math:`m = 4`, the same rule with the nodes of each pair at once: given
    :math:`y_i = y_j = 0` the other two coordinates :math:`a, b` have the correlation
    :math:`\rho = c_{ab}/\sqrt{c_{aa}c_{bb}}`, :math:`c = R_\lambda[\{a,b\}] - C\,\Sigma^{-1}C^T` with
    :math:`\Sigma^{-1} = \frac{1}{1-\lambda^2r^2}\begin{pmatrix}1 & -\lambda r\\ -\lambda r & 1\end{pmatrix}`, and
    :math:`S_2 = \frac{2}{\pi}\arcsin\rho`."""
    total = 0.0
    for i, j in itertools.combinations(range(4), 2):
        r = float(R[i, j])
        if r == 0:
            continue
        a, b = [k for k in range(4) if k not in (i, j)]
        top = math.asin(max(-1.0, min(1.0, r)))
        lam = np.minimum(1.0, np.sin(top * (x + 1) / 2) / r)
        lr = lam * r
        det = 1.0 - lr * lr

        def quad_form(u, v):  # C_u Sigma^-1 C_v^T with C_u = lam (R_ui, R_uj)
            ui, uj, vi, vj = lam * R[u, i], lam * R[u, j], lam * R[v, i], lam * R[v, j]
            return (ui * vi + uj * vj - lr * (ui * vj + uj * vi)) / det

        caa = np.clip(1.0 - quad_form(a, a), 1e-300, None)
        cbb = np.clip(1.0 - quad_form(b, b), 1e-300, None)
        cab = lam * R[a, b] - quad_form(a, b)
        rho = np.clip(cab / np.sqrt(caa * cbb), -1.0, 1.0)
        total += 2 / math.pi * top / 2 * float(w @ (2 / math.pi * np.arcsin(rho)))
    return total


# ----------------------------------------------------------------------------- kink-aware panel rules
_T_CUT = 8.5  # |u| > 8.5 carries 1.9e-17 of a standard normal's mass
_HALF = np.array([0.5, 1.0, 1.75, 2.5, 3.5, 4.75, 6.25, _T_CUT])
_BASE = np.concatenate([-_HALF[::-1], [0.0], _HALF])  # 16 panels, finer where the mass is
#: Gauss-Legendre nodes per panel: the value, and the rule it is checked against
PANEL_NODES, PANEL_NODES_CHECK = 10, 7


@lru_cache(maxsize=None)
def _leg(n: int):
    return np.polynomial.legendre.leggauss(n)


def _panel_rule(breaks, n: int):
    """Gauss-Legendre on the panels between sorted ``breaks`` (..., B): nodes and weights (..., (B-1) n)."""
    x, w = _leg(n)
    lo, hi = breaks[..., :-1, None], breaks[..., 1:, None]
    half = (hi - lo) / 2
    nodes = (lo + hi) / 2 + half * x
    wts = half * w
    shape = breaks.shape[:-1] + (-1,)
    return nodes.reshape(shape), wts.reshape(shape)


def _phi(u):
    return np.exp(-0.5 * u * u) / math.sqrt(2 * math.pi)


def gauss1_kinked(h, mu, s, kinks, n: int = PANEL_NODES):
    r""":math:`E[h(\mu + s u)]`, :math:`u\sim\mathcal N(0,1)`, elementwise over arrays ``mu``, ``s``; ``h`` is
    vectorised and smooth between the points ``kinks`` (floats). Gauss-Legendre panels on
    :math:`|u| \le 8.5`, split at the kinks."""
    mu, s = np.broadcast_arrays(np.asarray(mu, float), np.asarray(s, float))
    ks = np.asarray(list(kinks), float)
    with np.errstate(divide="ignore", invalid="ignore"):
        ku = (ks[None, :] - mu.reshape(-1, 1)) / s.reshape(-1, 1)
    ku = np.clip(np.nan_to_num(ku, nan=_T_CUT, posinf=_T_CUT, neginf=-_T_CUT), -_T_CUT, _T_CUT)
    br = np.sort(np.concatenate([np.broadcast_to(_BASE, (ku.shape[0], len(_BASE))), ku], axis=1), axis=1)
    u, w = _panel_rule(br, n)
    z = mu.reshape(-1, 1) + s.reshape(-1, 1) * u
    with np.errstate(over="ignore", invalid="ignore"):
        hv = np.broadcast_to(h(z), z.shape)
        tot = np.sum(np.where(w > 0, w * _phi(u) * hv, 0.0), axis=1)
    return tot.reshape(mu.shape)


def _best_rotation(nrm):
    """Outer direction for an iterated 2-D rule: the kink lines (normals ``nrm``, (P, K, 2)) should cross
    the inner axis at points that move slowly with the outer variable; lines exactly along the inner
    axis are fine (they become outer breakpoints). Returns (P, 2, 2) rotations [d, e]."""
    P, K = nrm.shape[:2]
    th = np.linspace(0, np.pi, 48, endpoint=False)
    cand = np.broadcast_to(th, (P, len(th)))
    if K:
        along = np.arctan2(nrm[..., 1], nrm[..., 0]) + np.pi / 2  # outer axis along a line
        perp = along - np.pi / 2  # outer axis across a line: the line is an outer breakpoint
        cand = np.concatenate([cand, along, perp], axis=1)
    d = np.stack([np.cos(cand), np.sin(cand)], -1)  # (P, Q, 2)
    e = np.stack([-d[..., 1], d[..., 0]], -1)
    if K:
        nd = np.abs(np.einsum("pkc,pqc->pqk", nrm, d))
        ne = np.abs(np.einsum("pkc,pqc->pqk", nrm, e))
        with np.errstate(divide="ignore", invalid="ignore"):
            slope = nd / ne
        slope = np.where(ne <= 1e-13 * (nd + ne), 0.0, slope)  # exactly across: an outer breakpoint
        q = np.argmin(np.max(np.nan_to_num(slope), axis=2), axis=1)
    else:
        q = np.zeros(P, int)
    idx = np.arange(P)
    return np.stack([d[idx, q], e[idx, q]], axis=-1)  # columns d, e


def gauss2_kinked(g, mu, L, kinks, n: int = PANEL_NODES, chunk_nodes: int = 4_000_000):
    r""":math:`E[g(\mu + L u)]`, :math:`u\sim\mathcal N(0, I_2)`, for a batch: ``mu`` (P, m), ``L`` (P, m, 2);
    ``g(z_1, ..., z_m)`` vectorised and smooth away from the lines :math:`z_j = c` for ``c`` in
    ``kinks[j]`` (floats). Iterated Gauss-Legendre panels on :math:`[-8.5, 8.5]^2` after a rotation
    that keeps the kink lines' crossings of the inner axis slow; the outer axis is split where a line
    is parallel to the inner axis, where two lines cross, and (graded) around steep lines."""
    mu, L = np.asarray(mu, float), np.asarray(L, float)
    P, m = mu.shape
    rows = [(j, float(c)) for j in range(m) for c in kinks[j]]
    K = len(rows)
    nrm = np.stack([L[:, j, :] for j, _ in rows], 1) if K else np.zeros((P, 0, 2))
    off = np.stack([c - mu[:, j] for j, c in rows], 1) if K else np.zeros((P, 0))
    R = _best_rotation(nrm)
    L2 = L @ R
    nrm2 = nrm @ R  # (P, K, 2): components along d (outer) and e (inner)
    nd, ne = nrm2[..., 0], nrm2[..., 1]
    scale = np.abs(nd) + np.abs(ne)
    flat = np.abs(ne) <= 1e-13 * scale  # line parallel to the inner axis
    T = _T_CUT
    with np.errstate(divide="ignore", invalid="ignore"):
        brk = [np.broadcast_to(_BASE, (P, len(_BASE)))]
        brk.append(np.where(flat & (scale > 0), off / nd, T))
        for a in range(K):
            for b in range(a + 1, K):
                det = nd[:, a] * ne[:, b] - ne[:, a] * nd[:, b]
                xi = (off[:, a] * ne[:, b] - off[:, b] * ne[:, a]) / det
                brk.append(np.where(np.abs(det) > 1e-14 * scale[:, a] * scale[:, b], xi, T)[:, None])
        slope = np.abs(nd) / np.abs(ne)
        steep = (~flat) & (slope > 1)
        centre = off / nd
        for k in range(10):
            w = 4.0 ** k / np.where(steep, slope, 1.0)
            brk.append(np.where(steep & (w < 2 * T), centre - w, T))
            brk.append(np.where(steep & (w < 2 * T), centre + w, T))
    br = np.sort(np.clip(np.nan_to_num(np.concatenate(brk, 1), nan=T), -T, T), axis=1)
    br = br[:, :int(np.max(np.sum(br < T, axis=1))) + 1]  # unused breakpoints (at T) make empty panels
    xi, wx = _panel_rule(br, n)  # (P, Kx)
    out = np.zeros(P)
    Kx = xi.shape[1]
    nb = len(_BASE) + K
    step = max(1, int(chunk_nodes // max(1, Kx * (nb - 1) * n)))
    for s0 in range(0, P, step):
        sl = slice(s0, s0 + step)
        X = xi[sl]  # (p, Kx)
        with np.errstate(divide="ignore", invalid="ignore"):
            cross = (off[sl, None, :] - nd[sl, None, :] * X[..., None]) / ne[sl, None, :]
        cross = np.where(flat[sl, None, :], T, cross)
        ib = np.concatenate([np.broadcast_to(_BASE, X.shape + (len(_BASE),)), cross], -1)
        ib = np.sort(np.clip(np.nan_to_num(ib, nan=T), -T, T), axis=-1)
        eta, wy = _panel_rule(ib, n)  # (p, Kx, Ky)
        z = [mu[sl, j, None, None] + L2[sl, j, 0, None, None] * X[..., None] + L2[sl, j, 1, None, None] * eta
             for j in range(m)]
        with np.errstate(over="ignore", invalid="ignore"):
            gv = np.broadcast_to(g(*z), eta.shape)
            inner = np.sum(np.where(wy > 0, wy * _phi(eta) * gv, 0.0), -1)
        out[sl] = np.sum(wx[sl] * _phi(X) * inner, -1)
    return out


def _orthant_plan(E: GaussianExpectation):
    """If the integrand is c * prod_j f_j(z_j) with f_j in {erf, sign, Heaviside} (each z once),
    return (c, kinds); else None."""
    zs = list(E.variables)
    c, rest = E.integrand.as_independent(*zs, as_Add=False)
    kinds = {}
    for f in sp.Mul.make_args(rest):
        if isinstance(f, sp.erf) and f.args[0] in zs and f.args[0] not in kinds:
            kinds[f.args[0]] = "erf"
        elif isinstance(f, sp.sign) and f.args[0] in zs and f.args[0] not in kinds:
            kinds[f.args[0]] = "sign"
        elif isinstance(f, sp.Heaviside) and f.args[0] in zs and f.args[0] not in kinds:
            kinds[f.args[0]] = "step"
        else:
            return None
    if len(kinds) != len(zs) or len(zs) > 6:
        return None
    return c, [kinds[z] for z in zs]


def _per_variable(E: GaussianExpectation):
    """(c, {z: factor}) when the integrand is c * prod_j f_j(z_j), else None."""
    return factor_per_variable(E.integrand, list(E.variables))


def _signpoly_plan(E: GaussianExpectation):
    r"""The integrand as :math:`\sum_t c_t\prod_j z_j^{a_{tj}}\mathrm{sgn}(z_j)^{s_{tj}}` (every factor a
    piecewise polynomial with its kink at 0): a list of (c_t, a_t, s_t), or None."""
    pv = _per_variable(E)
    if pv is None:
        return None
    c, per = pv
    zs = list(E.variables)
    decs = [sign_polynomial(per[z], z) for z in zs]
    if any(d is None for d in decs):
        return None
    terms = [(c, (), ())]
    for d in decs:
        terms = [(ct * cd, a + (k,), s + (sg,)) for ct, a, s in terms for (k, sg), cd in d.items()]
    return terms


def _stein_numeric(terms, C, n: int = 20):
    r""":math:`\sum_t c_t E[\prod_j z_j^{a_j}\mathrm{sgn}(z_j)^{s_j}]`, :math:`z\sim\mathcal N(0, C)`, C numeric:
    Gaussian integration by parts (:math:`E[z_j H] = \sum_k C_{jk}E[\partial_k H]`,
    :math:`\partial\,\mathrm{sgn} = 2\delta`: conditioning on :math:`z_k = 0`) down to orthant moments
    (:math:`\tfrac2\pi\arcsin\rho` for two signs, :func:`sign_moment` for four or more). Proportional
    variables are merged first, so coincident points are exact. Returns (value, used_sign_moment),
    or None for a singular orthant of four or more signs (no reliable value)."""
    memo = {}
    used = [False]
    degenerate = [False]

    def m1(k, s, var):
        if (k + s) % 2:
            return 0.0
        if s == 0:
            return float(np.prod(np.arange(k - 1, 0, -2))) * var ** (k / 2)
        return var ** (k / 2) * 2 ** (k / 2) * math.gamma((k + 1) / 2) / math.sqrt(math.pi)

    def E(a, s, C):
        idx = [j for j in range(len(a)) if a[j] or s[j]]
        if not idx:
            return 1.0
        a, s, C = [a[j] for j in idx], [s[j] for j in idx], C[np.ix_(idx, idx)]
        key = (tuple(a), tuple(s), C.tobytes())
        if key in memo:
            return memo[key]
        d = np.diag(C)
        if np.any(d <= 1e-14 * max(float(d.max()), 0.0)) or d.max() <= 0:
            memo[key] = 0.0  # z_j = 0 there: z^a = 0 (a > 0), sgn 0 = 0
            return 0.0
        coef, a, s, keep = 1.0, list(a), list(s), list(range(len(a)))
        merged = True
        while merged:  # z_k = c z_j exactly: one variable
            merged = False
            for x in range(len(keep)):
                for y in range(x + 1, len(keep)):
                    j, k = keep[x], keep[y]
                    if C[j, k] ** 2 >= C[j, j] * C[k, k] * (1 - 1e-12):
                        c = C[j, k] / C[j, j]
                        coef *= c ** a[k] * (1.0 if c > 0 else -1.0) ** s[k]
                        a[j] += a[k]
                        s[j] = (s[j] + s[k]) % 2
                        keep.pop(y)
                        merged = True
                        break
                if merged:
                    break
        if len(keep) < len(a):
            r = coef * E([a[j] for j in keep], [s[j] for j in keep], C[np.ix_(keep, keep)])
            memo[key] = r
            return r
        m = len(a)
        if m == 1:
            r = m1(a[0], s[0], C[0, 0])
        elif not any(a):  # orthant moment of m signs
            dn = np.sqrt(d)
            R = C / np.outer(dn, dn)
            if m % 2:
                r = 0.0
            elif m == 2:
                r = 2 / math.pi * math.asin(max(-1.0, min(1.0, float(R[0, 1]))))
            else:
                ev = np.linalg.eigvalsh(R)
                if ev.min() < 1e-8 * ev.max():
                    degenerate[0] = True
                    return math.nan
                used[0] = True
                r = float(sign_moment(R, n))
        else:
            j = int(np.argmax(a))
            a1 = list(a)
            a1[j] -= 1
            r = 0.0
            for k in range(m):
                if C[j, k] == 0:
                    continue
                if a1[k] >= 1:
                    a2 = list(a1)
                    a2[k] -= 1
                    r += C[j, k] * a1[k] * E(a2, s, C)
                elif s[k]:  # d sgn(z_k) = 2 delta(z_k): condition on z_k = 0
                    rest = [i for i in range(m) if i != k]
                    S = C[np.ix_(rest, rest)] - np.outer(C[rest, k], C[k, rest]) / C[k, k]
                    r += (C[j, k] * 2 / math.sqrt(2 * math.pi * C[k, k])
                          * E([a1[i] for i in rest], [s[i] for i in rest], S))
        memo[key] = r
        return r

    total = sum(c * E(list(a), list(s), np.asarray(C, float)) for c, a, s in terms)
    return None if degenerate[0] else (total, used[0])


def _float_kink_lists(E: GaussianExpectation, hv):
    """Per variable, the kinks of the integrand as floats (hyper-parameters at their values), or None."""
    out = []
    for z in E.variables:
        ks = kink_points(E.integrand, z)
        if ks is None:
            return None
        vals = []
        for k in ks:
            try:
                c = complex(sp.sympify(k).xreplace({h: sp.Float(float(v)) for h, v in hv.items()}))
            except TypeError:
                return None
            if c.imag == 0:
                vals.append(c.real)
        out.append(vals)
    return out


def _homogeneous_plan(E: GaussianExpectation):
    """Total degree P if the integrand is positively homogeneous (products of Max(0, z)^n,
    Heaviside, sign, powers of z), else None."""
    zs = list(E.variables)
    _, rest = E.integrand.as_independent(*zs, as_Add=False)
    if rest.is_Add:
        return None
    P = 0
    for f in sp.Mul.make_args(rest):
        b, k = f.as_base_exp()
        if not (k.is_Integer and k > 0):
            return None
        if isinstance(b, sp.Max) and len(b.args) == 2 and sp.S.Zero in b.args and any(a in zs for a in b.args):
            P += int(k)
        elif isinstance(b, (sp.Heaviside, sp.sign)) and b.args[0] in zs:
            pass
        elif b in zs:
            P += int(k)
        else:
            return _homogeneous_degree_any(E)
    return P


def _homogeneous_degree_any(E: GaussianExpectation):
    """Total degree if every factor is a sign polynomial of one degree (|z|, Max(a z, z), Min(0, z), ...)."""
    pv = _per_variable(E)
    if pv is None:
        return None
    P = 0
    for z, f in pv[1].items():
        d = sign_polynomial(f, z)
        degs = {k for k, _ in d} if d else None
        if not degs or len(degs) != 1:
            return None
        P += degs.pop()
    return P


def _angular_rank2(g, L, P, hyp, m, n=24):
    r"""E[g(L u)], u ~ N(0, I_2), g positively homogeneous of degree P: in polar coordinates
    :math:`E[r^P]\,\tfrac{1}{2\pi}\int_0^{2\pi} g(L(\cos\varphi,\sin\varphi))\,d\varphi` with
    :math:`E[r^P] = 2^{P/2}\Gamma(1+P/2)`; the angle integral is split at the kinks
    (where some :math:`(L e_\varphi)_j = 0`) and done by Gauss-Legendre on each smooth piece."""
    breaks = {0.0, 2 * math.pi}
    for j in range(m):
        a, b = L[j]
        if a == 0 and b == 0:
            continue
        base = math.atan2(-a, b)  # a cos + b sin = 0
        for t in (base, base + math.pi, base + 2 * math.pi, base - math.pi):
            if 0 < t < 2 * math.pi:
                breaks.add(t)
    br = sorted(breaks)
    vals = []
    for nn in (n, n // 2):
        x, w = np.polynomial.legendre.leggauss(nn)
        phis, ws = [], []
        for lo, hi in zip(br[:-1], br[1:]):
            phis.append((lo + hi) / 2 + (hi - lo) / 2 * x)
            ws.append((hi - lo) / 2 * w)
        phi, wt = np.concatenate(phis), np.concatenate(ws)
        z = L @ np.stack([np.cos(phi), np.sin(phi)])  # (m, K)
        gv = np.broadcast_to(g(*[z[j] for j in range(m)], *hyp), phi.shape)
        vals.append(2 ** (P / 2) * math.gamma(1 + P / 2) * float(wt @ gv) / (2 * math.pi))
    return vals[0], abs(vals[0] - vals[1])


def _angular_rank3(g, L, P, hyp, m, n=16):
    r"""E[g(L u)], u ~ N(0, I_3), g positively homogeneous of degree P:
    :math:`E[r^P]\,\tfrac{1}{4\pi}\int g(L\hat u)\,d\Omega` with :math:`E[r^P] = 2^{P/2}\Gamma((3+P)/2)/\Gamma(3/2)`.
    The sphere is cut along the kink circles :math:`\ell_j\cdot\hat u = 0`: the azimuth at the
    directions where two circles cross (and where a circle is a meridian), the polar angle at each
    circle; Gauss-Legendre on every smooth panel."""
    Ls = np.asarray(L)

    def phi_breaks():
        br = {0.0, 2 * math.pi}
        rows = [r for r in Ls if np.linalg.norm(r) > 0]
        for i in range(len(rows)):
            a, b, c = rows[i]
            for t in (math.atan2(-a, b), math.atan2(a, -b)):  # A(phi) = 0
                br.add(t % (2 * math.pi))
            for j in range(i + 1, len(rows)):
                cr = np.cross(rows[i], rows[j])
                for v in (cr, -cr):
                    if abs(v[0]) + abs(v[1]) > 0:
                        br.add(math.atan2(v[1], v[0]) % (2 * math.pi))
        return sorted(br)

    def integrate(nn):
        x, w = np.polynomial.legendre.leggauss(nn)
        br = phi_breaks()
        total = 0.0
        for lo, hi in zip(br[:-1], br[1:]):
            if hi - lo < 1e-15:
                continue
            for phi, wp in zip((lo + hi) / 2 + (hi - lo) / 2 * x, (hi - lo) / 2 * w):
                cp, sphi = math.cos(phi), math.sin(phi)
                tb = {0.0, math.pi}
                for r in Ls:
                    A = r[0] * cp + r[1] * sphi
                    if A == 0 and r[2] == 0:
                        continue
                    t = math.atan2(-r[2], A) % math.pi
                    if 0 < t < math.pi:
                        tb.add(t)
                tb = sorted(tb)
                th = np.concatenate([(a + b) / 2 + (b - a) / 2 * x for a, b in zip(tb[:-1], tb[1:])])
                wt = np.concatenate([(b - a) / 2 * w for a, b in zip(tb[:-1], tb[1:])])
                u = np.stack([np.sin(th) * cp, np.sin(th) * sphi, np.cos(th)])
                z = Ls @ u
                gv = np.broadcast_to(g(*[z[j] for j in range(m)], *hyp), th.shape)
                total += wp * float((wt * np.sin(th)) @ gv)
        return 2 ** (P / 2) * math.gamma((3 + P) / 2) / math.gamma(1.5) * total / (4 * math.pi)

    hi_, lo_ = integrate(n), integrate(max(6, (2 * n) // 3))
    return hi_, abs(hi_ - lo_)


def _orthant_value(kinds, C, n):
    r"""E[prod f_j(z_j)] for zero-mean z ~ N(0, C): erf(z) = E_eps[sgn(sqrt(2) z + eps)],
    Heaviside = (1 + sgn)/2, then orthant moments."""
    m = len(kinds)
    Dg = np.array([math.sqrt(2) if k == "erf" else 1.0 for k in kinds])
    Cy = C * np.outer(Dg, Dg) + np.diag([1.0 if k == "erf" else 0.0 for k in kinds])
    dn = np.sqrt(np.diag(Cy))
    if np.any(dn == 0):
        return None
    R = Cy / np.outer(dn, dn)
    ev = np.linalg.eigvalsh(R)
    if m > 1 and ev.min() < 1e-8 * ev.max():
        return None  # rank-deficient pre-activations: the angular or Gauss-Hermite rule does it
    steps = [j for j, k in enumerate(kinds) if k == "step"]
    signs = [j for j, k in enumerate(kinds) if k != "step"]
    total = 0.0
    for mask in range(1 << len(steps)):
        idx = signs + [steps[b] for b in range(len(steps)) if mask >> b & 1]
        total += sign_moment(R[np.ix_(idx, idx)], n)
    return total / 2 ** len(steps)


@numeric_expectation.register(GaussianExpectation)
def gaussian_numeric(E: GaussianExpectation, points, Xf, values, dsym=None, max_nodes: int = 200_000):
    r""":math:`E_{z\sim\mathcal N(\mu, C)}[g(z)]` at every point set, :math:`\mu` and C evaluated there; returns
    values and an error estimate. The rule is chosen per point set: orthant moments (products of erf, sign,
    Heaviside at zero mean), angular rules (positively homogeneous, rank 2 or 3), integration by parts
    (sign polynomials), kink-split adaptive (rank 1) or panel (rank 2) rules, else Gauss-Hermite after an
    eigen-decomposition of C (a conservative error for kinked integrands)."""
    zs = list(E.variables)
    m = len(zs)
    stats = sp.Tuple(*E.mean, *[c for row in E.covariance for c in row])
    ones = ones_symbols(stats)
    hyper = sorted((stats.free_symbols | E.integrand.free_symbols) - set(points) - set(zs) - set(ones)
                   - ({dsym} if dsym is not None else set()), key=sp.default_sort_key)
    hv = check_values(hyper, values, "Gaussian expectation")
    D = Xf.shape[-1]
    extra = [np.ones(D)] * len(ones) + [hv[h] for h in hyper] + ([D] if dsym is not None else [])
    fstats = compile_kernel(list(points) + ones + hyper + ([dsym] if dsym is not None else []), stats)
    P = Xf.shape[0]
    raw = fstats(*point_arrays(points, Xf), *extra)
    arr = np.array([np.broadcast_to(np.asarray(v, dtype=float), (P,)) for v in raw])  # (m + m^2, P)
    mus, covs = arr[:m].T, arr[m:].T.reshape(P, m, m)
    g = compile_kernel(zs + hyper, E.integrand)

    def rule(n, r):
        x, w = np.polynomial.hermite_e.hermegauss(n)
        w = w / math.sqrt(2 * math.pi)
        grids = np.meshgrid(*([x] * r), indexing="ij")
        wg = np.ones(()) if r == 0 else np.prod(np.meshgrid(*([w] * r), indexing="ij"), axis=0)
        return np.stack([gg.reshape(-1) for gg in grids], axis=1) if r else np.zeros((1, 0)), wg.reshape(-1)

    plan = _orthant_plan(E)
    homog = _homogeneous_plan(E)
    cfun = compile_kernel(hyper, plan[0]) if plan is not None else None
    hyp = [hv[h] for h in hyper]
    lazy = {}

    def spoly():  # the integrand as sign polynomials, coefficients at the values (None if it is not)
        if "spoly" not in lazy:
            t = _signpoly_plan(E)
            at = {h: sp.Float(float(v)) for h, v in hv.items()}
            lazy["spoly"] = None if t is None else [(float(complex(sp.sympify(c).xreplace(at)).real), a, sg)
                                                    for c, a, sg in t]
        return lazy["spoly"]

    def kink_lists():
        if "kinks" not in lazy:
            lazy["kinks"] = _float_kink_lists(E, hv)
        return lazy["kinks"]

    out = np.empty(P)
    err = 0.0
    for p in range(P):
        zero_mean = bool(np.all(mus[p] == 0))
        if plan is not None and zero_mean:
            hi = _orthant_value(plan[1], covs[p], 20)
            if hi is not None:
                lo = _orthant_value(plan[1], covs[p], 14)
                c = float(cfun(*hyp))
                out[p] = c * hi
                err = max(err, abs(c * (hi - lo)), 1e-12 * abs(c * hi))
                continue
        lam, V = np.linalg.eigh(covs[p])
        keep = lam > 1e-13 * max(lam.max(), 1e-300)
        if homog is not None and int(keep.sum()) in (2, 3) and zero_mean:
            L = V[:, keep] * np.sqrt(lam[keep])
            angular = _angular_rank2 if int(keep.sum()) == 2 else _angular_rank3
            out[p], e2 = angular(g, L, homog, hyp, m)
            err = max(err, e2, 1e-12 * abs(out[p]))
            continue
        # Abs, leaky ReLU, ... in full rank (or not homogeneous): integration by parts, exact to rounding
        if zero_mean and (int(keep.sum()) == m or m <= 3) and spoly() is not None:
            terms = spoly()
            stein = _stein_numeric(terms, covs[p], 20)
            if stein is not None:  # (None: a singular orthant, left to the rules below)
                hi, used = stein
                lo = _stein_numeric(terms, covs[p], 14)[0] if used else hi
                out[p] = hi
                scale = sum(abs(c) for c, _, _ in terms) * max(float(np.max(np.abs(covs[p]))), 1e-300) ** (
                    max(sum(a) for _, a, _ in terms) / 2)
                err = max(err, abs(hi - lo), 1e-12 * (abs(hi) + scale))
                continue
        kinks = kink_lists()
        kinked = kinks is None or any(kinks)
        if int(keep.sum()) == 1:  # one direction: adaptive quadrature, split at the kinks
            from scipy.integrate import quad

            ell = V[:, keep][:, 0] * math.sqrt(lam[keep][0])
            cut = 38.0  # exp(-u^2/2) underflows beyond
            brk = sorted({(c - mus[p][j]) / ell[j] for j in range(m) for c in (kinks[j] if kinks else [])
                          if ell[j] != 0 and abs((c - mus[p][j]) / ell[j]) < cut} | {-cut, cut})

            def f(u):
                w = math.exp(-u * u / 2) / math.sqrt(2 * math.pi)
                with np.errstate(all="ignore"):
                    v = float(np.real(g(*(mus[p] + ell * u), *hyp)))
                return 0.0 if w == 0.0 else v * w

            val, e1 = 0.0, 0.0
            for a, b in zip(brk[:-1], brk[1:]):
                v1, r1 = quad(f, a, b, epsabs=1e-14, epsrel=1e-12, limit=200)
                val, e1 = val + v1, e1 + r1
            out[p], err = val, max(err, 10 * e1, 1e-12 * abs(val))
            continue
        if np.any(lam < -1e-9 * max(abs(lam).max(), 1.0)):
            raise ValueError(f"covariance of the pre-activations is not positive semi-definite at point set {p}")
        L = V[:, keep] * np.sqrt(lam[keep])
        r = int(keep.sum())
        if r == 2 and kinks is not None and kinked:  # kinks at any place, any mean: split panels
            Lb, mb = L[None, :, :], mus[p][None, :]
            gg = lambda *z: g(*z, *hyp)
            hi, lo = (gauss2_kinked(gg, mb, Lb, kinks, PANEL_NODES)[0],
                      gauss2_kinked(gg, mb, Lb, kinks, PANEL_NODES_CHECK)[0])
            out[p] = hi
            err = max(err, abs(hi - lo), 1e-12 * abs(hi))
            continue
        n = int(max(8, min(120, math.floor(max_nodes ** (1.0 / max(r, 1))))))
        res = []
        for nn in (n, max(6, (3 * n) // 4)):
            u, w = rule(nn, r)
            z = mus[p][None, :] + u @ L.T
            with np.errstate(over="ignore", invalid="ignore"):
                vals = np.broadcast_to(g(*[z[:, j] for j in range(m)], *hyp), w.shape)
            res.append(float(w @ vals))
        out[p] = res[0]
        # kinks (Max, Heaviside, sign, Abs) make Gauss-Hermite converge slowly: the difference of
        # two nearby rules understates the error, so report a conservative multiple of it
        err = max(err, abs(res[0] - res[1]) * (10 if kinked else 1), 1e-12 * abs(res[0]))
    return out, err


# ----------------------------------------------------------------------------- pair moments of smooth functions
def smooth_pair_moments(funcs, k11, k12, k22, n: int = PANEL_NODES, chunk_nodes: int = 1_000_000) -> np.ndarray:
    r""":math:`E[h(u)h(v)]` for each smooth, vectorised ``h`` in ``funcs``, with
    :math:`(u,v)\sim\mathcal N(0, [[k_{11},k_{12}],[k_{12},k_{22}]])`,
    elementwise over the arrays ``k11, k12, k22`` (broadcast); returns shape ``(len(funcs),) + shape``.

    In whitened coordinates :math:`u = \sqrt{k_{11}}\,\xi`,
    :math:`v = \sqrt{k_{22}}\,(\rho\,\xi + \sqrt{1-\rho^2}\,\eta)`, :math:`\rho = k_{12}/\sqrt{k_{11}k_{22}}`,
    :math:`\xi,\eta\sim\mathcal N(0,1)`, the tensor product of the Gauss-Legendre panels of
    :func:`gauss1_kinked` (``n`` nodes per panel on :math:`[-8.5, 8.5]`, no kinks): the rule of
    :func:`gauss2_kinked` for a function without kinks, with one grid for every pair, :math:`h(u)`
    evaluated on the outer nodes only and all ``funcs`` on the same nodes. Pairs are processed in
    chunks of at most ``chunk_nodes`` grid points, so the temporaries stay bounded
    (about ``8 * chunk_nodes`` bytes each). For functions with kinks use :func:`gauss2_kinked`.

    >>> import numpy as np
    >>> val = smooth_pair_moments([lambda z: z, np.cos], np.array([2.0]), np.array([0.5]), np.array([1.0]))
    >>> bool(abs(val[0, 0] - 0.5) < 1e-13), bool(abs(val[1, 0] - np.exp(-1.5) * np.cosh(0.5)) < 1e-13)
    (True, True)
    """
    k11, k12, k22 = np.broadcast_arrays(*(np.asarray(a, float) for a in (k11, k12, k22)))
    shape = k11.shape
    a, c, b = (np.ravel(t) for t in (k11, k12, k22))
    s1, s2 = np.sqrt(np.clip(a, 0, None)), np.sqrt(np.clip(b, 0, None))
    with np.errstate(divide="ignore", invalid="ignore"):
        rho = np.clip(np.where(s1 * s2 > 0, c / (s1 * s2), 0.0), -1.0, 1.0)
    co = np.sqrt(1 - rho**2)
    x, w = _panel_rule(_BASE, n)
    w = w * _phi(x)  # the Gaussian weight of one standard normal variable, on [-8.5, 8.5]
    out = np.empty((len(funcs), a.size))
    step = max(1, int(chunk_nodes // (x.size * x.size)))
    for s0 in range(0, a.size, step):
        sl = slice(s0, s0 + step)
        u = s1[sl, None] * x  # (p, nx)
        v = (s2[sl] * rho[sl])[:, None, None] * x[:, None] + (s2[sl] * co[sl])[:, None, None] * x  # (p, nx, ny)
        with np.errstate(over="ignore", invalid="ignore"):
            for j, h in enumerate(funcs):
                inner = np.broadcast_to(h(v), v.shape) @ w  # (p, nx): E[h(v) | xi]
                out[j, sl] = (np.broadcast_to(h(u), u.shape) * inner) @ w
    return out.reshape((len(funcs),) + shape)


#: The sympy functions that make an integrand non-smooth (kinks, jumps): a rule for smooth functions
#: (:func:`smooth_pair_moments`) is not for them.
KINKED_FUNCTIONS = _KINKED
