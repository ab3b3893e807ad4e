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


# ------------------------------------------------------------------ Monte Carlo by layers (exact conditional Gaussians)
def layer_functions(spec):
    z = sp.Dummy("z", real=True)
    return [sp.lambdify([z], spec.activation_expr(l, z), modules=["scipy", "numpy"]) for l in range(1, spec.depth + 1)]


def hidden_covariances(spec, X, widths, S, rng, top):
    r"""Samples of :math:`\hat G^{(top)}` (S, M, M), the covariance of one neuron of layer ``top`` given the
    layers below, from S independent networks. Given layer l, the rows of z^(l+1) = W f(z^(l)) + b are i.i.d.
    N(0, C_b + (C_W/n_l) f(z^(l))^T f(z^(l))): each layer is drawn from that (exact in law, n M normals per
    layer instead of n^2 M weights). top = L + 1 gives the output's conditional covariance."""
    fs = layer_functions(spec)
    C = [(float(spec.sigma_W[l]) ** 2, float(spec.sigma_b[l]) ** 2) for l in range(spec.depth + 1)]
    M, d = X.shape
    G = np.broadcast_to(C[0][1] + C[0][0] * X @ X.T / d, (S, M, M))
    for l in range(1, top):
        w, U = np.linalg.eigh(G)  # G = R R^T, R = U sqrt(w): exact also when G is singular (ReLU, no bias)
        R = U * np.sqrt(np.clip(w, 0, None))[:, None, :]
        z = rng.standard_normal((S, widths[l - 1], M)) @ R.transpose(0, 2, 1)
        s = fs[l - 1](z)
        G = C[l][1] + C[l][0] / widths[l - 1] * np.einsum("snm,snk->smk", s, s)
    return G


def pairing_covariance(A, B, tuples):
    r""":math:`\sum_{\rm pairings}\mathrm{Cov}(A_{a_1a_2}, B_{a_3a_4})` at each 4-tuple from samples A, B (S, M, M)."""
    out = []
    for t in tuples:
        s = 0.0
        for (p, q), (r, u) in (((0, 1), (2, 3)), ((0, 2), (1, 3)), ((0, 3), (1, 2))):
            a, b = A[:, t[p], t[q]], B[:, t[r], t[u]]
            s = s + np.mean(a * b) - np.mean(a) * np.mean(b)
        out.append(s)
    return np.array(out)


def output_g4c(spec, X, n, S, seed, tuples):
    r"""The output's G_c^(4) of width-n networks with its jackknife error: the output is Gaussian given the last
    hidden layer with covariance \hat G^{(L+1)}, so G_c^(4) = sum_pairings Cov(\hat G, \hat G) exactly
    (the readout integrated analytically: an estimator whose relative error does not grow with n)."""
    rng = np.random.default_rng(seed)
    G = np.concatenate([hidden_covariances(spec, X, [n] * spec.depth, S // 10, rng, spec.depth + 1)
                        for _ in range(10)])
    return jackknife(lambda g: pairing_covariance(g, g, tuples), G)


def residual_fit(ns, res, errs):
    """Weighted fit res = a + b/n per column: (a, b, sigma_a, sigma_b, chi2)."""
    A = np.vstack([np.ones(len(ns)), 1 / np.asarray(ns, float)]).T
    out = []
    for k in range(res.shape[1]):
        w = 1 / errs[:, k]
        (a, b), *_ = np.linalg.lstsq(A * w[:, None], res[:, k] * w, rcond=None)
        cov = np.linalg.inv((A * w[:, None]).T @ (A * w[:, None]))
        chi2 = float(np.sum(((A @ [a, b] - res[:, k]) * w) ** 2))
        out.append((a, b, np.sqrt(cov[0, 0]), np.sqrt(cov[1, 1]), chi2))
    return out


def check_expansion(name, spec, X, widths, S, z_from, fit_from, seed=0):
    """LO G_c^(4) vs Monte Carlo over widths: |z| < 5 at widths >= z_from, and the residual n (MC - LO) fitted
    as a + b/n over widths >= fit_from with a consistent with 0 (5 sigma)."""
    lo1 = finite_width_expansion(spec, X).connected_four_point(TUPLES, n=1)  # equal widths: LO = lo1 / n
    res, errs = [], []
    for n in widths:
        est, err = output_g4c(spec, X, n, S, seed + n, TUPLES)
        z = (est - lo1 / n) / err
        print(f"{name} L={spec.depth} n={n}: LO {np.round(lo1 / n, 5)} MC {np.round(est, 5)} z {np.round(z, 1)}")
        assert np.all(np.isfinite(est)) and np.all(err > 0)
        if n >= z_from:
            assert np.all(np.abs(z) < 5), (name, spec.depth, n, z)
        res.append(n * (est - lo1 / n))
        errs.append(n * err)
    res, errs = np.array(res), np.array(errs)
    use = np.asarray(widths) >= fit_from
    for t, (a, b, sa, sb, chi2) in zip(TUPLES, residual_fit(np.asarray(widths)[use], res[use], errs[use])):
        print(f"  {name} L={spec.depth} {tuple(int(i) for i in t)}: n (MC - LO) = ({a:.4f} +- {sa:.4f})"
              f" + ({b:.3f} +- {sb:.3f})/n, chi2 {chi2:.1f}/{int(use.sum()) - 2}")
        assert abs(a) < 5 * sa, (name, spec.depth, tuple(t), a, sa)
    return res, errs


def test_expansion_against_layer_monte_carlo_tanh():
    # fast subset of the grid below: tanh, depth 3, three inputs, widths 32..128
    spec = DeepMLP(sp.tanh, depth=3, d=3, widths=16, sigma_W=1.2, sigma_b=0.3)
    check_expansion("tanh", spec, X3, [32, 64, 128], S=50_000, z_from=128, fit_from=32)


GRID = {  # activation, sigma_W, sigma_b, |z| < 5 checked where depth/width <= 1/ratio
    "relu": (RELU, np.sqrt(2), 0.0, 100),  # 1/n^2 term: 3 K^2 (25/2) L (L-1)/n^2 at one input (z 5.1: L=6, n=512)
    "tanh": (sp.tanh, 1.2, 0.3, 40),
    "erf": (sp.erf, 1.5, 0.2, 40),
}


@pytest.mark.slow
@pytest.mark.parametrize("name", list(GRID))
@pytest.mark.parametrize("depth", [2, 4, 6])
def test_expansion_against_monte_carlo_grid(name, depth):
    # widths 16..512: the residual n (MC - LO) = a + b/n with a = 0 (the fit uses depth/width <= 1/8, where the
    # expansion in depth/width is not yet broken down; every point is printed)
    act, sW, sb, ratio = GRID[name]
    spec = DeepMLP(act, depth=depth, d=3, widths=16, sigma_W=sW, sigma_b=sb)
    check_expansion(name, spec, X3, [16, 32, 64, 128, 256, 512], S=50_000, z_from=ratio * depth,
                    fit_from=8 * depth, seed=100 * depth)


# ------------------------------------------------------------------ the I_N / I_IB split of the output's G_c^(4)
def test_independence_split_structure():
    # I_N + I_IB = G_c; ReLU at one input by hand (V^(l+1) = 5 K^2 + (n_l/n_{l-1}) V^(l)): I_N = 15 K^2/n_L is the
    # last layer alone, I_IB = 15 K^2 (1/n_1 + ... + 1/n_{L-1}) is inherited; the lower widths move I_IB only
    spec = DeepMLP(RELU, depth=3, d=2, widths=[8, 64, 16], sigma_W=np.sqrt(2), sigma_b=0)
    fw = finite_width_expansion(spec, np.array([[0.6, -0.9]]))
    K = 2 * (0.36 + 0.81) / 2
    I_N, I_IB = fw.independence_split()
    assert abs(I_N[0, 0, 0, 0] - 15 * K**2 / 16) < 1e-9
    assert abs(I_IB[0, 0, 0, 0] - 15 * K**2 * (1 / 8 + 1 / 64)) < 1e-9
    for act, depth in ((sp.erf, 3), (sp.tanh, 2)):
        spec = DeepMLP(act, depth=depth, d=3, widths=32, sigma_W=1.5, sigma_b=0.2)
        fw = finite_width_expansion(spec, X3)
        I_N, I_IB = fw.independence_split()
        assert np.max(np.abs(I_N + I_IB - fw.connected_four_point())) < 1e-14
        assert np.all(np.abs(I_IB[0, 0, 0, 0]) > 1e-3)
        for l in fw.V:
            assert np.allclose(fw.V_single[l] + fw.V_propagated[l], fw.V[l], rtol=0, atol=1e-15)
        # halving the lower widths n_1..n_{L-1} (V^(L) unchanged: equal ratios below) doubles I_IB and leaves
        # I_N alone (I_N is the last layer's, at K^(L))
        I_N2, I_IB2 = finite_width_expansion(spec, X3, widths=[16] * (depth - 1) + [32]).independence_split(TUPLES)
        a, b = fw.independence_split(TUPLES)
        assert np.allclose(I_N2, a, rtol=1e-12, atol=0) and np.allclose(I_IB2, 2 * b, rtol=1e-12, atol=0)
        sub = fw.independence_split(TUPLES)
        assert np.allclose(sub[0] + sub[1], fw.connected_four_point(TUPLES), rtol=0, atol=1e-14)
    with pytest.raises(ValueError, match="indices"):
        fw.independence_split(np.array([[0, 1, 2]]))


@pytest.mark.parametrize("act", [RELU, sp.erf], ids=["relu", "erf"])
def test_independence_split_depth_one_is_all_finite_width(act):
    # one hidden layer: the neurons are i.i.d., I_IB = 0 and I_N is the exact single-layer G_c^(4)
    N = sp.Symbol("N", positive=True, integer=True)
    spec = DeepMLP(act, depth=1, d=3, widths=N, sigma_W=1.3, sigma_b=0.4)
    fw = finite_width_expansion(spec, X3, N=10)
    I_N, I_IB = fw.independence_split(TUPLES)
    assert np.all(I_IB == 0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        G = spec.network().correlator(4, connected=True).evaluate(X3[TUPLES], N=10)
    assert np.max(np.abs(I_N - G)) < 1e-7


def last_layer(spec, X, n, S, neurons, rng):
    """f(z^(L)) of `neurons` last-layer neurons sharing one lower network, for S networks: (S, neurons, M)."""
    G = hidden_covariances(spec, X, [n] * spec.depth, S, rng, spec.depth)
    w, U = np.linalg.eigh(G)
    R = U * np.sqrt(np.clip(w, 0, None))[:, None, :]
    return layer_functions(spec)[-1](rng.standard_normal((S, neurons, X.shape[0])) @ R.transpose(0, 2, 1))


PAIRINGS = (((0, 1), (2, 3)), ((0, 2), (1, 3)), ((0, 3), (1, 2)))


def test_independence_split_against_monte_carlo():
    # erf, depth 2, width 32. I_N from the independent twin: single last-layer neurons, each on its own lower
    # network, N kappa_4(a h) = (C_W^2/n_L) sum_pairings Cov(h_A, h_B). I_IB from pairs i != j of last-layer
    # neurons of one network, N(N-1) E[a^2]^2 sum_pairings (E[h_i(A) h_j(B)] - E[h_A] E[h_B]). G_c from whole
    # networks. Each against the leading order, and the exact identity G_c = I_N + I_IB between the three MCs.
    n, CW = 32, 1.5**2
    spec = DeepMLP(sp.erf, depth=2, d=3, widths=n, sigma_W=1.5, sigma_b=0.2)
    I_N, I_IB = finite_width_expansion(spec, X3).independence_split(TUPLES)
    rng = np.random.default_rng(7)

    def twin(lower):  # single last-layer neurons, each on its own lower network of width `lower`
        h = np.concatenate([last_layer(spec, X3, lower, 100_000, 1, rng)[:, 0] for _ in range(4)])
        H = h[:, :, None] * h[:, None, :]
        return jackknife(lambda g: CW**2 / n * pairing_covariance(g, g, TUPLES), H)

    mc_N, err_N = twin(n)
    # the twin's exact I_N differs from the leading order by O(1/n_1) (one neuron's law is N(0, K^(2)) only up
    # to O(1/n_1)): ~0.6% at n_1 = 32, visible (z ~ 6) at 8e5 neurons; the check against the leading order
    # uses n_1 = 64 (the leading order does not depend on n_1), the identity below the real widths
    mc_N64, err_N64 = twin(2 * n)
    feats = []  # per network: the pair products and the one-neuron products of each pairing
    for _ in range(8):
        hs = last_layer(spec, X3, n, 10_000, n, rng)  # (S, n, M)
        f = np.empty((hs.shape[0], len(TUPLES), 3, 3))
        for k, t in enumerate(TUPLES):
            for q, (A, B) in enumerate(PAIRINGS):
                uA = hs[:, :, t[A[0]]] * hs[:, :, t[A[1]]]
                uB = hs[:, :, t[B[0]]] * hs[:, :, t[B[1]]]
                f[:, k, q] = np.stack([(uA.sum(1) * uB.sum(1) - (uA * uB).sum(1)) / (n * (n - 1)),
                                       uA.mean(1), uB.mean(1)], -1)
        feats.append(f)
    feats = np.concatenate(feats)

    def breaking(f):
        m = f.mean(0)
        return (n - 1) / n * CW**2 * np.sum(m[:, :, 0] - m[:, :, 1] * m[:, :, 2], axis=1)

    mc_IB, err_IB = jackknife(breaking, feats)
    mc_G, err_G = output_g4c(spec, X3, n, 200_000, 3, TUPLES)
    zN, zIB = (mc_N64 - I_N) / err_N64, (mc_IB - I_IB) / err_IB
    zsum = (mc_G - mc_N - mc_IB) / np.sqrt(err_G**2 + err_N**2 + err_IB**2)
    print("I_N  LO", np.round(I_N, 5), "MC (n_1 = 64)", np.round(mc_N64, 5), "z", np.round(zN, 1),
          "MC (n_1 = 32)", np.round(mc_N, 5), "z", np.round((mc_N - I_N) / err_N, 1))
    print("I_IB LO", np.round(I_IB, 5), "MC", np.round(mc_IB, 5), "z", np.round(zIB, 1))
    print("G_c MC", np.round(mc_G, 5), "vs I_N + I_IB MC: z", np.round(zsum, 1))
    assert np.all(np.abs(zN) < 5) and np.all(np.abs(zIB) < 5) and np.all(np.abs(zsum) < 5)
    assert np.min(np.abs(mc_IB[[0, 1, 4]]) / err_IB[[0, 1, 4]]) > 5  # the MC sees the independence breaking


# ------------------------------------------------------------------ closed-form moments (all inputs at once)
LEAKY = lambda z: sp.Max(z, z / 5)  # noqa: E731
X4 = np.array([[1.0, 0.3, -0.2], [0.2, -1.0, 0.5], [0.4, 0.4, 1.0], [-0.7, 0.5, 0.3]])


@pytest.mark.parametrize("act, sW, sb", [(RELU, np.sqrt(2), 0.1), (sp.erf, 1.3, 0.2), (LEAKY, 1.2, 0.3)],
                         ids=["relu", "erf", "leaky"])
def test_closed_form_moments_agree_with_quadrature(act, sW, sb):
    """Two independent routes to every Gaussian expectation of the recursion: the closed-form backend
    (Price derivatives of the engine's pair form, integration by parts / the four-sign integral for the
    4-point moments) and the panel quadrature of each entry; they agree within their stated errors."""
    spec = DeepMLP(act, depth=2, d=3, widths=32, sigma_W=sW, sigma_b=sb)  # V^(3) has both parts
    closed = finite_width_expansion(spec, X4, method="closed")
    quad = finite_width_expansion(spec, X4, method="quadrature")
    assert closed.method == "closed" and quad.method == "quadrature"
    assert 0 < closed.error < 1e-6 and quad.error < 1e-3
    tol = closed.error + quad.error + 1e-12
    for l in range(1, 4):
        assert np.max(np.abs(closed.K[l] - quad.K[l])) <= tol
        assert np.max(np.abs(closed.K1[l] - quad.K1[l])) <= tol
        assert np.max(np.abs(closed.V[l] - quad.V[l])) <= tol
    assert np.max(np.abs(closed.V_propagated[3])) > 0.01 and np.max(np.abs(closed.K1[3])) > 0.01  # not zeros


def test_closed_form_error_bounds_a_finer_rule(monkeypatch):
    """The closed-form backend's stated error (two orders of the four-sign integral carried up the layers)
    bounds its distance to the same recursion with a much finer four-sign rule."""
    import nnsym.analysis.finite_width as fwmod

    X = np.random.default_rng(3).normal(size=(7, 4))
    spec = DeepMLP(RELU, depth=5, d=4, widths=64, sigma_W=np.sqrt(2), sigma_b=0.0)
    fw = finite_width_expansion(spec, X)
    monkeypatch.setattr(fwmod._ClosedMoments, "NODES", (30, 24))
    fine = finite_width_expansion(spec, X)
    real = max(np.max(np.abs(fw.V[l] - fine.V[l])) for l in fw.V)
    real = max(real, max(np.max(np.abs(fw.K1[l] - fine.K1[l])) for l in fw.K1))
    assert fw.method == "closed" and 0 < real <= fw.error
    assert fine.error < fw.error


def test_linearly_dependent_inputs_fall_back_to_quadrature():
    """Four inputs in d = 2 without bias: the layer-1 Gaussian is degenerate for every 4-tuple (no density);
    those moments go to the quadrature, which handles singular covariances, and the result still agrees."""
    X = np.array([[1.0, 0.2], [0.3, -1.0], [-0.6, 0.8], [0.9, 0.9]])
    spec = DeepMLP(RELU, depth=2, d=2, widths=16, sigma_W=np.sqrt(2), sigma_b=0.0)
    closed = finite_width_expansion(spec, X)
    quad = finite_width_expansion(spec, X, method="quadrature")
    assert closed.method == "closed"
    assert np.max(np.abs(closed.V[3] - quad.V[3])) <= closed.error + quad.error + 1e-12


def test_keep_output_and_pair_tensor():
    spec = DeepMLP(sp.erf, depth=3, d=3, widths=16, sigma_W=1.5, sigma_b=0.1)
    full = finite_width_expansion(spec, X4, keep="all")
    out = finite_width_expansion(spec, X4, keep="output")
    assert sorted(full.V) == [1, 2, 3, 4] and sorted(out.V) == [4] and sorted(out.K) == [1, 2, 3, 4]
    assert np.array_equal(full.V[4], out.V[4])
    V = out.V[4]
    assert np.allclose(V, V.transpose(1, 0, 2, 3)) and np.allclose(V, V.transpose(2, 3, 0, 1))
    idx = np.array([(0, 1, 2, 3), (3, 3, 1, 0), (2, 2, 2, 2)])
    assert np.array_equal(out.V.at(4, *idx.T), V[tuple(idx.T)])
    pid = out.V.pair_index
    assert out.V.pairs(4)[pid[0, 1], pid[2, 3]] == V[0, 1, 2, 3]
    assert np.allclose(out.connected_four_point(idx, n=16), full.connected_four_point(n=16)[tuple(idx.T)])
    with pytest.raises(KeyError):
        out.V[2]
    auto = finite_width_expansion(DeepMLP(sp.erf, depth=1, d=3, widths=8, sigma_W=1.0, sigma_b=0.1),
                                  np.random.default_rng(0).normal(size=(45, 3)))
    assert sorted(auto.V) == [2]  # more than 44 inputs: only the output layer is kept


def test_finite_width_correlator_is_the_expansion_at_the_points():
    n = sp.Symbol("n", positive=True, integer=True)
    spec = DeepMLP(sp.erf, depth=2, d=3, widths=n, sigma_W=1.4, sigma_b=0.2)
    fw = finite_width_expansion(spec, X4, n=24)
    idx = np.array([(0, 1, 2, 3), (1, 1, 2, 2), (3, 0, 3, 0)])
    pts = X4[idx]  # (3, 4, 3): three 4-point sets
    G4c = ns_correlator(spec, 4)
    vals, err = G4c.evaluate(pts, n=24, error=True)
    assert vals.shape == (3,) and 0 <= err < 1e-6
    assert np.allclose(vals, fw.connected_four_point(idx, n=24), rtol=1e-10, atol=1e-14)
    G2 = fw.two_point(24)
    full = ns_correlator(spec, 4, connected=False).evaluate(pts, n=24)
    a1, a2, a3, a4 = idx.T
    assert np.allclose(full, vals + G2[a1, a2] * G2[a3, a4] + G2[a1, a3] * G2[a2, a4] + G2[a1, a4] * G2[a2, a3])
    two = ns_correlator(spec, 2).evaluate(X4[np.array([[0, 1], [2, 2]])], n=24)
    assert np.allclose(two, [G2[0, 1], G2[2, 2]])
    N = sp.Symbol("N", positive=True, integer=True)  # the width by value: n_L = N = 24
    by_value = ns_correlator(spec.replace(widths=N), 4).evaluate(pts, N=24)
    assert np.allclose(by_value, vals, rtol=1e-12, atol=1e-15)
    with pytest.raises(ValueError, match="points must be 2 or 4"):
        ns_correlator(spec, 3)
    with pytest.raises(ValueError, match="shape"):
        G4c.evaluate(X4[:3], n=24)
    with pytest.raises(TypeError, match="did you mean 'sigma_W'"):
        finite_width_expansion(DeepMLP(sp.erf, depth=2, d=3, widths=8), X4, sigmaW=1.0, sigma_b=0.1)
    with pytest.raises(ValueError, match="method"):
        finite_width_expansion(spec, X4, method="exact", n=8)
    with pytest.raises(ValueError, match="keep"):
        finite_width_expansion(spec, X4, keep="last", n=8)
    with pytest.raises(ValueError, match="closed"):
        finite_width_expansion(DeepMLP(sp.tanh, depth=2, d=3, widths=8, sigma_W=1.0, sigma_b=0.1), X4,
                               method="closed")


def ns_correlator(spec, points, connected=True):
    from nnsym import finite_width_correlator

    return finite_width_correlator(spec, points, connected)
