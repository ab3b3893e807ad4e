"""Deep kernels evaluated layer by layer (issue 13, item 1).

``DeepKernel.evaluate_nngp`` / ``evaluate_ntk`` / ``gram`` / ``diagonal`` run a compiled per-layer map
(the pair moments as numpy kernels of (K11, K12, K22), applied depth times). Each result is checked
two independent ways:

* closed forms: against the composed symbolic Correlators ``.nngp`` / ``.ntk`` (compiled as one
  expression), to 1e-12, and against a hand-written numpy recursion with the textbook kernels (arc-cosine
  for ReLU, arcsine for erf) at depth 10, where the symbolic form is too long to build;
* quadrature (tanh): against a nested adaptive scipy quadrature written here; the stated error
  (NumericWarning.error) must bound the real one.
"""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import sympy as sp
from scipy import integrate

import nnsym as ns
from nnsym.numeric.quadrature import gauss2_kinked, smooth_pair_moments

import independent as ind

SW, SB = 1.3, 0.4
VALUES = dict(sigma_W=SW, sigma_b=SB)
relu = lambda z: sp.Max(0, z)  # noqa: E731
leaky = lambda z: sp.Max(z / 10, z)  # noqa: E731
ACTIVATIONS = {"relu": relu, "erf": sp.erf, "leaky": leaky, "mixed": None}


def activation(name, depth):
    if name == "mixed":  # one activation per layer, cycling
        return [(sp.erf, relu, leaky)[l % 3] for l in range(depth)]
    return ACTIVATIONS[name]


def points(seed, P, d):
    """Random point pairs, none (nearly) coincident: rounding near rho = 1 is not what is tested here."""
    return np.random.default_rng(seed).normal(size=(P, 2, d)) * np.array([1.0, 1.3])[:, None]


# ----------------------------------------------------------------------------- 1. layer map = composed closed form
@pytest.mark.parametrize("name", ["relu", "erf", "leaky", "mixed"])
@pytest.mark.parametrize("depth", [1, 2, 3])
@pytest.mark.parametrize("bias", [True, False])
def test_layer_map_equals_the_composed_closed_form(name, depth, bias):
    d = 3
    K = ns.DeepKernel(activation(name, depth), depth, d, sigma_b=None if bias else 0)
    assert K.symbolic
    values = VALUES if bias else dict(sigma_W=SW)
    X = points(10 * depth + len(name), 12, d)
    for layer_map, symbolic in ((K.evaluate_nngp, K.nngp), (K.evaluate_ntk, K.ntk)):
        np.testing.assert_allclose(layer_map(X, **values), symbolic.evaluate(X, **values), rtol=1e-12, atol=0)


@pytest.mark.parametrize("name", ["relu", "erf", "mixed"])
def test_layer_map_in_a_symbolic_dimension(name):
    d = sp.Symbol("d", positive=True, integer=True)
    K = ns.DeepKernel(activation(name, 2), 2, d)
    for D in (2, 5):
        X = points(D, 9, D)
        np.testing.assert_allclose(K.evaluate_nngp(X, **VALUES), K.nngp.evaluate(X, **VALUES), rtol=1e-12, atol=0)
        np.testing.assert_allclose(K.evaluate_ntk(X, **VALUES), K.ntk.evaluate(X, **VALUES), rtol=1e-12, atol=0)
    with pytest.raises(ValueError, match="disagrees"):
        K.evaluate_nngp(points(1, 3, 4), d=3, **VALUES)


def test_layer_map_with_per_layer_variances_and_an_activation_parameter():
    """Variances per layer (numbers and symbols) and an activation with a free parameter (an amplitude a):
    the values are bound by name as for the Correlator."""
    a = sp.Symbol("a", positive=True)
    s1 = sp.Symbol("s1", positive=True)
    spec = ns.DeepMLP([relu, lambda z: a * sp.erf(z)], 2, 2, sigma_W=[1.1, s1, 0.8],
                      sigma_b=[0.2, 0.0, 0.5], parameterisation="ntk")
    K = ns.DeepKernel.from_spec(spec)
    assert K.symbolic
    X = points(3, 8, 2)
    v = dict(a=0.2, s1=1.7)
    np.testing.assert_allclose(K.evaluate_nngp(X, **v), K.nngp.evaluate(X, **v), rtol=1e-12, atol=0)
    np.testing.assert_allclose(K.evaluate_ntk(X, **v), K.ntk.evaluate(X, **v), rtol=1e-12, atol=0)


def test_values_are_checked_as_by_the_correlator():
    K = ns.DeepKernel(sp.erf, 2, 2)
    X = points(4, 3, 2)
    with pytest.raises(TypeError, match="sigmaW.*did you mean 'sigma_W'"):
        K.evaluate_nngp(X, sigmaW=1.0, sigma_b=0.5)
    with pytest.raises(TypeError, match="did you mean"):
        K.gram(X[:, 0], sigma_W=1.0, sigma_bb=0.5)
    with pytest.raises(ValueError, match="missing value.*sigma_b"):
        K.gram(X[:, 0], sigma_W=1.0)
    with pytest.raises(ValueError, match="sigma_W must be positive"):
        K.evaluate_ntk(X, sigma_W=-1.0, sigma_b=0.5)
    with pytest.raises(TypeError, match="real number"):
        K.gram(X[:, 0], sigma_W="1", sigma_b=0.5)
    # the same refusal the second time (values checked are remembered only when they passed)
    with pytest.raises(TypeError, match="did you mean"):
        K.evaluate_nngp(X, sigmaW=1.0, sigma_b=0.5)
    with pytest.raises(ValueError, match="dimension"):
        K.gram(np.ones((3, 4)), **VALUES)
    with pytest.raises(ValueError, match="which"):
        K.gram(X[:, 0], which="kernel", **VALUES)


def test_points_of_the_wrong_shape_or_not_finite_are_refused():
    K = ns.DeepKernel(sp.erf, 2, 2)
    X = points(4, 3, 2)[:, 0]  # (3, 2)
    with pytest.raises(ValueError, match=r"gram needs X \(M, d\) and X2 \(M2, d\) with the same d"):
        K.gram(X, np.ones((3, 3)), **VALUES)
    with pytest.raises(ValueError, match="gram needs X"):
        K.gram(X[None], **VALUES)
    with pytest.raises(ValueError, match=r"diagonal needs X of shape \(M, d\)"):
        K.diagonal(X[0], **VALUES)
    with pytest.raises(ValueError, match=r"shape \(\.\.\., 2, d\)"):
        K.evaluate_nngp(np.ones((4, 3, 2)), **VALUES)
    bad = X.copy()
    bad[1, 0] = np.nan
    for call in (lambda: K.gram(bad, **VALUES), lambda: K.gram(X, bad, **VALUES), lambda: K.diagonal(bad, **VALUES),
                 lambda: K.evaluate_ntk(np.stack([bad, X], axis=-2), **VALUES)):
        with pytest.raises(ValueError, match="inf or nan"):
            call()


# ----------------------------------------------------------------------------- 2. Gram matrices
@pytest.mark.parametrize("name", ["relu", "erf", "mixed"])
def test_gram_is_the_kernel_on_all_pairs(name):
    K = ns.DeepKernel(activation(name, 3), 3, 4)
    rng = np.random.default_rng(7)
    X, X2 = rng.normal(size=(17, 4)), rng.normal(size=(5, 4))
    G, T = K.gram(X, which="both", **VALUES)
    assert G.shape == T.shape == (17, 17)
    assert np.array_equal(G, G.T) and np.array_equal(T, T.T)  # exactly symmetric
    pairs = np.stack(np.broadcast_arrays(X[:, None], X[None, :]), axis=-2)
    off = ~np.eye(17, dtype=bool)
    np.testing.assert_allclose(G[off], K.nngp.evaluate(pairs, **VALUES)[off], rtol=1e-12, atol=0)
    np.testing.assert_allclose(T[off], K.ntk.evaluate(pairs, **VALUES)[off], rtol=1e-12, atol=0)
    # the diagonal by the recursion at coincident points; the pair formula there only to ~1e-8 (rho = 1 - ulp)
    np.testing.assert_allclose(np.diag(G), K.diagonal(X, **VALUES), rtol=1e-14, atol=0)
    np.testing.assert_array_equal(np.diag(T), K.diagonal(X, which="ntk", **VALUES))
    np.testing.assert_allclose(np.diag(G), K.nngp.evaluate(pairs, **VALUES)[~off], rtol=1e-7)
    np.testing.assert_allclose(np.diag(T), K.ntk.evaluate(pairs, **VALUES)[~off], rtol=1e-7)
    # a cross Gram matrix and the single kernels
    C = K.gram(X, X2, which="ntk", **VALUES)
    cross = np.stack(np.broadcast_arrays(X[:, None], X2[None, :]), axis=-2)
    np.testing.assert_allclose(C, K.ntk.evaluate(cross, **VALUES), rtol=1e-12, atol=0)
    np.testing.assert_allclose(K.gram(X, X2, **VALUES), K.nngp.evaluate(cross, **VALUES), rtol=1e-12, atol=0)
    np.testing.assert_allclose(K.gram(X, which="nngp", **VALUES), G, rtol=1e-14, atol=0)  # another kernel: ulps


def test_gram_in_blocks_is_the_same(monkeypatch):
    """Small blocks (many row blocks, the mirrored upper triangle) give the same matrix as one block."""
    K = ns.DeepKernel(relu, 2, 3)
    X = np.random.default_rng(8).normal(size=(40, 3))
    G1, T1 = K.gram(X, which="both", **VALUES)
    monkeypatch.setattr(ns.DeepKernel, "_BLOCK", 97)
    G2, T2 = K.gram(X, which="both", **VALUES)
    assert np.array_equal(G2, G2.T)
    np.testing.assert_allclose(G2, G1, rtol=1e-15, atol=0)
    np.testing.assert_allclose(T2, T1, rtol=1e-15, atol=0)


@pytest.mark.parametrize("name,moments", [("relu", ind.relu_moments), ("erf", ind.erf_moments)])
def test_depth_ten_without_composing(name, moments):
    """Depth 10: the layer map needs no composed expression (none is built) and equals the textbook
    recursion (well-separated points: the textbook forms lose digits near rho = 1)."""
    K = ns.DeepKernel(ACTIVATIONS[name], 10, 10)
    X = np.random.default_rng(9).normal(size=(6, 10)) * np.arange(1, 7)[:, None]
    G, T = K.gram(X, which="both", **VALUES)
    assert K._nngp is None and K._ntk is None
    Gh, Th = ind.deep_gram(moments, X, 10, SW, SB)
    off = ~np.eye(6, dtype=bool)
    np.testing.assert_allclose(G[off], Gh[off], rtol=1e-10)
    np.testing.assert_allclose(T[off], Th[off], rtol=1e-10)


def test_inference_uses_the_gram_of_a_deep_kernel():
    """gp_posterior and ntk_predict take the DeepKernel itself (its gram / diagonal) and agree with the
    Correlators."""
    K = ns.DeepKernel(relu, 3, 1)
    Xtr = np.linspace(-2, 2, 7)[:, None]
    y = np.sin(Xtr[:, 0])
    Xte = np.linspace(-2.5, 2.5, 11)[:, None]
    m1, v1 = ns.gp_posterior(K, Xtr, y, Xte, noise=0.01, **VALUES)
    m2, v2 = ns.gp_posterior(K.nngp, Xtr, y, Xte, noise=0.01, **VALUES)
    np.testing.assert_allclose(m1, m2, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(v1, v2, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(ns.ntk_predict(K, Xtr, y, Xte, **VALUES), ns.ntk_predict(K.ntk, Xtr, y, Xte, **VALUES),
                               rtol=1e-7, atol=1e-9)


def test_divergent_ntk_is_refused_in_the_gram():
    K = ns.DeepKernel(sp.sign, 2, 2)
    X = np.random.default_rng(1).normal(size=(4, 2))
    G = K.gram(X, **VALUES)
    pairs = np.stack(np.broadcast_arrays(X[:, None], X[None, :]), axis=-2)
    off = ~np.eye(4, dtype=bool)
    np.testing.assert_allclose(G[off], K.nngp.evaluate(pairs, **VALUES)[off], rtol=1e-12)
    for which in ("ntk", "both"):
        with pytest.raises(ns.DivergentExpectation):
            K.gram(X, which=which, **VALUES)


# ----------------------------------------------------------------------------- 3. quadrature (no closed form)
def pair_quad(f, k11, k12, k22):
    """E[f(u) f(v)] by nested adaptive scipy quadrature (outer u, inner v | u); smooth f."""
    s1 = math.sqrt(k11)
    rho = k12 / math.sqrt(k11 * k22)
    sc = math.sqrt(k22 * (1 - rho * rho))

    def inner(u):
        m = rho * math.sqrt(k22) / s1 * u
        h = lambda v: f(v) * math.exp(-((v - m) ** 2) / (2 * sc * sc)) / (math.sqrt(2 * math.pi) * sc)  # noqa: E731
        return integrate.quad(h, m - 12 * sc, m + 12 * sc, epsabs=1e-14, epsrel=1e-13, limit=200)[0]

    dens = lambda u: math.exp(-u * u / (2 * k11)) / math.sqrt(2 * math.pi * k11)  # noqa: E731
    return integrate.quad(lambda u: f(u) * inner(u) * dens(u), -12 * s1, 12 * s1, epsabs=1e-14, epsrel=1e-13,
                          limit=200)[0]


def square_quad(f, k):
    s = math.sqrt(k)
    return integrate.quad(lambda u: f(u) ** 2 * math.exp(-u * u / (2 * k)) / (math.sqrt(2 * math.pi) * s),
                          -12 * s, 12 * s, epsabs=1e-14, epsrel=1e-13, limit=200)[0]


def quad_recursion(f, fp, x, y, depth):
    """NNGP and NTK at one pair, each pair moment by scipy (independent of nnsym's rules)."""
    d = len(x)
    K11, K22, K12 = (SB**2 + SW**2 * np.dot(a, b) / d for a, b in ((x, x), (y, y), (x, y)))
    T = K12
    for _ in range(depth):
        p, pd = pair_quad(f, K11, K12, K22), pair_quad(fp, K11, K12, K22)
        K12n = SB**2 + SW**2 * p
        T, K12 = K12n + SW**2 * T * pd, K12n
        K11, K22 = SB**2 + SW**2 * square_quad(f, K11), SB**2 + SW**2 * square_quad(f, K22)
    return K12, T


def test_tanh_gram_against_independent_quadrature():
    K = ns.DeepKernel(sp.tanh, 2, 3)
    assert not K.symbolic
    X = np.array([[0.3, -1.2, 0.8], [1.0, 0.2, -0.4], [-0.9, 0.5, 1.5]])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        G, T = K.gram(X, which="both", **VALUES)
    stated = [w.message for w in caught if isinstance(w.message, ns.NumericWarning)]
    assert len(stated) == 2 and all("DeepKernel" in str(m) for m in stated)
    assert np.array_equal(G, G.T) and np.array_equal(T, T.T)
    f, fp = math.tanh, (lambda z: 1 - math.tanh(z) ** 2)
    for i, j in ((0, 1), (1, 2), (0, 2)):
        k, t = quad_recursion(f, fp, X[i], X[j], 2)
        assert abs(G[i, j] - k) <= stated[0].error + 1e-12, (i, j, G[i, j] - k, stated[0].error)
        assert abs(T[i, j] - t) <= stated[1].error + 1e-12, (i, j, T[i, j] - t, stated[1].error)
    assert stated[0].error < 1e-7 and stated[1].error < 1e-7  # honest and accurate
    # the diagonal: one-dimensional quadrature
    kd = SB**2 + SW**2 * np.sum(X * X, -1) / 3
    for _ in range(2):
        kd = np.array([SB**2 + SW**2 * square_quad(f, k) for k in kd])
    np.testing.assert_allclose(np.diag(G), kd, rtol=0, atol=stated[0].error + 1e-12)


def test_tanh_pairs_and_gram_agree_and_warn():
    K = ns.DeepKernel(sp.tanh, 3, 2)
    X = np.random.default_rng(5).normal(size=(5, 2))
    pairs = np.stack(np.broadcast_arrays(X[:, None], X[None, :]), axis=-2)
    with pytest.warns(ns.NumericWarning) as rec:
        G = K.gram(X, **VALUES)
        k = K.evaluate_nngp(pairs, **VALUES)
    err = max(w.message.error for w in rec)
    off = ~np.eye(5, dtype=bool)
    np.testing.assert_allclose(G[off], k[off], rtol=0, atol=1e-14)
    np.testing.assert_allclose(np.diag(G), np.diag(k), rtol=0, atol=10 * err + 1e-12)


def test_kinked_activation_gram_is_its_pairs():
    """Kinks away from 0 (no closed form): the kink-split panels, pairs in chunks; the Gram matrix equals the
    evaluation on pairs (checked against independent quadrature in test_numeric_honesty)."""
    K = ns.DeepKernel(lambda z: sp.Max(0, z - sp.Rational(1, 2)), 2, 2)
    X = np.random.default_rng(6).normal(size=(4, 2))
    pairs = np.stack(np.broadcast_arrays(X[:, None], X[None, :]), axis=-2)
    with pytest.warns(ns.NumericWarning):
        T = K.gram(X, which="ntk", **VALUES)
        t = K.evaluate_ntk(pairs, **VALUES)
    off = ~np.eye(4, dtype=bool)
    np.testing.assert_allclose(T[off], t[off], rtol=0, atol=1e-14)


@pytest.mark.parametrize("k", [(2.5, 1.0, 2.0), (2.5, 2.45, 2.5), (9.0, -8.0, 9.2), (25.0, 20.0, 25.0)])
def test_smooth_pair_moments_against_the_kinked_rule_at_high_order(k):
    """The whitened grid against gauss2_kinked with 20 nodes per panel; the difference of the 10- and 7-node
    rules (the stated error) bounds the real error."""
    k11, k12, k22 = (np.array([v]) for v in k)
    funcs = [np.tanh, lambda z: 1 - np.tanh(z) ** 2, lambda z: np.log1p(np.exp(z))]
    a, c, b = k
    rho = c / math.sqrt(a * b)
    L = np.array([[[math.sqrt(a), 0.0], [math.sqrt(b) * rho, math.sqrt(b * (1 - rho * rho))]]])
    hi = smooth_pair_moments(funcs, k11, k12, k22, 10)[:, 0]
    lo = smooth_pair_moments(funcs, k11, k12, k22, 7)[:, 0]
    for j, h in enumerate(funcs):
        ref = gauss2_kinked(lambda p, q: h(p) * h(q), np.zeros((1, 2)), L, [[], []], 20)[0]
        assert abs(hi[j] - ref) <= abs(hi[j] - lo[j]) + 1e-14, (j, hi[j] - ref, hi[j] - lo[j])


def test_smooth_pair_moments_exact_cases_and_chunks():
    rng = np.random.default_rng(2)
    k11, k22 = rng.uniform(0.2, 3, 50), rng.uniform(0.2, 3, 50)
    k12 = rng.uniform(-1, 1, 50) * np.sqrt(k11 * k22)
    out = smooth_pair_moments([lambda z: z, np.cos, np.sin], k11, k12, k22)
    np.testing.assert_allclose(out[0], k12, rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(out[1], np.exp(-(k11 + k22) / 2) * np.cosh(k12), rtol=1e-12)
    np.testing.assert_allclose(out[2], np.exp(-(k11 + k22) / 2) * np.sinh(k12), rtol=1e-12, atol=1e-15)
    small = smooth_pair_moments([lambda z: z, np.cos, np.sin], k11, k12, k22, chunk_nodes=1)
    np.testing.assert_allclose(small, out, rtol=1e-14, atol=1e-16)  # one pair per chunk: the same rule
