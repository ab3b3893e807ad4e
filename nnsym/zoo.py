r"""Built-in networks, written with the public API only.

No formula for them is stored anywhere: their correlators come out of the
same engine as a user's network. Conventions are those of NOTES.md.
"""
from __future__ import annotations

import sympy as sp

from .distributions import Normal, Uniform
from .networks import Input, Network

__all__ = ["cos_net", "gauss_net", "symbols"]


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
