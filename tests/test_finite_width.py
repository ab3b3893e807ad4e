"""The leading 1/n expansion of deep MLPs (nnsym.analysis.finite_width): checked against the exact
single-layer correlators, hand derivations (ReLU at one input), finite differences of closed-form
kernels, and Monte Carlo from the same DeepMLP spec."""
import warnings

import numpy as np
import pytest
import sympy as sp

from nnsym.analysis.finite_width import finite_width_expansion
from nnsym.model.deep import DeepMLP

RELU = lambda z: sp.Max(0, z)  # noqa: E731
X3 = np.array([[1.0, 0.3, -0.2], [0.2, -1.0, 0.5], [0.4, 0.4, 1.0]])
TUPLES = np.array([(0, 0, 0, 0), (0, 0, 1, 1), (0, 1, 2, 2), (0, 1, 1, 2), (2, 2, 2, 2)])


def g4c(phi, idx):
    """Connected 4-point function of zero-mean samples phi (S, M) at one index tuple."""
    a, b, c, d = idx
    E = lambda *k: np.mean(np.prod(phi[:, list(k)], axis=1))  # noqa: E731
    return E(a, b, c, d) - E(a, b) * E(c, d) - E(a, c) * E(b, d) - E(a, d) * E(b, c)


def jackknife(stat, phi, blocks=20):
    """(estimate, jackknife standard error) of stat(phi)."""
    parts = np.array_split(np.arange(phi.shape[0]), blocks)
    loo = np.array([stat(np.delete(phi, p, axis=0)) for p in parts])
    return stat(phi), np.sqrt((blocks - 1) / blocks * np.sum((loo - loo.mean(0)) ** 2, axis=0))


# ------------------------------------------------------------------ exact at depth 1
@pytest.mark.parametrize("act", [RELU, sp.erf], ids=["relu", "erf"])
def test_depth_one_equals_exact_single_layer_network(act):
    N = sp.Symbol("N", positive=True, integer=True)
    spec = DeepMLP(act, depth=1, d=3, widths=N, sigma_W=1.3, sigma_b=0.4)
    fw = finite_width_expansion(spec, X3, N=10)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the engine's NumericWarning for the 4-point moment
        G = spec.network().correlator(4, connected=True).evaluate(X3[TUPLES], N=10)
        G2 = spec.network().correlator(2).evaluate(X3[np.array([(0, 1), (1, 1), (0, 2)])], N=10)
    assert np.max(np.abs(fw.connected_four_point(TUPLES) - G)) < 1e-7
    assert np.max(np.abs(fw.two_point()[[0, 1, 0], [1, 1, 2]] - G2)) < 1e-9  # K1 = 0 at depth 1
    assert fw.error < 1e-5


# ------------------------------------------------------------------ hand derivation: ReLU at one input
@pytest.mark.parametrize("widths", [[32, 32, 32], [8, 64, 16]])
def test_relu_single_input_matches_hand_derivation(widths):
    # Without bias, G^(l+1) = (C_W/n_l) sum_j relu(z_j)^2 = G^(l) (2/n_l) sum_j chi_j, chi = relu(g)^2,
    # E chi = 1/2, E chi^2 = 3/2, so E[G^2] = K^2 prod_l (1 + 5/n_l): the leading G_c^(4) = 3 K^2 sum_l 5/n_l,
    # V^(l+1) = 5 K^2 + (n_l/n_{l-1}) V^(l), and E[G] = K exactly (K1 = 0).
    spec = DeepMLP(RELU, depth=3, d=2, widths=widths, sigma_W=np.sqrt(2), sigma_b=0)
    fw = finite_width_expansion(spec, np.array([[0.6, -0.9]]))
    K = 2 * (0.36 + 0.81) / 2
    n = widths
    assert abs(fw.connected_four_point()[0, 0, 0, 0] - 3 * K**2 * sum(5 / m for m in n)) < 1e-9
    V = 0.0
    for l in range(1, 4):
        V = 5 * K**2 + (n[l - 1] / n[l - 2] if l > 1 else 1) * V
        assert abs(fw.V[l + 1][0, 0, 0, 0] - V) < 1e-9
    assert abs(fw.K1[4][0, 0]) < 1e-9 and abs(fw.K[4][0, 0] - K) < 1e-12


# ------------------------------------------------------------- derivative expectations vs finite differences
def test_recursion_is_the_delta_method_on_the_arcsine_kernel():
    # V^(3) and K1^(3) of an erf network at two inputs from the recursion (Stein-lemma derivatives)
    # against the delta method on the closed-form kernel map K -> C_b + C_W (2/pi) arcsin(...)
    # with finite-difference Jacobian and Hessian.
    sW, sb = 1.4, 0.3
    CW, Cb = sW**2, sb**2
    X = np.array([[1.0, 0.5], [-0.3, 0.8]])
    spec = DeepMLP(sp.erf, depth=2, d=2, widths=16, sigma_W=sW, sigma_b=sb)
    fw = finite_width_expansion(spec, X)

    def kmap(k):  # (k11, k12, k22) -> next layer, closed form
        k11, k12, k22 = k
        P = lambda a, b, c: 2 / np.pi * np.arcsin(2 * c / np.sqrt((1 + 2 * a) * (1 + 2 * b)))  # noqa: E731
        return np.array([Cb + CW * P(k11, k11, k11), Cb + CW * P(k11, k22, k12), Cb + CW * P(k22, k22, k22)])

    K2 = fw.K[2]
    k = np.array([K2[0, 0], K2[0, 1], K2[1, 1]])
    h = 1e-4
    J = np.array([(kmap(k + h * e) - kmap(k - h * e)) / (2 * h) for e in np.eye(3)]).T
    H = np.array([[[(kmap(k + h * (e + f)) - kmap(k + h * (e - f)) - kmap(k - h * (e - f)) + kmap(k - h * (e + f)))[i]
                    / (4 * h * h) for f in np.eye(3)] for e in np.eye(3)] for i in range(3)])
    pairs = [(0, 0), (0, 1), (1, 1)]
    V2 = np.array([[fw.V[2][a, b, c, d] for (c, d) in pairs] for (a, b) in pairs])
    # delta method: Cov(dK') = J Cov(dK) J^T, E[dK'] = J E[dK] + 1/2 tr(H Cov(dK)); plus the fresh layer term
    V3 = np.array([[fw.V[3][a, b, c, d] for (c, d) in pairs] for (a, b) in pairs])
    # V^(3) = (fresh 4-point term of layer 2) + (n_2/n_1) J V^(2) J^T: doubling the ratio adds J V^(2) J^T
    fw2 = finite_width_expansion(spec.replace(widths=[8, 16]), X)
    V3b = np.array([[fw2.V[3][a, b, c, d] for (c, d) in pairs] for (a, b) in pairs])
    assert np.max(np.abs((V3b - V3) - J @ V2 @ J.T)) < 1e-6
    K13 = np.array([fw.K1[3][a, b] for (a, b) in pairs])
    assert np.max(np.abs(K13 - 0.5 * np.einsum("ijk,jk->i", H, V2))) < 1e-5
    assert abs(K13[1]) > 1e-3  # not trivially zero


# ------------------------------------------------------------------ Monte Carlo from the same spec
MC_CASES = [  # activation, sigma_W, sigma_b, depth, width, samples
    ("relu", RELU, np.sqrt(2), 0.0, 2, 64, 200_000),
    ("tanh", sp.tanh, 1.2, 0.3, 3, 16, 200_000),
    ("erf", sp.erf, 1.5, 0.2, 2, 16, 200_000),
]


@pytest.mark.parametrize("name,act,sW,sb,depth,n,S", MC_CASES, ids=[c[0] for c in MC_CASES])
def test_four_point_vertex_against_monte_carlo(name, act, sW, sb, depth, n, S):
    spec = DeepMLP(act, depth=depth, d=3, widths=n, sigma_W=sW, sigma_b=sb)
    lo = finite_width_expansion(spec, X3).connected_four_point(TUPLES)
    phi = spec.sample(X3, samples=S, seed=11)
    est, err = jackknife(lambda p: np.array([g4c(p, t) for t in TUPLES]), phi)
    z = (est - lo) / err
    print(name, "LO", np.round(lo, 4), "MC", np.round(est, 4), "+-", np.round(err, 4), "z", np.round(z, 2))
    assert np.all(np.abs(z) < 5)
    assert np.max(np.abs(est) / err) > 5  # the MC does see a non-Gaussian output


def test_unequal_widths_enter_through_the_ratio():
    # widths (8, 64): the vertex of layer 2 is carried to the output with the factor n_2/n_1 = 8;
    # Monte Carlo must tell it from the equal-width value (the same network with the ratio dropped).
    spec = DeepMLP(sp.tanh, depth=2, d=3, widths=[8, 64], sigma_W=1.5, sigma_b=0.2)
    lo = finite_width_expansion(spec, X3).connected_four_point(TUPLES)
    no_ratio = finite_width_expansion(spec, X3, widths=[64, 64]).connected_four_point(TUPLES)
    phi = spec.sample(X3, samples=300_000, seed=5)
    est, err = jackknife(lambda p: np.array([g4c(p, t) for t in TUPLES]), phi)
    print("LO", np.round(lo, 4), "equal-width LO", np.round(no_ratio, 4),
          "MC", np.round(est, 4), "+-", np.round(err, 4))
    assert np.all(np.abs(est - lo) < 5 * err)
    assert np.max(np.abs(est - no_ratio) / err) > 5


def test_two_point_correction_at_small_width():
    # n = 8, depth 3: K alone is visibly off; K + K1/n agrees with Monte Carlo
    spec = DeepMLP(sp.tanh, depth=3, d=3, widths=8, sigma_W=1.5, sigma_b=0.3)
    fw = finite_width_expansion(spec, X3)
    phi = spec.sample(X3, samples=200_000, seed=3)
    ab = [(0, 0), (0, 1), (1, 2), (2, 2)]
    est, err = jackknife(lambda p: np.array([np.mean(p[:, a] * p[:, b]) for a, b in ab]), phi)
    K = np.array([fw.K[4][a, b] for a, b in ab])
    G = np.array([fw.two_point()[a, b] for a, b in ab])
    print("K", np.round(K, 4), "K+K1/n", np.round(G, 4), "MC", np.round(est, 4), "+-", np.round(err, 4))
    assert np.all(np.abs(est - G) < 5 * err)
    assert np.max(np.abs(est - K) / err) > 7


def test_four_inputs_and_error_estimate():
    X = np.array([[1.0, 0.2, 0.0, -0.3], [0.1, 1.0, 0.4, 0.0], [0.0, -0.5, 1.0, 0.2], [0.3, 0.0, -0.2, 1.0]])
    spec = DeepMLP(sp.erf, depth=2, d=4, widths=32, sigma_W=1.2, sigma_b=0.3)
    fw = finite_width_expansion(spec, X)
    G = fw.connected_four_point()
    assert G.shape == (4, 4, 4, 4)
    assert np.allclose(G, G.transpose(1, 0, 2, 3)) and np.allclose(G, G.transpose(2, 3, 0, 1))
    assert np.allclose(G, G.transpose(0, 2, 1, 3))
    assert fw.error < 1e-6
    assert fw.connected_four_point(np.array([[0, 1, 2, 3]]))[0] == G[0, 1, 2, 3]


def test_bad_input():
    spec = DeepMLP(sp.erf, depth=2, d=2, widths=8, sigma_W=1.0, sigma_b=0.0)
    with pytest.raises(ValueError, match="shape"):
        finite_width_expansion(spec, np.ones((3, 3)))
    with pytest.raises(ValueError, match="singular"):
        finite_width_expansion(spec, np.array([[1.0, 0.0], [1.0, 0.0]]))
    with pytest.raises(ValueError, match="n_L"):
        finite_width_expansion(spec.replace(widths=None), np.eye(2)).two_point()
    with pytest.raises(TypeError, match="DeepMLP"):
        finite_width_expansion("net", np.eye(2))


@pytest.mark.slow
def test_residual_shrinks_like_one_over_n():
    # ReLU at one input, depth 2: n (MC - LO) -> 0 like 1/n (exactly 3 K^2 (25/n) for depth 2).
    spec = DeepMLP(RELU, depth=2, d=2, widths=8, sigma_W=np.sqrt(2), sigma_b=0)
    x = np.array([[1.0, 0.0]])
    ns, res, errs = [8, 16, 32], [], []
    for n in ns:
        lo = finite_width_expansion(spec, x, widths=n).connected_four_point()[0, 0, 0, 0]
        phi = spec.sample(x, samples=1_000_000, seed=n, widths=n)
        est, err = jackknife(lambda p: g4c(p, (0, 0, 0, 0)), phi)
        res.append(n * (est - lo))
        errs.append(n * err)
    A = np.vstack([np.ones(3), 1 / np.array(ns)]).T / np.array(errs)[:, None]
    (a, b), *_ = np.linalg.lstsq(A, np.array(res) / np.array(errs), rcond=None)
    print("n (MC - LO):", np.round(res, 3), "+-", np.round(errs, 3), f"fit: {a:.3f} + {b:.2f}/n (exact 0 + 75/n)")
    assert abs(a) < 5 * np.sqrt(np.linalg.inv(A.T @ A)[0, 0])
    assert abs(b - 75.0) < 5 * np.sqrt(np.linalg.inv(A.T @ A)[1, 1])
