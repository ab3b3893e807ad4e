r"""Layer 1, core: the objects the physics is written in.

Vectors and scalar products (:math:`x\in\mathbb R^d`, :math:`x\cdot y`), the laws of the
parameters (:math:`P(a)`, :math:`P(b)`, ...) with their capabilities (moments, transforms
and their domains, support, samplers, quadrature rules), random symbols and vectors, special
functions, and numerical spot checks. Imports nothing from nnsym but :mod:`nnsym.errors`.
"""
