r"""The fused neuron estimator (optional, numba): neuron values and subset sums in one compiled loop.

``monte_carlo(..., fused=True)`` (the neuron estimator, numpy draws, float64) hands every block's
parameter draws to one numba-compiled loop that, draw by draw, evaluates the neuron
:math:`a\,h(x_u;\theta)` at each distinct input point once and adds the products over every subset
of every point set to the sums,

.. math:: \Sigma_{B,p} \mathrel{+}= \prod_{k\in B} a\,h(x_{p,k};\theta_s),

each product formed left to right in k as the numpy path forms it (no array of draws x points is
held). The parameter draws are numpy's (the same stream, so the same draws); the sums over draws
run in draw order instead of numpy's pairwise order, and numba's ``cos``/``exp`` may differ from
numpy's in the last bit: the numbers agree with the numpy path to rounding, not bit for bit.

Needs numba (the optional extra ``pip install 'nnsym[numba]'``); a neuron numba cannot compile (a
scipy special function, say) is refused with :class:`FusedUnavailable` naming the reason.
"""
from __future__ import annotations

import numpy as np
import sympy as sp

from ..core.random import RandomVector
from ..core.vectors import ScalarPoint
from ..errors import FusedUnavailable
from ..numeric.kernels import HELPER_ROUNDING, canonical_tree, numpy_printer

__all__ = ["numba_available", "fused_block_sums"]


def numba_available() -> bool:
    """Whether numba can be imported (the optional extra ``nnsym[numba]``)."""
    try:
        import numba  # noqa: F401
    except ImportError:
        return False
    return True


def _numba():
    try:
        import numba
    except ImportError as exc:
        raise FusedUnavailable("fused=True needs numba: pip install 'nnsym[numba]' (or pip install numba)") from exc
    return numba


def _helpers(numba) -> dict:
    """nnsym's kernel helpers for scalars and 1-d vectors, compiled by numba."""

    @numba.njit(cache=False)
    def _nn_dot(u, v):
        out = 0.0
        for i in range(u.shape[0]):
            out += u[i] * v[i]
        return out

    r = HELPER_ROUNDING  # the rounding the numpy helpers forgive

    @numba.njit(cache=False)
    def _nn_sqrt(x):
        return np.sqrt(0.0 if -r < x < 0 else x)

    @numba.njit(cache=False)
    def _nn_clip1(x):
        return np.sign(x) if 1 < abs(x) < 1 + r else x

    return {"_nn_dot": _nn_dot, "_nn_sqrt": _nn_sqrt, "_nn_clip1": _nn_clip1}


_DRIVER = '''
def block(a, {theta}, points, index, {hyper}):
    S = a.shape[0]
    U = points.shape[0]
    P, n = index.shape
    full = (1 << n) - 1
    sums = np.zeros((1 << n, P))
    sq = np.zeros((2, P))
    vals = np.empty(U)
    prods = np.empty(1 << n)
    top = np.zeros(1 << n, dtype=np.int64)  # the highest point of each subset, and the subset without it
    rest = np.zeros(1 << n, dtype=np.int64)
    for m in range(1, 1 << n):
        while (m >> (top[m] + 1)) > 0:
            top[m] += 1
        rest[m] = m ^ (1 << top[m])
    for s in range(S):
        for u in range(U):
            vals[u] = a[s] * neuron({theta_s}, {x_u}, {hyper})
        for p in range(P):
            for m in range(1, 1 << n):
                v = vals[index[p, top[m]]]
                prods[m] = v if rest[m] == 0 else prods[rest[m]] * v
                sums[m, p] += prods[m]
            q = prods[full] * prods[full]
            sq[0, p] += q
            if q > sq[1, p]:
                sq[1, p] = q
    for p in range(P):
        sums[0, p] = S
    return sums, sq
'''


def _compile(sampler):
    """The numba loop for ``sampler``'s neuron (cached on the sampler)."""
    cached = getattr(sampler, "_fused_block", None)
    if cached is not None:
        return cached
    numba = _numba()
    net = sampler.net
    params = sampler.params
    hyper = [f"h{i}" for i in range(len(sampler.hyper_values))]
    theta = [f"t{i}" for i in range(len(params))]
    theta_s = [f"{t}[s]" if isinstance(p, RandomVector) else f"{t}[s, 0]" for t, p in zip(theta, params)]
    x_u = "points[u, 0]" if isinstance(net.input, ScalarPoint) else "points[u]"
    neuron_expr = canonical_tree(sp.powsimp(net.neuron, combine="exp"))
    hyper_syms = sorted(neuron_expr.free_symbols - set(params) - {net.input}, key=sp.default_sort_key)
    namespace = {"np": np, "numpy": np, **_helpers(numba)}
    scalar = sp.lambdify(params + [net.input] + hyper_syms, neuron_expr, modules=[namespace],
                         printer=numpy_printer(), cse=True, docstring_limit=0)
    namespace["neuron"] = numba.njit(scalar)
    src = _DRIVER.format(theta=", ".join(theta), hyper=", ".join(hyper), theta_s=", ".join(theta_s), x_u=x_u)
    exec(compile(src, f"<nnsym fused neuron estimator: {net.neuron}>", "exec"), namespace)  # noqa: S102
    block = numba.njit(namespace["block"])
    sampler._fused_block = block
    return block


def fused_block_sums(sampler, drawn, points: np.ndarray, index: np.ndarray, full_sq: np.ndarray) -> np.ndarray:
    r"""The subset sums (2^n, P) of one block of neurons ``drawn`` (:meth:`NetworkSampler.draw_neurons`)
    at ``points`` (U, d) and the point sets ``index`` (P, n), by the fused numba loop; ``full_sq``
    (2, P) receives the sum and maximum of the squared full product. Raises
    :class:`FusedUnavailable` without numba or when numba cannot compile the neuron."""
    block = _compile(sampler)
    a, theta = drawn
    S = a.shape[0]
    args = [np.ascontiguousarray(a.reshape(S), dtype=np.float64)]
    for t, p in zip(theta, sampler.params):
        args.append(np.ascontiguousarray(t.reshape(S, -1) if isinstance(p, RandomVector) else t.reshape(S, 1),
                                         dtype=np.float64))
    pts = np.ascontiguousarray(points, dtype=np.float64)
    hyper = [float(h) for h in sampler.hyper_values]
    try:
        sums, sq = block(*args, pts, np.ascontiguousarray(index, dtype=np.int64), *hyper)
    except Exception as exc:  # numba's typing errors: the neuron uses something numba does not compile
        if type(exc).__module__.startswith("numba"):
            raise FusedUnavailable(f"numba cannot compile the neuron {sampler.net.neuron} for fused=True "
                                   f"({type(exc).__name__}); use the numpy path (fused=False)") from exc
        raise
    full_sq[...] = sq
    return sums
