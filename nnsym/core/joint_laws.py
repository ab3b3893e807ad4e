r"""Joint laws: the law of a whole vector parameter :math:`b\in\mathbb R^d`, not of i.i.d. components.

A joint law has ``joint = True`` and, besides the law protocol
(:class:`~nnsym.core.laws.Law`), implements ``vector_transform(v, dim)``
:math:`= E[e^{b\cdot v}]`, ``vector_pdf(v)``, ``vector_quadrature(n, D, values)`` and samples
arrays of shape ``size + (D,)``. Its scalar capabilities (``moment``, ``mean``, ``variance``,
``support``) are those of one Cartesian component. The user constructor ``UniformBall`` is in
:mod:`nnsym.core.random`.
"""
from __future__ import annotations

import numpy as np
import sympy as sp

from .laws import Law, check_generator, check_positive, moment_order, numeric_value
from .special import LambdaBessel
from .vectors import Dot, vector_atoms

__all__ = ["UniformBallLaw"]


def _sphere_rule(D: int, n: int):
    """Nodes (K, D) and weights (K,) (summing to 1) on the unit sphere S^{D-1}: exact for
    polynomials of degree < 2n in each polar angle's cosine and for trigonometric
    polynomials of degree < n in the azimuth."""
    from scipy.special import roots_jacobi

    if D == 1:
        return np.array([[1.0], [-1.0]]), np.array([0.5, 0.5])
    if D == 2:
        m = n
        phi = 2 * np.pi * (np.arange(m) + 0.5) / m
        return np.stack([np.cos(phi), np.sin(phi)], axis=-1), np.full(m, 1.0 / m)
    a = (D - 3) / 2.0
    t, wt = roots_jacobi(n, a, a)  # weight (1 - t^2)^{(D-3)/2}
    wt = wt / wt.sum()
    sub, ws = _sphere_rule(D - 1, n)
    nodes = np.concatenate([t[:, None, None] * np.ones((1, len(ws), 1)),
                            np.sqrt(1 - t**2)[:, None, None] * sub[None, :, :]], axis=-1)
    return nodes.reshape(-1, D), (wt[:, None] * ws[None, :]).reshape(-1)


class UniformBallLaw(Law):
    r"""The uniform law on the ball :math:`|b| < R` of :math:`\mathbb R^d` (a *joint* vector law).

    .. math:: P(b) = \frac{\Theta(R - |b|)}{\mathrm{vol}(B_R)},\qquad
              \mathrm{vol}(B_R) = \frac{\pi^{d/2}R^d}{\Gamma(d/2+1)},\qquad
              E[e^{i b\cdot k}] = \Gamma\!\big(\tfrac d2+1\big)\Big(\frac{2}{R|k|}\Big)^{d/2} J_{d/2}(R|k|)

    (the characteristic function is :class:`LambdaBessel`, equal to 1 at ``k = 0``).

    >>> import sympy as sp
    >>> from nnsym.core.vectors import VectorSymbol
    >>> law = UniformBallLaw(2, 3); k = VectorSymbol("k", 3)
    >>> law.characteristic_function(k)
    LambdaBessel(3/2, 4*Dot(k, k))
    >>> law.volume, law.moment(2)
    (32*pi/3, 4/5)
    """

    name = "UniformBall"
    joint = True

    def __init__(self, radius, dim):
        super().__init__(radius, dim)
        check_positive(self.params[0], "UniformBall radius")
        d = self.params[1]
        if d.is_Integer:
            if int(d) < 1:
                raise ValueError(f"UniformBall dimension must be >= 1, got {d}")
        elif not d.is_Symbol or d.is_positive is False:
            raise ValueError(f"UniformBall dimension must be a positive integer or a Symbol, got {d}")

    @property
    def radius(self):
        return self.params[0]

    @property
    def dim(self):
        return self.params[1]

    @property
    def is_even(self):
        return True

    @property
    def is_isotropic(self) -> bool:
        """The ball is :math:`O(d)` invariant."""
        return True

    @property
    def support(self) -> tuple:
        """:math:`(-R, R)`, the range of one Cartesian component."""
        return (-self.radius, self.radius)

    @property
    def is_bounded(self) -> bool:
        return True  # the radius is finite by construction

    @property
    def volume(self) -> sp.Expr:
        r""":math:`\mathrm{vol}(B_R) = \pi^{d/2}R^d/\Gamma(d/2+1)`."""
        R, d = self.params
        return sp.pi ** (d / 2) * R**d / sp.gamma(d / 2 + 1)

    def _sq(self, v):
        v = sp.sympify(v)
        return Dot(v, v) if vector_atoms(v) else v**2

    def vector_pdf(self, v) -> sp.Expr:
        """The density at the vector ``v`` (a Piecewise: ``1/vol`` inside the ball, 0 outside)."""
        return sp.Piecewise((1 / self.volume, self._sq(v) <= self.radius**2), (0, True))

    pdf = vector_pdf

    def characteristic_function(self, t) -> sp.Expr:
        return LambdaBessel(self.dim / 2, self.radius**2 * self._sq(t))

    def mgf(self, s) -> sp.Expr:
        return LambdaBessel(self.dim / 2, -self.radius**2 * self._sq(s))

    def vector_transform(self, v, dim) -> sp.Expr:
        r""":math:`E[e^{b\cdot v}]` for a vector expression ``v`` (``v = i k`` gives the
        characteristic function): :math:`\Lambda_{d/2}(-R^2\, v\cdot v)`."""
        if sp.sympify(dim) != self.dim:
            raise ValueError(f"{self}: a vector of dimension {dim} does not match the ball's dimension {self.dim}")
        return self.mgf(v)

    transform = mgf

    def moment(self, k: int) -> sp.Expr:
        r"""Moment of one Cartesian component,
        :math:`E[b_1^k] = R^k\,\Gamma(\frac d2+1)\Gamma(\frac{k+1}2)/(\sqrt\pi\,\Gamma(\frac{d+k}2+1))`
        for even ``k`` (0 for odd ``k``)."""
        k = moment_order(k)
        if k % 2:
            return sp.S.Zero
        R, d = self.params
        return sp.simplify(R**k * sp.gamma(d / 2 + 1) * sp.gamma(sp.Rational(k + 1, 2))
                           / (sp.sqrt(sp.pi) * sp.gamma((d + k) / 2 + 1)))

    def _numeric_dim(self, D, values):
        d = self.dim
        if d.is_Integer:
            if D is not None and int(D) != int(d):
                raise ValueError(f"{self}: asked for vectors of dimension {D} from a ball in d = {d}")
            return int(d)
        if D is None:
            return int(numeric_value(d, values, f"dimension of {self}"))
        return int(D)

    def sample(self, rng, size, values=None, xp=None):
        """``size`` is a tuple ending in the dimension D: uniform direction times ``R U^{1/D}``
        (array operations in the namespace ``xp``, numpy by default)."""
        check_generator(rng, xp)
        xp = np if xp is None else xp
        values = values or {}
        size = (size,) if np.isscalar(size) else tuple(size)
        if not size:
            raise ValueError("UniformBall.sample needs a size ending in the dimension d")
        D = self._numeric_dim(size[-1], values)
        R = numeric_value(self.radius, values, f"radius of {self}")
        if R <= 0:
            raise ValueError(f"UniformBall radius must be positive, got {R}")
        g = rng.standard_normal(size)
        g = g / xp.sqrt(xp.sum(g * g, axis=-1, keepdims=True))
        r = R * rng.uniform(0.0, 1.0, size[:-1] + (1,)) ** (1.0 / D)
        return g * r

    def vector_quadrature(self, n: int, D: int, values) -> tuple[np.ndarray, np.ndarray]:
        """Product rule: radial Gauss-Jacobi (weight r^{D-1}) times a spherical product rule
        (Gauss-Gegenbauer in the polar cosines, equal-angle in the azimuth). Weights sum to 1."""
        from scipy.special import roots_jacobi

        D = self._numeric_dim(D, values)
        R = numeric_value(self.radius, values, f"radius of {self}")
        n = max(2, int(n))
        while n > 2 and n ** max(D, 1) > 400_000:
            n -= 1
        x, wr = roots_jacobi(n, 0.0, D - 1.0)
        r = R * (1 + x) / 2
        wr = wr / wr.sum()
        u, wu = _sphere_rule(D, n)
        nodes = (r[:, None, None] * u[None, :, :]).reshape(-1, D)
        return nodes, (wr[:, None] * wu[None, :]).reshape(-1)

    def quadrature(self, n, values):
        raise NotImplementedError("UniformBall is a joint law of a vector: use vector_quadrature(n, D, values)")
