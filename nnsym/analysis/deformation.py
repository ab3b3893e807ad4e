r"""Deformation of a network ensemble by a local potential: reweighting and first-order perturbation.

Inserting a local potential into the parameter-space path integral changes the parameter density
(Leung, *Physics4ML* notes, eq. 3.5-3.6):

.. math:: \tilde P(\theta) = \frac{1}{Z_\lambda}\, P(\theta)\, e^{-\lambda V[\phi_\theta]},
   \qquad V[\phi] = \sum_{y\in Y} w_y\, \phi(y)^4,\qquad
   Z_\lambda = E_\theta\big[e^{-\lambda V[\phi_\theta]}\big],

the :math:`\lambda\phi^4` operator put on a lattice of points :math:`Y` with weights
:math:`w_y \ge 0` (a quadrature of :math:`\int d^dx`). The notes write
:math:`e^{+\int V}`; here the sign is explicit, :math:`V = +\lambda\phi^4`, :math:`\lambda \ge 0`,
so that the deformed measure is normalisable. For an observable
:math:`O = \prod_{j=1}^m \phi(x_j)` the deformed expectation is

.. math:: \langle O\rangle_\lambda = \frac{E_\theta[O\, e^{-\lambda V}]}{E_\theta[e^{-\lambda V}]}
   = \langle O\rangle - \lambda\big(\langle O V\rangle - \langle O\rangle\langle V\rangle\big) + O(\lambda^2).

Two ways to compute it, which must agree at small :math:`\lambda` and part at larger :math:`\lambda`:

* :func:`deformed_monte_carlo`: whole networks drawn from the undeformed :math:`P(\theta)` and
  reweighted by :math:`e^{-\lambda V}` (self-normalised importance sampling). The quality of the
  reweighting is the Kish effective sample size :math:`S_{\rm eff} = (\sum_s u_s)^2/\sum_s u_s^2`;
  when it collapses (the deformed measure lives where the undeformed draws never go) the estimate
  is refused rather than returned with a meaningless error bar.
* :func:`first_order_deformation`: the exact value and slope at :math:`\lambda = 0` from the
  undeformed full correlators at coincident points,

  .. math:: \langle O\rangle = G^{(m)}(x_1..x_m),\quad
     \langle V\rangle = \sum_y w_y G^{(4)}(y,y,y,y),\quad
     \langle O V\rangle = \sum_y w_y G^{(m+4)}(x_1..x_m, y,y,y,y).

Sign convention: :math:`\lambda < 0` makes :math:`e^{-\lambda V} = e^{|\lambda| V}` unbounded and
:math:`Z_\lambda = \infty` for any field with Gaussian tails (every network with a Gaussian readout);
it is refused (``ValueError``), and so are negative weights :math:`w_y` (the same instability at one
point).

Zero-dimensional :math:`\phi^4` theory: :math:`\phi(x) = a\,x`, :math:`a\sim\mathcal N(0,1)`, observed at
:math:`x = 1`, has :math:`\langle\phi^2\rangle = 1` and slope :math:`-(E a^6 - E a^2 E a^4) = -(15 - 3)`:

>>> import numpy as np, nnsym as ns
>>> x = ns.Input("x", 1)
>>> net = ns.Network(neuron=x, readout=ns.Normal("a", 0, 1), width=1, input=x)
>>> one = np.ones((1, 1))
>>> exact = first_order_deformation(net, np.ones((2, 1)), one, [1.0])
>>> exact.O_mean, exact.slope, exact.at([0.0, 0.001])
(1.0, -12.0, array([1.   , 0.988]))
>>> mc = deformed_monte_carlo(net, np.ones((2, 1)), one, [1.0], [0.0, 0.001, 0.1], samples=100_000, seed=1)
>>> np.abs(mc.z(exact.at(mc.lam))) < 5        # agree at small lambda, part at larger lambda
array([ True,  True, False])

(the series of zero-dimensional :math:`\phi^4` theory has large coefficients: the
:math:`\lambda^2` term is :math:`384\,\lambda^2`, 0.038 at :math:`\lambda = 0.01`: ten standard errors here).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import CollapsedSampleSize
from ..model.network import Network
from ..sampling.moments import BLOCK_ELEMENTS, block_layout
from ..sampling.sampler import network_sampler
from .toolkit import evaluate_with_error

__all__ = ["deformed_monte_carlo", "first_order_deformation", "DeformedEstimate", "FirstOrderDeformation",
           "effective_sample_size"]

_MC_OPTIONS = ("samples", "seed", "min_ess")


# ----------------------------------------------------------------------------- input
def _dimension(net: Network, arrays: dict, values: dict) -> int:
    dims = {name: a.shape[-1] for name, a in arrays.items()}
    if len(set(dims.values())) != 1:
        raise ValueError(f"the points disagree on the dimension d (last axis): {dims}")
    D = next(iter(dims.values()))
    if net.dim.is_Integer and D != int(net.dim):
        raise ValueError(f"the points must have shape (..., {int(net.dim)}) for this network in d = {net.dim}, "
                         f"got last axis {D}")
    if net.dim.is_Symbol and net.dim.name in values and values[net.dim.name] != D:
        raise ValueError(f"{net.dim.name} = {values[net.dim.name]} disagrees with the points' last axis {D}")
    return int(D)


def _points(P, name: str, what: str) -> np.ndarray:
    try:
        P = np.asarray(P, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be an array of {what}, shape (k, d), of real numbers") from None
    if P.ndim != 2 or P.shape[0] < 1 or P.shape[1] < 1:
        raise ValueError(f"{name} must have shape (k, d) with k >= 1 ({what}), got shape {P.shape}")
    if not np.all(np.isfinite(P)):
        raise ValueError(f"{name} contains inf or nan")
    return P


def _check_input(context: str, net: Network, O_points, Y, w, values: dict, options=()):
    if not isinstance(net, Network):
        raise TypeError(f"{context} needs an nnsym.Network, got {type(net).__name__}")
    bindings = net.bind(values, context, options)
    O_points = _points(O_points, "O_points", "the points x_j of the observable prod_j phi(x_j)")
    Y = _points(Y, "Y", "the lattice points y of the potential sum_y w_y phi(y)^4")
    try:
        w = np.asarray(w, dtype=float)
    except (TypeError, ValueError):
        raise TypeError("w must be an array of real weights, shape (M,)") from None
    if w.shape != (Y.shape[0],):
        raise ValueError(f"the weights w must have shape (M,) = ({Y.shape[0]},), one per lattice point of Y, "
                         f"got shape {w.shape}")
    if not np.all(np.isfinite(w)):
        raise ValueError("the weights w contain inf or nan")
    if np.any(w < 0):
        raise ValueError(f"the weights w must be >= 0, got {w[w < 0].tolist()}: a negative weight makes "
                         "exp(-lambda w_y phi(y)^4) unbounded, so the deformed measure is not normalisable")
    D = _dimension(net, {"O_points": O_points, "Y": Y}, bindings)
    if net.dim.is_Symbol:
        bindings = bindings.with_values(**{net.dim.name: D})
    return bindings, O_points, Y, w, D


def _couplings(lam) -> np.ndarray:
    try:
        lam = np.asarray(lam, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(f"lam must be a real number or an array of real numbers, got {lam!r}") from None
    if lam.size == 0:
        raise ValueError("lam is empty: give at least one coupling lambda >= 0")
    if not np.all(np.isfinite(lam)):
        raise ValueError("lam contains inf or nan")
    if np.any(lam < 0):
        raise ValueError(f"the coupling lambda must be >= 0, got {lam[lam < 0].tolist()}: for lambda < 0 the weight "
                         "exp(-lambda V) = exp(|lambda| sum_y w_y phi(y)^4) is unbounded and E[exp(-lambda V)] is "
                         "infinite for a field with Gaussian tails (the deformed theory does not exist)")
    return lam


def _count(v, name: str, least: int) -> int:
    if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer)):
        raise TypeError(f"{name} must be an integer, got {v!r}")
    if int(v) < least:
        raise ValueError(f"{name} must be >= {least}, got {v}")
    return int(v)


# ----------------------------------------------------------------------------- reweighting
def effective_sample_size(log_weights) -> float:
    r"""Kish's effective sample size of importance weights :math:`u_s = e^{\ell_s}` given in log space,

    .. math:: S_{\rm eff} = \frac{\big(\sum_s u_s\big)^2}{\sum_s u_s^2} \in [1, S],

    computed after subtracting :math:`\max_s \ell_s` (no overflow, no underflow of the largest
    weight). Equal weights give :math:`S`; one dominant weight gives 1.

    >>> effective_sample_size(np.zeros(1000)), round(effective_sample_size([0.0, -1e3, -1e3]), 12)
    (1000.0, 1.0)
    """
    ell = np.asarray(log_weights, dtype=float)
    u = np.exp(ell - ell.max())
    return float(u.sum() ** 2 / np.dot(u, u))


@dataclass
class DeformedEstimate:
    r"""Reweighted Monte Carlo of :math:`\langle O\rangle_\lambda` at each coupling in ``lam``.

    ``mean``, ``stderr``, ``ess`` have the shape of ``lam``; ``stderr`` is the delta-method
    standard error of the self-normalised estimator,
    :math:`\hat\sigma^2 = \sum_s u_s^2 (O_s - \hat\mu)^2 / (\sum_s u_s)^2`;
    ``ess`` the Kish effective sample size. All couplings use the *same* draws (common random
    numbers), so differences between couplings are far less noisy than each value.

    ``slope``, ``slope_stderr``: the Monte Carlo estimate of
    :math:`d\langle O\rangle_\lambda/d\lambda|_0 = -\mathrm{Cov}(O, V)` from the same draws (the
    sample covariance; standard error of the mean of :math:`(O_s-\bar O)(V_s-\bar V)`).
    """

    lam: np.ndarray
    mean: np.ndarray
    stderr: np.ndarray
    ess: np.ndarray
    slope: float
    slope_stderr: float
    samples: int
    seed: Any
    min_ess: float
    extra: dict = field(default_factory=dict, repr=False)

    def z(self, reference) -> np.ndarray:
        r"""z-scores :math:`(\hat\mu_\lambda - \text{reference})/\hat\sigma_\lambda`."""
        return (self.mean - np.asarray(reference)) / self.stderr

    def table(self, first_order: "FirstOrderDeformation | None" = None) -> str:
        r"""A printable table: :math:`\lambda`, reweighted mean :math:`\pm` stderr, ESS (and the first-order
        line with the z-score of the difference when ``first_order`` is given)."""
        head = f"{'lambda':>8}  {'reweighted MC':>22}  {'ESS':>9}"
        if first_order is not None:
            head += f"  {'first order':>12}  {'z':>7}"
        rows = [head]
        lin = first_order.at(self.lam) if first_order is not None else None
        for k, lam in enumerate(np.ravel(self.lam)):
            m, s, e = np.ravel(self.mean)[k], np.ravel(self.stderr)[k], np.ravel(self.ess)[k]
            row = f"{lam:8.4g}  {m:+11.5f} +- {s:8.5f}  {e:9.0f}"
            if lin is not None:
                ref = np.ravel(lin)[k]
                row += f"  {ref:+12.5f}  {(m - ref) / s:+7.2f}"
            rows.append(row)
        return "\n".join(rows)


def deformed_monte_carlo(net: Network, O_points, Y, w, lam, samples: int = 200_000, seed: int | None = 0,
                         min_ess: float | None = None, **values) -> DeformedEstimate:
    r"""Reweighted Monte Carlo of :math:`\langle O\rangle_\lambda`, :math:`O = \prod_j\phi(x_j)`, in the ensemble
    deformed by :math:`V = \sum_y w_y\phi(y)^4`:

    .. math:: \hat\mu_\lambda = \frac{\sum_s u_s O_s}{\sum_s u_s},\qquad u_s = e^{-\lambda V_s},\qquad
       \hat\sigma_\lambda^2 = \frac{\sum_s u_s^2 (O_s - \hat\mu_\lambda)^2}{(\sum_s u_s)^2}\ \text{(delta method)},

    over ``samples`` whole width-N networks :math:`\theta_s\sim P(\theta)` (the network's own sampler,
    :func:`~nnsym.sampling.sampler.network_sampler`), the weights in log space. ``O_points`` (m, d):
    the points :math:`x_j`; ``Y`` (M, d) the lattice, ``w`` (M,) its weights :math:`\ge 0`; ``lam`` one
    coupling :math:`\lambda\ge 0` or an array of them, all evaluated on the same draws.

    The estimate is refused (:class:`~nnsym.errors.CollapsedSampleSize`, a ``ValueError``) when the
    effective sample size :math:`S_{\rm eff}` at some coupling falls below ``min_ess`` (default
    :math:`\max(100, S/100)`): the delta-method error bar is then not trustworthy.

    Reproducible: the draws come in fixed blocks, block ``j`` from ``SeedSequence(seed).spawn(...)[j]``
    (same seed, same numbers). Hyper-parameter values by name (a misspelt one raises ``TypeError``).

    >>> import numpy as np, nnsym as ns
    >>> est = deformed_monte_carlo(ns.zoo.cos_net(1), [[0.0], [0.5]], [[0.0], [1.0]], [1.0, 1.0],
    ...                            [0.0, 0.1], samples=20_000, sigma_a=1.0, sigma_b=1.0, N=3)
    >>> est.mean.shape, bool(est.ess[0] == 20_000), bool(est.mean[1] < est.mean[0])
    ((2,), True, True)
    """
    bindings, O_points, Y, w, D = _check_input("deformed_monte_carlo", net, O_points, Y, w, values, _MC_OPTIONS)
    lam = _couplings(lam)
    samples = _count(samples, "samples", 2)
    if seed is not None and not isinstance(seed, np.random.SeedSequence):
        seed = _count(seed, "seed", 0)
    if min_ess is None:
        min_ess = max(100.0, samples / 100)
    try:
        ok = not isinstance(min_ess, (bool, np.bool_)) and 1 <= float(min_ess) <= samples
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ValueError(f"min_ess must be a number in [1, samples = {samples}], got {min_ess!r}")
    min_ess = float(min_ess)

    sampler = network_sampler(net, bindings, D)
    points = np.concatenate([O_points, Y])
    m = len(O_points)
    block = max(1, BLOCK_ELEMENTS // (sampler.width * len(points)))
    sizes = block_layout(samples, 1, block)
    seeds = np.random.SeedSequence(seed).spawn(len(sizes))
    O = np.empty(samples)
    V = np.empty(samples)
    start = 0
    for size, key in zip(sizes, seeds):
        phi = sampler.backend.asnumpy(sampler.field_values(sampler.backend.generator(key), size, points))
        if not np.all(np.isfinite(phi)):
            raise FloatingPointError("overflow or nan in the sampled fields (e.g. a Gauss-net at large |x|): "
                                     "the reweighted estimate would be inf/nan; use smaller |x| or rescale")
        with np.errstate(over="raise"):
            O[start:start + size] = np.prod(phi[:, :m], axis=1)
            V[start:start + size] = phi[:, m:] ** 4 @ w
        start += size

    flat = lam.ravel()
    mean, stderr, ess = (np.empty(flat.shape) for _ in range(3))
    for k, g in enumerate(flat):
        ell = -g * V
        u = np.exp(ell - ell.max())  # normalised in log space: the largest weight is 1
        total = u.sum()
        mean[k] = np.dot(u, O) / total
        stderr[k] = math.sqrt(np.dot(u * u, (O - mean[k]) ** 2)) / total
        ess[k] = total**2 / np.dot(u, u)
    bad = np.flatnonzero(ess < min_ess)
    if bad.size:
        ok = flat[ess >= min_ess]
        raise CollapsedSampleSize(
            f"deformed_monte_carlo: the effective sample size collapsed at lambda = "
            f"{', '.join(f'{flat[k]:g} (ESS {ess[k]:.3g})' for k in bad[:10])} of {samples} draws, below "
            f"min_ess = {min_ess:g}: the deformed measure lives where the undeformed draws rarely go, and the "
            "estimate and its error bar would not be trustworthy. Use smaller lambda"
            + (f" (the largest accepted here: {ok.max():g})" if ok.size else "")
            + ", smaller weights, or many more samples")
    Z = (O - O.mean()) * (V - V.mean())
    return DeformedEstimate(lam=lam, mean=mean.reshape(lam.shape), stderr=stderr.reshape(lam.shape),
                            ess=ess.reshape(lam.shape), slope=float(-Z.mean()),
                            slope_stderr=float(Z.std(ddof=1) / math.sqrt(samples)), samples=samples, seed=seed,
                            min_ess=min_ess, extra={"O_mean": float(O.mean()), "V_mean": float(V.mean())})


# ----------------------------------------------------------------------------- first order, exact
@dataclass
class FirstOrderDeformation:
    r"""The exact first-order deformation
    :math:`\langle O\rangle_\lambda = \langle O\rangle + \lambda\,s + O(\lambda^2)`,
    :math:`s = -(\langle OV\rangle - \langle O\rangle\langle V\rangle)`.

    ``O_mean`` :math:`= G^{(m)}(x_1..x_m)`, ``V_mean`` :math:`= \sum_y w_y G^{(4)}(y,y,y,y)`,
    ``OV_mean`` :math:`= \sum_y w_y G^{(m+4)}(x_1..x_m,y,y,y,y)`, ``slope`` :math:`= s`.
    ``O_error`` and ``slope_error`` bound the absolute errors (0 for closed forms; the propagated
    quadrature error when a correlator has no closed form, ``is_exact`` False).
    """

    O_mean: float
    V_mean: float
    OV_mean: float
    slope: float
    O_error: float = 0.0
    slope_error: float = 0.0
    is_exact: bool = True

    def at(self, lam) -> np.ndarray | float:
        r"""The first-order line :math:`\langle O\rangle + \lambda s` at coupling(s) :math:`\lambda\ge 0`
        (refused for :math:`\lambda<0`, where the deformed theory does not exist)."""
        lam_arr = _couplings(lam)
        out = self.O_mean + lam_arr * self.slope
        return float(out) if np.ndim(lam) == 0 else out


def first_order_deformation(net: Network, O_points, Y, w, **values) -> FirstOrderDeformation:
    r"""The exact :math:`\langle O\rangle` and slope :math:`d\langle O\rangle_\lambda/d\lambda|_{\lambda=0}` of
    :math:`O = \prod_{j=1}^m \phi(x_j)` under the deformation :math:`e^{-\lambda\sum_y w_y\phi(y)^4}`,

    .. math:: \frac{d\langle O\rangle_\lambda}{d\lambda}\Big|_0
       = -\big(\langle OV\rangle - \langle O\rangle\langle V\rangle\big)
       = -\sum_y w_y\Big[G^{(m+4)}(x_1..x_m, y,y,y,y) - G^{(m)}(x_1..x_m)\,G^{(4)}(y,y,y,y)\Big],

    from the network's full (not connected) correlators at coincident points (exact, symbolic in
    the width; a part without closed form is integrated with a stated error, ``slope_error``).
    ``O_points`` (m, d), ``Y`` (M, d), ``w`` (M,) :math:`\ge 0`; hyper-parameter values by name.
    The cost is that of :math:`G^{(m+4)}` (:meth:`~nnsym.Network.correlator_cost`).

    >>> import numpy as np, nnsym as ns
    >>> x = ns.Input("x", 1)
    >>> net = ns.Network(neuron=x, readout=ns.Normal("a", 0, 1), width=1, input=x)   # phi(x) = a x
    >>> f = first_order_deformation(net, [[1.0], [2.0]], [[1.0], [0.5]], [1.0, 2.0])
    >>> f.O_mean, f.V_mean, f.slope                    # <a^2> 2, 3 (1 + 2/16), -12 * 2 * (1 + 2/16)
    (2.0, 3.375, -27.0)
    """
    bindings, O_points, Y, w, D = _check_input("first_order_deformation", net, O_points, Y, w, values)
    m, M = len(O_points), len(Y)
    vals = dict(bindings)
    Yfour = np.repeat(Y[:, None, :], 4, axis=1)                          # (M, 4, d): y, y, y, y
    X_OV = np.concatenate([np.broadcast_to(O_points, (M, m, D)), Yfour], axis=1)  # (M, m+4, d)
    O_val = evaluate_with_error(net.correlator(m), O_points[None], vals)
    V_val = evaluate_with_error(net.correlator(4), Yfour, vals)
    OV_val = evaluate_with_error(net.correlator(m + 4), X_OV, vals)
    O_mean = float(O_val.value[0])
    V_mean = float(np.dot(w, V_val.value))
    OV_mean = float(np.dot(w, OV_val.value))
    eO, eV, eOV = O_val.error, V_val.error * w.sum(), OV_val.error * w.sum()
    slope_error = eOV + abs(O_mean) * eV + abs(V_mean) * eO + eO * eV
    return FirstOrderDeformation(O_mean=O_mean, V_mean=V_mean, OV_mean=OV_mean, slope=O_mean * V_mean - OV_mean,
                                 O_error=eO, slope_error=float(slope_error),
                                 is_exact=not (O_val.is_numeric or V_val.is_numeric or OV_val.is_numeric))
