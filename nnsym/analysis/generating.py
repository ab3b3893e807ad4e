r"""The cumulant generating functional :math:`W[J]` on a finite set of points.

For sources :math:`J_1,\dots,J_k` at points :math:`x_1,\dots,x_k`,

.. math:: W(J_1,\dots,J_k) = \log E\Big[\exp\Big(\sum_{m=1}^k J_m\,\phi(x_m)\Big)\Big]
          = \sum_{r\ge1}\frac{1}{r!}\sum_{m_1..m_r} J_{m_1}\cdots J_{m_r}\,G_c^{(r)}(x_{m_1},\dots,x_{m_r}).

For i.i.d. neurons the exponential of a sum of i.i.d. terms factorises, so exactly

.. math:: W = N\log E\Big[\exp\Big(a\sum_m J_m h(x_m)\Big)\Big] + \log E\big[e^{b_{\rm out}\sum_m J_m}\big],

and :meth:`GeneratingFunctional.closed_form` returns it where the engine does the inner expectation
(the readout first, by its moment generating function :math:`M_a(s)` at
:math:`s = \sum_m J_m h(x_m)`, then the neuron parameters), with its domain of convergence carried
as a condition. Where the engine finds no closed form it raises
:class:`~nnsym.errors.NoClosedForm`; the series :meth:`GeneratingFunctional.series` exists to any order
(it is a formal power series: for the Gauss-net, whose neuron is log-normal, :math:`E[e^{J\phi}]`
is infinite for every :math:`J\ne0` and the series is only asymptotic).

:meth:`GeneratingFunctional.evaluate` gives the closed form at numbers (sources, points and
hyper-parameters by name); outside the domain, where :math:`W = +\infty`, it raises
:class:`~nnsym.errors.DivergentExpectation`.

:meth:`GeneratingFunctional.n_scaling` reads off the leading power of :math:`N` of each coefficient
:math:`G_c^{(r)}`: :math:`1 - r/2` for i.i.d. neurons with the :math:`\sigma_a^2/N` readout (the
central limit theorem), 0 for every even :math:`r` once neurons share parameters.

>>> import sympy as sp, nnsym as ns
>>> N = sp.Symbol("N", positive=True, integer=True)
>>> x = ns.Input("x", 1)
>>> net = ns.Network(ns.Normal("b", 0, 1) * x + ns.Normal("c", 0, 1), ns.Normal("a", 0, 1 / N), N, x)
>>> W = cumulant_generating_functional(net, 1)
>>> (value, domain), outside = W.closed_form().args
>>> value, domain, outside
(N*log(sqrt(N)/sqrt(-x_1**2*J_1**2 - J_1**2 + N)), (x_1**2*J_1**2 + J_1**2 - N)/N < 0, (oo, True))
>>> W.n_scaling(6)
{1: None, 2: 0, 3: None, 4: -1, 5: None, 6: -2}
>>> round(float(W.evaluate([0.5], [[1.0]], N=2)), 12)  # -(N/2) log(1 - J^2 (1 + x^2)/N)
0.287682072452
"""
from __future__ import annotations

import itertools
import math
import random
from dataclasses import dataclass, field

import numpy as np
import sympy as sp

from ..core.random import random_atoms
from ..engine.domains import split_domain, with_domain
from ..engine.expectation import DivergentExpectation, Expectation, expectation, is_exact
from ..errors import NoClosedForm
from ..model.correlator import Correlator
from ..model.network import Network, check_n
from ..numeric.bindings import as_value
from ..numeric.kernels import as_points
from ..numeric.kernels import evaluate as evaluate_kernel
from .toolkit import laurent_coefficients

__all__ = ["GeneratingFunctional", "cumulant_generating_functional", "leading_power"]


def leading_power(expr, N) -> int | None:
    r"""The leading power :math:`p` of :math:`N` in ``expr`` as :math:`N\to\infty`:
    ``expr`` :math:`= c\,N^p + O(N^{p-1})` with :math:`c\ne0`, for an expression that is a Laurent
    polynomial in :math:`N` (:func:`~nnsym.analysis.toolkit.laurent_coefficients`). None for 0, and for
    an expression that is not such a polynomial (e.g. :math:`N` inside an exponential).
    Raises :class:`~nnsym.NoClosedForm` when a coefficient holds expectations left unevaluated
    (a numeric result, e.g. the ReLU net's :math:`G_c^{(4)}`) and does not vanish for every value
    of them: whether it vanishes is then not decided.

    >>> N, s = sp.Symbol("N", positive=True), sp.Symbol("s", positive=True)
    >>> leading_power(s**4 * (1 - 1/N) / 8 + 3 * s**4 / N, N), leading_power(s / N**2, N)
    (0, -2)
    """
    powers = laurent_coefficients(expr, N)
    if powers is None:
        return None
    for p in sorted(powers, reverse=True):
        if not _is_zero(powers[p]):
            return p
    return None


def _is_zero(expr) -> bool:
    r"""True if ``expr`` is identically 0. A value far from 0 at a random point of its symbols (50
    digits, values consistent with each symbol's assumptions) proves it is not, at once; only an
    expression that looks like 0 there goes through ``sympy.simplify`` (which takes tens of seconds on
    e.g. the cos-net's :math:`G_c^{(6)}`).

    >>> s = sp.Symbol("s", positive=True)
    >>> _is_zero(sp.exp(s) - 1), _is_zero(sp.cos(s)**2 + sp.sin(s)**2 - 1)
    (False, True)
    """
    expr = sp.sympify(expr)
    if expr == 0:
        return True
    unevaluated = sorted(expr.atoms(Expectation), key=sp.default_sort_key)
    if unevaluated:
        # zero for every value of the expectations (each an unknown) -> zero; else undecided here
        if _is_zero(expr.xreplace({E: sp.Dummy(f"E{j}") for j, E in enumerate(unevaluated)})):
            return True
        raise NoClosedForm("whether the expression vanishes is not decided: it holds expectations left "
                           f"unevaluated (numeric), e.g. {unevaluated[0]}")
    rng = random.Random(20240611)

    def value_for(s):
        """A random number with the assumptions of ``s`` (None if none of the candidates has them)."""
        a, b = rng.randint(1, 9), sp.Rational(rng.randint(1, 199), 97)
        for v in (sp.Integer(a), b, sp.Integer(2 * a), sp.Integer(2 * a + 1), -sp.Integer(a), -b):
            if all(getattr(v, f"is_{key}") == want for key, want in s.assumptions0.items()):
                return v
        return None

    syms = sorted(expr.free_symbols, key=sp.default_sort_key)
    for _ in range(2):
        at = {s: value_for(s) for s in syms} if all(isinstance(s, sp.Symbol) for s in syms) else {None: None}
        if None in at.values():
            break
        value = expr.xreplace(at).evalf(50)
        scale = sum(abs(t.xreplace(at).evalf(50)) for t in sp.Add.make_args(expr))
        if value.is_number and value.is_finite and scale.is_finite and abs(value) > 1e-30 * (1 + scale):
            return False
    return sp.simplify(expr) == 0


@dataclass
class GeneratingFunctional:
    r""":math:`W(J_1..J_k)` of ``network`` at the points :math:`x_1..x_k` (module docstring).

    ``sources`` are the symbols :math:`J_1..J_k`, ``points`` the point symbols :math:`x_1..x_k`
    (one source per point, :math:`k\ge1`).
    """

    network: Network
    sources: tuple
    points: tuple
    _cache: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self):
        if not isinstance(self.network, Network):
            raise TypeError(f"network must be an nnsym Network, got {self.network!r}")
        self.sources, self.points = tuple(self.sources), tuple(self.points)
        if not self.points:
            raise ValueError("the generating functional needs at least one point (k >= 1), got none")
        if len(self.sources) != len(self.points):
            raise ValueError(f"one source per point: {len(self.sources)} sources {self.sources} for "
                             f"{len(self.points)} points {self.points}")
        if not all(isinstance(J, sp.Symbol) for J in self.sources) or len(set(self.sources)) != len(self.sources):
            raise TypeError(f"the sources must be distinct sympy Symbols, got {self.sources}")
        clash = sorted({J.name for J in self.sources} & {h.name for h in self.network.hyperparameters})
        if clash:
            raise ValueError(f"source name(s) {', '.join(clash)} are hyper-parameters of the network")

    @property
    def k(self) -> int:
        return len(self.points)

    def closed_form(self) -> sp.Expr:
        r""":math:`W = N\log E[\exp(a\sum_m J_mh(x_m))] + \log E[e^{b_{\rm out}\sum_m J_m}]` in closed form,
        as ``Piecewise((W, condition), (oo, True))`` where the expectation converges only on a domain.

        Raises :class:`~nnsym.errors.NoClosedForm` if the neurons are not i.i.d. or the engine
        leaves the neuron expectation unevaluated, and
        :class:`~nnsym.errors.DivergentExpectation` if :math:`E[e^{J\phi}]` is infinite for every
        :math:`J\ne0` (a readout without a moment generating function, e.g. Cauchy).
        """
        net = self.network
        if not net.iid:
            raise NoClosedForm(f"W[J] = N log E[exp(J a h)] needs i.i.d. neurons; {net.shared} are shared "
                               "(use the series, GeneratingFunctional.series)")
        a = net.readout
        if a in random_atoms(net.neuron):
            raise NoClosedForm(f"the readout {a} appears in the neuron: the readout cannot be integrated first")
        if not a.law.has_mgf:
            raise DivergentExpectation(f"E[exp(J phi)] is infinite for every J != 0: the readout law "
                                       f"{a.law} has no moment generating function")
        s = sp.Add(*[J * net.neuron.xreplace({net.input: x}) for J, x in zip(self.sources, self.points)])
        if a.law.mgf_domain(s) is not sp.true:  # a readout MGF with a finite domain: s must stay in it for all theta
            raise NoClosedForm(f"the readout law {a.law} has a moment generating function only on "
                               f"{a.law.mgf_domain(sp.Symbol('s'))}: E[M_a(sum_m J_m h(x_m))] is not attempted")
        inner = expectation(a.law.mgf(s))
        if not is_exact(inner):
            raise NoClosedForm(f"no closed form for E[M_a(sum_m J_m h(x_m))] = {inner}: "
                               "use GeneratingFunctional.series")
        value, cond = split_domain(inner)
        W = net.width * sp.log(value)
        if net.bias is not None:  # E[exp(b_out sum_m J_m)] = M_b(sum_m J_m), where it converges
            law, S = net.bias.law, sp.Add(*self.sources)
            if not law.has_mgf:
                raise DivergentExpectation(f"E[exp(J phi)] is infinite for every sum_m J_m != 0: the output bias "
                                           f"law {law} has no moment generating function")
            W, cond = W + sp.log(law.mgf(S)), sp.And(cond, law.mgf_domain(S))
        return with_domain(W, cond)

    def evaluate(self, J, X, **values) -> np.ndarray:
        r"""The closed form :math:`W(J_1..J_k)` at numbers: ``J`` the :math:`k` source values, ``X``
        point sets of shape ``(..., k, d)``, hyper-parameters by name (``sigma_a=1.0, N=10``; a
        misspelt name is refused with a did-you-mean hint). Returns shape ``X.shape[:-2]``.

        Raises :class:`~nnsym.errors.DivergentExpectation` where :math:`(J, x)` is outside the
        domain of convergence (:math:`W = +\infty` there), and what :meth:`closed_form` raises.
        """
        bindings = self.network.bind(values, "GeneratingFunctional.evaluate")
        J = np.asarray(J, dtype=object)
        J = J.reshape(1) if J.ndim == 0 else J
        if J.shape != (self.k,):
            raise ValueError(f"J must hold one value per source, shape ({self.k},) for "
                             f"{', '.join(map(str, self.sources))}; got shape {J.shape}")
        X = as_points(X)
        if X.ndim < 2 or X.shape[-2] != self.k:
            raise ValueError(f"X must have shape (..., {self.k}, d): one point per source, got {X.shape}")
        bindings = bindings.with_values(**{s.name: as_value(v, s.name, "GeneratingFunctional.evaluate")
                                           for s, v in zip(self.sources, J)})
        if "closed_form" not in self._cache:
            # the conditions on the points go to the kernel with the value; those on the sources and the
            # hyper-parameters alone (e.g. |J_1 + J_2| < 1/lambda of a Laplace bias) are decided here
            value, cond = split_domain(self.closed_form())
            local = set(self.points) | sp.sympify(self.network.dim).free_symbols
            parts = sp.And.make_args(cond)
            at_points = sp.And(*[c for c in parts if c.free_symbols & local])
            self._cache["closed_form"] = (with_domain(value, at_points),
                                          sp.And(*[c for c in parts if not c.free_symbols & local]))
        expr, global_cond = self._cache["closed_form"]
        if global_cond is not sp.true:
            nums = bindings.require(sorted(global_cond.free_symbols, key=sp.default_sort_key),
                                    "GeneratingFunctional.evaluate")
            if global_cond.xreplace({k: sp.Float(v) for k, v in nums.items()}) is not sp.true:
                raise DivergentExpectation(f"W = +oo: the expectation does not exist at {dict(nums)}, it needs "
                                           f"{global_cond} (the domain of a moment generating function)")
        return evaluate_kernel(expr, self.points, self.network.dim, X, bindings, self._cache)

    def coefficient(self, r: int) -> Correlator:
        r"""The coefficient of order :math:`r`, the connected function :math:`G_c^{(r)}` (in its own
        point symbols)."""
        return self.network.correlator(check_n(r), connected=True)

    def series(self, order: int) -> sp.Expr:
        r""":math:`\sum_{r=1}^{\rm order}\frac1{r!}\sum_{m_1..m_r}J_{m_1}\cdots J_{m_r}G_c^{(r)}(x_{m_1},..,x_{m_r})`,
        written over multisets: :math:`\sum_{|\mathbf m| = r}\prod_j J_j^{m_j}/m_j!\;G_c^{(r)}(x^{\mathbf m})`.
        """
        order = check_n(order)
        out = sp.S.Zero
        for r in range(1, order + 1):
            G = self.coefficient(r)
            if G.expr == 0:
                continue
            for combo in itertools.combinations_with_replacement(range(self.k), r):
                counts = [combo.count(j) for j in range(self.k)]
                weight = sp.Mul(*[self.sources[j] ** m / math.factorial(m) for j, m in enumerate(counts)])
                at = G.expr.xreplace(dict(zip(G.points, [self.points[j] for j in combo])))
                out += weight * at
        return out

    def n_scaling(self, order: int) -> dict:
        r"""``{r: p}``: the leading power :math:`N^p` of :math:`G_c^{(r)}` for :math:`r = 1..{\rm order}`
        (None where the coefficient is 0, e.g. odd :math:`r` of a :math:`Z_2`-symmetric network). For
        i.i.d. neurons and the :math:`\sigma_a^2/N` readout, :math:`p = 1 - r/2`."""
        N = self.network.width
        if not isinstance(N, sp.Symbol):
            raise ValueError(f"n_scaling needs a symbolic width N, the network has width {N}")
        return {r: leading_power(self.coefficient(r).expr, N) for r in range(1, check_n(order) + 1)}

    def latex(self, order: int = 4) -> str:
        r"""LaTeX: the closed form if there is one, else the series to ``order``."""
        try:
            body = sp.latex(self.closed_form())
        except (NoClosedForm, DivergentExpectation):
            body = sp.latex(self.series(order)) + r" + O(J^{%d})" % (order + 1)
        args = ", ".join(sp.latex(J) for J in self.sources)
        return r"W(%s) = %s" % (args, body)

    def __repr__(self):
        return f"GeneratingFunctional(k={self.k}, sources={self.sources}, network={self.network!r})"


def cumulant_generating_functional(net: Network, k: int) -> GeneratingFunctional:
    r""":math:`W(J_1..J_k) = \log E[\exp(\sum_m J_m\phi(x_m))]` of ``net`` at ``k`` points, with real
    source symbols ``J_1..J_k`` and the network's point symbols :math:`x_1..x_k` (module docstring).

    >>> import nnsym as ns
    >>> W = cumulant_generating_functional(ns.zoo.cos_net(1), 2)
    >>> W.sources, W.points
    ((J_1, J_2), (x_1, x_2))
    """
    if not isinstance(net, Network):
        raise TypeError(f"net must be an nnsym Network, got {net!r}")
    if isinstance(k, bool) or not isinstance(k, (int, sp.Integer, np.integer)):
        raise TypeError(f"k, the number of points, must be an integer, got {k!r}")
    if k < 1:
        raise ValueError(f"the generating functional needs at least one point, k >= 1, got k = {k}")
    k = int(k)
    sources = tuple(sp.Symbol(f"J_{m}", real=True) for m in range(1, k + 1))
    return GeneratingFunctional(net, sources, net.points(k))
