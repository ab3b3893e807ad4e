"""Exact finite-width moments of deep MLPs (nnsym.analysis.deep_exact).

Each exact result is checked two independent ways:

* a hand derivation typed in the test (chi-square moments of the layer norms; Wick over the
  neurons of one layer written out for one factor pair; the binomial mixture of chi-squares for
  ReLU and leaky ReLU), none of which uses the module's set-partition machinery;
* Monte Carlo of real networks drawn by the same spec (``DeepMLP.sample``), fixed seeds,
  |z| < 5 with the standard error across networks,

at small widths (n = 2..8), where the leading 1/n expansion is visibly wrong.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp

from nnsym.analysis.deep_exact import (
    exact_moments,
    exact_output_moment,
    gram_moment_step,
    gram_symbol,
    input_product_symbol,
)
from nnsym.errors import NoClosedForm
from nnsym.model.deep import DeepMLP

ZMAX = 5.0
linear = lambda z: z
relu = lambda z: sp.Max(0, z)
n, n1, n2, n3 = sp.symbols("n n1 n2 n3", positive=True, integer=True)
CW0, CW1, CW2, Cb0, Cb1 = sp.symbols("C_W0 C_W1 C_W2 C_b0 C_b1", positive=True)
d = sp.Symbol("d", positive=True, integer=True)


def mc_z(values: np.ndarray, exact) -> float:
    """z-score of the Monte Carlo mean of ``values`` (one per sampled network) against ``exact``."""
    mean, se = values.mean(), values.std(ddof=1) / math.sqrt(len(values))
    z = (mean - float(exact)) / se
    print(f"MC {mean:.6g} +- {se:.3g} vs {float(exact):.6g}: z = {z:+.2f}")   # shown with pytest -s
    return z


def chi2_moment(J, k: int):
    """E[(chi^2_J)^k] = J (J + 2) ... (J + 2k - 2)."""
    return sp.Mul(*[J + 2 * i for i in range(k)])


def relu_Q_moment(width: int, k: int):
    """E[Q^k], Q = sum_{i<=n} relu(g_i)^2: a chi^2 with a Binomial(n, 1/2) number of degrees of freedom."""
    return sum(sp.binomial(width, J) * chi2_moment(J, k) for J in range(width + 1)) / sp.Integer(2) ** width


# ----------------------------------------------------------------------------- deep linear networks
def test_linear_depth1_phi4_hand_symbolic():
    # Given layer 1, phi ~ N(0, G2), G2 = C_b1 + (C_W1/n) sum_i z_i^2, z_i i.i.d. N(0, K1),
    # K1 = C_b0 + C_W0 x^2/d; E[(sum z_i^2)^2] = K1^2 (n^2 + 2n)  (chi^2_n: n(n+2)), so
    # E[phi^4] = 3 E[G2^2] = 3 (C_b1^2 + 2 C_b1 C_W1 K1 + C_W1^2 K1^2 (1 + 2/n)).
    spec = DeepMLP(linear, 1, d, widths=n, sigma_W=[sp.sqrt(CW0), sp.sqrt(CW1)],
                   sigma_b=[sp.sqrt(Cb0), sp.sqrt(Cb1)])
    xx = input_product_symbol(1, 1)
    K1 = Cb0 + CW0 * xx / d
    hand = 3 * (Cb1 ** 2 + 2 * Cb1 * CW1 * K1 + CW1 ** 2 * K1 ** 2 * (1 + 2 / n))
    assert sp.simplify(exact_moments(spec, 4, at=(0, 0, 0, 0)) - hand) == 0
    # no biases: 3 (C_W0 C_W1 x^2/d)^2 (1 + 2/n)
    spec0 = spec.replace(sigma_b=0)
    assert sp.simplify(exact_moments(spec0, 4, at=(0, 0, 0, 0)) - 3 * (CW0 * CW1 * xx / d) ** 2 * (1 + 2 / n)) == 0
    # and the 2-point function is the NNGP one at any width
    assert sp.simplify(exact_moments(spec, 2, at=(0, 0)) - (Cb1 + CW1 * K1)) == 0
    assert exact_moments(spec, 3, at=(0, 0, 0)) == 0


def test_linear_depth3_phi4_unequal_widths_hand():
    # Without biases the layer variances multiply: s_{l+1}^2 = (C_W/n_l) s_l^2 chi^2_{n_l}, independent
    # chi-squares, so E[phi^4] = 3 s_1^4 prod_l C_W^2 (n_l + 2)/n_l.
    spec = DeepMLP(linear, 3, 2, widths=[n1, n2, n3], sigma_W=[1, 2, 3, sp.Rational(1, 2)], sigma_b=0)
    xx = input_product_symbol(1, 1)
    hand = 3 * (xx / 2) ** 2 * (4 * 9 * sp.Rational(1, 4)) ** 2 * sp.Mul(*[(m + 2) / m for m in (n1, n2, n3)])
    assert sp.simplify(exact_moments(spec, 4, at=(0, 0, 0, 0)) - hand) == 0
    # phi^6: (5!!) s_1^6 prod_l C_W^3 (n_l + 2)(n_l + 4)/n_l^2
    hand6 = 15 * (xx / 2) ** 3 * 9 ** 3 * sp.Mul(*[(m + 2) * (m + 4) / m ** 2 for m in (n1, n2, n3)])
    assert sp.simplify(exact_moments(spec, 6, at=(0,) * 6) - hand6) == 0


def four_point_pairings(K, a, b, c, e):
    return K[a, b] * K[c, e] + K[a, c] * K[b, e] + K[a, e] * K[b, c]


def test_linear_four_point_distinct_inputs_hand():
    # One layer without biases: E[G_ab G_ce] = C_W^2 [K_ab K_ce + (K_ac K_be + K_ae K_bc)/n] (the n(n-1)
    # distinct and n coincident neuron pairs), so the sum over the three pairings picks up (1 + 2/n);
    # layer by layer the 4-point function is prod_l C_W^2 (1 + 2/n_l) times its Gaussian value.
    X = [[1, 0, 2], [0, 1, -1], [1, 1, 1], [2, -1, 0]]
    spec = DeepMLP(linear, 3, 3, widths=[n1, n2, n3], sigma_W=[1, 2, 1, 3], sigma_b=0)
    K = sp.Matrix(X) * sp.Matrix(X).T / 3
    hand = (4 * 9) ** 2 * four_point_pairings(K, 0, 1, 2, 3) * sp.Mul(*[(1 + 2 / m) for m in (n1, n2, n3)])
    assert sp.simplify(exact_moments(spec, 4, X=X) - hand) == 0
    # two inputs, each twice: the same rule with K's repeated labels
    hand2 = 36 ** 2 * four_point_pairings(K, 0, 0, 1, 1) * sp.Mul(*[(1 + 2 / m) for m in (n1, n2, n3)])
    assert sp.simplify(exact_moments(spec, 4, X=X, at=(0, 0, 1, 1)) - hand2) == 0


def test_linear_four_point_two_inputs_with_biases_hand():
    # Depth 1 with biases: G_ab = C_b1 + (C_W1/n) sum_i z_i(a) z_i(b), z_i ~ N(0, K), so by Wick over the
    # n(n-1) distinct and n coincident neuron pairs
    # E[G_ab G_ce] = C_b1^2 + C_b1 C_W1 (K_ab + K_ce) + C_W1^2 [K_ab K_ce + (K_ac K_be + K_ae K_bc)/n],
    # and E[phi_a phi_b phi_c phi_e] is the sum of E[G G] over the three pairings.
    spec = DeepMLP(linear, 1, d, widths=n, sigma_W=[sp.sqrt(CW0), sp.sqrt(CW1)], sigma_b=[sp.sqrt(Cb0), sp.sqrt(Cb1)])
    x = lambda a, b: input_product_symbol(a + 1, b + 1)
    K = sp.Matrix(2, 2, lambda a, b: Cb0 + CW0 * x(a, b) / d)
    EGG = lambda a, b, c, e: (Cb1 ** 2 + Cb1 * CW1 * (K[a, b] + K[c, e])
                              + CW1 ** 2 * (K[a, b] * K[c, e] + (K[a, c] * K[b, e] + K[a, e] * K[b, c]) / n))
    lab = (0, 0, 1, 1)
    hand = EGG(*lab) + EGG(lab[0], lab[2], lab[1], lab[3]) + EGG(lab[0], lab[3], lab[1], lab[2])
    assert sp.simplify(exact_moments(spec, 4, at=lab) - hand) == 0


def test_linear_gram_route_equals_homogeneous_route_with_biases():
    # A linear network at one input is also positively homogeneous (p = 1): two different codes.
    spec = DeepMLP(linear, 2, 1, widths=[n1, n2], sigma_W=[1, sp.sqrt(2), sp.Rational(1, 2)],
                   sigma_b=[sp.Rational(1, 3), 1, sp.Rational(1, 2)])
    for k in (2, 4, 6):
        assert sp.simplify(exact_moments(spec, k, X=[[2]], at=(0,) * k) - exact_output_moment(spec, k, x=[2])) == 0


def test_square_activation_gram_route_equals_homogeneous_route():
    # z^2 is a polynomial (Wick over set partitions) and positively homogeneous of degree 2
    # (s_{l+1}^2 = C_W/n s_l^4 Q, E[Q^j] from mu_r = (4r-1)!!): two different codes, at one input.
    spec = DeepMLP(lambda z: z ** 2, 2, 1, widths=[n1, n2], sigma_W=[1, sp.Rational(1, 2), 2],
                   sigma_b=[sp.Rational(1, 2), 1, sp.Rational(1, 3)])
    for k in (2, 4):
        assert sp.simplify(exact_moments(spec, k, X=[[1]], at=(0,) * k) - exact_output_moment(spec, k, x=[1])) == 0


def test_sign_activation_removes_the_width_dependence():
    # sign(z)^2 = 1: the next layer's variance C_W sum_i sign(z_i)^2 / n = C_W is not random, at any width.
    spec = DeepMLP(sp.sign, 2, 1, widths=[n1, n2], sigma_W=[1, 2, 3], sigma_b=0)
    assert exact_output_moment(spec, 4, x=[5]) == 3 * 9 ** 2
    phi = spec.replace(widths=[2, 3], sigma_W=[1.0, 2.0, 3.0]).sample([[5.0]], samples=100_000, seed=71)[:, 0]
    assert abs(mc_z(phi ** 4, 243)) < ZMAX


def test_gram_moment_step_one_layer_hand():
    # E[G'_11 G'_22 | G] for a linear layer of width n with C_W = 1, C_b = c:
    # c^2 + c (G11 + G22) + G11 G22 + 2 G12^2 / n.
    c = sp.Symbol("c", positive=True)
    spec = DeepMLP(linear, 1, 2, widths=n, sigma_W=1, sigma_b=sp.sqrt(c))
    G = lambda a, b: gram_symbol(1, a, b)
    out = gram_moment_step(spec, 1, gram_symbol(2, 1, 1) * gram_symbol(2, 2, 2), inputs=2)
    assert sp.expand(out - (c ** 2 + c * (G(1, 1) + G(2, 2)) + G(1, 1) * G(2, 2) + 2 * G(1, 2) ** 2 / n)) == 0


@pytest.mark.parametrize("widths,sw,sb,X,at,seed", [
    ([2], [1.0, 1.5], [0.0, 0.0], [[1.0, 0.5]], (0, 0, 0, 0), 1),
    ([2, 3], [1.0, 1.0, 1.2], [0.5, 0.3, 0.2], [[1.0, -0.5]], (0, 0, 0, 0), 2),
    ([3, 2, 4], [1.0, 1.0, 1.0, 1.0], [0.0, 0.0, 0.0, 0.0], [[1.0, 0.0], [0.6, 0.8], [-0.5, 1.0], [0.3, -0.2]],
     (0, 1, 2, 3), 3),
    ([2, 5], [1.2, 0.9, 1.1], [0.4, 0.0, 0.3], [[1.0, 0.2], [-0.3, 0.7]], (0, 0, 1, 1), 4),
])
def test_linear_monte_carlo(widths, sw, sb, X, at, seed):
    spec = DeepMLP(linear, len(widths), 2, widths=widths, sigma_W=sw, sigma_b=sb)
    exact = exact_moments(spec, 4, X=X, at=at)
    phi = spec.sample(np.array(X), samples=200_000, seed=seed, chunk=20_000)
    values = np.prod(phi[:, list(at)], axis=1)
    assert abs(mc_z(values, exact)) < ZMAX


# ----------------------------------------------------------------------------- ReLU and homogeneous activations
@pytest.mark.parametrize("depth", [1, 2, 3])
@pytest.mark.parametrize("width", [2, 3, 5])
def test_relu_single_input_hand_binomial_chi2(depth, width):
    # ReLU, no biases: phi ~ N(0, s_{L+1}^2), s_{l+1}^2 = (C_W/n_l) s_l^2 Q_l, Q_l ~ chi^2_{Bin(n_l, 1/2)},
    # independent: E[phi^{2k}] = (2k-1)!! s_1^{2k} prod_l (C_W^(l)/n_l)^k E[Q_l^k].
    sws = [sp.Rational(3, 2), sp.sqrt(2), sp.Integer(1), sp.Rational(1, 2)][:depth + 1]
    widths = [width + l for l in range(depth)]           # unequal widths
    spec = DeepMLP(relu, depth, 2, widths=widths, sigma_W=sws, sigma_b=0)
    x = [1, 2]
    s1 = sws[0] ** 2 * 5 / 2
    for k in (1, 2, 3):
        hand = sp.factorial2(2 * k - 1) * s1 ** k * sp.Mul(
            *[(sws[l] ** 2 / widths[l - 1]) ** k * relu_Q_moment(widths[l - 1], k) for l in range(1, depth + 1)])
        assert sp.simplify(exact_output_moment(spec, 2 * k, x=x) - hand) == 0
        assert exact_output_moment(spec, 2 * k - 1, x=x) == 0


def test_relu_symbolic_width_formula():
    # E[Q] = n/2, E[Q^2] = n(n+5)/4, E[Q^3] = n(n^2 + 15 n + 44)/8 (binomial mixture of chi^2 moments,
    # checked at n = 1..6 against relu_Q_moment); the exact result is a polynomial in 1/n_l.
    for k, poly in ((1, n / 2), (2, n * (n + 5) / 4), (3, n * (n ** 2 + 15 * n + 44) / 8)):
        for m in range(1, 7):
            assert poly.subs(n, m) == relu_Q_moment(m, k)
    spec = DeepMLP(relu, 2, 1, widths=[n1, n2], sigma_W=sp.sqrt(2), sigma_b=0)
    xx = input_product_symbol(1, 1)
    hand = 15 * (2 * xx) ** 3 * (n1 ** 2 + 15 * n1 + 44) / n1 ** 2 * (n2 ** 2 + 15 * n2 + 44) / n2 ** 2
    assert sp.simplify(exact_output_moment(spec, 6) - hand) == 0
    # exact_moments delegates to the homogeneous route at one input
    assert sp.simplify(exact_moments(spec, 6, at=(0,) * 6) - hand) == 0


# phi^6 at depth 3 and widths 2..4 has so heavy a tail that 2e5 networks underestimate it (and its
# standard error): there E[phi^6] is checked by the hand formula above, Monte Carlo takes k = 2, 4.
@pytest.mark.parametrize("widths,sw,seed,ks", [
    ([2], [1.0, 1.4], 11, (2, 4, 6)),
    ([2, 3], [1.2, 1.4, 1.0], 12, (2, 4, 6)),
    ([3, 2, 4], [1.0, 1.5, 1.3, 1.1], 13, (2, 4)),
    ([5, 5], [1.0, 1.4, 1.4], 14, (2, 4, 6)),
])
def test_relu_monte_carlo(widths, sw, seed, ks):
    spec = DeepMLP(relu, len(widths), 2, widths=widths, sigma_W=sw, sigma_b=0.0)
    x = np.array([[0.8, -1.1]])
    phi = spec.sample(x, samples=200_000, seed=seed, chunk=20_000)[:, 0]
    for k in ks:
        assert abs(mc_z(phi ** k, exact_output_moment(spec, k, x=[0.8, -1.1]))) < ZMAX


def test_leaky_relu_hand_and_monte_carlo_with_biases():
    # Leaky ReLU f = Max(a z, z): Q = chi^2_J + a^2 chi^2_{n-J}, J ~ Bin(n, 1/2), so
    # E[Q^2] = sum_J C(n,J)/2^n [J(J+2) + 2 a^2 J (n-J) + a^4 (n-J)(n-J+2)].
    a = sp.Rational(1, 5)
    leaky = lambda z: sp.Max(a * z, z)
    for m in (2, 3, 4):
        spec = DeepMLP(leaky, 1, 1, widths=m, sigma_W=1, sigma_b=0)
        EQ2 = sum(sp.binomial(m, J) * (J * (J + 2) + 2 * a ** 2 * J * (m - J) + a ** 4 * (m - J) * (m - J + 2))
                  for J in range(m + 1)) / sp.Integer(2) ** m
        assert exact_output_moment(spec, 4, x=[1]) - 3 * EQ2 / m ** 2 == 0
    # with biases in every layer (the single-input recursion stays closed), against Monte Carlo
    spec = DeepMLP(leaky, 2, 2, widths=[2, 3], sigma_W=[1.0, 1.3, 1.2], sigma_b=[0.5, 0.4, 0.3])
    phi = spec.sample(np.array([[1.0, 0.5]]), samples=200_000, seed=21, chunk=20_000)[:, 0]
    for k in (2, 4, 6):
        assert abs(mc_z(phi ** k, exact_output_moment(spec, k, x=[1.0, 0.5]))) < ZMAX


def test_rectified_square_monte_carlo():
    # Max(0, z)**2 is homogeneous of degree 2: s_{l+1}^2 = (C_W/n) s_l^4 Q, E[Q^j] from mu_r = (4r-1)!!/2.
    rsq = lambda z: sp.Max(0, z) ** 2
    spec = DeepMLP(rsq, 2, 1, widths=[3, 4], sigma_W=1.0, sigma_b=0.0)
    # hand, depth 1: E[phi^2] = E[s_2^2] = (1/3) E[Q] s_1^4 = 3/2 s_1^4 (E[relu(g)^4] = 3/2), s_1^2 = 1;
    # depth 2: E[s_3^2] = E[(1/n2) Q_2] E[s_2^4] = 3/2 * (1/9) E[Q_1^2], E[Q_1^2] = 3 * 105/2 + 6 * 9/4
    assert exact_output_moment(DeepMLP(rsq, 1, 1, widths=3, sigma_W=1, sigma_b=0), 2, x=[1]) == sp.Rational(3, 2)
    hand = sp.Rational(3, 2) * sp.Rational(1, 9) * (3 * sp.Rational(105, 2) + 6 * sp.Rational(9, 4))
    assert exact_output_moment(DeepMLP(rsq, 2, 1, widths=[3, 4], sigma_W=1, sigma_b=0), 2, x=[1]) == hand
    phi = spec.sample(np.array([[1.0]]), samples=200_000, seed=31, chunk=20_000)[:, 0]
    assert abs(mc_z(phi ** 2, exact_output_moment(spec, 2, x=[1]))) < ZMAX


# ----------------------------------------------------------------------------- the 1/n expansion fails at n = 2
def leading_order(expr, widths):
    """The exact result truncated at first order in the 1/n_l (n_l -> n_l/eps, series in eps)."""
    eps = sp.Symbol("eps", positive=True)
    series = sp.series(expr.subs({m: m / eps for m in widths}), eps, 0, 2).removeO()
    return series.subs(eps, 1)


def test_one_over_n_is_visibly_off_at_width_two_exact_matches_mc():
    spec = DeepMLP(relu, 2, 1, widths=[n1, n2], sigma_W=sp.sqrt(2), sigma_b=0)
    exact = exact_output_moment(spec, 4, x=[1])
    # hand: s_1^2 = 2, E[phi^4] = 3 s_1^4 prod (1 + 5/n_l), leading order 12 (1 + 5/n1 + 5/n2)
    assert sp.simplify(exact - 12 * (1 + 5 / n1) * (1 + 5 / n2)) == 0
    lo = leading_order(exact, (n1, n2))
    assert sp.simplify(lo - 12 * (1 + 5 / n1 + 5 / n2)) == 0
    at2 = {n1: 2, n2: 2}
    assert exact.subs(at2) == 147 and lo.subs(at2) == 72     # exact 147 vs leading order 72
    phi = spec.replace(widths=[2, 2], sigma_W=math.sqrt(2)).sample([[1.0]], samples=1_000_000, seed=41,
                                                                   chunk=50_000)[:, 0]
    assert abs(mc_z(phi ** 4, exact.subs(at2))) < ZMAX
    assert abs(mc_z(phi ** 4, lo.subs(at2))) > ZMAX
    # deep linear, depth 3 at n = 2: exact 3*2^3 = 24 vs leading order 3*(1 + 3) = 12
    lin = DeepMLP(linear, 3, 1, widths=[n1, n2, n3], sigma_W=1, sigma_b=0)
    exact = exact_moments(lin, 4, X=[[1]], at=(0, 0, 0, 0))
    lo = leading_order(exact, (n1, n2, n3))
    at2 = {n1: 2, n2: 2, n3: 2}
    assert (exact.subs(at2), lo.subs(at2)) == (24, 12)
    phi = lin.replace(widths=2).sample([[1.0]], samples=1_500_000, seed=42, chunk=50_000)[:, 0]
    assert abs(mc_z(phi ** 4, 24)) < ZMAX
    assert abs(mc_z(phi ** 4, 12)) > ZMAX


# ----------------------------------------------------------------------------- polynomial activations
def test_square_activation_depth2_hand_and_monte_carlo():
    # f = z^2, no biases, one input: E[phi^2] = C_W2 E[f(z^(2))^2] = 3 C_W2 E[G2^2],
    # G2 = (C_W1/n1) sum_i z_i^4, z_i ~ N(0, K1): E[G2^2] = C_W1^2 K1^4 (9 + 96/n1)  (E z^8 = 105 K^4).
    spec = DeepMLP(lambda z: z ** 2, 2, 1, widths=[n1, n2], sigma_W=[sp.sqrt(CW0), sp.sqrt(CW1), sp.sqrt(CW2)],
                   sigma_b=0)
    K1 = CW0 * input_product_symbol(1, 1)
    assert sp.simplify(exact_moments(spec, 2, at=(0, 0)) - 3 * CW2 * CW1 ** 2 * K1 ** 4 * (9 + 96 / n1)) == 0
    num = DeepMLP(lambda z: z ** 2, 2, 1, widths=[2, 3], sigma_W=[1.0, 0.8, 1.0], sigma_b=[0.3, 0.2, 0.1])
    X = [[0.7], [-0.9]]
    phi = num.sample(np.array(X), samples=200_000, seed=51, chunk=20_000)
    for at in ((0, 0), (0, 1), (0, 0, 1, 1)):
        exact = exact_moments(num, len(at), X=X, at=at)
        assert abs(mc_z(np.prod(phi[:, list(at)], axis=1), exact)) < ZMAX


def test_cubic_activation_depth1_monte_carlo():
    num = DeepMLP(lambda z: z + z ** 3 / 3, 1, 2, widths=3, sigma_W=[1.0, 1.0], sigma_b=[0.3, 0.2])
    X = [[0.8, 0.1], [-0.4, 0.6]]
    phi = num.sample(np.array(X), samples=200_000, seed=61, chunk=20_000)
    for at in ((0, 1), (0, 0, 1, 1), (0, 0, 0, 1)):
        exact = exact_moments(num, len(at), X=X, at=at)
        assert abs(mc_z(np.prod(phi[:, list(at)], axis=1), exact)) < ZMAX


def test_infinite_width_is_gaussian():
    spec = DeepMLP(linear, 2, 1, widths=None, sigma_W=1, sigma_b=0)
    assert exact_moments(spec, 4, X=[[1], [2]], at=(0, 0, 1, 1)) == 4 + 2 * 4
    # one infinite layer drops its 1/n: widths (oo, n2) = the depth-1 result at width n2 on the same kernel
    mixed = DeepMLP(linear, 2, 1, widths=[None, n2], sigma_W=1, sigma_b=0)
    assert sp.simplify(exact_moments(mixed, 4, X=[[1], [2]], at=(0, 0, 1, 1)) - 12 * (1 + 2 / n2)) == 0
    relu_inf = DeepMLP(relu, 2, 1, widths=None, sigma_W=sp.sqrt(2), sigma_b=0)
    assert exact_output_moment(relu_inf, 4, x=[1]) == 3 * 2 ** 2      # s_1^2 = 2, kept by the critical layers


# ----------------------------------------------------------------------------- refusals and bad input
def test_refusals_and_bad_input():
    tanh = DeepMLP(sp.tanh, 2, 1, widths=3)
    with pytest.raises(NoClosedForm, match="polynomial activations"):
        exact_moments(tanh, 2, X=[[1], [2]])
    with pytest.raises(NoClosedForm, match="positively homogeneous"):
        exact_output_moment(tanh, 2, x=[1])
    relu2 = DeepMLP(relu, 1, 1, widths=3, sigma_b=0)
    with pytest.raises(NoClosedForm, match="layer 1 has f"):
        exact_moments(relu2, 2, X=[[1], [2]])
    with pytest.raises(ValueError, match="k must be an integer"):
        exact_moments(relu2, -1)
    with pytest.raises(ValueError, match="at must list 2"):
        exact_moments(relu2, 2, at=(0,))
    with pytest.raises(ValueError, match="X has only 1 rows"):
        exact_moments(DeepMLP(linear, 1, 1, widths=2), 2, X=[[1]])
    with pytest.raises(ValueError, match="length d = 2"):
        exact_moments(DeepMLP(linear, 1, 2, widths=2), 2, X=[[1, 2, 3], [1, 2, 3]])
    with pytest.raises(TypeError, match="DeepMLP"):
        exact_moments("net", 2)
    assert exact_moments(tanh, 3, X=[[1], [2], [3]]) == 0           # odd moments vanish for any activation
    with pytest.raises(ValueError, match="polynomial in the Gram entries"):
        gram_moment_step(DeepMLP(linear, 1, 1, widths=2), 1, 1 / gram_symbol(2, 1, 1), inputs=1)
    with pytest.raises(ValueError, match="hidden layer"):
        gram_moment_step(DeepMLP(linear, 1, 1, widths=2), 2, gram_symbol(3, 1, 1), inputs=1)
    with pytest.raises(ValueError, match="not both"):
        exact_output_moment(relu2, 2, x=[1], xx=1)
