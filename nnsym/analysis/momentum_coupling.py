r"""Momentum space: the connected 4-point function and the quartic coupling of a cos-layer network,
as distributions.

Conventions (docs/conventions.md, "Momentum space" and "Effective action"): the Fourier transform
of an n-point function is

.. math:: G(p_1,\dots,p_n) = \int\prod_k d^dx_k\,e^{-ip_k\cdot x_k}\,G(x_1,\dots,x_n)
          = (2\pi)^d\,\delta^{(d)}\Big(\sum_k p_k\Big)\,\tilde G(p_1,\dots,p_n),

the power spectrum is :math:`G(p) = \int d^dx\,e^{-ip\cdot x}G^{(2)}(x,0)`, and a local
:math:`\frac{\lambda}{4!}\phi^4` gives :math:`G_c^{(4)} = -\lambda\int d^dx\prod_i K(x_i,x)`, i.e.
:math:`\tilde G_c = -\lambda\prod_i G(p_i)`. The quartic coupling in momentum space is therefore

.. math:: \lambda(p_1,\dots,p_4) = -\frac{\tilde G_c(p_1,\dots,p_4)}{\prod_{i=1}^4 G(p_i)}
          \qquad\text{on } p_1+p_2+p_3+p_4 = 0 .

**The cos layer.** For i.i.d. neurons :math:`h(x) = F(b)\cos(\omega\cdot x + c)`, :math:`\omega = \alpha b`
of normalised density :math:`P_\omega`, :math:`c` uniform on whole periods, and a readout independent of
the neuron, :math:`E[h] = 0` and every odd product of :math:`h` averages to 0 (an odd number of signs
cannot sum to 0), so :math:`G_c^{(4)} = N\kappa_4(a h)` is

.. math:: G_c^{(4)} = N E[a^4]\,H^{(4)} - N E[a^2]^2\big(H^{12}H^{34} + H^{13}H^{24} + H^{14}H^{23}\big).

Writing the four cosines as exponentials, the average over the phase keeps the sign patterns
:math:`s\in\{\pm1\}^4` with :math:`\sum_k s_k = 0` (six of them, three up to an overall sign):

.. math:: H^{(4)} = \frac1{16}\sum_{\sum s_k = 0} E\big[F^4 e^{i\omega\cdot\sum_k s_k x_k}\big]
          = \frac18\sum_{s\in\{(++--),(+-+-),(+--+)\}} E\big[F^4\cos\big(\omega\cdot\textstyle\sum_k s_k x_k\big)\big],
   \qquad H^{(2)}(x_1,x_2) = \tfrac12 E\big[F^2\cos(\omega\cdot(x_1 - x_2))\big].

Each exponential transforms to :math:`(2\pi)^{4d}\int d^d\omega\,P_\omega F^4\prod_k\delta^{(d)}(p_k - s_k\omega)`.
With :math:`S_n(q) = P_\omega(q)\,\overline{F^n}(q/\alpha) + P_\omega(-q)\,\overline{F^n}(-q/\alpha)`
(:math:`\overline{F^n}` averaged over the other parameters of :math:`F`):

.. math:: \tilde G_c = \frac{N E[a^4](2\pi)^{3d}}{16}\sum_{s} S_4(p_1)\,
          \delta^{(d)}(p_2 - s_2 p_1)\,\delta^{(d)}(p_3 - s_3 p_1)
          \;-\;\frac{N E[a^2]^2(2\pi)^{3d}}{16}\sum_{(1j)(kl)} S_2(p_1)\,S_2(p_k)\,\delta^{(d)}(p_1 + p_j)

(:math:`s_1 = +1`; the fourth delta of each term is the conservation delta). So :math:`\tilde G_c` is
**a distribution, not a function**: the single-neuron term lives on the three *lines*
:math:`p_k = s_k p_1` (all four momenta on one line through 0, equal in pairs), the disconnected
products on the three *planes* :math:`p_1 = -p_j,\ p_k = -p_l` (with :math:`|p_1|, |p_k|`
independent). Off these sets it vanishes; on them it has no finite value. An output bias adds its
own fourth cumulant :math:`\kappa_4(\beta)(2\pi)^{3d}\delta(p_1)\delta(p_2)\delta(p_3)`.

**Dividing by the spectra.** :math:`\lambda` is the same sum of delta structures; "dividing" means
that the coefficient of each delta structure is divided by :math:`\prod_i G(p_i)` evaluated *on its
support* (:math:`G(p)` from :func:`~nnsym.analysis.spectra.power_spectrum`, the delta rule
:math:`G(p) = \frac{N E[a^2](2\pi)^d}{4}S_2(p)`):

.. math:: \lambda = -\frac{N E[a^4](2\pi)^{3d}}{16}\sum_s\frac{S_4(p_1)}{G(p_1)^2G(-p_1)^2}\,
          \delta^{(d)}(p_2 - s_2p_1)\,\delta^{(d)}(p_3 - s_3p_1)
          + \frac{(2\pi)^d}{N}\sum_{(1j)(kl)}\frac{\delta^{(d)}(p_1+p_j)}{G(p_1)\,G(p_k)}

(the spectra of the delta rule are even). A local :math:`\phi^4` theory would
have a constant :math:`\lambda`; here it is supported on lower-dimensional sets, and where a spectrum
vanishes (a hard cutoff) the quotient is undefined: the coefficient is a ``Piecewise`` without an
"otherwise" branch there.

In :math:`d = 1` the deltas are ``sympy.DiracDelta``; in :math:`d\ge2` (also symbolic d) they are
:class:`VectorDelta`, :math:`\delta^{(d)}(v) = \prod_j\delta(v^{(j)})` (``.components()`` writes the
product out for an integer d).

>>> import nnsym as ns
>>> G4 = momentum_connected_four_point(ns.zoo.cos_net(1))
>>> G4.is_distribution, [S.kind for S in G4.structures]
(True, ['connected', 'connected', 'connected', 'disconnected', 'disconnected', 'disconnected'])
>>> G4.structures[0].label
'p_2 = p_1, p_3 = p_4 = -p_1'
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import sympy as sp

from ..core.vectors import Component, linear_coefficients, vector_atoms
from ..engine.expectation import expectation
from ..errors import SYMBOLIC_FAILURES, NoClosedForm, NoJointDensity, NotACosLayer
from ..model.network import Network, cumulant
from ..model.neurons import CosLayer, cos_layer
from ..numeric.bindings import Bindings
from ..numeric.kernels import as_points
from ..numeric.kernels import evaluate as evaluate_kernel
from .spectra import PowerSpectrum, momentum_symbol, power_spectrum
from .symmetries import is_translation_invariant
from .toolkit import NumericValue, default_values, pairings

if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Callable

__all__ = [
    "VectorDelta",
    "DeltaStructure",
    "MomentumFourPoint",
    "MomentumCoupling",
    "momentum_connected_four_point",
    "momentum_quartic_coupling",
]

#: the sign patterns s with s_1 = +1 and sum_k s_k = 0 (the other three are their negatives)
SIGN_PATTERNS = ((1, 1, -1, -1), (1, -1, 1, -1), (1, -1, -1, 1))
#: the pairings (1j)(kl) of the disconnected products, 0-based
PAIRINGS = tuple(tuple(p) for p in pairings(range(4)))

SUPPORT_TEXT = (
    "a distribution, not a function: G_c(p_1..p_4) = (2 pi)^d delta^(d)(p_1+p_2+p_3+p_4) Gtilde_c, and Gtilde_c "
    "is supported on the three lines p_k = s_k p_1 (sign patterns s with sum s_k = 0: the four momenta on one line "
    "through 0, equal in pairs; from N E[a^4] H^(4)) and on the three planes p_i = -p_j, p_k = -p_l (|p_i|, |p_k| "
    "independent; from the disconnected products -N E[a^2]^2 H^(2) H^(2)); each term carries delta factors, so "
    "Gtilde_c is 0 off these sets and has no finite value on them")


# ----------------------------------------------------------------------------- the d-dimensional delta
class VectorDelta(sp.Function):
    r"""The :math:`d`-dimensional Dirac delta :math:`\delta^{(d)}(v) = \prod_{j}\delta(v^{(j)})` of a vector
    expression :math:`v` (a linear combination of :class:`~nnsym.core.vectors.VectorSymbol`, any, also
    symbolic, d). Even: :math:`\delta^{(d)}(-v) = \delta^{(d)}(v)`. Prints as :math:`\delta^{(d)}(v)`.

    >>> from nnsym.core.vectors import VectorSymbol
    >>> p, q = VectorSymbol("p", 2), VectorSymbol("q", 2)
    >>> VectorDelta(-p - q) == VectorDelta(p + q)
    True
    >>> VectorDelta(p - q).components()
    DiracDelta(Component(p, 0) - Component(q, 0))*DiracDelta(Component(p, 1) - Component(q, 1))
    """

    nargs = 1
    is_real = True

    @classmethod
    def eval(cls, v):
        v = sp.sympify(v)
        if not vector_atoms(v):
            raise TypeError(f"VectorDelta needs a vector argument, got {v} (use sympy.DiracDelta in d = 1)")
        linear_coefficients(v)  # a TypeError for anything but a linear combination of vectors
        if v.could_extract_minus_sign():
            return cls(-v)
        return None

    @property
    def dim(self) -> sp.Expr:
        """The dimension d of the argument."""
        return next(iter(vector_atoms(self.args[0]))).dim

    def components(self) -> sp.Expr:
        r""":math:`\prod_{j<d}\delta(v^{(j)})` as ``sympy.DiracDelta`` factors (an integer d only)."""
        d = self.dim
        if not d.is_Integer:
            raise ValueError(f"the components of a delta in the symbolic dimension {d} cannot be written out")
        return sp.Mul(*[sp.DiracDelta(Component(self.args[0], j)) for j in range(int(d))])

    def _latex(self, printer):
        return r"\delta^{(%s)}\left(%s\right)" % (printer._print(self.dim), printer._print(self.args[0]))

    def _sympystr(self, printer):
        return "VectorDelta(%s)" % printer._print(self.args[0])


def _delta(v, dim) -> sp.Expr:
    """The Dirac delta of a momentum combination: DiracDelta in d = 1, VectorDelta otherwise."""
    return sp.DiracDelta(v) if sp.sympify(dim) == 1 else VectorDelta(v)


# ----------------------------------------------------------------------------- one delta structure
@dataclass
class DeltaStructure:
    r"""One term of a momentum-space distribution: ``constant * prod_q f_q(q) * prod deltas``.

    ``kind``: ``"connected"`` (the single-neuron term on a line :math:`p_k = s_k p_1`),
    ``"disconnected"`` (a product :math:`H^{(2)}H^{(2)}` on a plane :math:`p_i = -p_j, p_k = -p_l`)
    or ``"zero mode"`` (an output bias, at :math:`p = 0`). ``factors`` are pairs ``(q, f_q)`` of a
    free momentum and a function of it alone; ``support`` gives :math:`p_1..p_4` on the support in
    terms of the free momenta; ``where`` is the condition outside which the coefficient is undefined
    (a spectrum that vanishes there), ``True`` if it is defined everywhere.
    """

    kind: str
    label: str
    constant: sp.Expr
    factors: tuple
    deltas: tuple
    support: tuple
    dim: sp.Expr
    signs: tuple | None = None
    pairing: tuple | None = None
    where: Any = sp.true
    network: Any = None
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def free(self) -> tuple:
        """The free momenta of the support (the arguments of the coefficient)."""
        return tuple(q for q, _ in self.factors)

    @property
    def coefficient(self) -> sp.Expr:
        """The coefficient of the deltas: ``constant * prod_q f_q(q)``, a ``Piecewise`` without an
        otherwise branch where it is undefined."""
        body = self.constant * sp.Mul(*[f for _, f in self.factors])
        body = _tidy(sp.piecewise_fold(body) if body.has(sp.Piecewise) else body)
        return body if self.where is sp.true else sp.Piecewise((body, self.where))

    @property
    def expr(self) -> sp.Expr:
        """The term as a sympy distribution: coefficient times its delta factors."""
        return self.coefficient * sp.Mul(*self.deltas)

    def evaluate(self, P, **values) -> np.ndarray:
        r"""The coefficient at free momenta ``P`` of shape ``(..., k, d)`` (``k = len(self.free)``);
        returns ``P.shape[:-2]``. Hyper-parameters by name. ``ValueError`` where it is undefined
        (outside ``where``: a vanishing spectrum)."""
        if not self.free:
            raise ValueError("a zero-mode structure has no free momenta; its coefficient is .constant")
        P = as_points(P, "momenta")
        if self.network is not None:
            values = self.network.bind(values, "evaluate")
        body = self.constant * sp.Mul(*[f for _, f in self.factors])
        if self.where is not sp.true:
            inside = evaluate_kernel(sp.Piecewise((1, self.where), (0, True)), self.free, self.dim, P, values,
                                     self._cache.setdefault("where", {}))
            if not np.all(inside == 1):
                j = int(np.argmin(inside.ravel()))
                raise ValueError(f"the coefficient of the structure {self.label} is undefined at the momenta "
                                 f"{P.reshape(-1, *P.shape[-2:])[j].tolist()}: outside {self.where}, where the "
                                 "spectrum vanishes (0/0)")
        return evaluate_kernel(body, self.free, self.dim, P, values, self._cache.setdefault("body", {}))


def _support_label(support, momenta) -> str:
    """'p_2 = p_1, p_3 = p_4 = -p_1' from the support expressions."""
    groups: dict = {}
    for p, s in zip(momenta, support):
        if p != s:
            groups.setdefault(s, []).append(p)
    parts = [" = ".join(str(p) for p in ps) + f" = {sp.sstr(s)}" for s, ps in groups.items()]
    return ", ".join(parts)


# ----------------------------------------------------------------------------- the 4-point distribution
class MomentumFourPoint:
    r"""The connected 4-point function in momentum space, a distribution:

    .. math:: G_c(p_1,\dots,p_4) = (2\pi)^d\,\delta^{(d)}\Big(\sum_k p_k\Big)\,\tilde G_c(p_1,\dots,p_4),
              \qquad \tilde G_c = \sum_{\text{structures}} c(q)\prod\delta .

    Attributes: ``expr`` (the whole :math:`G_c`), ``reduced`` (:math:`\tilde G_c`), ``conservation``
    (:math:`(2\pi)^d\delta^{(d)}(\sum p)`), ``structures`` (the :class:`DeltaStructure` terms),
    ``momenta``, ``dim``, ``network``, ``is_distribution`` (always True) and ``support`` (in words).
    """

    is_distribution = True

    def __init__(self, structures, momenta, dim, network=None, notes: str = ""):
        self.structures = tuple(structures)
        self.momenta = tuple(momenta)
        self.dim = sp.sympify(dim)
        self.network = network
        self.notes = notes
        self.support = SUPPORT_TEXT
        self.conservation = (2 * sp.pi) ** self.dim * _delta(sp.Add(*self.momenta), self.dim)
        self.reduced = sp.Add(*[S.expr for S in self.structures])
        self.expr = self.conservation * self.reduced

    def __repr__(self):
        return f"MomentumFourPoint(G_c(p_1..p_4) = {self.expr}; {len(self.structures)} delta structures)"

    def latex(self) -> str:
        args = ", ".join(sp.latex(p) for p in self.momenta)
        return (r"G_c(%s) = %s\left[%s\right] \quad \text{(a distribution: delta-supported)}"
                % (args, sp.latex(self.conservation), sp.latex(self.reduced)))

    def _repr_latex_(self):
        return "$\\displaystyle " + self.latex() + "$"

    def position_space(self, X, **values) -> NumericValue:
        r"""Back to position space by integrating against plane waves, in :math:`d = 1`:

        .. math:: G_c^{(4)}(x_1..x_4) = \int\prod_k\frac{dp_k}{2\pi}e^{ip_kx_k}\,G_c(p_1..p_4)
                  = (2\pi)^{-3}\sum_{\text{structures}} c_0\prod_q\int dq\, f_q(q)\,e^{iq\,v_q},

        the deltas collapsing all but the free momenta :math:`q` (:math:`v_q = \sum_k
        (\partial p_k/\partial q)\,x_k` on the support). Each :math:`f_q` is even, so each integral is
        :math:`2\int_0^\infty f_q(q)\cos(q v_q)\,dq` (QUADPACK, oscillatory weight; panels at the
        breaks of a cutoff). ``X``: ``(..., 4, 1)``. Returns a
        :class:`~nnsym.analysis.toolkit.NumericValue` (value, stated absolute error, True).
        """
        if self.dim != 1:
            raise NoClosedForm(f"position_space integrates over the line of each free momentum: d = 1 only "
                               f"(here d = {self.dim})")
        X = as_points(X)
        if X.ndim < 2 or X.shape[-2:] != (4, 1):
            raise ValueError(f"point sets must have shape (..., 4, 1), got {X.shape}")
        if not np.all(np.isfinite(X)):
            raise ValueError("points contain inf or nan")
        bind = self.network.bind(values, "position_space") if self.network is not None else Bindings(values)
        Xf = X.reshape(-1, 4)
        total = np.zeros(len(Xf))
        err = np.zeros(len(Xf))
        for S in self.structures:
            c0 = _number(S.constant, bind)
            vals, errs = np.ones(len(Xf)), np.zeros(len(Xf))
            for q, f in S.factors:
                w = np.array([float(sp.diff(s, q)) for s in S.support])  # v_q = sum_k w_k x_k
                fn, breaks, support = _line_profile(f, q, bind)
                ints = [_even_fourier(fn, float(v), breaks, support) for v in Xf @ w]
                iv = np.array([i for i, _ in ints])
                ie = np.array([e for _, e in ints])
                errs = np.abs(vals) * ie + np.abs(iv) * errs + errs * ie
                vals = vals * iv
            scale = abs(c0) / (2 * math.pi) ** 3
            total += c0 / (2 * math.pi) ** 3 * vals
            err += scale * errs
        return NumericValue(total.reshape(X.shape[:-2]), float(np.max(err)) if err.size else 0.0, True)


def _number(e, bind) -> float:
    e = sp.sympify(e)
    syms = sorted(e.free_symbols, key=sp.default_sort_key)
    return float(e.xreplace(bind.require(syms, "position_space")))


def _line_profile(f, q, bind):
    """f(q) with the values substituted, as a numpy function, its break points q > 0 and the radius
    beyond which it vanishes (None if it does not)."""
    syms = sorted(f.free_symbols - {q}, key=sp.default_sort_key)
    e = f.xreplace(bind.require(syms, "position_space"))
    if e.xreplace({q: -q}) != e and sp.expand(e - e.xreplace({q: -q})) != 0:
        raise NoClosedForm(f"the factor {f} is not even in {q}")  # cannot happen for the symmetrised S_n
    breaks = set()
    for rel in e.atoms(sp.core.relational.Relational):
        try:
            sols = sp.solve(sp.Eq(rel.lhs, rel.rhs), q)
        except SYMBOLIC_FAILURES:  # a condition sympy cannot solve for q: no known break
            continue
        breaks |= {float(s) for s in sols if s.is_number and s.is_real and s > 0}
    fn = sp.lambdify([q], e, modules=["numpy", "scipy"])

    def num(t):
        return float(np.real(fn(t)))

    support = None
    if breaks:
        top = max(breaks)
        if all(num(top * t + 1.0) == 0.0 for t in (1.5, 3.7, 11.3)):
            support = top
    return num, sorted(breaks), support


def _even_fourier(f: "Callable[[float], float]", v: float, breaks, support) -> tuple[float, float]:
    r""":math:`\int_{-\infty}^\infty f(q)e^{iqv}dq = 2\int_0^\infty f(q)\cos(qv)\,dq` for an even ``f``,
    with QUADPACK's error estimate (doubled). ``ValueError`` if the quadrature does not converge
    (e.g. a coefficient that is not integrable: an infinite position-space 4-point function)."""
    from scipy import integrate

    w = abs(v)
    edges = [0.0] + [b for b in breaks if support is None or b < support] + ([support] if support else [])
    total, err = 0.0, 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("error", integrate.IntegrationWarning)
        try:
            for a, b in zip(edges[:-1], edges[1:]):
                if w > 0:
                    val, e = integrate.quad(f, a, b, weight="cos", wvar=w, limit=200, epsabs=1e-13, epsrel=1e-11)
                else:
                    val, e = integrate.quad(f, a, b, limit=200, epsabs=1e-13, epsrel=1e-11)
                total, err = total + val, err + e
            if support is None:
                a = edges[-1]
                if w > 0:
                    val, e = integrate.quad(f, a, np.inf, weight="cos", wvar=w, limlst=200)
                else:
                    val, e = integrate.quad(f, a, np.inf, limit=500, epsabs=1e-13, epsrel=1e-11)
                total, err = total + val, err + e
        except integrate.IntegrationWarning as exc:
            raise ValueError(f"the quadrature of the momentum-space coefficient against cos(q v), v = {v:.6g}, did "
                             f"not converge ({str(exc).splitlines()[0]}): the coefficient may not be integrable "
                             "(E[F(b)^4] infinite)") from None
    return 2.0 * total, 2.0 * err


# ----------------------------------------------------------------------------- building it
def _cos_layer_or_refuse(net: Network) -> CosLayer:
    """The cos layer of ``net``, or a refusal naming why there is no momentum-space rule."""
    if not isinstance(net, Network):
        raise TypeError(f"need an nnsym.Network, got {type(net).__name__}")
    if net.shared:
        raise NoClosedForm(f"the parameters {list(net.shared)} are shared by all neurons: the momentum-space rule "
                           "here is for i.i.d. neurons (G_c^(4) = N kappa_4(a h))")
    try:
        return cos_layer(net)
    except NotACosLayer as exc:
        reason = str(exc)
    _refuse_not_translation_invariant(net)
    raise NoClosedForm(f"no momentum-space rule for the neuron {net.neuron}: it is not of the cos-layer form "
                       f"F(b) cos(alpha b.x + c) with a uniform phase c ({reason}), so its 4-point function has no "
                       "delta-supported closed form in momentum space")


def _refuse_not_translation_invariant(net: Network) -> None:
    """ValueError if G^(2) or G_c^(4) of ``net`` is not translation invariant (no momentum conservation).
    Undecided (too expensive to derive, or the derivation refuses) returns quietly: the caller refuses anyway."""
    values = default_values(net.hyperparameters)  # also those only inside unevaluated expectations' laws
    for n, connected in ((2, False), (4, True)):
        try:
            if net.correlator_cost(n, connected).terms > 1e4:
                return
            verdict = is_translation_invariant(net.correlator(n, connected=connected), values=values)
        except SYMBOLIC_FAILURES:  # the derivation or the numeric check refused: undecided
            return
        if verdict.holds is False:
            name = "G^(2)" if n == 2 else "G_c^(4)"
            raise ValueError(f"the network is not translation invariant, so there is no momentum conservation and no "
                             f"momentum-space coupling: its {name} is not ({verdict.evidence})")


def _symmetrised(L: CosLayer, q, k: int) -> sp.Expr:
    r""":math:`S_k(q) = P_\omega(q)\overline{F^k}(q/\alpha) + P_\omega(-q)\overline{F^k}(-q/\alpha)`."""
    Fk = L.F**k
    if L.others:
        Fk = expectation(Fk, over=L.others)

    def at(u):
        return L.frequency_density(u) * Fk.xreplace({L.freq: u / L.alpha})

    plus, minus = _tidy(at(q)), _tidy(at(-q))
    return _tidy(2 * plus) if _same(plus, minus) else plus + minus


def _same(a, b) -> bool:
    if a == b:
        return True
    try:
        return sp.expand(a - b) == 0
    except SYMBOLIC_FAILURES:  # an expansion sympy cannot do: not shown equal
        return False


def _tidy(e) -> sp.Expr:
    """Cheap tidying of a small coefficient (piece by piece for a Piecewise): cancel and factor the
    rational part, merge exponentials and powers of a symbolic d."""
    e = sp.sympify(e)
    if isinstance(e, sp.Piecewise):
        return sp.Piecewise(*[(_tidy(v), c) for v, c in e.args])
    try:
        e = sp.factor(sp.cancel(e))
    except SYMBOLIC_FAILURES:  # cancel/factor do not know every function: keep e
        pass
    e = sp.powsimp(sp.expand_power_base(e, force=True), combine="all", force=True)
    return sp.factor_terms(sp.powsimp(e, combine="exp"))


def momentum_connected_four_point(net: Network, momentum: str = "p") -> MomentumFourPoint:
    r"""The connected 4-point function :math:`G_c(p_1,\dots,p_4)` of a cos-layer network, a distribution.

    .. math:: \tilde G_c = \frac{N E[a^4](2\pi)^{3d}}{16}\sum_{s} S_4(p_1)\,\delta(p_2 - s_2p_1)\,
              \delta(p_3 - s_3p_1) - \frac{N E[a^2]^2(2\pi)^{3d}}{16}\sum_{(1j)(kl)}S_2(p_1)S_2(p_k)\,
              \delta(p_1 + p_j),

    :math:`S_n(q) = P_\omega(q)\overline{F^n}(q/\alpha) + P_\omega(-q)\overline{F^n}(-q/\alpha)`, times the
    conservation factor :math:`(2\pi)^d\delta^{(d)}(\sum_k p_k)` (module docstring for the derivation).
    The density :math:`P` and the amplitude :math:`F` appear as sympy functions of the momenta.

    Refused: a network that is not a cos layer (:class:`~nnsym.errors.NoClosedForm`: no
    momentum-space rule), and first of all one that is not translation invariant (``ValueError``,
    e.g. the Gauss-net's :math:`G_c^{(4)}`); shared parameters (``NoClosedForm``).

    >>> import sympy as sp, nnsym as ns
    >>> G4 = momentum_connected_four_point(ns.zoo.cauchy_net())
    >>> p1, p2, p3, p4 = G4.momenta
    >>> G4.conservation
    2*pi*DiracDelta(p_1 + p_2 + p_3 + p_4)
    >>> S = G4.structures[0]; S.label, S.deltas      # the line p = (p_1, p_1, -p_1, -p_1)
    ('p_2 = p_1, p_3 = p_4 = -p_1', (DiracDelta(p_1 - p_2), DiracDelta(p_1 + p_3)))
    >>> N, sa, _, _ = ns.zoo.symbols(); m = sp.Symbol("m", positive=True)
    >>> sp.simplify(S.coefficient - 3 * sp.pi**2 * m * sa**4 / (N * (p1**2 + m**2))) == 0   # N E[a^4] pi^3 S_4
    True
    """
    L = _cos_layer_or_refuse(net)
    d = sp.sympify(net.dim)
    ps = tuple(momentum_symbol(d, f"{momentum}_{k}") for k in range(1, 5))
    Ea2, Ea4 = net.readout.law.moment(2), net.readout.law.moment(4)
    N = net.width
    try:
        S2 = {p: _symmetrised(L, p, 2) for p in ps}
        S4 = _symmetrised(L, ps[0], 4)
    except NoJointDensity as exc:
        raise NoClosedForm(f"no momentum-space 4-point function in symbolic d: {exc}") from exc
    cube = (2 * sp.pi) ** (3 * d)
    structures = []
    c_conn = sp.factor_terms(N * Ea4 * cube / 16)
    for s in SIGN_PATTERNS:
        support = tuple(sk * ps[0] for sk in s)
        deltas = tuple(_delta(ps[0] - s[k] * ps[k], d) for k in (1, 2))  # delta(p_k - s_k p_1), even
        structures.append(DeltaStructure("connected", _support_label(support, ps), c_conn, ((ps[0], S4),), deltas,
                                         support, d, signs=s, network=net))
    c_disc = sp.factor_terms(-N * Ea2**2 * cube / 16)
    for (i, j), (k, m) in PAIRINGS:
        support = [None] * 4
        support[i], support[j], support[k], support[m] = ps[i], -ps[i], ps[k], -ps[k]
        support = tuple(support)
        structures.append(DeltaStructure("disconnected", _support_label(support, ps), c_disc,
                                         ((ps[i], S2[ps[i]]), (ps[k], S2[ps[k]])), (_delta(ps[i] + ps[j], d),),
                                         support, d, pairing=((i + 1, j + 1), (k + 1, m + 1)), network=net))
    if net.bias is not None:
        k4 = sp.simplify(cumulant(range(4), lambda B: net.bias.law.moment(len(B))))
        if k4 != 0:
            support = (sp.S.Zero,) * 4
            structures.append(DeltaStructure("zero mode", "p_1 = p_2 = p_3 = p_4 = 0", k4 * cube, (),
                                             tuple(_delta(p, d) for p in ps[:3]), support, d, network=net))
    notes = (f"cos layer h = F cos(alpha b.x + c): F = {L.F}, b = {L.freq} ~ {L.freq.law}, alpha = {L.alpha}, "
             f"phase {L.phase} ~ {L.phase.law}; readout {net.readout} ~ {net.readout.law}")
    return MomentumFourPoint(structures, ps, d, network=net, notes=notes)


# ----------------------------------------------------------------------------- the coupling
CONVENTION = (r"\frac{\lambda}{4!}\phi^4\ \Rightarrow\ \tilde G_c = -\lambda\prod_i G(p_i),\quad "
              r"G(p_1..p_4) = (2\pi)^d\delta^{(d)}(\textstyle\sum p)\,\tilde G")


class MomentumCoupling:
    r"""The quartic coupling :math:`\lambda(p_1,\dots,p_4) = -\tilde G_c/\prod_i G(p_i)` on
    :math:`\sum_k p_k = 0`, a distribution: a sum of :class:`DeltaStructure` terms, each the
    corresponding term of :math:`\tilde G_c` with its coefficient divided by :math:`\prod_i G(p_i)` on
    its support.

    Attributes: ``expr`` (:math:`\lambda`, with its delta factors), ``structures``, ``momenta``,
    ``dim``, ``spectrum`` (the :class:`~nnsym.analysis.spectra.PowerSpectrum` divided by),
    ``four_point`` (the :class:`MomentumFourPoint`), ``conservation``, ``is_distribution`` (True),
    ``description`` (what it is, where it lives and what dividing means) and ``convention``.
    """

    is_distribution = True
    convention = ("nnsym's sign convention: a local (lambda/4!) phi^4 gives G_c^(4) = -lambda int d^dx prod_i "
                  "K(x_i, x), i.e. Gtilde_c = -lambda prod_i G(p_i) with G(p_1..p_4) = (2 pi)^d delta(sum p) "
                  "Gtilde(p_1..p_4)")

    def __init__(self, structures, four_point: MomentumFourPoint, spectrum: PowerSpectrum):
        self.structures = tuple(structures)
        self.four_point = four_point
        self.spectrum = spectrum
        self.momenta = four_point.momenta
        self.dim = four_point.dim
        self.network = four_point.network
        self.conservation = four_point.conservation
        self.expr = sp.Add(*[S.expr for S in self.structures])
        self.description = (
            "lambda(p_1..p_4) = -Gtilde_c(p_1..p_4)/prod_i G(p_i), on p_1+p_2+p_3+p_4 = 0, is a distribution like "
            "Gtilde_c: a sum of delta structures on the three lines p_k = s_k p_1 (sum s_k = 0) and the three planes "
            "p_i = -p_j, p_k = -p_l. Dividing a delta-supported distribution by prod_i G(p_i) means: the coefficient "
            "of each delta structure is divided by prod_i G(p_i) evaluated on that structure's support (G = the "
            "power spectrum of the network, delta rule); where a spectrum vanishes (a cutoff) the quotient is "
            "undefined. A local phi^4 theory would give a constant lambda.")

    def __repr__(self):
        return f"MomentumCoupling(lambda(p_1..p_4) = {self.expr} on sum p = 0)"

    def latex(self) -> str:
        args = ", ".join(sp.latex(p) for p in self.momenta)
        return (r"\lambda(%s) = -\frac{\tilde G_c(%s)}{\prod_{i=1}^4 G(p_i)} = %s \quad \text{on } \sum_i p_i = 0"
                r"\quad \text{(a distribution; convention: } %s\text{)}"
                % (args, args, sp.latex(self.expr), CONVENTION))

    def _repr_latex_(self):
        return "$\\displaystyle " + self.latex() + "$"


def _inside(e) -> tuple[sp.Expr, Any]:
    """``e`` with every ``Piecewise((v, c), (0, True))`` replaced by ``v``, and the conjunction of the ``c``."""
    conds = []

    def strip(pw):
        nonzero = [(v, c) for v, c in pw.args if v != 0]
        if len(nonzero) == 1 and nonzero[0][1] is not sp.true:
            conds.append(nonzero[0][1])
            return nonzero[0][0]
        return pw

    out = sp.sympify(e).replace(lambda a: isinstance(a, sp.Piecewise), strip)
    return out, sp.And(*conds) if conds else sp.true


def momentum_quartic_coupling(net: Network, momentum: str = "p") -> MomentumCoupling:
    r"""The quartic coupling in momentum space,

    .. math:: \lambda(p_1,\dots,p_4) = -\frac{\tilde G_c(p_1,\dots,p_4)}{\prod_{i=1}^4 G(p_i)},
              \qquad p_1+p_2+p_3+p_4 = 0,

    a distribution (like :math:`\tilde G_c`, :func:`momentum_connected_four_point`): the coefficient of
    each delta structure divided by the product of the spectra :math:`G(p_i)` (the delta rule of
    :func:`~nnsym.analysis.spectra.power_spectrum`) on its support. Convention: a local
    :math:`\frac{\lambda}{4!}\phi^4` gives :math:`\tilde G_c = -\lambda\prod_i G(p_i)`.

    Refused like :func:`momentum_connected_four_point`, and (``NoClosedForm``) for an output bias with
    a non-zero fourth cumulant, whose term at :math:`p = 0` sits on the spectrum's own zero mode.

    >>> import sympy as sp, nnsym as ns
    >>> lam = momentum_quartic_coupling(ns.zoo.cauchy_net())
    >>> p1, p2, p3, p4 = lam.momenta
    >>> N, sa, _, _ = ns.zoo.symbols(); m = sp.Symbol("m", positive=True)
    >>> line, plane = lam.structures[0], lam.structures[3]
    >>> line.label, plane.label
    ('p_2 = p_1, p_3 = p_4 = -p_1', 'p_2 = -p_1, p_4 = -p_3')
    >>> P = m / (sp.pi * (p1**2 + m**2))                       # the Cauchy density at p_1
    >>> sp.simplify(line.coefficient + 3 / (N * sp.pi * sa**4 * P**3)) == 0
    True
    >>> G = lambda q: sa**2 * m / (q**2 + m**2)                 # the spectrum
    >>> sp.simplify(plane.coefficient - 2 * sp.pi / (N * G(p1) * G(p3))) == 0
    True
    """
    G4 = momentum_connected_four_point(net, momentum)
    if any(S.kind == "zero mode" for S in G4.structures):
        raise NoClosedForm(
            f"the output bias {net.bias} has a non-zero fourth cumulant: its term in G_c, supported at p_1 = .. = p_4 "
            "= 0, sits where the 2-point function has its own zero mode (2 pi)^d E[b_out^2] delta(p), so dividing by "
            "prod_i G(p_i) is not defined there")
    S = power_spectrum(net, method="delta", momentum="p_spectrum_")

    def G(v):
        return S.expr.xreplace({S.momentum: v})

    structures = []
    for T in G4.structures:
        factors, wheres = [], []
        for q, f in T.factors:
            den = sp.Mul(*[G(s) for s in T.support if q in s.free_symbols])
            num_in, c_num = _inside(f)
            den_in, c_den = _inside(den)
            ratio = _tidy(num_in / den_in)
            if ratio.has(sp.nan, sp.zoo):
                raise NoClosedForm(f"the coefficient {f} divided by the spectra {den} is not defined")
            factors.append((q, ratio))
            wheres += [c_den]
        where = sp.And(*wheres)
        structures.append(DeltaStructure(T.kind, T.label, -T.constant, tuple(factors), T.deltas, T.support, T.dim,
                                         T.signs, T.pairing, where, net))
    return MomentumCoupling(structures, G4, S)
