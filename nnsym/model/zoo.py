r"""Built-in networks, written with the public API only.

No formula for them is stored anywhere: their correlators come out of the
same engine as a user's network. Conventions: docs/conventions.md.
"""
from __future__ import annotations

import sympy as sp

from ..core.random import Normal, Uniform
from ..model.deep import DeepMLP
from ..model.network import Input, Network

__all__ = ["cos_net", "gauss_net", "erf_net", "relu_net", "symbols"]


def symbols():
    """The zoo's symbols: ``N`` (positive integer) and ``sigma_a, sigma_b, sigma_c`` (positive)."""
    N = sp.Symbol("N", positive=True, integer=True)
    sa, sb, sc = sp.symbols("sigma_a sigma_b sigma_c", positive=True)
    return N, sa, sb, sc


def _dim(d):
    d = sp.sympify(d)
    if d.is_Symbol and d.is_positive is None:
        d = sp.Symbol(d.name, positive=True, integer=True)
    return d


def cos_net(d=sp.Symbol("d", positive=True, integer=True)) -> Network:
    r"""Cos-net: :math:`h(x) = \cos(b\cdot x + c)`, :math:`a\sim\mathcal N(0,\sigma_a^2/N)`,
    :math:`b\sim\mathcal N(0,\sigma_b^2/d\,I_d)`, :math:`c\sim U[-\pi,\pi]`.
    Translation invariant at every N.

    >>> cos_net(3).correlator(2).expr
    sigma_a**2*exp(-sigma_b**2*Dot(x_1 - x_2, x_1 - x_2)/6)/2
    """
    d = _dim(d)
    N, sa, sb, _ = symbols()
    x = Input("x", d)
    a = Normal("a", 0, sa**2 / N)
    b = Normal("b", 0, sb**2 / d, shape=d)
    c = Uniform("c", -sp.pi, sp.pi)
    return Network(sp.cos(b.dot(x) + c), readout=a, width=N, input=x)


def gauss_net(d=sp.Symbol("d", positive=True, integer=True)) -> Network:
    r"""Gauss-net: :math:`h(x) = e^{b\cdot x + c}/\sqrt{e^{2(\sigma_c^2 + \sigma_b^2|x|^2/d)}}`,
    :math:`a\sim\mathcal N(0,\sigma_a^2/(2N))`, :math:`b\sim\mathcal N(0,\sigma_b^2/d\,I_d)`,
    :math:`c\sim\mathcal N(0,\sigma_c^2)`. Same 2-point function as the cos-net;
    not translation invariant at finite N.

    >>> gauss_net(2).correlator(2).expr
    sigma_a**2*exp(-sigma_b**2*Dot(x_1 - x_2, x_1 - x_2)/4)/2
    """
    d = _dim(d)
    N, sa, sb, sc = symbols()
    x = Input("x", d)
    a = Normal("a", 0, sa**2 / (2 * N))
    b = Normal("b", 0, sb**2 / d, shape=d)
    c = Normal("c", 0, sc**2)
    norm = sp.sqrt(sp.exp(2 * (sc**2 + sb**2 * x.dot(x) / d)))
    return Network(sp.exp(b.dot(x) + c) / norm, readout=a, width=N, input=x)


# ----------------------------------------------------------------------------- issue 4: momentum-space theories
def _two_layer(activation, d) -> Network:
    r"""Two-layer network of the NN-QFT paper (docs/conventions.md, "Two-layer networks"):
    :math:`f(x) = \sum_i W^1_i\,\sigma(W^0_i\cdot x + b^0_i) + b^1`,
    :math:`W^1\sim\mathcal N(0,\sigma_W^2/N)`, :math:`W^0\sim\mathcal N(0,\sigma_W^2/d\,I)`,
    :math:`b^0, b^1\sim\mathcal N(0,\sigma_b^2)`.
    The depth-1 case of the one deep-MLP specification, :class:`~nnsym.model.deep.DeepMLP`."""
    N = sp.Symbol("N", positive=True, integer=True)
    sW, sb = sp.symbols("sigma_W sigma_b", positive=True)
    return DeepMLP(activation, depth=1, d=_dim(d), widths=N, sigma_W=sW, sigma_b=sb).network()


def erf_net(d=sp.Symbol("d", positive=True, integer=True)) -> Network:
    r"""Erf-net (two-layer convention, docs/conventions.md); its 2-point function is the arcsine kernel
    :math:`\sigma_b^2 + \sigma_W^2\tfrac{2}{\pi}\arcsin\frac{2m(x,y)}{\sqrt{(1+2m(x,x))(1+2m(y,y))}}`,
    :math:`m(x,y) = \sigma_b^2 + \sigma_W^2 x\cdot y/d`.

    >>> erf_net(1).correlator(2).is_exact
    True
    """
    return _two_layer(sp.erf, d)


def relu_net(d=sp.Symbol("d", positive=True, integer=True)) -> Network:
    r"""ReLU-net (two-layer convention, docs/conventions.md; ReLU written ``Max(0, z)``); its 2-point function is the
    arc-cosine kernel :math:`\sigma_b^2 + \tfrac{\sigma_W^2}{2\pi}\sqrt{m(x,x)m(y,y)}(\sin t + (\pi - t)\cos t)`.

    >>> relu_net(2).correlator(2).is_exact
    True
    """
    return _two_layer(lambda z: sp.Max(0, z), d)


def free_scalar(d=sp.Symbol("d", positive=True, integer=True)) -> Network:
    r"""Example 1 of the Halverson talk, a free scalar as a network (docs/conventions.md, "Momentum space"):

    .. math:: h(x) = \frac{\cos(b\cdot x + c)}{\sqrt{b^2 + m^2}},\quad b\sim\mathcal U(B_\Lambda),\quad
              c\sim U[-\pi,\pi],\quad a\sim\mathcal N(0,\sigma_a^2/N),

    so that :math:`G(p) = \frac{\sigma_a^2(2\pi)^d}{2\,\mathrm{vol}(B_\Lambda)}\frac{1}{p^2+m^2}` for
    :math:`|p| < \Lambda` (0 outside). Symbols ``m``, ``Lambda``, ``sigma_a`` (positive), ``N``.

    >>> free_scalar(3).neuron
    cos(c + Dot(b, x))/sqrt(m**2 + Dot(b, b))
    """
    from ..core.random import UniformBall

    d = _dim(d)
    N, sa, _, _ = symbols()
    m, Lam = sp.symbols("m Lambda", positive=True)
    x = Input("x", d)
    a = Normal("a", 0, sa**2 / N)
    b = UniformBall("b", Lam, d)
    c = Uniform("c", -sp.pi, sp.pi)
    b2 = b.dot(b) if d != 1 else b**2
    return Network(sp.cos(b.dot(x) + c) / sp.sqrt(b2 + m**2), readout=a, width=N, input=x)


def cauchy_net() -> Network:
    r"""Example 2 of the Halverson talk (d = 1): :math:`h(x) = \cos(b x + c)` with a Cauchy
    frequency :math:`P(b) = \frac{m}{\pi(b^2+m^2)}`, :math:`c\sim U[-\pi,\pi]`,
    :math:`a\sim\mathcal N(0,\sigma_a^2/N)`; then :math:`G(p) = \sigma_a^2 m/(p^2+m^2)` and
    :math:`G^{(2)}(x,y) = \frac{\sigma_a^2}{2}e^{-m|x-y|}`. Symbols ``m``, ``sigma_a``, ``N``.

    >>> cauchy_net().correlator(2).expr
    sigma_a**2*exp(-m*Abs(x_1 - x_2))/2
    """
    from ..core.random import Cauchy

    N, sa, _, _ = symbols()
    m = sp.Symbol("m", positive=True)
    x = Input("x", 1)
    a = Normal("a", 0, sa**2 / N)
    b = Cauchy("b", 0, m)
    c = Uniform("c", -sp.pi, sp.pi)
    return Network(sp.cos(b * x + c), readout=a, width=N, input=x)


__all__ += ["free_scalar", "cauchy_net"]
