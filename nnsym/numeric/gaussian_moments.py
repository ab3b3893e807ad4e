r"""Gaussian moments of products of an activation at up to four inputs, for many covariances at once.

What the :math:`1/n` expansion of a deep network needs at every layer is
:math:`\langle\sigma_{a_1}\sigma_{a_2}\sigma_{a_3}\sigma_{a_4}\rangle_K` for every 4-tuple of inputs: on
100 inputs, 4.4 million Gaussian integrals of dimension up to 4. For two families of activations they
reduce to closed forms plus one smooth one-dimensional integral, evaluated here as numpy arrays over a
batch of covariances (leading axes of ``C``):

* **sign polynomials** :math:`f(z) = \sum_k (c_k + d_k\,\mathrm{sgn}\,z)\,z^k` (piecewise polynomials
  whose only kink is at 0: ReLU, leaky ReLU, rectified powers, :math:`|z|`, steps, polynomials;
  :func:`nnsym.engine.piecewise.sign_polynomial`). Gaussian integration by parts,
  :math:`E[z_i H] = \sum_m C_{im} E[\partial_m H]` with :math:`\partial\,\mathrm{sgn}\,z = 2\delta(z)`
  and :math:`E[\delta(z_m) G] = E[G\,|\,z_m = 0]/\sqrt{2\pi C_{mm}}` (the conditional law is centred,
  with the Schur complement as covariance), lowers the powers until only signs are left;
* **erf** :math:`f(z) = A\,\mathrm{erf}(Bz)`: :math:`\mathrm{erf}(Bz) = E_g[\mathrm{sgn}(\sqrt2 Bz - g)]`
  with :math:`g\sim\mathcal N(0,1)` independent, so :math:`E[\prod_j\mathrm{erf}(Bz_{i_j})]` is the sign
  moment of :math:`u\sim\mathcal N(0, 2B^2C + 1)` (a repeated input gets its own :math:`g`).

Sign moments of a centred Gaussian vanish for an odd number of signs,
:math:`E[s_1s_2] = \frac{2}{\pi}\arcsin\rho_{12}`, and the four-sign moment (a four-dimensional orthant
probability, not elementary) follows from Price's theorem,
:math:`\partial E[s_1s_2s_3s_4]/\partial R_{ij} = 4\,p_{ij}(0, 0)\,E[s_ks_l\,|\,u_i = u_j = 0]`,
along the path :math:`R(t) = R_0 + t(R - R_0)` from :math:`R_0`, the correlation matrix without the
correlations between the two most correlated pairs (1, 2) and (3, 4) (after relabelling):

.. math:: E[s_1s_2s_3s_4] = \frac{4}{\pi^2}\arcsin R_{12}\arcsin R_{34}
          + \sum_{i\in\{1,2\},\,j\in\{3,4\}}\int_0^1 dt\,\frac{4R_{ij}}{\pi^2\sqrt{1 - t^2R_{ij}^2}}\,
          \arcsin r_{kl\cdot ij}(t),

:math:`(k, l)` the complement of :math:`(i, j)`, :math:`r_{kl\cdot ij}` the partial correlation given
:math:`u_i = u_j = 0` under :math:`R(t)` (positive definite all along: a convex combination of two).
The integral is done with :math:`t = \sin\vartheta` on Gauss-Legendre panels graded towards
:math:`t = 1`, as many as the largest path correlation needs (the integrand varies on the scale
:math:`\sqrt{1 - |R_{ij}|}` there). Everything else is exact.
"""
from __future__ import annotations

import itertools
import math
import numbers

import numpy as np
import sympy as sp

from ..engine.piecewise import sign_polynomial

__all__ = ["sign_moment", "sign_polynomial_moment", "ActivationMoments", "activation_moments", "conditional_variances"]

NODES = 8  # Gauss-Legendre nodes per panel of the four-sign integral
PANELS, GRADING = 8, 4.0  # at most this many panels, graded towards t = 1


def _covariances(C, k: int | None, who: str) -> np.ndarray:
    C = np.asarray(C, dtype=float)
    if C.ndim < 2 or C.shape[-1] != C.shape[-2]:
        raise ValueError(f"{who}: C must have shape (..., k, k), got {C.shape}")
    if k is not None and C.shape[-1] != k:
        raise ValueError(f"{who}: C must be {k} x {k} (one row per factor), got {C.shape[-2:]}")
    if C.shape[-1] > 4:
        raise ValueError(f"{who}: at most 4 Gaussian variables, got {C.shape[-1]}")
    if not np.allclose(C, np.swapaxes(C, -1, -2), rtol=1e-10, atol=1e-12):
        raise ValueError(f"{who}: C is not symmetric")
    if C.shape[-1] and C.size:
        piv = conditional_variances(C)
        if not np.all(piv > 1e-13):
            raise ValueError(f"{who}: C is not positive definite (smallest conditional variance of a standardised "
                             f"variable {float(np.nanmin(piv)):.3g}); equal or parallel inputs have no density")
    return C


def conditional_variances(C) -> np.ndarray:
    r"""The pivots of the Cholesky factorisation of the correlation matrix of ``C`` (shape (..., k, k)):
    :math:`\mathrm{Var}(u_j\,|\,u_1..u_{j-1})` of the standardised variables :math:`u = z/\sqrt{\mathrm{diag}\,C}`,
    in (0, 1] for a positive-definite ``C``; a pivot near 0 means nearly linearly dependent variables.

    >>> [round(float(v), 12) for v in conditional_variances([[1.0, 0.6], [0.6, 1.0]])]   # 1, 1 - rho^2
    [1.0, 0.64]
    """
    C = np.asarray(C, dtype=float)
    d = np.diagonal(C, axis1=-2, axis2=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        A = C / np.sqrt(d[..., :, None] * d[..., None, :])
        A = np.where(np.isfinite(A), A, 0.0)
        k = C.shape[-1]
        piv = np.empty(C.shape[:-1])
        for j in range(k):
            piv[..., j] = A[..., 0, 0]
            if j + 1 < k:
                A = A[..., 1:, 1:] - A[..., 1:, :1] * A[..., :1, 1:] / A[..., :1, :1]
        piv[~(d > 0).all(axis=-1)] = 0.0
    return np.where(np.isfinite(piv), piv, 0.0)


def _nodes(nodes):
    """An integer >= 2, or a tuple of them (one result per rule along a new leading axis)."""
    many = isinstance(nodes, (tuple, list))
    for n in (nodes if many else [nodes]):
        if not (isinstance(n, numbers.Integral) and n >= 2):
            raise ValueError(f"nodes must be an integer >= 2 (or a tuple of them), got {nodes!r}")
    return tuple(int(n) for n in nodes) if many else int(nodes)


def _shaped(out, nodes, shape) -> np.ndarray:
    """``out`` broadcast to ``shape`` (with the leading axis of one result per rule for a tuple of ``nodes``)."""
    return np.broadcast_to(out, ((len(nodes),) if isinstance(nodes, tuple) else ()) + shape).copy()


# --------------------------------------------------------------------------------------- sign moments
def sign_moment(C, nodes: int | tuple = NODES) -> np.ndarray:
    r""":math:`E[\prod_{i=1}^k \mathrm{sgn}\,u_i]`, :math:`u\sim\mathcal N(0, C)`, for ``C`` of shape
    (..., k, k), :math:`k\le 4` (zero for odd k; the four-sign integral of the module docstring, with
    ``nodes`` Gauss-Legendre nodes on each of its graded panels; a tuple of node counts gives one result
    per rule along a new leading axis, for an error estimate).

    >>> bool(np.isclose(sign_moment([[1.0, 0.5], [0.5, 1.0]]), 2 / np.pi * np.arcsin(0.5), rtol=1e-14))
    True
    >>> R = np.eye(4); R[0, 1] = R[1, 0] = 0.3; R[2, 3] = R[3, 2] = -0.6   # two independent pairs
    >>> bool(np.isclose(sign_moment(R), (2 / np.pi) ** 2 * np.arcsin(0.3) * np.arcsin(-0.6), atol=1e-14))
    True
    """
    C = _covariances(C, None, "sign_moment")
    nodes = _nodes(nodes)
    return _shaped(_sign_moment(C, nodes), nodes, C.shape[:-2])


def _rule(nodes: int, panels: int):
    r"""Nodes :math:`t = \sin\vartheta` and weights :math:`dt` on [0, 1]: ``panels`` Gauss-Legendre panels in
    :math:`\vartheta' = \pi/2 - \vartheta`, graded geometrically (ratio 4) towards :math:`t = 1`, where the
    integrand varies on the scale :math:`\sqrt{1 - |R_{ij}|}` for nearly parallel inputs."""
    if (nodes, panels) not in _RULES:
        x, w = np.polynomial.legendre.leggauss(nodes)
        edges = [0.5 * np.pi / GRADING**k for k in range(panels)] + [0.0]
        th, wt = [], []
        for hi, lo in zip(edges[:-1], edges[1:]):
            th.append(0.5 * np.pi - (lo + 0.5 * (hi - lo) * (x + 1)))
            wt.append(0.5 * (hi - lo) * w)
        th, wt = np.concatenate(th), np.concatenate(wt)
        _RULES[nodes, panels] = (np.sin(th), wt * np.cos(th))
    return _RULES[nodes, panels]


_RULES: dict = {}
_PAIRINGS = np.array([[0, 1, 2, 3], [0, 2, 1, 3], [0, 3, 1, 2]])


def _sign_moment(C: np.ndarray, nodes) -> np.ndarray:
    """The sign moment; ``nodes`` an int, or a tuple of ints for a leading axis of one result per rule."""
    if isinstance(nodes, tuple):
        if C.shape[-1] == 4:
            return np.stack([_sign_moment(C, n) for n in nodes])
        nodes = nodes[0]
    k = C.shape[-1]
    if k == 0:
        return np.ones(C.shape[:-2])
    if k % 2:
        return np.zeros(C.shape[:-2])
    s = 1.0 / np.sqrt(np.diagonal(C, axis1=-2, axis2=-1))
    R = C * s[..., :, None] * s[..., None, :]
    if k == 2:
        return 2 / np.pi * np.arcsin(np.clip(R[..., 0, 1], -1.0, 1.0))
    shape = R.shape[:-2]
    R = R.reshape((-1, 4, 4))
    # order the inputs (a, b, c, d) so that (a, b) and (c, d) are the most correlated pairs
    score = np.abs(R[:, _PAIRINGS[:, 0], _PAIRINGS[:, 1]]) + np.abs(R[:, _PAIRINGS[:, 2], _PAIRINGS[:, 3]])
    perm = _PAIRINGS[np.argmax(score, axis=-1)]
    R = R[np.arange(len(R))[:, None, None], perm[:, :, None], perm[:, None, :]]
    out = (2 / np.pi) ** 2 * np.arcsin(np.clip(R[:, 0, 1], -1, 1)) * np.arcsin(np.clip(R[:, 2, 3], -1, 1))
    # panels by the largest correlation of the path: the integrand varies on sqrt(1 - |R_ij|) near t = 1
    near = 1.0 - np.max(np.abs(R[:, [0, 0, 1, 1], [2, 3, 2, 3]]), axis=-1)
    scale = 0.5 * np.pi / np.sqrt(2 * np.maximum(near, 1e-300))
    panels = np.clip(np.ceil(np.log(np.maximum(scale, 1.0)) / np.log(GRADING)) + 2, 2, PANELS).astype(int)
    for p in np.unique(panels):
        sel = np.nonzero(panels == p)[0]
        out[sel] += _four_sign_path(R[sel], *_rule(nodes, int(p)))
    return out.reshape(shape)


def _four_sign_path(R: np.ndarray, t: np.ndarray, dt: np.ndarray) -> np.ndarray:
    r"""The Price integral along :math:`R(t) = R_0 + t(R - R_0)`, :math:`R_0` = ``R`` without the
    correlations between the blocks (0, 1) and (2, 3) (where the sign moment is the product of the two pairs').

    For the cross pair :math:`(i, j)` and its complement :math:`(k, l)` (:math:`k` in :math:`i`'s block),
    the conditional covariance of :math:`(u_k, u_l)` given :math:`u_i = u_j = 0` is, with
    :math:`g = 1/(1 - t^2R_{ij}^2)`: :math:`s_{kk} = 1 - g(R_{ki}^2 + t^2(R_{kj}^2 - 2R_{ij}R_{ki}R_{kj}))`,
    :math:`s_{ll} = 1 - g(R_{lj}^2 + t^2(R_{li}^2 - 2R_{ij}R_{li}R_{lj}))` and
    :math:`s_{kl} = t\,[R_{kl} - g(R_{ki}R_{li} - R_{ij}R_{ki}R_{lj} + R_{kj}R_{lj} - t^2R_{ij}R_{kj}R_{li})]`."""
    t2 = (t * t)[None, :]
    total = np.zeros(len(R))
    for i, j in ((0, 2), (0, 3), (1, 2), (1, 3)):
        k, l = 1 - i, 5 - j  # the complement: the other member of each block
        rij, rki, rkj, rli, rlj, rkl = (R[:, a, b, None] for a, b in ((i, j), (k, i), (k, j), (l, i), (l, j), (k, l)))
        g = 1.0 / (1.0 - t2 * (rij * rij))
        skk = 1.0 - g * (rki * rki + t2 * (rkj * rkj - 2 * rij * rki * rkj))
        sll = 1.0 - g * (rlj * rlj + t2 * (rli * rli - 2 * rij * rli * rlj))
        skl = t * (rkl - g * (rki * rli - rij * rki * rlj + rkj * rlj - t2 * (rij * rkj * rli)))
        skk *= sll
        np.sqrt(skk, out=skk)
        np.divide(skl, skk, out=skl)
        np.minimum(skl, 1.0, out=skl)
        np.maximum(skl, -1.0, out=skl)
        np.arcsin(skl, out=skl)
        np.sqrt(g, out=g)
        skl *= g
        total += (4 / np.pi**2) * R[:, i, j] * (skl @ dt)
    return total


# --------------------------------------------------------------------------------------- sign polynomials
def sign_polynomial_moment(C, powers, signs, nodes: int | tuple = NODES) -> np.ndarray:
    r""":math:`E[\prod_i z_i^{p_i}\,(\mathrm{sgn}\,z_i)^{e_i}]`, :math:`z\sim\mathcal N(0, C)`, ``C`` of shape
    (..., k, k), :math:`k\le 4`, by Gaussian integration by parts (module docstring).

    >>> K = np.array([[2.0, 0.6], [0.6, 1.0]])
    >>> round(float(sign_polynomial_moment(K, (2, 2), (0, 0))), 12)   # Wick: K11 K22 + 2 K12^2
    2.72
    >>> bool(np.isclose(sign_polynomial_moment(K, (1, 0), (1, 0)), np.sqrt(2 * 2.0 / np.pi)))   # E|z_1|
    True
    """
    powers, signs = tuple(powers), tuple(signs)
    if len(powers) != len(signs):
        raise ValueError(f"sign_polynomial_moment: {len(powers)} powers but {len(signs)} signs")
    if any(not isinstance(p, numbers.Integral) or p < 0 for p in powers):
        raise ValueError(f"sign_polynomial_moment: powers must be integers >= 0, got {powers}")
    if any(e not in (0, 1) for e in signs):
        raise ValueError(f"sign_polynomial_moment: signs must be 0 or 1, got {signs}")
    C = _covariances(C, len(powers), "sign_polynomial_moment")
    nodes = _nodes(nodes)
    out = _SignPolynomialMoments(nodes).moment(C, tuple(range(len(powers))), frozenset(),
                                               tuple(int(p) for p in powers), signs)
    return _shaped(out, nodes, C.shape[:-2])


class _SignPolynomialMoments:
    """The integration-by-parts recursion with its memo (one per batch of covariances). A state is the
    covariance ``C`` of the variables still in play (given those conditioned on, ``given``), the positions
    ``pos`` in ``C`` of the factors left, their labels, and their powers ``p`` and signs ``e``."""

    def __init__(self, nodes):
        self.nodes = nodes
        self.memo = {}

    def moment(self, C, labels, given, p, e):
        return self._moment(C, tuple(range(len(p))), tuple(labels), given, tuple(p), tuple(e))

    def _moment(self, C, pos, labels, given, p, e):
        keep = [j for j in range(len(p)) if p[j] or e[j]]
        if len(keep) < len(p):
            pos, labels, p, e = (tuple(v[j] for j in keep) for v in (pos, labels, p, e))
        if (sum(p) + sum(e)) % 2:
            return 0.0
        key = (labels, given, p, e)
        if key in self.memo:
            return self.memo[key]
        if not any(p):
            out = _sign_moment(C[..., pos, :][..., :, pos], self.nodes)
        else:
            i = next(j for j in range(len(p)) if p[j])
            q = p[:i] + (p[i] - 1,) + p[i + 1:]  # E[z_i H] = sum_m C_im E[d_m H]
            out = 0.0
            for m in range(len(q)):
                cim = C[..., pos[i], pos[m]]
                if q[m]:
                    lower = q[:m] + (q[m] - 1,) + q[m + 1:]
                    out = out + cim * q[m] * self._moment(C, pos, labels, given, lower, e)
                elif e[m]:  # d sgn z_m = 2 delta(z_m): condition on z_m = 0
                    rest = [pos[j] for j in range(len(q)) if j != m]
                    var = C[..., pos[m], pos[m]]
                    Cm = C[..., rest, :][..., :, rest] - (C[..., rest, pos[m]][..., :, None]
                                                          * C[..., pos[m], rest][..., None, :] / var[..., None, None])
                    sub = self._moment(Cm, tuple(range(len(rest))), tuple(labels[j] for j in range(len(q)) if j != m),
                                       given | {labels[m]}, tuple(q[j] for j in range(len(q)) if j != m),
                                       tuple(e[j] for j in range(len(q)) if j != m))
                    out = out + cim * 2.0 / np.sqrt(2 * np.pi * var) * sub
        self.memo[key] = out
        return out


# --------------------------------------------------------------------------------------- activations
class ActivationMoments:
    r""":math:`E[\prod_i f(z_i)^{m_i}]` for :math:`z\sim\mathcal N(0, C)` (k distinct inputs, batch over the
    leading axes of ``C``), :math:`\sum_i m_i\le 4`, for an activation :func:`activation_moments` recognised
    (``nodes`` as in :func:`sign_moment`).

    Attributes: ``kind`` ("sign polynomial" or "erf"), ``activation`` (the sympy expression) and ``z``.
    """

    def __init__(self, kind: str, activation, z, data):
        self.kind, self.activation, self.z, self._data = kind, activation, z, data
        self._powers = {}

    def __repr__(self):
        return f"ActivationMoments({self.activation}, kind={self.kind!r})"

    def __call__(self, C, multiplicities, nodes: int | tuple = NODES) -> np.ndarray:
        m = tuple(multiplicities)
        if not m or any(not isinstance(v, numbers.Integral) or v < 1 for v in m) or sum(m) > 4:
            raise ValueError(f"ActivationMoments: multiplicities must be positive integers with sum <= 4, got {m}")
        C = _covariances(C, len(m), "ActivationMoments")
        nodes = _nodes(nodes)
        if self.kind == "erf":
            A, B = self._data
            idx = [i for i, v in enumerate(m) for _ in range(v)]
            U = 2 * B**2 * C[..., idx, :][..., :, idx] + np.eye(len(idx))
            return _shaped(A ** len(idx) * _sign_moment(U, nodes), nodes, C.shape[:-2])
        terms = [self._power(v) for v in m]  # f^m as {(power, sign): coefficient}
        rec = _SignPolynomialMoments(nodes)
        out = np.zeros(C.shape[:-2])
        for combo in itertools.product(*(t.items() for t in terms)):
            coeff = math.prod(c for _, c in combo)
            powers = tuple(ks[0] for ks, _ in combo)
            signs = tuple(ks[1] for ks, _ in combo)
            out = out + coeff * rec.moment(C, tuple(range(len(m))), frozenset(), powers, signs)
        return _shaped(out, nodes, C.shape[:-2])

    def _power(self, v: int) -> dict:
        if v not in self._powers:
            sp_form = sign_polynomial(sp.expand(self.activation**v), self.z)
            self._powers[v] = {k: float(c) for k, c in sp_form.items()}
        return self._powers[v]


def activation_moments(f, z) -> ActivationMoments | None:
    r"""The batched Gaussian product moments of the activation ``f`` (a sympy expression in ``z``, numbers
    for every other symbol), or None when ``f`` is neither a sign polynomial nor :math:`A\,\mathrm{erf}(Bz)`.

    >>> z = sp.Symbol("z", real=True)
    >>> relu = activation_moments(sp.Max(0, z), z)
    >>> K = np.array([[1.0, 0.3], [0.3, 1.0]])
    >>> arccos = (np.sqrt(1 - 0.09) + (np.pi - np.arccos(0.3)) * 0.3) / (2 * np.pi)   # Cho and Saul
    >>> bool(np.isclose(relu(K, (1, 1)), arccos, rtol=1e-14))
    True
    >>> activation_moments(sp.tanh(z), z) is None
    True
    """
    f = sp.sympify(f)
    A, g = f.as_independent(z, as_Add=False)
    if isinstance(g, sp.erf):
        B = sp.simplify(g.args[0] / z)
        if not B.has(z) and A.is_number and B.is_number and A.is_real and B.is_real and B != 0:
            return ActivationMoments("erf", f, z, (float(A), float(B)))
        return None
    form = sign_polynomial(f, z)
    if form is None or not all(sp.sympify(c).is_number for c in form.values()):
        return None
    if not all(sp.sympify(c).is_real for c in form.values()):
        return None
    return ActivationMoments("sign polynomial", f, z, form)
