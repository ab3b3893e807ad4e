"""Deep NNGP / NTK kernels, the NTK of single-layer networks, kernel inference (issue 5).

References, none of which uses nnsym:

* the layer recursions composed by hand in numpy from the single-layer formulas of docs/conventions.md
  ("Two-layer networks": arcsin for erf, arc-cosine for ReLU) plus two hand-derived
  derivative kernels, E[H(u)H(v)] = (pi - t)/(2 pi) for ReLU' and, for erf' = 2/sqrt(pi) e^{-z^2},
  E[erf'(u) erf'(v)] = (4/pi) / sqrt((1 + 2 k11)(1 + 2 k22) - 4 k12^2);
* a two-dimensional Gauss-Hermite recursion written here (activations without closed form);
* Monte Carlo of real deep networks: ``ns.sample_deep_mlp`` and a hand-written sampler that
  averages the readout out exactly (E[phi(x) phi(y) | hidden layers]); |z| < 5 from the
  standard error across networks, fixed seeds;
* the frozen-NTK solution (Leung, eq. 2.51) and the GP posterior written out with numpy.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp
from numpy.polynomial import hermite_e

import nnsym as ns

from independent import erf_P, relu_P

ZMAX = 5.0
SW, SB = 1.3, 0.4
relu_sp = lambda z: sp.Max(0, z)
relu_np = lambda z: np.maximum(z, 0.0)
N = sp.Symbol("N", positive=True, integer=True)
sW, sb = sp.symbols("sigma_W sigma_b", positive=True)


# ----------------------------------------------------------------------------- hand-written kernels
def relu_Pd(k11, k12, k22):
    """E[H(u) H(v)] = P(u > 0, v > 0) = (pi - t)/(2 pi)."""
    return (np.pi - np.arccos(np.clip(k12 / np.sqrt(k11 * k22), -1, 1))) / (2 * np.pi)


def erf_Pd(k11, k12, k22):
    """E[erf'(u) erf'(v)] = (4/pi) E[e^{-u^2 - v^2}] = (4/pi) det(1 + 2K)^{-1/2}."""
    return 4 / np.pi / np.sqrt((1 + 2 * k11) * (1 + 2 * k22) - 4 * k12**2)


PAIRS = {"relu": (relu_P, relu_Pd, relu_sp), "erf": (erf_P, erf_Pd, sp.erf)}


def compose(P, Pd, x, y, depth, sw=SW, sbv=SB):
    """K^{l+1} = sb^2 + sw^2 P(K^l), Theta^{l+1} = K^{l+1} + sw^2 Theta^l Pd(K^l); K^1 = Theta^1 = m."""
    d = x.shape[-1]
    K11 = sbv**2 + sw**2 * np.sum(x * x, -1) / d
    K22 = sbv**2 + sw**2 * np.sum(y * y, -1) / d
    K12 = sbv**2 + sw**2 * np.sum(x * y, -1) / d
    T = K12
    for _ in range(depth):
        p, pd = P(K11, K12, K22), Pd(K11, K12, K22)
        T = sbv**2 + sw**2 * p + sw**2 * T * pd
        K12 = sbv**2 + sw**2 * p
        K11, K22 = sbv**2 + sw**2 * P(K11, K11, K11), sbv**2 + sw**2 * P(K22, K22, K22)
    return K12, T


def gh_compose(f, x, y, depth, sw=SW, sbv=SB, n=120):
    """The NNGP recursion with E[f(u) f(v)] by a 2-dim Gauss-Hermite rule (any smooth f)."""
    g, w = hermite_e.hermegauss(n)
    w = w / math.sqrt(2 * math.pi)
    U, V = np.meshgrid(g, g, indexing="ij")
    Wt = np.outer(w, w)

    def pair(a, c, b):
        rho = c / math.sqrt(a * b)
        u = math.sqrt(a) * U
        v = math.sqrt(b) * (rho * U + math.sqrt(max(0.0, 1 - rho**2)) * V)
        return float(np.sum(Wt * f(u) * f(v)))

    d = len(x)
    K11, K22, K12 = (sbv**2 + sw**2 * np.dot(a, b) / d for a, b in ((x, x), (y, y), (x, y)))
    for _ in range(depth):
        K11, K12, K22 = (sbv**2 + sw**2 * pair(K11, K11, K11), sbv**2 + sw**2 * pair(K11, K12, K22),
                         sbv**2 + sw**2 * pair(K22, K22, K22))
    return K12


def pair_points(seed, P, d, scale=1.0):
    return scale * np.random.default_rng(seed).normal(size=(P, 2, d))


def ntk_param_net(f, d):
    """phi = sum_i (sW/sqrt(N)) a_i f((sW/sqrt(d)) w_i.x + sb b_i), all parameters N(0, 1) (NTK
    parameterisation), no output bias."""
    x = ns.Input("x", d)
    w = ns.Normal("w", 0, 1, shape=None if d == 1 else d)
    b = ns.Normal("b", 0, 1)
    a = ns.Normal("a", 0, 1)
    z = sW / sp.sqrt(d) * (w * x if d == 1 else w.dot(x)) + sb * b
    return ns.Network(sW / sp.sqrt(N) * f(z), readout=a, width=N, input=x)


# ----------------------------------------------------------------------------- 4. deep kernels
@pytest.mark.parametrize("kind", ["relu", "erf"])
@pytest.mark.parametrize("d", [1, 2, 3])
def test_deep_kernel_is_the_hand_composition(kind, d):
    P, Pd, f = PAIRS[kind]
    for depth in (1, 2, 3):
        K = ns.DeepKernel(f, depth, d)
        assert K.symbolic
        assert K.nngp.is_exact and not K.nngp.expr.has(sp.Integral)
        X = pair_points(100 + d, 6, d, scale=1.5)
        X[0, 1] = X[0, 0]  # coincident points: arccos(1 - ulp) ~ 1e-8, so only ~1e-8 there (see report)
        k_ref, t_ref = compose(P, Pd, X[:, 0], X[:, 1], depth)
        k, t = K.evaluate_nngp(X, sigma_W=SW, sigma_b=SB), K.evaluate_ntk(X, sigma_W=SW, sigma_b=SB)
        np.testing.assert_allclose(k[1:], k_ref[1:], rtol=1e-12)
        np.testing.assert_allclose(t[1:], t_ref[1:], rtol=1e-12)
        np.testing.assert_allclose(k[0], k_ref[0], rtol=1e-7)
        np.testing.assert_allclose(t[0], t_ref[0], rtol=1e-7)


@pytest.mark.parametrize("depth", [2, 3, 4])
def test_deep_relu_kernel_on_the_diagonal(depth):
    """Gram matrices need K(x, x) and Theta(x, x): at coincident points t = 0 in every layer, so
    K^{l+1} = sb^2 + sW^2 K^l/2 and Theta^{l+1} = K^{l+1} + sW^2 Theta^l/2 exactly. The kernels must
    evaluate there (and at points 1e-9 apart) without error and to 1e-7."""
    K = ns.DeepKernel(relu_sp, depth, 2)
    rng = np.random.default_rng(300 + depth)
    xs = rng.normal(size=(40, 2)) * rng.uniform(0.1, 3, size=(40, 1))
    X = np.concatenate([np.stack([xs, xs], 1), np.stack([xs, xs * (1 + 1e-9)], 1)])
    k = K.evaluate_nngp(X, sigma_W=SW, sigma_b=SB)
    t = K.evaluate_ntk(X, sigma_W=SW, sigma_b=SB)
    Kd = SB**2 + SW**2 * np.sum(X[:, 0] ** 2, -1) / 2
    Td = Kd.copy()
    for _ in range(depth):
        Td = SB**2 + SW**2 * Kd / 2 + SW**2 * Td / 2
        Kd = SB**2 + SW**2 * Kd / 2
    np.testing.assert_allclose(k, Kd, rtol=1e-7)
    np.testing.assert_allclose(t, Td, rtol=1e-7)


def test_inference_with_a_deep_kernel():
    """gp_posterior and ntk_predict with the depth-3 ReLU kernels on a 1-d grid (Gram diagonals)."""
    K = ns.DeepKernel(relu_sp, 3, 1)
    Xtr = np.linspace(-2, 2, 7)[:, None]
    y = np.sin(Xtr[:, 0])
    Xte = np.linspace(-2.5, 2.5, 11)[:, None]
    values = dict(sigma_W=SW, sigma_b=SB)
    mean, var = ns.gp_posterior(K.nngp, Xtr, y, Xtr, **values)
    np.testing.assert_allclose(mean, y, atol=1e-8)
    np.testing.assert_allclose(var, 0, atol=1e-8)
    pred = ns.ntk_predict(K.ntk, Xtr, y, Xtr, **values)
    np.testing.assert_allclose(pred, y, atol=1e-8)
    hand = lambda A, B: compose(relu_P, relu_Pd, *np.broadcast_arrays(A[:, None, :], B[None, :, :]), 3)[1]
    ref = hand(Xte, Xtr) @ np.linalg.solve(hand(Xtr, Xtr), y)
    np.testing.assert_allclose(ns.ntk_predict(K.ntk, Xtr, y, Xte, **values), ref, rtol=1e-6, atol=1e-8)


def test_depth_one_is_the_zoo_kernel():
    for kind in ("relu", "erf"):
        X = pair_points(7, 5, 2)
        a = ns.DeepKernel(PAIRS[kind][2], 1, 2).evaluate_nngp(X, sigma_W=SW, sigma_b=SB)
        b = getattr(ns.zoo, f"{kind}_net")(2).correlator(2).evaluate(X, sigma_W=SW, sigma_b=SB, N=3)
        np.testing.assert_allclose(a, b, rtol=1e-12)


@pytest.mark.parametrize("kind,rtol_nngp,rtol_ntk", [("relu", 3e-3, 3e-2), ("erf", 1e-8, 1e-8)])
def test_deep_kernel_against_its_numeric_recursion(kind, rtol_nngp, rtol_ntk):
    """The symbolic composition and the Gauss-Hermite recursion (``_numeric``): ReLU's kink limits the
    latter to ~1e-3 for the NNGP and ~1e-2 for the NTK (whose E[H(u)H(v)] integrates a jump); erf is
    smooth (1e-8)."""
    K = ns.DeepKernel(PAIRS[kind][2], 3, 2)
    X = pair_points(8, 6, 2)
    values = dict(sigma_W=SW, sigma_b=SB)
    for which, ev, rtol in (("nngp", K.evaluate_nngp, rtol_nngp), ("ntk", K.evaluate_ntk, rtol_ntk)):
        sym = ev(X, **values)
        num = K._numeric(X, values, which)
        assert np.max(np.abs(sym - num) / np.abs(sym)) < rtol, (which, sym, num)


def test_deep_kernel_without_closed_form():
    """tanh: no closed form for E[tanh u tanh v]; the kernel says so and runs numerically, equal to a
    Gauss-Hermite recursion written here."""
    K = ns.DeepKernel(sp.tanh, 2, 2)
    assert not K.symbolic
    X = pair_points(9, 4, 2)
    got = K.evaluate_nngp(X, sigma_W=SW, sigma_b=SB)
    ref = [gh_compose(np.tanh, X[p, 0], X[p, 1], 2, n=300) for p in range(len(X))]  # converged to ~1e-9
    np.testing.assert_allclose(got, ref, rtol=1e-6)  # the engine's 160-node rule: ~3e-7 here


DEEP_X = np.array([[1.0, 0.0], [0.0, 1.0], [0.6, -0.8]])
DEEP_PAIRS = [(0, 0), (1, 1), (0, 1), (0, 2), (1, 2)]


def _deep_exact(kind, sw, sbv, depth=3):
    P = np.array([[DEEP_X[i], DEEP_X[j]] for i, j in DEEP_PAIRS])
    k_hand, _ = compose(*PAIRS[kind][:2], P[:, 0], P[:, 1], depth, sw, sbv)
    if sbv == 0:
        K = ns.DeepKernel(PAIRS[kind][2], depth, 2, sigma_b=0)
        k = K.evaluate_nngp(P, sigma_W=sw)
    else:
        k = ns.DeepKernel(PAIRS[kind][2], depth, 2).evaluate_nngp(P, sigma_W=sw, sigma_b=sbv)
    np.testing.assert_allclose(k, k_hand, rtol=1e-12)
    return k


def _mc_products(Y):
    """Sample means and standard errors of phi(x_i) phi(x_j) over networks (rows of Y)."""
    prods = np.stack([Y[:, i] * Y[:, j] for i, j in DEEP_PAIRS], axis=1)
    return prods.mean(0), prods.std(0, ddof=1) / math.sqrt(len(Y))


def test_deep_relu_against_width_1000_networks():
    """Acceptance: deep ReLU NNGP (L = 3) = Monte Carlo of width-1000 networks (ns.sample_deep_mlp)."""
    exact = _deep_exact("relu", 1.5, 0.5)
    Y = ns.sample_deep_mlp(relu_sp, 3, 1000, DEEP_X, samples=300, seed=3, sigma_W=1.5, sigma_b=0.5, chunk=8)
    mean, se = _mc_products(Y)
    z = (mean - exact) / se
    assert np.all(np.abs(z) < ZMAX), (exact, mean, se, z)


@pytest.mark.slow
def test_deep_relu_against_width_1000_networks_many():
    exact = _deep_exact("relu", 1.5, 0.5)
    Y = ns.sample_deep_mlp(relu_sp, 3, 1000, DEEP_X, samples=3000, seed=4, sigma_W=1.5, sigma_b=0.5, chunk=8)
    mean, se = _mc_products(Y)
    assert np.all(np.abs((mean - exact) / se) < ZMAX)


def test_deep_erf_against_wide_networks():
    exact = _deep_exact("erf", 1.5, 0.5)
    Y = ns.sample_deep_mlp(sp.erf, 3, 300, DEEP_X, samples=2000, seed=5, sigma_W=1.5, sigma_b=0.5, chunk=16)
    mean, se = _mc_products(Y)
    assert np.all(np.abs((mean - exact) / se) < ZMAX), (exact, mean, se)


def rb_kernel_samples(f, depth, width, X, S, sw, sbv, seed):
    """Hand-written deep MLP (the convention of docs/conventions.md, "Deep networks", and DeepKernel); per
    network the readout is averaged out exactly:
    E[phi(x_i) phi(x_j) | hidden] = sb^2 + sw^2/N sum_k f(h_k(x_i)) f(h_k(x_j))."""
    rng = np.random.default_rng(seed)
    M, d = X.shape
    out = np.empty((S, len(DEEP_PAIRS)))
    I, J = np.array(DEEP_PAIRS).T
    for s in range(S):
        h = rng.normal(0, sw / math.sqrt(d), (width, d)) @ X.T + (rng.normal(0, sbv, (width, 1)) if sbv else 0)
        for _ in range(depth - 1):
            h = (rng.normal(0, sw / math.sqrt(width), (width, width)) @ f(h)
                 + (rng.normal(0, sbv, (width, 1)) if sbv else 0))
        F = f(h)
        out[s] = sbv**2 + sw**2 / width * np.sum(F[:, I] * F[:, J], axis=0)
    return out.mean(0), out.std(0, ddof=1) / math.sqrt(S)


def test_deep_relu_wide_networks_hand_sampler():
    """Width 1000, the readout averaged out (variance ~1/N): a sharper check of the same kernel."""
    for sbv in (0.0, 0.5):
        exact = _deep_exact("relu", 1.5, sbv)
        mean, se = rb_kernel_samples(relu_np, 3, 1000, DEEP_X, 80, 1.5, sbv, seed=6)
        assert np.all(np.abs((mean - exact) / se) < ZMAX), (sbv, exact, mean, se)
        assert np.all(se < 0.02 * exact)


def test_finite_width_deviation_is_visible_and_order_one_over_N():
    """ReLU, no bias, depth 3. At width 3 the off-diagonal E[phi(x) phi(y)] is far below the NNGP
    (|z| >> 5, 4e5 networks of ns.sample_deep_mlp), at width 1000 it is not (test above); the
    deviation times N is about constant between widths 5 and 20 (1/N).

    The diagonal K(x, x) has *no* finite-width correction for ReLU (with or without bias):
    z^{l+1}_i given layer l is a centred Gaussian, so E[relu(z)^2] = E[z^2]/2 exactly at any
    width, and E[z^{l+1}(x)^2] obeys the infinite-width recursion. The diagonal must agree."""
    exact = _deep_exact("relu", 1.5, 0.0)
    Y = ns.sample_deep_mlp(relu_sp, 3, 3, DEEP_X, samples=400_000, seed=7, sigma_W=1.5, sigma_b=0.0)
    mean, se = _mc_products(Y)
    z = (mean - exact) / se
    diag = [k for k, (i, j) in enumerate(DEEP_PAIRS) if i == j]
    off = [DEEP_PAIRS.index((0, 1)), DEEP_PAIRS.index((1, 2))]
    assert np.all(np.abs(z[diag]) < ZMAX), z
    assert np.all(z[off] < -ZMAX), z  # a large, negative 1/N correction
    # 1/N: N * deviation at widths 5 and 20 (hand sampler, readout averaged out)
    dev = {}
    for width, S in ((5, 60_000), (20, 20_000)):
        m, s = rb_kernel_samples(relu_np, 3, width, DEEP_X, S, 1.5, 0.0, seed=8)
        dev[width] = (width * (m - exact), width * s)
    for k in off:
        ratio = dev[5][0][k] / dev[20][0][k]
        assert 0.6 < ratio < 1.5, (dev, ratio)
        assert dev[20][0][k] < -5 * dev[20][1][k]


# ----------------------------------------------------------------------------- 5. NTK
@pytest.mark.parametrize("kind", ["relu", "erf"])
@pytest.mark.parametrize("d", [1, 2])
def test_single_layer_ntk_equals_recursion(kind, d):
    """ns.ntk by differentiation + the engine, in NTK parameterisation, = Theta^{(2)} of DeepKernel
    minus the output bias' sb^2, at any N (N drops out)."""
    f = PAIRS[kind][2]
    T = ns.ntk(ntk_param_net(f, d))
    assert T.is_exact and not T.expr.has(sp.Integral)
    assert N not in T.expr.free_symbols
    X = pair_points(200 + d, 8, d, scale=1.5)
    X[0, 1] = X[0, 0]
    got = T.evaluate(X, sigma_W=SW, sigma_b=SB, N=7) + SB**2
    np.testing.assert_allclose(got, ns.DeepKernel(f, 1, d).ntk.evaluate(X, sigma_W=SW, sigma_b=SB), rtol=1e-12)
    np.testing.assert_allclose(got, compose(*PAIRS[kind][:2], X[:, 0], X[:, 1], 1)[1], rtol=1e-12)


def _gram_pairs(Xp):
    return np.stack(np.broadcast_arrays(Xp[:, None, :], Xp[None, :, :]), axis=-2)


@pytest.mark.parametrize("which", ["relu-ntk-param", "erf-zoo"])
def test_empirical_ntk_mean_is_the_analytic_ntk(which):
    """E[empirical NTK] = ns.ntk(net) exactly, at finite N (here N = 6): |z| < 5 over 600 networks."""
    if which == "relu-ntk-param":
        net, d, values = ntk_param_net(relu_sp, 2), 2, dict(sigma_W=SW, sigma_b=SB, N=6)
    else:  # standard parameterisation with an output bias (+1 to the NTK)
        net, d, values = ns.zoo.erf_net(1), 1, dict(sigma_W=SW, sigma_b=SB, N=6)
    Xp = np.random.default_rng(9).normal(size=(3, d))
    exact = ns.ntk(net).evaluate(_gram_pairs(Xp), **values)
    S = 600
    draws = np.array([ns.empirical_ntk(net, Xp, seed=1000 + s, **values) for s in range(S)])
    assert np.allclose(draws, np.swapaxes(draws, 1, 2))
    mean, se = draws.mean(0), draws.std(0, ddof=1) / math.sqrt(S)
    z = (mean - exact) / se
    assert np.all(np.abs(z) < ZMAX), (exact, mean, se)
    assert np.all(se < 0.1 * np.abs(exact).max())


def test_empirical_ntk_concentrates_at_large_width():
    """One network of width 2e5: its empirical NTK is a symmetric PSD Gram matrix within ~1% of the
    analytic one (law of large numbers over neurons)."""
    net = ntk_param_net(sp.erf, 1)
    Xp = np.array([[-0.8], [0.3], [1.1]])
    exact = ns.ntk(net).evaluate(_gram_pairs(Xp), sigma_W=SW, sigma_b=SB, N=1)
    E = ns.empirical_ntk(net, Xp, seed=3, sigma_W=SW, sigma_b=SB, N=200_000)
    np.testing.assert_allclose(E, E.T, rtol=1e-12)
    assert np.all(np.linalg.eigvalsh(E) > -1e-12)
    np.testing.assert_allclose(E, exact, rtol=2e-2)


TRAIN_X = np.array([[-1.6], [-0.9], [-0.2], [0.5], [1.3]])
TRAIN_Y = np.sin(2 * TRAIN_X[:, 0]) + 0.3 * TRAIN_X[:, 0]
TEST_X = np.linspace(-2, 2, 9)[:, None]


def hand_ntk_relu_pair(a, b):
    """Theta(x, x') = sW^2 P(m) + sW^2 Pd(m) m(x, x') in d = 1 (the NTK-parameterised net above),
    elementwise in the scalar points a, b."""
    k12, k11, k22 = SB**2 + SW**2 * a * b, SB**2 + SW**2 * a * a, SB**2 + SW**2 * b * b
    return SW**2 * relu_P(k11, k12, k22) + SW**2 * relu_Pd(k11, k12, k22) * k12


def hand_ntk_relu(A, B):
    return hand_ntk_relu_pair(A[:, 0][:, None], B[:, 0][None, :])


def test_ntk_predict_frozen_kernel_regression():
    """Leung eq. 2.51 with Theta = ns.ntk(net): interpolates the data and equals numpy by hand."""
    theta = ns.ntk(ntk_param_net(relu_sp, 1))
    values = dict(sigma_W=SW, sigma_b=SB, N=10)
    T_hand = hand_ntk_relu(TRAIN_X, TRAIN_X)
    T = theta.evaluate(_gram_pairs(TRAIN_X), **values)
    Tt = theta.evaluate(np.stack(np.broadcast_arrays(TEST_X[:, None, :], TRAIN_X[None, :, :]), axis=-2), **values)
    off = ~np.eye(len(TRAIN_X), dtype=bool)
    np.testing.assert_allclose(T[off], T_hand[off], rtol=1e-12)
    np.testing.assert_allclose(np.diag(T), np.diag(T_hand), rtol=1e-8)  # arccos at t = 0 (see report)
    np.testing.assert_allclose(Tt, hand_ntk_relu(TEST_X, TRAIN_X), rtol=1e-12)
    at_train = ns.ntk_predict(theta, TRAIN_X, TRAIN_Y, TRAIN_X, **values)
    np.testing.assert_allclose(at_train, TRAIN_Y, rtol=0, atol=1e-9)
    got = ns.ntk_predict(theta, TRAIN_X, TRAIN_Y, TEST_X, **values)
    np.testing.assert_allclose(got, Tt @ np.linalg.solve(T, TRAIN_Y), rtol=1e-10, atol=1e-12)
    hand = hand_ntk_relu(TEST_X, TRAIN_X) @ np.linalg.solve(T_hand, TRAIN_Y)
    np.testing.assert_allclose(got, hand, rtol=1e-5, atol=1e-7)  # the 1e-8 diagonal times cond(T)
    # with the network at initialisation phi_0
    p0_tr, p0_te = 0.4 * np.cos(3 * TRAIN_X[:, 0]), 0.4 * np.cos(3 * TEST_X[:, 0])
    got0 = ns.ntk_predict(theta, TRAIN_X, TRAIN_Y, TEST_X, phi0_train=p0_tr, phi0_test=p0_te, **values)
    np.testing.assert_allclose(got0, p0_te + Tt @ np.linalg.solve(T, TRAIN_Y - p0_tr), rtol=1e-10, atol=1e-12)
    at_train0 = ns.ntk_predict(theta, TRAIN_X, TRAIN_Y, TRAIN_X, phi0_train=p0_tr, phi0_test=p0_tr, **values)
    np.testing.assert_allclose(at_train0, TRAIN_Y, rtol=0, atol=1e-9)
    # a plain callable kernel on (..., 2, d): exactly the hand computation
    call = lambda P, **_: hand_ntk_relu_pair(P[..., 0, 0], P[..., 1, 0])
    np.testing.assert_allclose(ns.ntk_predict(call, TRAIN_X, TRAIN_Y, TEST_X), hand, rtol=1e-10, atol=1e-12)


def hand_nngp_relu(A, B):
    """The ReLU kernel of docs/conventions.md, d = 1 (zoo.relu_net(1))."""
    a, b = A[:, 0][:, None], B[:, 0][None, :]
    k12, k11, k22 = SB**2 + SW**2 * a * b, SB**2 + SW**2 * a * a, SB**2 + SW**2 * b * b
    return SB**2 + SW**2 * relu_P(k11, k12, k22)


@pytest.mark.parametrize("noise", [0.0, 0.05])
def test_gp_posterior(noise):
    K = ns.zoo.relu_net(1).correlator(2)
    values = dict(sigma_W=SW, sigma_b=SB, N=4)
    mean, var = ns.gp_posterior(K, TRAIN_X, TRAIN_Y, TEST_X, noise=noise, **values)
    # the algebra, with nnsym's kernel values ...
    kern = lambda A, B: K.evaluate(np.stack(np.broadcast_arrays(A[:, None, :], B[None, :, :]), axis=-2), **values)
    for gram in (kern, hand_nngp_relu):
        Kxx = gram(TRAIN_X, TRAIN_X) + noise * np.eye(len(TRAIN_X))
        Ks = gram(TEST_X, TRAIN_X)
        ref_mean = Ks @ np.linalg.solve(Kxx, TRAIN_Y)
        ref_var = np.diag(gram(TEST_X, TEST_X)) - np.einsum("ij,ji->i", Ks, np.linalg.solve(Kxx, Ks.T))
        # ... exactly; with the hand-typed conventions kernel up to its 1e-8 diagonal times cond(K)
        tol = 1e-10 if gram is kern else 1e-4
        np.testing.assert_allclose(mean, ref_mean, rtol=tol, atol=tol)
        np.testing.assert_allclose(var, ref_var, rtol=tol, atol=tol)
    assert np.all(var > -1e-10)
    m_tr, v_tr = ns.gp_posterior(K, TRAIN_X, TRAIN_Y, TRAIN_X, noise=noise, **values)
    if noise == 0:
        np.testing.assert_allclose(m_tr, TRAIN_Y, rtol=0, atol=1e-9)
        np.testing.assert_allclose(v_tr, 0, atol=1e-9)
    else:  # noisy data: shrinks towards the prior mean, variance below the noise
        assert np.all(np.abs(m_tr - TRAIN_Y) > 0) and np.all((v_tr > 0) & (v_tr < noise))


# ----------------------------------------------------------------------------- 6. bad input
def test_bad_input():
    with pytest.raises(ValueError, match="depth"):
        ns.DeepKernel(relu_sp, 0, 2)
    with pytest.raises(ValueError, match="depth"):
        ns.DeepKernel(relu_sp, 1.5, 2)
    x = ns.Input("x", 1)
    w, a, c = ns.Normal("w", 0, 1), ns.Normal("a", 0, 1), ns.Normal("c", 0, 1)
    shared = ns.Network(sp.erf(w * x + c), readout=a, width=N, input=x, shared=(c,))
    with pytest.raises(NotImplementedError):
        ns.ntk(shared)
    K = ns.zoo.relu_net(1).correlator(2)
    with pytest.raises(ValueError, match="noise"):
        ns.gp_posterior(K, TRAIN_X, TRAIN_Y, TEST_X, noise=-0.1, sigma_W=SW, sigma_b=SB, N=4)


def test_inference_and_empirical_ntk_bad_input():
    net = ns.zoo.erf_net(1)
    vals = dict(sigma_W=1.0, sigma_b=0.5, N=4)
    with pytest.raises(ValueError, match=r"shape \(M, d\)"):
        ns.empirical_ntk(net, np.zeros((2, 3, 1)), **vals)
    theta = ns.ntk(net)
    with pytest.raises(ValueError, match="same d"):
        ns.ntk_predict(theta, np.zeros((3, 1)), np.zeros(2), np.zeros((2, 1)), **vals)
    with pytest.raises(ValueError, match="same d"):
        ns.ntk_predict(theta, np.zeros((3, 1)), np.zeros(3), np.zeros((2, 2)), **vals)
    with pytest.raises(TypeError, match="activation"):
        ns.DeepKernel("relu", 2, 1)
