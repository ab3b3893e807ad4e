r"""Special functions of the laws' transforms, exact at the origin.

* :class:`LambdaBessel` :math:`\Lambda_\nu(s) = {}_0F_1(;\nu+1;-s/4)`: the characteristic
  function of the uniform ball (and, at :math:`\nu = 1/2`, of the uniform law, :math:`\sin z/z`),
  entire in the *squared* argument, so it and its derivatives are exact at :math:`s = 0`.
* :class:`RemovableSingularity` / :func:`guard_removable`: a closed form with a removable 0/0 at
  :math:`s = 0` (e.g. a user density's transform), evaluated through its Taylor polynomial near
  the origin.
"""
from __future__ import annotations

import sympy as sp

__all__ = ["LambdaBessel", "RemovableSingularity", "guard_removable"]


class LambdaBessel(sp.Function):
    r"""The Bessel "Lambda function" of the uniform ball, written in the *squared* argument:

    .. math:: \Lambda_\nu(s) = \Gamma(\nu+1)\Big(\frac{2}{\sqrt s}\Big)^{\nu} J_\nu(\sqrt s)
              = {}_0F_1\big(;\nu+1;-s/4\big),\qquad \Lambda_\nu(0) = 1 .

    It is entire in ``s`` (no 0/0 at the origin), so it evaluates correctly at
    ``s = 0``; for ``s < 0`` it is the modified-Bessel continuation. ``rewrite(sp.besselj)``
    gives the Bessel form; numerically it is ``scipy.special.hyp0f1``.

    >>> import sympy as sp
    >>> LambdaBessel(sp.Rational(3, 2), 0)
    1
    >>> z = sp.Symbol("z", positive=True)
    >>> sp.simplify(LambdaBessel(sp.S.Half, z**2).rewrite(sp.besselj) - sp.sin(z)/z)
    0
    """

    nargs = 2

    @classmethod
    def eval(cls, nu, s):
        if s == 0:
            return sp.S.One
        if s.is_number and s.is_extended_real and nu.is_number and (2 * nu).is_odd and nu > 0:
            # half-integer order at a number: elementary (e.g. sin(2 pi)/(2 pi) = 0 exactly)
            if s.is_positive:
                z = sp.sqrt(s)
                form = sp.gamma(nu + 1) * (2 / z) ** nu * sp.besselj(nu, z)
            else:
                z = sp.sqrt(-s)
                form = sp.gamma(nu + 1) * (2 / z) ** nu * sp.besseli(nu, z)
            return sp.simplify(form.expand(func=True))
        return None

    def fdiff(self, argindex=2):
        if argindex != 2:
            raise sp.ArgumentIndexError(self, argindex)
        nu, s = self.args
        return -LambdaBessel(nu + 1, s) / (4 * (nu + 1))

    def _eval_is_real(self):
        nu, s = self.args
        if nu.is_extended_real and s.is_extended_real:
            return True
        return None

    def as_real_imag(self, deep=True, **hints):
        if self.is_extended_real:
            return (self, sp.S.Zero)
        return super().as_real_imag(deep=deep, **hints)

    def _eval_conjugate(self):
        if self.is_extended_real:
            return self
        return None

    def _eval_rewrite_as_besselj(self, nu, s, **kwargs):
        z = sp.sqrt(s)
        return sp.gamma(nu + 1) * (2 / z) ** nu * sp.besselj(nu, z)

    def _eval_rewrite_as_sinh(self, nu, s, **kwargs):
        if nu != sp.S.Half:
            return None
        z = _square_root(-s)
        return sp.sinh(z) / z

    def _eval_rewrite_as_sin(self, nu, s, **kwargs):
        if nu != sp.S.Half:
            return None
        z = _square_root(s)
        return sp.sin(z) / z

    def _eval_rewrite_as_hyper(self, nu, s, **kwargs):
        return sp.hyper([], [nu + 1], -s / 4)

    def _eval_evalf(self, prec):
        nu, s = self.args
        if nu.is_number and s.is_number:
            return sp.hyper([], [nu + 1], -s / 4)._eval_evalf(prec)
        return None

    def _numpycode(self, printer):
        nu, s = self.args
        return "%s(%s, -(%s)/4)" % (
            printer._module_format("scipy.special.hyp0f1"), printer._print(nu + 1), printer._print(s))

    _scipycode = _numpycode

    def _mpmathcode(self, printer):
        nu, s = self.args
        return "%s([], [%s], -(%s)/4)" % (printer._module_format("mpmath.hyper"), printer._print(nu + 1),
                                          printer._print(s))

    def _latex(self, printer, exp=None):
        nu, s = self.args
        out = None
        if nu == sp.S.Half:  # the uniform law's sinh(z)/z or sin(z)/z, as a paper writes it
            neg = sp.factor(-s)
            if neg.could_extract_minus_sign():
                z, fn = _square_root(s), r"\sin"
            else:
                z, fn = _square_root(neg), r"\sinh"
            if not z.is_Pow or z.exp != sp.S.Half:
                pz = printer._print(z)
                out = r"\frac{%s{\left(%s \right)}}{%s}" % (fn, pz, pz)
        if out is None:
            out = r"\Lambda_{%s}\left(\sqrt{%s}\right)" % (printer._print(nu), printer._print(s))
        return out if exp is None else r"%s^{%s}" % (out, exp)


class RemovableSingularity(sp.Function):
    r"""A function :math:`f(s)` with a removable singularity at :math:`s = 0`, held as
    ``RemovableSingularity(closed, taylor, s, radius)``: ``closed`` is sympy's closed form
    (e.g. :math:`(e^{s} - 1 - s)/s^2`, 0/0 at the origin) and ``taylor`` its Taylor polynomial
    at 0. Numerically the Taylor polynomial is used for :math:`|s| < \mathrm{radius}`, where
    the closed form cancels catastrophically; symbolically it prints as the closed form.
    Derivatives act on both, so :math:`E[\theta^k e^{s\theta}]` is exact at :math:`s = 0` too.

    >>> import sympy as sp
    >>> s = sp.Symbol("s")
    >>> f = guard_removable((sp.exp(s) - 1 - s)/s**2, s, 1); f.subs(s, 0)
    1/2
    >>> import numpy as np
    >>> float(sp.lambdify([s], f, "numpy")(np.array(1e-9)))
    0.5000000001666667
    """

    nargs = 4

    @classmethod
    def eval(cls, closed, taylor, s, radius):
        if s == 0:
            return taylor
        if s.is_number and closed.is_number:
            return closed
        return None

    @property
    def closed(self):
        return self.args[0]

    def _eval_derivative(self, x):
        closed, taylor, s, radius = self.args
        return self.func(sp.diff(closed, x), sp.diff(taylor, x), s, radius)

    def _eval_is_real(self):
        return self.args[0].is_extended_real

    def _eval_rewrite_as_Piecewise(self, closed, taylor, s, radius, **kwargs):
        return sp.Piecewise((taylor, sp.Abs(s) < radius), (closed, True))

    def _numpycode(self, printer):
        closed, taylor, s, radius = self.args
        where = printer._module_format("numpy.where")
        return "%s(abs(%s) < %s, %s, %s)" % (where, printer._print(s), printer._print(radius),
                                              printer._print(taylor), printer._print(closed))

    _scipycode = _numpycode

    def _sympystr(self, printer):
        return printer._print(self.args[0])

    def _latex(self, printer, exp=None):
        out = printer._print(self.args[0])
        return out if exp is None else r"\left(%s\right)^{%s}" % (out, exp)


def guard_removable(expr: sp.Expr, s: sp.Symbol, scale, order: int = 18) -> sp.Expr:
    r"""Wrap ``expr`` (a function of ``s``) in :class:`RemovableSingularity` if its denominator
    vanishes at ``s = 0``; the Taylor polynomial :math:`\sum_{j<\mathrm{order}} f^{(j)}(0)s^j/j!`
    is used for :math:`|s|\,\mathrm{scale} < 1/2`. An ``expr`` without 0/0 is returned as it is.

    >>> import sympy as sp
    >>> s = sp.Symbol("s")
    >>> guard_removable(sp.sin(s)/s, s, 1).subs(s, 0), guard_removable(sp.exp(s), s, 1)
    (1, exp(s))
    """
    den = sp.denom(sp.together(expr))
    if not den.has(s) or den.subs(s, 0) != 0:
        return expr
    taylor = sp.series(expr, s, 0, order).removeO()
    if taylor.has(sp.Order, sp.nan, sp.zoo) or not taylor.is_polynomial(s):
        raise NotImplementedError(f"no Taylor polynomial of {expr} at {s} = 0")
    return RemovableSingularity(expr, sp.expand(taylor), s, 1 / (2 * sp.sympify(scale)))


def _square_root(q):
    """A square root of ``q`` without absolute values (for the even functions above)."""
    q = sp.factor(q)
    if q.is_Pow and q.exp.is_even:
        return q.base ** (q.exp / 2)
    if q.is_Mul:
        return sp.Mul(*[_square_root(f) for f in q.args])
    return sp.sqrt(q)
