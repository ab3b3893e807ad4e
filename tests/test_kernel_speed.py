"""Kernels that compile at any size and evaluate without per-call re-analysis (issue 13, items 2-4).

* a sum of ~10^5 operations (too long for ``lambdify``: Python's compiler overflows) compiles to
  straight-line code and agrees with numpy evaluating the same terms one by one;
* the straight-line code with sympy's CSE agrees with the ``lambdify`` code of the same expression;
* ``evaluate`` walks the expression once: a second call neither compiles nor re-walks the tree;
* ``_nn_dot`` on small d (broadcast multiply-adds) agrees with a matmul to rounding.
"""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

import nnsym as ns
from nnsym.numeric import kernels
from nnsym.numeric.kernels import compile_kernel, evaluation_plan, straight_line_kernel, tree_size_exceeds

import independent as ind

VALUES = dict(sigma_a=1.0, sigma_b=0.7, N=10)


def test_a_sum_of_1e5_operations_compiles_and_agrees_with_its_terms():
    xs = sp.symbols("x_1:9", real=True)
    expr, params = ind.synthetic_sum(9_000, xs)   # ~9.9e4 operations, a 9,000-term sum
    assert tree_size_exceeds(expr, kernels.HUGE_KERNEL_NODES)
    fn = compile_kernel(list(xs), expr)
    X = np.random.default_rng(5).normal(size=(8, 6))
    terms = ind.synthetic_sum_terms(params, X)
    got = fn(*X)
    assert got.shape == (6,)
    np.testing.assert_array_less(np.abs(got - terms.sum(axis=0)), 1e-12 * np.abs(terms).sum(axis=0))


def test_a_long_sum_lambdify_cannot_compile_falls_back_to_straight_line_code():
    xs = sp.symbols("x_1:9", real=True)
    pairs = [(i, j) for i in range(8) for j in range(8) if i != j]
    powers = [(*pairs[k % 56], 2 + k // 56) for k in range(3_200)]  # distinct monomials x_i x_j^p
    expr = sp.Add(*[sp.Rational(k + 1, 7) * xs[i] * xs[j] ** p for k, (i, j, p) in enumerate(powers)])
    assert len(expr.args) == 3_200 and not tree_size_exceeds(expr, kernels.LARGE_KERNEL_NODES)  # lambdify first
    fn = compile_kernel(list(xs), expr)
    X = np.random.default_rng(6).uniform(-1, 1, size=(8, 3))
    terms = np.array([(k + 1) / 7 * X[i] * X[j] ** p for k, (i, j, p) in enumerate(powers)])
    np.testing.assert_array_less(np.abs(fn(*X) - terms.sum(axis=0)), 1e-12 * np.abs(terms).sum(axis=0))


@pytest.mark.parametrize("n", [4, 6])
def test_straight_line_code_agrees_with_lambdify(n):
    G = ns.zoo.cos_net(2).correlator(n, connected=True)
    args = list(G.points) + G.free_parameters
    X = np.random.default_rng(n).normal(size=(50, n, 2))
    pa = kernels.point_arrays(G.points, X) + [VALUES[s.name] for s in G.free_parameters]
    want = compile_kernel(args, G.expr)(*pa)
    for cse in (True, False):
        np.testing.assert_allclose(straight_line_kernel(args, G.expr, cse=cse)(*pa), want, rtol=1e-12, atol=0)


def test_straight_line_code_frees_temporaries_and_nests_shallowly():
    x, y = sp.symbols("x y", real=True)
    deep = x
    for k in range(120):  # a nesting far deeper than Python's parser takes on one line
        deep = sp.exp(-deep / (k + 2))
    expr = deep * sp.cos(y) + deep ** 2
    fn = straight_line_kernel([x, y], expr)
    assert "del " in fn.source
    want = 0.3
    for k in range(120):
        want = np.exp(-want / (k + 2))
    assert fn(0.3, 0.2) == pytest.approx(want * np.cos(0.2) + want ** 2, rel=1e-13)


def test_evaluate_analyses_the_expression_once(monkeypatch):
    G = ns.zoo.cos_net(2).correlator(4, connected=True)
    X = np.random.default_rng(0).normal(size=(3, 4, 2))
    first = G.evaluate(X, **VALUES)
    calls = []
    monkeypatch.setattr(kernels, "compile_kernel", lambda *a, **k: calls.append("compile"))
    monkeypatch.setattr(kernels, "split_domain", lambda *a, **k: calls.append("walk"))
    monkeypatch.setattr(type(G.expr), "atoms", lambda *a, **k: calls.append("atoms"), raising=False)
    second = G.evaluate(X, **VALUES)
    assert calls == []
    np.testing.assert_array_equal(first, second)


def test_the_plan_depends_on_which_scales_are_zero():
    x, s = sp.Symbol("x", real=True), sp.Symbol("s", positive=True)
    cache: dict = {}
    plan = evaluation_plan(sp.exp(-s * x ** 2), (x,), None, {"s": 0.5}, cache)
    assert plan.hyper == [s]
    assert evaluation_plan(sp.exp(-s * x ** 2), (x,), None, {"s": 0.25}, cache) is plan
    assert evaluation_plan(sp.exp(-s * x ** 2), (x,), None, {"s": 0}, cache).hyper == []
    # values still checked on every call
    G = ns.zoo.cos_net(2).correlator(2)
    G.evaluate(np.zeros((1, 2, 2)), **VALUES)
    with pytest.raises(ValueError, match="sigma_a"):
        G.evaluate(np.zeros((1, 2, 2)), **{**VALUES, "sigma_a": -1.0})
    with pytest.raises(TypeError, match="sigmaa"):
        G.evaluate(np.zeros((1, 2, 2)), sigmaa=1.0, sigma_b=0.7, N=10)
    with pytest.raises(ValueError, match="shape"):
        G.evaluate(np.zeros((1, 3, 2)), **VALUES)


def test_a_zero_bias_scale_still_takes_the_limit_after_a_cached_call():
    G = ns.zoo.cos_net(2).correlator(2)
    X = np.random.default_rng(1).normal(size=(4, 2, 2))
    G.evaluate(X, **VALUES)
    at_zero = G.evaluate(X, **{**VALUES, "sigma_b": 0})
    np.testing.assert_allclose(at_zero, G.subs(sp.Symbol("sigma_b", positive=True), 0).evaluate(X, **VALUES),
                               rtol=1e-14)


@pytest.mark.parametrize("wshape, xshape", [((1000, 1, 2), (4, 2)), ((3, 5, 1, 3), (7, 3)), ((2, 1, 2), (50, 2)),
                                            ((10, 1, 16), (4, 16)), ((10, 1, 17), (4, 17))])
def test_small_d_scalar_products_agree_with_matmul(wshape, xshape):
    rng = np.random.default_rng(7)
    w, x = rng.normal(size=wshape), rng.normal(size=xshape)
    want = w[..., 0, :] @ x.T
    for got in (kernels._nn_dot(w, x), kernels._nn_dot(x, w)):
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=1e-14, atol=1e-14)


# ----------------------------------------------------------------------------- bounded quadrature chunks
def test_quadrature_chunks_split_only_the_point_sets(monkeypatch):
    from nnsym.numeric import quadrature

    assert getattr(quadrature, "QUADRATURE_CHUNK_VALUES", None) == kernels.QUADRATURE_CHUNK_VALUES == 2_000_000, \
        "law_quadrature must chunk its point sets by kernels.QUADRATURE_CHUNK_VALUES"
    G = ns.zoo.free_scalar(3).correlator(2)   # an unevaluated expectation over the momentum law
    X = np.random.default_rng(8).normal(size=(6, 2, 3))
    vals = dict(Lambda=4.0, N=10, m=1.0, sigma_a=1.0)
    with pytest.warns(kernels.NumericWarning):
        whole = G.evaluate(X, **vals)
    monkeypatch.setattr(quadrature, "QUADRATURE_CHUNK_VALUES", 1)   # one point set per chunk
    with pytest.warns(kernels.NumericWarning):
        one_by_one = G.evaluate(X, **vals)
    np.testing.assert_allclose(one_by_one, whole, rtol=1e-13, atol=1e-15)


def test_os_axioms_verdicts_with_bounded_chunks():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rep = ns.os_axioms(ns.zoo.free_scalar(3))
    assert rep.euclidean_invariance.holds is True
    assert rep.reflection_positivity.holds is False   # the momentum cutoff spoils it
    assert rep.cluster_decomposition.holds is False
    assert rep.temperedness.holds is True


def test_python_source_of_a_long_sum_runs_and_agrees():
    from nnsym.core.vectors import ScalarPoint

    x1, x2 = ScalarPoint("x_1"), ScalarPoint("x_2")
    m = sp.Symbol("m", positive=True)
    powers = [(i, j) for i in range(60) for j in range(60)][:3_200]   # 3,200 distinct monomials: one line is too long
    expr = sp.Add(*[sp.Rational(k + 1, 3) * m * x1 ** i * x2 ** j for k, (i, j) in enumerate(powers)])
    src = kernels.python_source(expr, (x1, x2), 1, "G")
    space: dict = {}
    exec(src, space)
    a, b = np.array([0.3, -0.2]), np.array([0.1, 0.4])
    terms = np.array([(k + 1) / 3 * 0.5 * a ** i * b ** j for k, (i, j) in enumerate(powers)])
    np.testing.assert_array_less(np.abs(space["G"](a, b, m=0.5) - terms.sum(axis=0)), 1e-12 * np.abs(terms).sum(axis=0))
