r"""Interactions from breaking the central limit theorem: the split
:math:`G_c^{(4)} = I_N + I_{IB}` (Halverson, "Interactions from Breaking the CLT").

A field :math:`\phi(x) = \sum_{i\le N} a_i h_i(x)` with i.i.d. readout weights :math:`a_i`,
independent of the neuron parameters and with :math:`E[a] = 0`, has two sources of
non-Gaussianity:

* **finite width** :math:`I_N`: the connected function of the same single-neuron law with
  *independent* neurons, :math:`I_N = N\,\kappa_4\big(a h(x_1),\dots,a h(x_4)\big)`,

  .. math:: I_N = \frac1N\Big[N^2E[a^4]\,H_{iiii} - \sigma_a^4\big(H^{12}_{ii}H^{34}_{ii}
            + H^{13}_{ii}H^{24}_{ii} + H^{14}_{ii}H^{23}_{ii}\big)\Big]

  (written with :math:`E[a^2] = \sigma_a^2/N`), which vanishes as :math:`N\to\infty`;
* **independence breaking** :math:`I_{IB}`: two *distinct* neurons :math:`i\ne j` that share
  parameters are dependent,

  .. math:: I_{IB} = \sigma_a^4\Big(1 - \frac1N\Big)\Big[H_{iijj} - H^{12}_{ii}H^{34}_{jj}
            + H_{ijij} - H^{13}_{ii}H^{24}_{jj} + H_{ijji} - H^{14}_{ii}H^{23}_{jj}\Big],

  with :math:`H_{iijj} = E[h_i(x_1)h_i(x_2)h_j(x_3)h_j(x_4)]`; it survives :math:`N\to\infty`, so
  :math:`\lim_{N\to\infty}G_c^{(4)} = \lim_{N\to\infty}I_{IB}`.

In general (any readout law, :math:`\sigma_a^4 (1 - 1/N) = N(N-1)E[a^2]^2`) nnsym computes
:math:`I_{IB}` from the two-neuron moments :math:`E[a_ia_j]`-weighted as above, and :math:`I_N` from
the network with the same neuron but no shared parameters: an independent route to the full
:math:`G_c^{(4)}` of the network, which Moebius-inverts the full moments. The two parts are
:class:`~nnsym.model.correlator.Correlator` objects; :meth:`IndependenceSplit.series` expands them in
a tunable strength of the dependence (e.g. :math:`b_i = \sqrt{1-\epsilon}\,b_i' + \sqrt\epsilon\,
b_{\rm shared}`), and :func:`independence_monte_carlo` estimates each part by its own Monte Carlo
estimator (single neurons for :math:`I_N`, pairs of neurons of one network for :math:`I_{IB}`).

The split is not defined when the readout is shared or appears in the neuron (the readout is then
correlated with the neurons), or when :math:`E[a]\ne0`: those are refused with a ``ValueError``.

>>> import sympy as sp, nnsym as ns
>>> N = sp.Symbol("N", positive=True, integer=True)
>>> x = ns.Input("x", 1)
>>> a, b, c = ns.Normal("a", 0, 1 / N), ns.Normal("b", 0, 1), ns.Uniform("c", -sp.pi, sp.pi)
>>> split = independence_breaking(ns.Network(sp.cos(b * x + c), a, N, x, shared=(c,)))
>>> split.residual()                        # I_N + I_IB - G_c^(4), simplified
0
>>> split.large_n_limit()["I_N"]
0
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import sympy as sp

from ..core.random import random_atoms
from ..engine.expectation import expectation
from ..model.correlator import Correlator
from ..model.network import Network, check_n, tidy
from ..sampling.montecarlo import MonteCarloEstimate, monte_carlo
from ..sampling.sampler import network_sampler
from .toolkit import large_n_limit, numeric_dimension, pairings

__all__ = ["IndependenceSplit", "independence_breaking", "independent_twin", "independence_monte_carlo"]


def independent_twin(net: Network) -> Network:
    r"""The network with the same neuron, readout, width and bias but no shared parameters: every
    neuron draws its own copy of each parameter, so the neurons are i.i.d. with the same
    single-neuron law as in ``net``. Its connected function is :math:`I_N`.

    >>> import nnsym as ns
    >>> independent_twin(ns.zoo.cos_net(1)).iid
    True
    """
    return Network(net.neuron, readout=net.readout, width=net.width, input=net.input, shared=(), bias=net.bias)


def _check_split_defined(net: Network) -> None:
    a = net.readout
    if a in net.shared:
        raise ValueError(f"the split G_c = I_N + I_IB is not defined: the readout {a} is shared by all "
                         "neurons, so the readout weights are not i.i.d.")
    if a in random_atoms(net.neuron):
        raise ValueError(f"the split G_c = I_N + I_IB is not defined: the readout {a} appears in the neuron "
                         f"{net.neuron}, so it is correlated with the neuron parameters")
    mean = sp.simplify(a.law.mean)
    if mean != 0:
        raise ValueError(f"the split G_c = I_N + I_IB assumes E[a] = 0 (the Halverson slides); the readout {a} "
                         f"has mean {mean}, so the one-point function mixes into both parts")


def _breaking_four_point(net: Network, pts: tuple) -> sp.Expr:
    r""":math:`I_{IB} = N(N-1)\sum_{(AB)}\big(E[\prod_{A} a_ih_i\prod_{B} a_jh_j] - E[\prod_A ah]E[\prod_B ah]\big)`
    over the three pairings, from the two-neuron moments (copies 1 and 2 of the non-shared
    parameters) and the one-neuron moments."""
    N = net.width
    out = sp.S.Zero
    for A, B in pairings(pts):
        pair = expectation(sp.Mul(*[net.summand(p, copy=1) for p in A], *[net.summand(p, copy=2) for p in B]))
        out += pair - net.neuron_moment(A) * net.neuron_moment(B)
    return N * (N - 1) * out


@dataclass
class IndependenceSplit:
    r"""The connected :math:`n`-point function split into its finite-width and its
    independence-breaking parts, :math:`G_c = I_N + I_{IB}`, each a
    :class:`~nnsym.model.correlator.Correlator` in the same point symbols.

    ``total`` is the network's own :math:`G_c^{(n)}`; ``finite_width`` is :math:`I_N` and
    ``breaking`` :math:`I_{IB}`; ``method`` says how :math:`I_{IB}` was obtained (``"pairs"``: from
    two-neuron moments, independent of ``total``; ``"difference"``: :math:`G_c - I_N` by definition,
    for :math:`n\ne4`).
    """

    total: Correlator
    finite_width: Correlator
    breaking: Correlator
    network: Network
    method: str

    def parts(self) -> dict:
        """``{"G_c": total, "I_N": finite_width, "I_IB": breaking}``."""
        return {"G_c": self.total, "I_N": self.finite_width, "I_IB": self.breaking}

    def residual(self) -> sp.Expr:
        r""":math:`I_N + I_{IB} - G_c`, simplified (0 when the two routes agree)."""
        diff = sp.expand(self.finite_width.expr + self.breaking.expr - self.total.expr)
        return sp.simplify(diff) if diff != 0 else diff

    def evaluate(self, X, **values) -> dict:
        """The three parts at the point sets ``X`` (shape (..., n, d)): a dict of arrays."""
        return {k: c.evaluate(X, **values) for k, c in self.parts().items()}

    def series(self, strength, order: int) -> "IndependenceSplit":
        r"""Every part as its Taylor series in a dependence ``strength`` :math:`\epsilon` around
        :math:`\epsilon = 0`, to :math:`O(\epsilon^{\rm order})` included. With
        :math:`b_i = \sqrt{1-\epsilon}\,b_i' + \sqrt\epsilon\,b_{\rm shared}` the independent limit is
        :math:`\epsilon = 0`, where :math:`I_{IB} = 0`.

        >>> import sympy as sp, nnsym as ns
        >>> N, eps = sp.Symbol("N", positive=True, integer=True), sp.Symbol("epsilon", positive=True)
        >>> x = ns.Input("x", 1)
        >>> a, c = ns.Normal("a", 0, 1 / N), ns.Uniform("c", -sp.pi, sp.pi)
        >>> b, bs = ns.Normal("b", 0, 1), ns.Normal("b_s", 0, 1)
        >>> net = ns.Network(sp.cos((sp.sqrt(1 - eps) * b + sp.sqrt(eps) * bs) * x + c), a, N, x, shared=(bs,))
        >>> s = independence_breaking(net).series(eps, 1)
        >>> s.breaking.expr.subs(eps, 0)
        0
        """
        eps = sp.sympify(strength)

        def expand(c: Correlator) -> Correlator:
            # Taylor coefficients by differentiation (much faster than sympy.series on sums of exponentials)
            ser, term = sp.S.Zero, c.expr
            for k in range(int(order) + 1):
                ser += term.subs(eps, 0) * eps**k / math.factorial(k)
                term = sp.diff(term, eps)
            ser = sp.powsimp(sp.expand(ser), combine="exp")  # exp(u) exp(v) -> exp(u + v), as derived
            return Correlator(tidy(ser), c.points, c.dim, c.name, c.network, c.connected)

        return IndependenceSplit(expand(self.total), expand(self.finite_width), expand(self.breaking),
                                 self.network, self.method)

    def large_n_limit(self) -> dict:
        r""":math:`\lim_{N\to\infty}` of each part (None where it does not exist):
        :math:`\lim I_N = 0` and :math:`\lim G_c = \lim I_{IB}`."""
        N = self.network.width
        return {k: large_n_limit(c.expr, N) for k, c in self.parts().items()}

    def latex(self) -> str:
        r"""The three parts as LaTeX lines (``G_c = ...``, ``I_N = ...``, ``I_{IB} = ...``)."""
        return " \\\\\n".join(c.latex() for c in (self.total, self.finite_width, self.breaking))

    def __repr__(self):
        return (f"IndependenceSplit(n={self.total.n}, method={self.method!r},\n  I_N = {self.finite_width.expr},\n"
                f"  I_IB = {self.breaking.expr})")


def independence_breaking(net: Network, n: int = 4) -> IndependenceSplit:
    r"""Split the connected :math:`n`-point function of ``net`` into :math:`I_N + I_{IB}` (module
    docstring): :math:`I_N = N\kappa_n(ah)` of the single-neuron law (the network's
    :func:`independent_twin`), and for :math:`n = 4`

    .. math:: I_{IB} = N(N-1)\sum_{\text{pairings }(AB)}\Big(E\big[\textstyle\prod_{k\in A}a_ih_i(x_k)
              \prod_{l\in B}a_jh_j(x_l)\big] - E\big[\textstyle\prod_{A}ah\big]E\big[\textstyle\prod_{B}ah\big]\Big),
              \quad i\ne j,

    which is the slides' :math:`\sigma_a^4(1-1/N)[H_{iijj} - H_{ii}H_{jj} + \dots]`. For other
    :math:`n`, :math:`I_{IB} := G_c^{(n)} - I_N` (``method="difference"``).

    Raises ``ValueError`` where the split is not defined (a shared readout, a readout inside the
    neuron, :math:`E[a]\ne0`).
    """
    n = check_n(n)
    _check_split_defined(net)
    total = net.correlator(n, connected=True)
    twin = independent_twin(net)
    finite = twin.correlator(n, connected=True)
    finite = Correlator(finite.expr, total.points, total.dim, name="I_N", network=net, connected=True)
    if n == 4:
        breaking_expr, method = tidy(_breaking_four_point(net, total.points)), "pairs"
    else:
        breaking_expr, method = tidy(total.expr - finite.expr), "difference"
    breaking = Correlator(breaking_expr, total.points, total.dim, name="I_IB", network=net, connected=True)
    return IndependenceSplit(total, finite, breaking, net, method)


# ----------------------------------------------------------------------------- Monte Carlo
def _point_array(X, dim: int) -> np.ndarray:
    X = np.asarray(X, dtype=float)
    if X.ndim < 2 or X.shape[-2] != 4 or X.shape[-1] != dim:
        raise ValueError(f"X must have shape (..., 4, {dim}) (point sets of four points in d = {dim}), got {X.shape}")
    return X


def _pair_estimate(net: Network, X: np.ndarray, values: dict, dim: int, samples: int, seed: int,
                   batches: int) -> tuple[np.ndarray, np.ndarray]:
    r"""The estimator of :math:`I_{IB}` from pairs of distinct neurons of one network: for each draw,
    the shared parameters once and two copies of the others; :math:`u_j(x) = a_jh_j(x)`. The pair
    moments :math:`E[u_1(x_A)u_2(x_B)]` (symmetrised in the two neurons) minus the products of the
    one-neuron moments (from both neurons), times :math:`N(N-1)`; jackknife over ``batches``."""
    sampler = network_sampler(net, values, dim)
    flat = X.reshape(-1, 4, dim)
    pts = flat.reshape(-1, dim)
    arg = pts[:, 0] if dim == 1 and net.input.dim == 1 else pts
    matchings = pairings((0, 1, 2, 3))
    per = samples // batches
    if per < 2:
        raise ValueError(f"samples must be at least 2 x batches = {2 * batches}, got {samples}")
    rngs = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(batches)]
    P = len(flat)
    sums_pair = np.zeros((batches, 3, P))  # per batch: sum of the symmetrised pair products
    sums_one = np.zeros((batches, 3, 2, P))  # per batch: sum of the one-neuron products of blocks A and B
    for k, rng in enumerate(rngs):
        a = sampler.draw(net.readout, rng, (per, 2))  # (S, 2, 1)
        theta = [sampler.draw(p, rng, (per, 1)) if p in net.shared else sampler.draw(p, rng, (per, 2))
                 for p in sampler.params]
        with np.errstate(over="ignore", invalid="ignore"):
            h = sampler.neuron_kernel(*theta, arg, *sampler.hyper_values)
        u = np.broadcast_to(a * h, (per, 2, len(pts))).reshape(per, 2, P, 4)
        for q, (A, B) in enumerate(matchings):
            uA = u[..., A[0]] * u[..., A[1]]  # (S, 2, P)
            uB = u[..., B[0]] * u[..., B[1]]
            sums_pair[k, q] = 0.5 * (uA[:, 0] * uB[:, 1] + uA[:, 1] * uB[:, 0]).sum(axis=0)
            sums_one[k, q, 0] = 0.5 * uA.sum(axis=(0, 1))
            sums_one[k, q, 1] = 0.5 * uB.sum(axis=(0, 1))
    if not (np.isfinite(sums_pair).all() and np.isfinite(sums_one).all()):
        raise FloatingPointError("overflow or nan in the sampled neurons (pair estimator of I_IB)")
    Nw = sampler.width

    def estimate(pair, one, count):
        mp, mo = pair / count, one / count
        return Nw * (Nw - 1) * (mp - mo[:, 0] * mo[:, 1]).sum(axis=0)

    total = per * batches
    full = estimate(sums_pair.sum(0), sums_one.sum(0), total)
    jack = np.array([estimate(sums_pair.sum(0) - sums_pair[k], sums_one.sum(0) - sums_one[k], total - per)
                     for k in range(batches)])
    stderr = np.sqrt((batches - 1) / batches * ((jack - jack.mean(0)) ** 2).sum(0))
    return full.reshape(X.shape[:-2]), stderr.reshape(X.shape[:-2])


def independence_monte_carlo(net: Network, X, samples: int = 10**6, seed: int = 0, batches: int = 32,
                             **values: Any) -> dict:
    r"""Monte Carlo estimates of :math:`G_c^{(4)}`, :math:`I_N` and :math:`I_{IB}` at the point sets
    ``X`` (shape (..., 4, d)), each by its own estimator, with jackknife standard errors:

    * ``"G_c"``: whole width-N networks of ``net`` (:func:`~nnsym.sampling.montecarlo.monte_carlo`,
      ``method="network"``);
    * ``"I_N"``: single neurons of the :func:`independent_twin`, :math:`N\kappa_4(ah)`;
    * ``"I_IB"``: pairs of distinct neurons of one network (shared parameters drawn once per pair),
      :math:`N(N-1)\sum_{(AB)}(E[u_1(x_A)u_2(x_B)] - E[u(x_A)]E[u(x_B)])`.

    ``samples`` counts networks, neurons and pairs respectively. Returns a dict of
    :class:`~nnsym.sampling.montecarlo.MonteCarloEstimate`.
    """
    _check_split_defined(net)
    dim = numeric_dimension(net.dim, values)
    X = _point_array(X, dim)
    bound = dict(net.bind(values, "independence_monte_carlo"))
    out = {
        "G_c": monte_carlo(net, 4, X, connected=True, samples=samples, seed=seed, method="network", **bound),
        "I_N": monte_carlo(independent_twin(net), 4, X, connected=True, samples=samples, seed=seed,
                           method="neuron", **bound),
    }
    mean, err = _pair_estimate(net, X, bound, dim, samples, seed, batches)
    used = (samples // batches) * batches
    out["I_IB"] = MonteCarloEstimate(mean=mean, stderr=err, method="pairs", samples=used,
                                     neuron_evaluations=2 * used, n=4, connected=True, batches=batches, seed=seed)
    return out
