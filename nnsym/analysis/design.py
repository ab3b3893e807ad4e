r"""Inverse design: a network :math:`h = F(b)\cos(b\cdot x + c)` with a prescribed power spectrum.

The delta-function rule (see :mod:`nnsym.analysis.spectra`) with :math:`a\sim\mathcal N(0,\sigma_a^2/N)` gives

.. math:: G(p) = \frac{\sigma_a^2(2\pi)^d}{4}\big[P(p)F(p)^2 + P(-p)F(-p)^2\big],

so an even, non-negative target :math:`S(p)` is realised in two ways:

* ``strategy="amplitude"`` (Example 1): choose the frequency law :math:`P` (by default
  uniform on the ball :math:`|b|<\Lambda`, the cutoff) and set
  :math:`F(b) = \sqrt{2S(b)/(\sigma_a^2(2\pi)^d P(b))}`; then :math:`G = S` inside the support of P;
* ``strategy="density"`` (Example 2, d = 1): :math:`F` constant and
  :math:`P(b)\propto S(b)` (cut off at :math:`|b|<\Lambda` if a cutoff is given),
  :math:`F^2 = 2Z/(\sigma_a^2\, 2\pi)` with :math:`Z=\int S`.

The result is an ordinary :class:`~nnsym.Network`; its spectrum is computed back by
:func:`~nnsym.power_spectrum` (and its 2-point function by the engine).

>>> import sympy as sp, nnsym as ns
>>> p, m = sp.Symbol("p", real=True), sp.Symbol("m", positive=True)
>>> net = inverse_design(m / (p**2 + m**2), p, d=1, strategy="density")
>>> S = ns.power_spectrum(net)
>>> sp.simplify(S.expr - m / (S.momentum**2 + m**2))
0
"""
from __future__ import annotations

from typing import Any, Mapping

import numpy as np
import sympy as sp

from ..core.random import Density, Normal, RandomSymbol, RandomVector, Uniform, UniformBall
from ..core.vectors import Dot, VectorSymbol, expand_dot
from ..model.network import Input, Network
from ..model.neurons import frequency_density
from .toolkit import default_values

__all__ = ["inverse_design"]


def _radial_target(target, p, d):
    """The target as a function of a positive symbol k = |p| (and a check it is isotropic / even)."""
    target = sp.sympify(target)
    k = sp.Symbol("k_", positive=True)
    if isinstance(p, VectorSymbol):
        e = expand_dot(target).xreplace({Dot(p, p): k**2})
        if p in e.free_symbols:
            raise ValueError(f"the target spectrum must depend on {p} only through |{p}|^2")
        return e, k
    if not isinstance(p, sp.Symbol):
        raise TypeError(f"p must be the momentum symbol of the target, got {p!r}")
    if d == 1:
        if sp.simplify(target - target.subs(p, -p)) != 0:
            raise ValueError(f"a power spectrum must be even in p; {target} is not")
        return target.subs(p, k), k
    return target.subs(p, k), k  # a plain symbol in d >= 2 stands for |p|


def _check_nonnegative(S, k, values, cutoff):
    syms = (S.free_symbols | (sp.sympify(cutoff).free_symbols if cutoff is not None else set())) - {k}
    vals = default_values(syms)
    vals.update(values or {})
    sub = {s: vals[s.name] for s in syms if s.name in vals}
    hi = float(sp.sympify(cutoff).subs(sub)) if cutoff is not None else 20.0
    f = sp.lambdify([k], S.subs(sub), "numpy")
    ks = np.linspace(1e-6, hi, 401)
    with np.errstate(all="ignore"):
        v = np.real(np.asarray(f(ks), dtype=complex)) * np.ones_like(ks)
    if np.any(~np.isfinite(v)):
        raise ValueError(f"the target spectrum {S} is not finite on (0, {hi}] (values {vals})")
    if np.any(v < -1e-12 * max(1.0, np.max(np.abs(v)))):
        raise ValueError(f"a power spectrum must be non-negative (Bochner); {S} is negative somewhere on (0, {hi}]")


def _check_integrable(S, k, d: int, values, upper=None):
    """G^(2)(x, x) = int d^dp/(2 pi)^d S must be finite for the network to exist (UV and IR ends)."""
    import warnings

    from scipy import integrate

    syms = (S.free_symbols | (sp.sympify(upper).free_symbols if upper is not None else set())) - {k}
    vals = default_values(syms)
    vals.update(values or {})
    sub = {s: vals[s.name] for s in syms if s.name in vals}
    f = sp.lambdify([k], S.subs(sub) * k ** (d - 1), "numpy")
    g = lambda t: float(np.real(f(t)))  # noqa: E731
    hi = float(sp.sympify(upper).subs(sub)) if upper is not None else None
    top = min(1.0, hi) if hi is not None else 1.0
    ranges = [(1e-8 * top, 1e-4 * top), (1e-4 * top, top)]
    if hi is None:
        ranges += [(1.0, 1e2), (1e2, 1e4), (1e4, 1e6)]
    elif hi > 1.0:
        ranges += [(1.0, hi)]
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        parts = [integrate.quad(g, a, b, limit=200)[0] for a, b in ranges]
    bulk = max(abs(parts[1]), 1e-300)
    bad = not np.all(np.isfinite(parts)) or abs(parts[0]) > 1e-3 * bulk or (hi is None and abs(parts[-1]) > 1e-3 * bulk)
    if bad:
        raise ValueError(f"the target spectrum {S} is not integrable over "
                         f"{'R^%d' % d if hi is None else 'the ball |p| < %s' % upper}: G^(2)(x, x) = "
                         "int d^dp/(2 pi)^d G(p) diverges, so no network has it"
                         + ("; give a cutoff" if hi is None else ""))


def _warn_if_fourth_moment_diverges(PF4, b, d: int, values):
    """E[F^4] = int P F^4 must be finite for a finite-N 4-point function; warn if it is not."""
    import warnings

    from scipy import integrate

    k = sp.Symbol("k_", positive=True)
    e = expand_dot(PF4).xreplace({Dot(b, b): k**2}) if isinstance(b, RandomVector) else PF4.subs(b, k)
    if b in e.free_symbols:
        return
    syms = e.free_symbols - {k}
    vals = default_values(syms)
    vals.update(values or {})
    f = sp.lambdify([k], e.subs({s: vals[s.name] for s in syms if s.name in vals}) * k ** (d - 1), "numpy")
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        parts = [integrate.quad(lambda t: float(np.real(f(t))), a, c, limit=200)[0]
                 for a, c in ((0, 10), (10, 1e3), (1e3, 1e5))]
    if not np.all(np.isfinite(parts)) or abs(parts[2]) > 1e-3 * max(abs(parts[0]), 1e-300):
        warnings.warn(f"E[F(b)^4] diverges for the designed amplitude with {b.law}: the spectrum is realised, but "
                      "the finite-N 4-point function is infinite (choose a frequency law with heavier tails)",
                      UserWarning, stacklevel=3)


def inverse_design(target: sp.Expr, p: sp.Symbol, d: int | sp.Symbol = 1, cutoff: sp.Expr | float | None = None,
                   strategy: str = "amplitude", frequency: Any = None, values: Mapping | None = None) -> Network:
    r"""A network :math:`\phi = \sum_i a_i F(b_i)\cos(b_i\cdot x + c_i)` whose power spectrum is ``target``.

    Parameters
    ----------
    target : sympy expression :math:`S` in the momentum ``p`` (even, :math:`\ge 0`).
    p : the momentum symbol: a real Symbol (in d >= 2 it stands for :math:`|p|`) or a
        :class:`VectorSymbol` (then ``target`` must depend on it through ``Dot(p, p)``).
    d : the dimension (int >= 1, or a Symbol for the amplitude strategy with the default law).
    cutoff : :math:`\Lambda`: frequencies are restricted to :math:`|b|<\Lambda`, and the
        designed spectrum is :math:`S(p)\Theta(\Lambda - |p|)`.
    strategy : ``"amplitude"`` (choose P, solve for F) or ``"density"`` (F constant, P ∝ S; d = 1).
    frequency : for ``"amplitude"``, the law of :math:`b` (a parameter made with
        ``ns.Normal(..., shape=d)`` etc.); default ``UniformBall("b", cutoff, d)``.
    values : numeric values (by name) used only to check that ``target`` is non-negative.

    The readout is :math:`a\sim\mathcal N(0,\sigma_a^2/N)` with the zoo's ``sigma_a``, ``N``.

    >>> import sympy as sp, nnsym as ns
    >>> k, m, L = sp.Symbol("k", positive=True), *sp.symbols("m Lambda", positive=True)
    >>> net = inverse_design(1 / (k**2 + m**2), k, d=3, cutoff=L)
    >>> ns.power_spectrum(net).expr
    Piecewise((1/(m**2 + Dot(p, p)), Lambda**2 >= Dot(p, p)), (0, True))
    """
    from ..model.zoo import symbols

    if strategy not in ("amplitude", "density"):
        raise ValueError(f"strategy must be 'amplitude' or 'density', got {strategy!r}")
    d = sp.sympify(d)
    if d.is_Integer and int(d) < 1 or (not d.is_Integer and not d.is_Symbol):
        raise ValueError(f"d must be a positive integer or a Symbol, got {d}")
    if cutoff is not None:
        cutoff = sp.sympify(cutoff)
        if cutoff.is_positive is False:
            raise ValueError(f"the cutoff must be positive, got {cutoff}")
    S, k = _radial_target(target, p, d)
    if S.has(sp.zoo, sp.nan):
        raise ValueError(f"the target {target} is not a finite function")
    if d.is_Integer:
        _check_nonnegative(S, k, values, cutoff)
        if cutoff is not None:
            _check_integrable(S, k, int(d), values, upper=cutoff)
    N, sa, _, _ = symbols()
    x = Input("x", d)
    a = Normal("a", 0, sa**2 / N)
    c = Uniform("c", -sp.pi, sp.pi)
    two_pi_d = (2 * sp.pi) ** d
    if strategy == "density":
        if d != 1:
            raise ValueError("strategy='density' needs d = 1 (a density proportional to S(|b|) in d >= 2 "
                             "needs a radial law); use strategy='amplitude'")
        bs = sp.Symbol("b", real=True)
        support = (-cutoff, cutoff) if cutoff is not None else (-sp.oo, sp.oo)
        pdf = S.subs(k, bs)
        if sp.simplify(pdf - S.subs(k, -bs)) != 0:
            pdf = S.subs(k, sp.Abs(bs))
        if cutoff is None:
            _check_integrable(S, k, 1, values)
        const, shape = pdf.as_independent(bs, as_Add=False)  # P is proportional to the b-dependent part
        b = Density("b", shape, support)
        Z = const * b.law.Z  # = int S db over the support
        F = sp.sqrt(2 * Z / (sa**2 * two_pi_d))
        return Network(F * sp.cos(b * x + c), readout=a, width=N, input=x)
    # amplitude strategy
    if frequency is None:
        if cutoff is None:
            raise ValueError("strategy='amplitude' with the default uniform frequency law needs a cutoff "
                             "(pass cutoff=Lambda, or frequency=<a law>, or use strategy='density')")
        b = UniformBall("b", cutoff, d)
        dens = 1 / (2 * cutoff) if d == 1 else 1 / b.law.volume
    else:
        if cutoff is not None:
            raise ValueError("give either a cutoff (uniform frequencies in the ball) or a frequency law, not both")
        if d.is_Integer:
            _check_integrable(S, k, int(d), values)
        b = frequency
        if not isinstance(b, (RandomSymbol, RandomVector)):
            raise TypeError(f"frequency must be a parameter (e.g. ns.Normal('b', 0, 1, shape=d)), got {b!r}")
        if (d == 1) != isinstance(b, RandomSymbol) or (isinstance(b, RandomVector) and b.dim != d):
            raise ValueError(f"the frequency {b} does not match the dimension d = {d}")
        u = VectorSymbol("u_", d) if isinstance(b, RandomVector) else sp.Symbol("u_", real=True)
        dens = frequency_density(b, u)
        if isinstance(dens, sp.Piecewise):  # inside the support
            dens = dens.args[0][0]
        dens = dens.xreplace({u: b})
    if isinstance(b, RandomVector):
        Sb = S.subs(k**2, Dot(b, b)).subs(k, sp.sqrt(Dot(b, b)))
    else:
        Sb = S.subs(k, sp.Abs(b))
        if sp.simplify(S.subs(k, b) - S.subs(k, -b)) == 0:
            Sb = S.subs(k, b)
    F = sp.sqrt(2 * Sb / (sa**2 * two_pi_d * dens))
    F = sp.powsimp(sp.factor_terms(F))
    if frequency is not None and d.is_Integer:
        _warn_if_fourth_moment_diverges(dens * F**4, b, int(d), values)
    bx = b.dot(x) if isinstance(b, RandomVector) else b * x
    return Network(F * sp.cos(bx + c), readout=a, width=N, input=x)
