"""The rule registry of the expectation engine (nnsym.engine.registry) and the numeric dispatch.

* registering a rule changes a result, and unregistering it restores the old one;
* rules are tried in their documented order, and a rule that answers None passes to the next;
* what no rule can do is an unevaluated Expectation, which the numeric layer integrates;
* every Expectation type has a quadrature rule (functools.singledispatch).
Every test unregisters what it registers (no global state leaks into other tests).
"""
from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp

import nnsym
from nnsym import Normal, Uniform, expectation, is_exact
from nnsym.engine import registry
from nnsym.engine.gaussian import GaussianExpectation
from nnsym.engine.registry import GAUSSIAN_RULES, GROUP_RULES, Rules, gaussian_rule, group_rule
from nnsym.engine.unevaluated import Expectation
from nnsym.numeric.kernels import numeric_expectation

x = nnsym.ScalarPoint("x")  # a point in d = 1


def _erfc_rule(I):
    if I.rank == 1 and I.integrand == sp.erfc(I.variables[0]):
        return sp.erfc(I.mean[0] / sp.sqrt(1 + 2 * I.covariance[0][0]))
    return None


def test_registering_a_rule_changes_the_result_and_unregistering_restores_it():
    w = Normal("w", 0, 1)
    before = expectation(sp.erfc(w * x + 1))
    assert not is_exact(before)
    n_rules = len(GAUSSIAN_RULES)
    gaussian_rule(sp.erfc, order=30)(_erfc_rule)
    try:
        assert len(GAUSSIAN_RULES) == n_rules + 1
        assert expectation(sp.erfc(w * x + 1)) == sp.erfc(1 / sp.sqrt(2 * x**2 + 1))
        # the closed form agrees with quadrature of the unevaluated expectation
        X = np.array([[[0.3]], [[-1.2]]])
        exact = [math.erfc(1 / math.sqrt(2 * v**2 + 1)) for v in (0.3, -1.2)]
        E = before.atoms(GaussianExpectation).pop()
        assert before == E
        val, err = numeric_expectation(E, [x], X, {})
        assert np.allclose(val, exact, atol=1e-8) and err < 1e-8
    finally:
        GAUSSIAN_RULES.unregister(_erfc_rule)
    assert len(GAUSSIAN_RULES) == n_rules
    after = expectation(sp.erfc(w * x + 1))  # unevaluated again (a new dummy variable z)
    assert isinstance(after, GaussianExpectation) and after.args[2:] == before.args[2:]


def test_order_is_respected_and_none_passes_on():
    w = Normal("w", 0, 1)
    builtin = expectation(sp.erf(w * x))
    marker, calls = sp.Symbol("marker"), []

    def declines(I):
        calls.append("declines")
        return None

    def first(I):
        calls.append("first")
        return marker

    def second(I):
        calls.append("second")
        return 2 * marker

    gaussian_rule(sp.erf, order=5)(second)
    gaussian_rule(sp.erf, order=4)(first)
    gaussian_rule(sp.erf, order=1)(declines)
    try:
        assert [r.function for r in GAUSSIAN_RULES][:3] == [declines, first, second]
        assert expectation(sp.erf(w * x)) == marker  # before the built-in erf rule (order 30)
        assert calls == ["declines", "first"]  # None passed on; the second rule was not needed
        # a rule for another function class is not tried at all
        calls.clear()
        expectation(sp.sign(w * x))
        assert calls == []
    finally:
        for f in (declines, first, second):
            GAUSSIAN_RULES.unregister(f)
    assert expectation(sp.erf(w * x)) == builtin


def test_a_group_rule_with_a_law_predicate():
    c = Uniform("c", 0, 1)
    assert not is_exact(expectation(sp.tanh(c)))
    value = sp.log(sp.cosh(1))  # E[tanh c], c ~ U(0, 1)

    def uniform_group(t, group):
        return all(p.law.support == (0, 1) and not p.law.is_gaussian for p in group) and bool(t.opaque_of(group))

    def tanh_of_uniform(t, group):
        if [str(f) for f in t.factors_of(group)] == ["tanh(c)"]:
            return value
        return None

    group_rule(uniform_group, order=15)(tanh_of_uniform)
    try:
        assert expectation(3 * sp.tanh(c)) == 3 * value
        assert not is_exact(expectation(sp.tanh(c) ** 2))  # the rule declines: fallback
    finally:
        GROUP_RULES.unregister(tanh_of_uniform)
    assert not is_exact(expectation(sp.tanh(c)))


def test_the_fallback_is_an_unevaluated_expectation_the_numeric_layer_integrates():
    c = Uniform("c", 0, 1)
    E = expectation(sp.tanh(c * x))
    assert isinstance(E, Expectation) and not isinstance(E, GaussianExpectation)
    assert E.params == (c,)
    X = np.array([[[1.0]], [[2.0]]])
    val, err = numeric_expectation(E, [x], X, {})
    exact = [math.log(math.cosh(v)) / v for v in (1.0, 2.0)]
    assert np.allclose(val, exact, atol=1e-10) and err < 1e-8


def _all_subclasses(cls):
    out = {cls}
    for sub in cls.__subclasses__():
        out |= _all_subclasses(sub)
    return out


def test_every_expectation_type_has_a_quadrature_rule():
    generic = numeric_expectation.dispatch(object)
    for cls in _all_subclasses(Expectation):
        assert numeric_expectation.dispatch(cls) is not generic, cls
    assert numeric_expectation.dispatch(GaussianExpectation).__name__ == "gaussian_numeric"
    assert numeric_expectation.dispatch(Expectation).__name__ == "law_quadrature"
    with pytest.raises(TypeError, match="no quadrature rule"):
        numeric_expectation(sp.Integer(1), [], np.zeros((1, 0, 1)), {})


def test_rule_tables_refuse_malformed_rules():
    t = Rules("predicates only")
    with pytest.raises(ValueError):
        t.register(lambda s: s, sp.exp)  # a class pattern without classes_of
    with pytest.raises(ValueError):
        t.register(lambda s: s)  # no pattern
    assert len(t) == 0


def test_the_documented_tables_hold_the_builtin_rules_in_order():
    names = [r.function.__name__ for r in registry.GROUP_RULES]
    assert names[:3] == ["wick_method", "transform_method", "gaussian_preactivations"]
    orders = [r.order for r in registry.GAUSSIAN_RULES]
    assert orders == sorted(orders)
    factor_classes = {c for r in registry.FACTOR_RULES for c in r.classes}
    assert {sp.exp, sp.cos, sp.sin, sp.cosh, sp.sinh} <= factor_classes
