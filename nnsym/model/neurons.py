r"""Forms of neurons the model recognises: the cos layer :math:`F(b)\cos(\alpha\,b\cdot x + c)`.

A neuron of the form

.. math:: h(x) = F(b, \theta')\cos(\alpha\, b\cdot x + s\,c + \text{const}),
          \qquad c \sim U[l, h],\ s(h - l) \in 2\pi\mathbb Z,

(a frequency :math:`b`, a phase :math:`c` uniform on a whole number of periods, an amplitude
:math:`F` free of the phase and the input) averages over the phase to a translation-invariant
2-point function whose power spectrum is read off the frequency density (the delta-function rule
of :mod:`nnsym.analysis.spectra`). :func:`cos_layer` recognises the form in a network's neuron;
:func:`frequency_density` is the density of :math:`\omega = \alpha b` for any frequency law.

>>> import nnsym as ns
>>> L = cos_layer(ns.zoo.free_scalar(3)); L.F, L.freq, L.phase
(1/sqrt(m**2 + Dot(b, b)), b, c)
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sympy as sp

from ..core.random import RandomSymbol, RandomVector, random_atoms
from ..core.vectors import Component, Dot, linear_coefficients, vector_atoms
from ..engine.expectation import affine, expectation, ones_vector
from ..errors import NoJointDensity, NotACosLayer
from .network import Network

__all__ = ["CosLayer", "cos_layer", "frequency_density", "NotACosLayer", "NoJointDensity"]


def frequency_density(freq, k, alpha=1, dim=None) -> sp.Expr:
    r"""The normalised density of the frequency :math:`\omega = \alpha b` at ``k``:

    .. math:: P_\omega(k) = \frac{1}{|\alpha|^d}\,P_b(k/\alpha)

    for a frequency parameter ``freq`` (:math:`b`: a scalar, a vector with a joint law, or
    :math:`d` i.i.d. components; a Gaussian vector in any, also symbolic, dimension). ``dim``
    defaults to the frequency's own dimension. :class:`NoJointDensity` when the components are
    i.i.d. non-Gaussian in a symbolic dimension.

    >>> import sympy as sp, nnsym as ns
    >>> u = sp.Symbol("u", real=True)
    >>> frequency_density(ns.Normal("b", 0, 1), u)
    sqrt(2)*exp(-u**2/2)/(2*sqrt(pi))
    """
    b, al = freq, sp.sympify(alpha)
    d = sp.sympify(dim if dim is not None else (b.dim if isinstance(b, RandomVector) else 1))
    u = k / al
    jac = 1 / sp.Abs(al) ** d
    if isinstance(b, RandomSymbol):
        return jac * b.law.pdf(u)
    law = b.law
    if law.joint:
        if not hasattr(law, "vector_pdf"):
            raise NotACosLayer(f"the joint law {law} of {b} has no vector_pdf")
        return jac * law.vector_pdf(u)
    if law.is_gaussian:
        mu, var = law.mean, law.variance
        w = u - mu * ones_vector(b.dim) if mu != 0 else u
        return jac * (2 * sp.pi * var) ** (-d / 2) * sp.exp(-Dot(w, w) / (2 * var))
    if not d.is_Integer:
        raise NoJointDensity(
            f"the frequency {b} has d i.i.d. {law} components in the symbolic dimension d = {d}: their joint "
            f"density prod_j P({b}^(j)) has no closed form for symbolic d, and G^(2) is not isotropic (only a "
            f"Gaussian i.i.d. vector is), so no radial transform applies either; give d as an integer "
            f"(e.g. nnsym.Input('x', 3)) to get the product density")
    # i.i.d. components: the joint density is the product of the component densities at u^(j)
    return jac * sp.Mul(*[law.pdf(Component(u, j)) for j in range(int(d))])


# ----------------------------------------------------------------------------- the F(b) cos(b.x + c) form
@dataclass
class CosLayer:
    r"""A neuron :math:`h = F(b,\theta')\cos(\alpha\, b\cdot x + s\,c + \text{const})` read off a network.

    ``freq`` is :math:`b` (scalar in d = 1, else a vector), ``alpha`` its coefficient,
    ``phase`` the uniform phase :math:`c`, ``others`` the parameters :math:`\theta'` of ``F``
    other than ``b``. Made by :func:`cos_layer`.
    """

    network: Any
    F: sp.Expr
    freq: Any
    alpha: sp.Expr
    phase: RandomSymbol
    phase_coeff: sp.Expr
    others: tuple = ()

    @property
    def dim(self):
        if self.network is not None:
            return self.network.dim
        return self.freq.dim if isinstance(self.freq, RandomVector) else sp.S.One

    def F2(self, k) -> sp.Expr:
        r""":math:`E_{\theta'}[F(b,\theta')^2]` at :math:`b = k`."""
        F2 = self.F**2
        if self.others:
            F2 = expectation(F2, over=self.others)
        return F2.xreplace({self.freq: k})  # a vector b -> k: Dot re-canonicalises

    def frequency_density(self, k) -> sp.Expr:
        r"""Normalised density of :math:`\omega = \alpha b` at ``k``: :math:`P_b(k/\alpha)/|\alpha|^d`
        (:func:`frequency_density`)."""
        return frequency_density(self.freq, k, self.alpha, self.dim)


def cos_layer(net: Network) -> CosLayer:
    r"""Read :math:`h(x) = F(b)\cos(\alpha\,b\cdot x + s c + \text{const})` off ``net.neuron``.

    Conditions (each violation raises :class:`NotACosLayer` naming it): the input
    enters through one cos (or sin) factor only; its argument is affine in the
    parameters with one frequency parameter ``b`` (coefficient :math:`\alpha x`) and
    one phase ``c`` with a uniform law whose period matches (:math:`s(h-l)\in 2\pi\mathbb Z`),
    ``c`` not shared and not in ``F``; the readout is independent of the neuron.

    >>> import nnsym as ns
    >>> cos_layer(ns.zoo.cos_net(2)).alpha
    1
    """
    if not isinstance(net, Network):
        raise TypeError(f"cos_layer needs an nnsym.Network, got {type(net).__name__}")
    x = net.input
    if net.readout in random_atoms(net.neuron):
        raise NotACosLayer(f"the readout {net.readout} also appears in the neuron")
    trig = [f for f in sp.Mul.make_args(net.neuron) if x in f.free_symbols]
    if len(trig) != 1 or not isinstance(trig[0], (sp.cos, sp.sin)):
        raise NotACosLayer(f"the input must enter through a single cos(...) factor, got {net.neuron}")
    (t,) = trig
    F = sp.Mul(*[f for f in sp.Mul.make_args(net.neuron) if f is not t])
    A = affine(t.args[0])
    if A is None:
        raise NotACosLayer(f"the argument of {t} is not affine in the parameters")
    if x in A.const.free_symbols or random_atoms(A.const):
        raise NotACosLayer(f"the input appears outside b.x in {t.args[0]}")
    freq = [(p, c) for p, c in list(A.scal.items()) + list(A.vec.items()) if x in sp.sympify(c).free_symbols]
    phases = [(p, c) for p, c in A.scal.items() if x not in sp.sympify(c).free_symbols]
    if len(freq) != 1:
        raise NotACosLayer(f"need exactly one frequency parameter multiplying the input in {t.args[0]}")
    b, cb = freq[0]
    if isinstance(b, RandomVector):
        coeffs = linear_coefficients(cb)
        if set(coeffs) != {x} or vector_atoms(coeffs[x]):
            raise NotACosLayer(f"the frequency term must be alpha*{b}.{x}, got Dot({b}, {cb})")
        alpha = coeffs[x]
    else:
        alpha = sp.cancel(cb / x)
        if x in alpha.free_symbols:
            raise NotACosLayer(f"the frequency term must be alpha*{b}*{x}, got {cb}*{b}")
    if alpha.free_symbols & (random_atoms(alpha) | {x}) or alpha == 0:
        raise NotACosLayer(f"the frequency coefficient {alpha} must be a non-zero constant")
    if len(phases) != 1:
        raise NotACosLayer(f"need exactly one uniform phase parameter in {t.args[0]}, got {[p for p, _ in phases]}")
    c, s = phases[0]
    if not c.law.is_uniform_phase(s):
        raise NotACosLayer(f"the phase {s}*{c} must be uniform on a full period (e.g. {c} ~ U[-pi, pi]); "
                           f"it is {s}*{c} with {c} ~ {c.law}")
    if c in net.shared:
        raise NotACosLayer(f"the phase {c} is shared by all neurons")
    if c in random_atoms(F) or x in F.free_symbols:
        raise NotACosLayer(f"the amplitude {F} must not depend on the phase or the input")
    others = tuple(sorted(random_atoms(F) - {b}, key=sp.default_sort_key))
    return CosLayer(net, F, b, alpha, c, s, others)
