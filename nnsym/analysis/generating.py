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

:meth:`GeneratingFunctional.n_scaling` reads off the leading power of :math:`N` of each coefficient
:math:`G_c^{(r)}`: :math:`1 - r/2` for i.i.d. neurons with the :math:`\sigma_a^2/N` readout (the
central limit theorem), 0 for every even :math:`r` once neurons share parameters.

>>> import sympy as sp, nnsym as ns
>>> N = sp.Symbol("N", positive=True, integer=True)
>>> x = ns.Input("x", 1)
>>> net = ns.Network(ns.Normal("b", 0, 1) * x + ns.Normal("c", 0, 1), ns.Normal("a", 0, 1 / N), N, x)
>>> W = cumulant_generating_functional(net, 1)
>>> W.closed_form()
Piecewise((N*log(sqrt(N)/sqrt(-x_1**2*J_1**2 - J_1**2 + N)), (x_1**2 + 1)*(x_1**2*J_1**2 + J_1**2 - N)/N < 0), (oo, True))
>>> W.n_scaling(6)
{1: None, 2: 0, 3: None, 4: -1, 5: None, 6: -2}
"""
from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import sympy as sp

from ..core.random import random_atoms
from ..engine.domains import split_domain, with_domain
from ..engine.expectation import DivergentExpectation, expectation, is_exact
from ..errors import NoClosedForm
from ..model.correlator import Correlator
from ..model.network import Network, check_n

__all__ = ["GeneratingFunctional", "cumulant_generating_functional", "leading_power"]


def leading_power(expr, N) -> int | None:
    r"""The leading power :math:`p` of :math:`N` in ``expr`` as :math:`N\to\infty`:
    ``expr`` :math:`= c\,N^p + O(N^{p-1})` with :math:`c\ne0`, for an expression that is a Laurent
    polynomial in :math:`N` (coefficients free of :math:`N`). None for 0, and for an expression that
    is not such a polynomial (e.g. :math:`N` inside an exponential).

    >>> N, s = sp.Symbol("N", positive=True), sp.Symbol("s", positive=True)
    >>> leading_power(s**4 * (1 - 1/N) / 8 + 3 * s**4 / N, N), leading_power(s / N**2, N)
    (0, -2)
    """
    expr = sp.expand(sp.sympify(expr))
    if expr == 0:
        return None
    if N not in expr.free_symbols:
        return 0
    powers: dict = {}
    for term in sp.Add.make_args(expr):
        c, rest = term.as_independent(N, as_Add=False)
        p = sp.degree(rest, N) if rest.is_polynomial(N) else None
        if p is None:
            rest_inv = rest.subs(N, 1 / N)
            if not rest_inv.is_polynomial(N):
                return None
            p = -sp.degree(rest_inv, N)
        powers[int(p)] = powers.get(int(p), 0) + c * rest / N**p
    for p in sorted(powers, reverse=True):
        if sp.simplify(powers[p]) != 0:
            return p
    return None


@dataclass
class GeneratingFunctional:
    r""":math:`W(J_1..J_k)` of ``network`` at the points :math:`x_1..x_k` (module docstring).

    ``sources`` are the symbols :math:`J_1..J_k`, ``points`` the point symbols :math:`x_1..x_k`.
    """

    network: Network
    sources: tuple
    points: tuple

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
        if net.bias is not None:
            bias_value, bias_cond = split_domain(net.bias.law.transform(sp.Add(*self.sources)))
            W, cond = W + sp.log(bias_value), sp.And(cond, bias_cond)
        return with_domain(W, cond)

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
    k = check_n(k)
    sources = tuple(sp.Symbol(f"J_{m}", real=True) for m in range(1, k + 1))
    return GeneratingFunctional(net, sources, net.points(k))
