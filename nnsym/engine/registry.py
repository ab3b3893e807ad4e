r"""The rule registry of the expectation engine.

:math:`E_\theta[f]` is found by small *rules*. A rule is a function registered for a pattern
and tried in a documented order; it returns the result, or ``None`` for "not mine, try the
next rule". When no rule answers, the engine keeps the explicit, unevaluated
:class:`~nnsym.engine.unevaluated.Expectation` (a
:class:`~nnsym.engine.gaussian.GaussianExpectation` for Gaussian pre-activations), which the
numeric layer integrates by quadrature and marks as numeric. Exceptions are kept for real
errors (:class:`~nnsym.errors.DivergentExpectation`), never for "not mine".

A pattern is a class (a sympy function class such as ``sp.erf`` or ``sp.cos``, an expression
class, :class:`~nnsym.core.random.RandomSymbol`, ...) or a tuple of classes, matched against the
classes the question offers; or a predicate ``pattern(subject, *context) -> bool`` (e.g. on a
capability of the laws involved). Rules with a lower ``order`` are tried first; equal orders
keep the order of registration.

The engine asks three questions, one table each:

:data:`FACTOR_RULES` -- *how does one factor* :math:`u^k` *of a monomial enter the transform
method?* Matched on the class of the base :math:`u`; ``rule(base, k) -> Piece | None``.

* :class:`~nnsym.core.random.RandomSymbol`, :class:`~nnsym.core.vectors.Dot` -- moments
  :math:`\theta^k`, :math:`(b\cdot w)^k` (:mod:`nnsym.engine.rules_moments`);
* ``exp``, ``cos``, ``sin``, ``cosh``, ``sinh`` of an affine form -- exponentials
  :math:`e^{s\theta}` (:mod:`nnsym.engine.rules_exponential`).

A factor no rule takes is *opaque*; the groups of parameters it touches go to the next table.

:data:`GROUP_RULES` -- *what is the expectation over one independent group of parameters?*
Predicates on the group; ``rule(term, group) -> expression | None``.

* order 5, a Gaussian vector with polynomial factors, no opaque factor: Wick/Isserlis
  (:mod:`nnsym.engine.rules_wick`), the pairing sum with the means tilted by the exponentials;
  the same numbers as the transform method without differentiating (None for anything else);
* order 10, no opaque factor: the transform method,
  :math:`E[\theta^k e^{s\theta}] = M^{(k)}(s)` (:mod:`nnsym.engine.transforms`). First because
  it is exact for every law with a transform, and cheap;
* order 20, every law Gaussian: the pre-activation integral over
  :math:`z\sim\mathcal N(\mu, C)` (:mod:`nnsym.engine.gaussian`), which asks the next table;
* fallback: :class:`~nnsym.engine.unevaluated.Expectation`.

:data:`GAUSSIAN_RULES` -- *what is* :math:`E[g(z)]`, :math:`z\sim\mathcal N(\mu, C)`, *in closed
form?* Matched on the function classes in :math:`g`; ``rule(integral) -> expression | None``
with a :class:`~nnsym.engine.gaussian.GaussianIntegral` (:mod:`nnsym.engine.gaussian`):

* order 10 products of Gaussian bumps :math:`e^{-a z^2 + hz}`; 20 positively homogeneous
  factors of one zero-mean scalar (any n); 30 one variable: erf, sign, rectified powers;
  40 pairs at zero mean: erf, sign, arc-cosine kernels. These are the specific closed forms:
  compact, and cheap to recognise;
* order 50 exponential tilts (then the table again for what is left), 60 sign polynomials
  (Abs, leaky ReLU, ...: the general piecewise-polynomial forms, slower and longer, so last);
* fallback: :class:`~nnsym.engine.gaussian.GaussianExpectation`.

Adding a closed form is one function in one file. For example, for
:math:`E[\mathrm{erfc}\,z] = \mathrm{erfc}(\mu/\sqrt{1 + 2C})`:

>>> import sympy as sp
>>> from nnsym import Normal, expectation, is_exact
>>> w, x = Normal("w", 0, 1), sp.Symbol("x", real=True)
>>> is_exact(expectation(sp.erfc(w*x + 1)))  # no rule: left to quadrature
False
>>> @gaussian_rule(sp.erfc, order=30)
... def erfc_of_one_variable(I):
...     if I.rank == 1 and I.integrand == sp.erfc(I.variables[0]):
...         return sp.erfc(I.mean[0] / sp.sqrt(1 + 2 * I.covariance[0][0]))
>>> expectation(sp.erfc(w*x + 1))
erfc(1/sqrt(2*x**2 + 1))
>>> GAUSSIAN_RULES.unregister(erfc_of_one_variable)
>>> is_exact(expectation(sp.erfc(w*x + 1)))
False
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any, Callable, Iterable

__all__ = ["Rule", "Rules", "FACTOR_RULES", "GROUP_RULES", "GAUSSIAN_RULES", "factor_rule", "group_rule",
           "gaussian_rule"]

_SERIAL = itertools.count()


@dataclass(frozen=True)
class Rule:
    """A registered rule: ``function`` tried for ``patterns`` (classes or predicates) at ``order``."""

    function: Callable
    patterns: tuple
    order: float
    serial: int

    @property
    def classes(self) -> tuple:
        return tuple(p for p in self.patterns if isinstance(p, type))

    @property
    def predicates(self) -> tuple:
        return tuple(p for p in self.patterns if not isinstance(p, type))


def _flatten(patterns) -> tuple:
    out = []
    for p in patterns:
        out.extend(_flatten(p) if isinstance(p, tuple) else [p])
    return tuple(out)


class Rules:
    r"""An ordered table of rules answering one question of the engine.

    ``classes_of(subject)`` lists the classes a class pattern is matched against (None: the table
    has predicate patterns only). :meth:`apply` returns the first answer that is not None, or None.

    >>> t = Rules("parity of an integer", classes_of=lambda n: (type(n),))
    >>> @t.rule(int, order=2)
    ... def odd(n):
    ...     return "odd" if n % 2 else None
    >>> @t.rule(lambda n: n >= 0, order=1)
    ... def zero(n):
    ...     return "zero" if n == 0 else None
    >>> [t.apply(n) for n in (0, 3, 4)], [r.function.__name__ for r in t]
    (['zero', 'odd', None], ['zero', 'odd'])
    >>> t.unregister(zero); [t.apply(n) for n in (0, 3)]
    [None, 'odd']
    """

    def __init__(self, question: str, classes_of: Callable[[Any], Iterable[type]] | None = None):
        self.question = question
        self.classes_of = classes_of
        self._rules: list[Rule] = []
        self._by_classes: dict = {}  # frozenset of classes -> the rules that may match, in order

    def rule(self, *patterns, order: float = 50) -> Callable:
        """Decorator: register the function for ``patterns`` (classes, tuples of classes, predicates)."""

        def register(function: Callable) -> Callable:
            self.register(function, *patterns, order=order)
            return function

        return register

    def register(self, function: Callable, *patterns, order: float = 50) -> Rule:
        """Register ``function`` for ``patterns`` at ``order``; returns the :class:`Rule`."""
        pats = _flatten(patterns)
        if not pats:
            raise ValueError(f"a rule for {self.question!r} needs at least one pattern")
        if any(isinstance(p, type) for p in pats) and self.classes_of is None:
            raise ValueError(f"the rules for {self.question!r} take predicates, not classes")
        r = Rule(function, pats, order, next(_SERIAL))
        self._rules.append(r)
        self._rules.sort(key=lambda q: (q.order, q.serial))
        self._by_classes.clear()
        return r

    def unregister(self, function: Callable) -> None:
        """Remove every rule registered with ``function``."""
        self._rules = [r for r in self._rules if r.function is not function]
        self._by_classes.clear()

    def __iter__(self):
        return iter(list(self._rules))

    def __len__(self) -> int:
        return len(self._rules)

    def _candidates(self, subject) -> list:
        """(rule, matched by a class) for the rules that may match ``subject``, in order."""
        key = frozenset(self.classes_of(subject)) if self.classes_of is not None else None
        cands = self._by_classes.get(key)
        if cands is None:
            cands = []
            for r in self._rules:
                by_class = key is not None and any(issubclass(k, c) for k in key for c in r.classes)
                if by_class or r.predicates:
                    cands.append((r, by_class, r.predicates))
            self._by_classes[key] = cands
        return cands

    def apply(self, subject, *context):
        """The first answer of the matching rules, in order, that is not None; else None."""
        for r, by_class, predicates in self._candidates(subject):
            if not by_class and not any(p(subject, *context) for p in predicates):
                continue
            out = r.function(subject, *context)
            if out is not None:
                return out
        return None

FACTOR_RULES = Rules("how a factor u^k of a monomial enters the transform method",
                     classes_of=lambda base: (type(base),))
GROUP_RULES = Rules("the expectation over one independent group of parameters")
GAUSSIAN_RULES = Rules("E[g(z)] in closed form, z ~ N(mu, C)", classes_of=lambda integral: integral.classes)

#: decorators: ``@factor_rule(sp.cos)``, ``@group_rule(predicate, order=...)``, ``@gaussian_rule(sp.erf, order=...)``
factor_rule = FACTOR_RULES.rule
group_rule = GROUP_RULES.rule
gaussian_rule = GAUSSIAN_RULES.rule
