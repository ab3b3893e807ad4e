"""Momentum space (issue 4): the UniformBall law, power spectra (delta rule and Fourier
routes), the zoo's Examples 1-3 and inverse design.

Every exact result is checked two independent ways: against a closed form typed
from docs/conventions.md / by hand (symbolically and in numpy), and against numerical
quadrature (scipy, written here) or a Monte Carlo estimate drawn here with numpy
(|z| < 5, fixed seeds)."""
import math

import numpy as np
import pytest
import sympy as sp
from scipy import integrate, special

import nnsym as ns
from nnsym.analysis.spectra import cos_layer, radial_fourier
from nnsym.core.joint_laws import UniformBallLaw
from nnsym.core.special import LambdaBessel
from nnsym.core.vectors import Dot, VectorSymbol

N = sp.Symbol("N", positive=True, integer=True)
sa, m, Lam = sp.symbols("sigma_a m Lambda", positive=True)
DSYM = sp.Symbol("d", positive=True, integer=True)
VALS = dict(sigma_a=1.2, m=0.8, Lambda=2.5, N=10)

pytestmark = pytest.mark.filterwarnings("ignore::nnsym.NumericWarning")


def ball_volume(d, R):
    return math.pi ** (d / 2) * R**d / math.gamma(d / 2 + 1)


def uniform_ball_by_rejection(rng, n, d, R):
    """Uniform points in the ball |b| < R by rejection from the cube (not nnsym's sampler)."""
    out = np.empty((0, d))
    while len(out) < n:
        c = rng.uniform(-R, R, size=(2 * n, d))
        out = np.concatenate([out, c[np.sum(c * c, -1) < R * R]])
    return out[:n]


def z_mean(samples):
    """Mean and stderr from 20 batches."""
    bm = np.array([b.mean(axis=0) for b in np.array_split(samples, 20)])
    return bm.mean(axis=0), bm.std(axis=0, ddof=1) / np.sqrt(len(bm))


# ----------------------------------------------------------------------------- UniformBall
@pytest.mark.parametrize("d", [2, 3, 4])
def test_uniform_ball_characteristic_function(d):
    R = 1.7
    b = ns.UniformBall("b", R, d)
    k = VectorSymbol("k", d)
    cf = b.characteristic_function(k)
    rng = np.random.default_rng(d)
    B = uniform_ball_by_rejection(rng, 400_000, d, R)
    nodes, w = b.law.vector_quadrature(24, d, {})
    assert abs(w.sum() - 1) < 1e-12 and np.all(np.sum(nodes**2, -1) <= R * R + 1e-12)
    for kk in (0.0, 0.9, 2.4):
        kv = np.zeros(d)
        kv[0] = kk
        exact = float(cf.subs(Dot(k, k), kk**2).evalf()) if kk else float(cf.xreplace({k: sp.S.Zero}))
        # closed form of the Bessel expression, evaluated with scipy
        z = R * kk
        bessel = 1.0 if z == 0 else math.gamma(d / 2 + 1) * (2 / z) ** (d / 2) * special.jv(d / 2, z)
        assert abs(exact - bessel) < 1e-12
        # Monte Carlo with rejection sampling (independent of nnsym)
        mean, se = z_mean(np.cos(B @ kv))
        assert abs(mean - exact) <= 5 * se
        # the law's own quadrature rule
        assert abs(np.sum(w * np.cos(nodes @ kv)) - exact) < 1e-8
    assert cf.xreplace({k: sp.S.Zero}) == 1  # k = 0 evaluates without a 0/0


def test_uniform_ball_bessel_form_and_moments():
    z = sp.Symbol("z", positive=True)
    lam3 = LambdaBessel(sp.Rational(3, 2), z**2).rewrite(sp.besselj)
    assert sp.simplify(lam3 - 3 * (sp.sin(z) - z * sp.cos(z)) / z**3) == 0
    for d in (2, 3, 5):
        law = UniformBallLaw(1.3, d)
        assert abs(float(law.volume) - ball_volume(d, 1.3)) < 1e-12
        rng = np.random.default_rng(10 + d)
        B = law.sample(rng, (200_000, d))
        assert B.shape == (200_000, d) and np.all(np.linalg.norm(B, axis=-1) <= 1.3)
        for kk in (2, 4):
            mean, se = z_mean(B[:, 0] ** kk)
            assert abs(mean - float(law.moment(kk))) < 5 * se
        assert law.moment(3) == 0
        # radius law: E|b|^2 = d R^2/(d + 2)
        mean, se = z_mean(np.sum(B**2, -1))
        assert abs(mean - d * 1.3**2 / (d + 2)) < 5 * se
    assert abs(float(UniformBallLaw(Lam, DSYM).moment(2).subs({Lam: 2, DSYM: 3})) - 4 / 5) < 1e-14


def test_uniform_ball_bad_input():
    with pytest.raises(ValueError):
        ns.UniformBall("b", -1, 3)
    with pytest.raises(ValueError):
        ns.UniformBall("b", 1, 0)
    with pytest.raises(TypeError):
        ns.UniformBall("", 1, 3)
    with pytest.raises(ValueError):
        UniformBallLaw(1, 3).sample(np.random.default_rng(0), (10, 2))
    assert isinstance(ns.UniformBall("b", 1, 1), ns.RandomSymbol)  # d = 1: the scalar Uniform(-R, R)


def test_uniform_ball_through_the_engine():
    """cos(b.x + c) with b uniform in a ball: G^(2) = (1/2) Lambda_{3/2}(R^2 |x-y|^2), against numpy MC."""
    x = ns.Input("x", 3)
    b, c = ns.UniformBall("b", Lam, 3), ns.Uniform("c", -sp.pi, sp.pi)
    net = ns.Network(sp.cos(b.dot(x) + c), ns.Normal("a", 0, sa**2 / N), N, x)
    G2 = net.correlator(2)
    x1, x2 = G2.points
    assert G2.is_exact and G2.expr == sa**2 / 2 * LambdaBessel(sp.Rational(3, 2), Lam**2 * Dot(x1 - x2, x1 - x2))
    rng = np.random.default_rng(3)
    X = rng.normal(size=(4, 2, 3)) * 0.6
    exact = G2.evaluate(X, **{k: v for k, v in VALS.items() if k != "m"})  # no m in this network
    B = uniform_ball_by_rejection(rng, 300_000, 3, VALS["Lambda"])
    C = rng.uniform(-np.pi, np.pi, 300_000)
    for j in range(4):
        y = VALS["sigma_a"] ** 2 * np.cos(B @ X[j, 0] + C) * np.cos(B @ X[j, 1] + C)
        mean, se = z_mean(y)
        assert abs(mean - exact[j]) < 5 * se


# ----------------------------------------------------------------------------- Example 1
def notes_example1(P, d, v=VALS):
    p2 = np.sum(P * P, -1)
    val = v["sigma_a"] ** 2 * (2 * np.pi) ** d / (2 * ball_volume(d, v["Lambda"])) / (p2 + v["m"] ** 2)
    return np.where(p2 <= v["Lambda"] ** 2, val, 0.0)


@pytest.mark.parametrize("d", [1, 2, 3, DSYM])
def test_example1_free_scalar_spectrum(d):
    net = ns.zoo.free_scalar(d)
    S = net.power_spectrum()
    assert S.method == "delta rule" and S.is_exact
    p = S.momentum
    p2 = p**2 if d == 1 else Dot(p, p)
    dd = sp.sympify(d)
    vol = sp.pi ** (dd / 2) * Lam**dd / sp.gamma(dd / 2 + 1)
    notes = sa**2 * (2 * sp.pi) ** dd / (2 * vol) / (p2 + m**2)
    inside, outside = S.expr.args[0][0], S.expr.args[1][0]
    assert sp.simplify(inside - notes) == 0 and outside == 0
    D = 3 if d == DSYM else int(d)
    rng = np.random.default_rng(7)
    P = rng.normal(size=(40, D))
    P *= rng.uniform(0.05, 2.0, size=(40, 1)) * VALS["Lambda"] / np.linalg.norm(P, axis=-1, keepdims=True)
    got = S.evaluate(P, **VALS)
    assert np.sum(got == 0) > 5 and np.sum(got > 0) > 5  # both sides of the cutoff
    np.testing.assert_allclose(got, notes_example1(P, D), rtol=1e-12, atol=0)


@pytest.mark.parametrize("d", [1, 3])
def test_example1_spectrum_against_position_space(d):
    """Second way: the numerical inverse transform of G(p) equals G^(2) from the engine
    (tensor quadrature over b and c) and a Monte Carlo estimate drawn here."""
    net = ns.zoo.free_scalar(d)
    S = net.power_spectrum()
    G2 = net.correlator(2)
    assert not G2.is_exact  # F(b) = 1/sqrt(b^2+m^2): no closed form in position space
    r = np.array([0.0, 0.4, 1.1, 2.7])
    X = np.zeros((len(r), 2, d))
    X[:, 1, 0] = r
    inv = S.position_space(X, **VALS)
    np.testing.assert_allclose(inv, G2.evaluate(X, **VALS), rtol=1e-8, atol=1e-12)
    rng = np.random.default_rng(11)
    M = 400_000
    B = uniform_ball_by_rejection(rng, M, d, VALS["Lambda"])
    C = rng.uniform(-np.pi, np.pi, M)
    F2 = 1.0 / (np.sum(B * B, -1) + VALS["m"] ** 2)
    for j in range(len(r)):
        y = VALS["sigma_a"] ** 2 * F2 * np.cos(B @ X[j, 0] + C) * np.cos(B @ X[j, 1] + C)
        mean, se = z_mean(y)
        assert abs(mean - inv[j]) < 5 * se


# ----------------------------------------------------------------------------- Example 2
def test_example2_cauchy_net():
    net = ns.zoo.cauchy_net()
    S = net.power_spectrum()
    p = S.momentum
    assert S.method == "delta rule"
    assert sp.simplify(S.expr - sa**2 * m / (p**2 + m**2)) == 0
    # position space: (sigma_a^2/2) e^{-m|x-y|} from the engine
    G2 = net.correlator(2)
    x1, x2 = G2.points
    assert sp.simplify(G2.expr - sa**2 / 2 * sp.exp(-m * sp.Abs(x1 - x2))) == 0
    # the Fourier route on that correlator (sympy, checked numerically inside) agrees
    S2 = ns.power_spectrum(G2)
    assert S2.method == "fourier (sympy)" and sp.simplify(S2.expr - S.expr.subs(p, S2.momentum)) == 0
    # numbers at random momenta: closed form vs scipy's Fourier integral (QAWF) of the engine's G2
    rng = np.random.default_rng(5)
    ps = rng.uniform(-4, 4, 6)
    got = S.evaluate(ps[:, None], **VALS)
    s2, mm = VALS["sigma_a"] ** 2, VALS["m"]
    np.testing.assert_allclose(got, s2 * mm / (ps**2 + mm**2), rtol=1e-13)
    g = lambda r: G2.evaluate(np.array([[[r], [0.0]]]), sigma_a=VALS["sigma_a"], m=mm)[0]  # noqa: E731
    for pv, gv in zip(ps, got):
        ft = 2 * integrate.quad(g, 0, np.inf, weight="cos", wvar=abs(pv))[0]
        assert abs(ft - gv) < 1e-8
    # Monte Carlo of the 2-point function (numpy Cauchy draws)
    M = 400_000
    b = mm * rng.standard_cauchy(M)
    c = rng.uniform(-np.pi, np.pi, M)
    for xv, yv in ((0.3, -0.4), (1.5, 0.2), (2.0, 4.5)):
        mean, se = z_mean(s2 * np.cos(b * xv + c) * np.cos(b * yv + c))
        assert abs(mean - s2 / 2 * np.exp(-mm * abs(xv - yv))) < 5 * se
    # and the inverse transform of the spectrum
    X = np.array([[[0.3], [-0.4]], [[1.5], [0.2]]])
    np.testing.assert_allclose(S.position_space(X, **VALS), s2 / 2 * np.exp(-mm * np.abs(X[:, 0, 0] - X[:, 1, 0])),
                               rtol=1e-7)


# ----------------------------------------------------------------------------- a user's layer
def test_user_layer_laplace_frequency_polynomial_amplitude():
    """d = 1, F(b) = b, P = Laplace(0, s), frequency scaled by alpha = 2: G(p) = sigma^2 (2pi)/4 *
    2 * (p/2)^2 e^{-|p|/(2s)}/(2s)/2, against scipy's Fourier integral of the engine's G2."""
    s = sp.Symbol("s", positive=True)
    x = ns.Input("x", 1)
    b, c = ns.Laplace("b", 0, s), ns.Uniform("c", -sp.pi, sp.pi)
    net = ns.Network(b * sp.cos(2 * b * x + c), ns.Normal("a", 0, sa**2 / N), N, x)
    L = cos_layer(net)
    assert L.alpha == 2 and L.F == b
    S = net.power_spectrum()
    p = S.momentum
    hand = sa**2 * 2 * sp.pi / 4 * 2 * (p / 2) ** 2 * sp.exp(-sp.Abs(p) / (2 * s)) / (2 * s) / 2
    assert sp.simplify(S.expr - hand) == 0
    vals = dict(sigma_a=0.9, s=0.7, N=5)
    G2 = net.correlator(2)
    assert G2.is_exact
    g = lambda r: G2.evaluate(np.array([[[r], [0.0]]]), **vals)[0]  # noqa: E731
    for pv in (0.0, 0.6, -1.7, 3.1):
        ft = 2 * integrate.quad(g, 0, np.inf, weight="cos", wvar=abs(pv))[0] if pv else \
            2 * integrate.quad(g, 0, np.inf)[0]
        sv = S.evaluate(np.array([[pv]]), **vals)[0]
        hv = 0.81 * np.pi / 2 * pv**2 / 4 * np.exp(-abs(pv) / 1.4) / 1.4
        assert abs(sv - hv) < 1e-12 and abs(ft - sv) < 1e-8


def test_user_layer_in_two_dimensions_without_position_closed_form():
    """d = 2, F(b) = 1/(1 + |b|^2), b ~ N(0, s^2 I): G(p) = sigma^2 (2pi)^2/4 * 2 e^{-p^2/(2s^2)}/(2 pi s^2)/(1+p^2)^2;
    checked against the engine's quadrature of G2 (through the numerical inverse transform)
    and against Monte Carlo."""
    s = sp.Symbol("s", positive=True)
    x = ns.Input("x", 2)
    b, c = ns.Normal("b", 0, s**2, shape=2), ns.Uniform("c", -sp.pi, sp.pi)
    net = ns.Network(sp.cos(b.dot(x) + c) / (1 + b.dot(b)), ns.Normal("a", 0, sa**2 / N), N, x)
    S = net.power_spectrum()
    p = S.momentum
    density = sp.exp(-Dot(p, p) / (2 * s**2)) / (2 * sp.pi * s**2)
    hand = sa**2 * (2 * sp.pi) ** 2 / 4 * 2 * density / (1 + Dot(p, p)) ** 2
    assert sp.simplify(S.expr - hand) == 0
    vals = dict(sigma_a=1.1, s=0.9, N=4)
    X = np.zeros((3, 2, 2))
    X[:, 1] = [[0.0, 0.0], [0.5, -0.3], [1.2, 0.9]]
    inv = S.position_space(X, **vals)
    G2 = net.correlator(2)
    np.testing.assert_allclose(inv, G2.evaluate(X, **vals), rtol=0, atol=5e-5)  # engine quadrature error ~1e-5
    rng = np.random.default_rng(21)
    M = 400_000
    B = rng.normal(scale=vals["s"], size=(M, 2))
    C = rng.uniform(-np.pi, np.pi, M)
    F2 = 1 / (1 + np.sum(B * B, -1)) ** 2
    for j in range(3):
        mean, se = z_mean(vals["sigma_a"] ** 2 * F2 * np.cos(B @ X[j, 0] + C) * np.cos(B @ X[j, 1] + C))
        assert abs(mean - inv[j]) < 5 * se


# ----------------------------------------------------------------------------- Example 3 and the Fourier route
@pytest.mark.parametrize("d", [1, 2, 3, DSYM])
def test_example3_duality_equal_spectra(d):
    """Cos-net (delta rule) and Gauss-net (Fourier/Hankel transform of G2) have the same G(p);
    both equal the Gaussian transform written by hand."""
    Sc, Sg = ns.zoo.cos_net(d).power_spectrum(), ns.zoo.gauss_net(d).power_spectrum()
    assert Sc.method == "delta rule" and Sg.method in ("fourier (sympy)", "hankel (sympy)")
    sb = sp.Symbol("sigma_b", positive=True)
    dd = sp.sympify(d)
    p = Sc.momentum
    p2 = p**2 if d == 1 else Dot(p, p)
    # Fourier transform of (sigma_a^2/2) exp(-sigma_b^2 r^2/(2d)):
    # (sigma_a^2/2)(2 pi d/sigma_b^2)^{d/2} e^{-d p^2/(2 sigma_b^2)}
    hand = sa**2 / 2 * (2 * sp.pi * dd / sb**2) ** (dd / 2) * sp.exp(-dd * p2 / (2 * sb**2))
    assert sp.simplify(sp.powsimp(Sc.expr / hand, force=True)) == 1
    assert sp.simplify(sp.powsimp(Sg.expr.xreplace({Sg.momentum: p}) / hand, force=True)) == 1
    D = 3 if d == DSYM else int(d)
    P = np.random.default_rng(2).normal(size=(6, D))
    v = dict(sigma_a=1.3, sigma_b=0.7, sigma_c=0.4, N=7)
    np.testing.assert_allclose(Sc.evaluate(P, **v), Sg.evaluate(P, **v), rtol=1e-12)
    ref = v["sigma_a"] ** 2 / 2 * (2 * np.pi * D / v["sigma_b"] ** 2) ** (D / 2) * np.exp(
        -D * np.sum(P * P, -1) / (2 * v["sigma_b"] ** 2))
    np.testing.assert_allclose(Sc.evaluate(P, **v), ref, rtol=1e-12)
    # and a numerical radial transform of the 2-point function (scipy, in nnsym.analysis.spectra.radial_fourier)
    for k in (0.0, 0.8):
        num = radial_fourier(lambda r: v["sigma_a"] ** 2 / 2 * np.exp(-v["sigma_b"] ** 2 * r**2 / (2 * D)), k, D)
        kv = np.zeros((1, D))
        kv[0, 0] = k
        assert abs(num - Sg.evaluate(kv, **v)[0]) < 1e-9


@pytest.mark.parametrize("d", [1, 3])
def test_example3_different_finite_N_four_point_functions(d):
    """Same G^(2) and G(p), different G_c^(4) at finite N: equal at N -> oo (both vanish)."""
    cos, gauss = ns.zoo.cos_net(d), ns.zoo.gauss_net(d)
    assert sp.simplify(cos.correlator(2).expr - gauss.correlator(2).expr) == 0
    C4, G4 = cos.correlator(4, connected=True), gauss.correlator(4, connected=True)
    v = dict(sigma_a=1.3, sigma_b=0.7, sigma_c=0.4, N=7)
    X = np.random.default_rng(4).normal(size=(5, 4, d)) * 0.7
    diff = C4.evaluate(X, **{k: x for k, x in v.items() if k != "sigma_c"}) - G4.evaluate(X, **v)
    assert np.min(np.abs(diff)) > 1e-3
    assert sp.limit(C4.expr, N, sp.oo) == 0 and sp.limit(G4.expr, N, sp.oo) == 0
    assert C4.is_translation_invariant().holds is True and G4.is_translation_invariant().holds is False


def test_fourier_route_numeric_fallback():
    """A translation-invariant G2 whose transform sympy does not find: numeric, marked as such."""
    x1, x2 = ns.ScalarPoint("x_1"), ns.ScalarPoint("x_2")
    g = sp.exp(-sp.sqrt(1 + (x1 - x2) ** 4))
    G = ns.Correlator(g, (x1, x2), 1)
    S = ns.power_spectrum(G)
    assert S.method == "numeric" and not S.is_exact
    with pytest.warns(ns.NumericWarning):
        got = S.evaluate(np.array([[0.0], [1.3]]))
    ref = [2 * integrate.quad(lambda r: np.exp(-np.sqrt(1 + r**4)) * np.cos(k * r), 0, np.inf, limit=200)[0]
           for k in (0.0, 1.3)]
    np.testing.assert_allclose(got, ref, rtol=1e-8)


def test_power_spectrum_bad_input():
    with pytest.raises(TypeError):
        ns.power_spectrum("cos-net")
    with pytest.raises(ValueError, match="method"):
        ns.power_spectrum(ns.zoo.cos_net(2), method="laplace")
    with pytest.raises(ValueError, match="delta rule does not apply"):
        ns.power_spectrum(ns.zoo.gauss_net(2), method="delta")
    with pytest.raises(ValueError, match="2-point"):
        ns.power_spectrum(ns.zoo.cos_net(1).correlator(4, connected=True))
    x = ns.Input("x", 1)
    tanh_net = ns.Network(sp.tanh(ns.Normal("b", 0, 1) * x) + 0, ns.Normal("a", 0, 1 / N), N, x)
    with pytest.raises(ValueError, match="not translation invariant"):
        ns.power_spectrum(tanh_net)
    S = ns.zoo.cos_net(2).power_spectrum()
    with pytest.raises(ValueError, match="shape"):
        S.evaluate(np.zeros((3, 3)), sigma_a=1, sigma_b=1)
    with pytest.raises(ValueError, match="missing"):
        S.evaluate(np.zeros((3, 2)), sigma_a=1)
    # a phase that is not uniform on a full period: the delta rule refuses, the Fourier route is used
    half = ns.Network(sp.cos(ns.Normal("b", 0, 1) * x + ns.Uniform("c", 0, sp.pi / 2)), ns.Normal("a", 0, 1 / N), N, x)
    with pytest.raises(ValueError, match="full period"):
        ns.power_spectrum(half, method="delta")


# ----------------------------------------------------------------------------- inverse design
@pytest.mark.parametrize("d", [1, 3])
def test_inverse_design_free_propagator_with_cutoff(d):
    k = sp.Symbol("k", positive=True)
    target = 1 / (k**2 + m**2)
    net = ns.inverse_design(target, k, d=d, cutoff=Lam)
    S = net.power_spectrum()
    p = S.momentum
    p2 = p**2 if d == 1 else Dot(p, p)
    inside, outside = S.expr.args[0][0], S.expr.args[1][0]
    assert sp.simplify(inside - 1 / (p2 + m**2)) == 0 and outside == 0
    P = np.random.default_rng(9).normal(size=(30, d)) * 1.6
    p2v = np.sum(P * P, -1)
    got = S.evaluate(P, **VALS)
    np.testing.assert_allclose(got, np.where(p2v <= VALS["Lambda"] ** 2, 1 / (p2v + VALS["m"] ** 2), 0.0), rtol=1e-12)
    # second way: the designed network's G2 (engine quadrature) is the inverse transform of the target,
    # written here with scipy: G2(r) = int_{|p|<Lambda} d^dp/(2pi)^d e^{ipr} / (p^2 + m^2)
    r = np.array([0.0, 0.7, 1.9])
    X = np.zeros((3, 2, d))
    X[:, 1, 0] = r
    G2 = net.correlator(2).evaluate(X, **VALS)
    L, mm = VALS["Lambda"], VALS["m"]
    if d == 1:
        ref = [integrate.quad(lambda q: np.cos(q * rr) / (q * q + mm * mm), 0, L)[0] / np.pi for rr in r]
    else:
        ref = [integrate.quad(lambda q: q * q * (np.sinc(q * rr / np.pi)) / (q * q + mm * mm), 0, L)[0] / (2 * np.pi**2)
               for rr in r]
    np.testing.assert_allclose(G2, ref, rtol=1e-8)


def test_inverse_design_density_strategy_and_errors():
    p = sp.Symbol("p", real=True)
    net = ns.inverse_design(m / (p**2 + m**2), p, d=1, strategy="density")
    S = net.power_spectrum()
    assert sp.simplify(S.expr - m / (S.momentum**2 + m**2)) == 0
    # the designed frequency law is the Cauchy density m/(pi (b^2 + m^2)) and F^2 = 1/sigma_a^2 ...
    b = next(q for q in net.params if q.name == "b")
    bs = sp.Symbol("b", real=True)
    pdf = b.law.pdf(bs)
    pdf = pdf.args[0][0] if isinstance(pdf, sp.Piecewise) else pdf
    assert sp.simplify(pdf - m / (sp.pi * (bs**2 + m**2))) == 0
    # ... so G2 = (1/2) e^{-m|x-y|}: the numerical inverse transform of the spectrum, and Monte Carlo
    X = np.array([[[0.2], [1.1]], [[-1.0], [2.0]]])
    hand = 0.5 * np.exp(-0.8 * np.abs(X[:, 0, 0] - X[:, 1, 0]))
    np.testing.assert_allclose(S.position_space(X, m=0.8), hand, rtol=1e-7)
    rng = np.random.default_rng(8)
    bb, cc = 0.8 * rng.standard_cauchy(400_000), rng.uniform(-np.pi, np.pi, 400_000)
    F2 = float(cos_layer(net).F2(0).subs({sa: 1.0, m: 0.8}))
    for j in range(2):
        mean, se = z_mean(F2 * np.cos(bb * X[j, 0, 0] + cc) * np.cos(bb * X[j, 1, 0] + cc))
        assert abs(mean - hand[j]) < 5 * se
    k = sp.Symbol("k", positive=True)
    with pytest.raises(ValueError, match="non-negative"):
        ns.inverse_design(1 - k**2, k, d=3, cutoff=2)
    with pytest.raises(ValueError, match="cutoff"):
        ns.inverse_design(1 / (1 + k**2), k, d=3)
    with pytest.raises(ValueError, match="d = 1"):
        ns.inverse_design(1 / (1 + k**2), k, d=2, strategy="density")
    with pytest.raises(ValueError, match="even"):
        ns.inverse_design(sp.exp(-p**2) * (1 + p), p, d=1, strategy="density")
    with pytest.raises(ValueError, match="strategy"):
        ns.inverse_design(1 / (1 + k**2), k, d=1, cutoff=1, strategy="magic")
    with pytest.raises(ValueError, match="not integrable"):  # 1/(p^2+m^2) in d = 2: G2(x, x) diverges
        ns.inverse_design(1 / (k**2 + m**2), k, d=2, frequency=ns.Normal("b", 0, 1, shape=2))
    with pytest.warns(UserWarning, match="4-point function is infinite"):  # F^4 P ~ e^{+b^2/2}(1+b^2)^{-4}
        ns.inverse_design(1 / (k**2 + m**2) ** 2, k, d=2, frequency=ns.Normal("b", 0, 1, shape=2))
    with pytest.raises(ValueError, match="not integrable"):  # 1/p^2 in d = 2: infrared divergence
        ns.inverse_design(1 / k**2, k, d=2, cutoff=1)
    with pytest.raises(ValueError, match="not both"):
        ns.inverse_design(1 / (k**2 + m**2), k, d=2, cutoff=1, frequency=ns.Normal("b", 0, 1, shape=2))


def test_inverse_design_with_a_gaussian_frequency_law():
    """d = 2, target (1 + p^2) e^{-p^2} realised with b ~ N(0, I): F^2 = 2 S/(sigma_a^2 (2 pi)^2 P);
    the spectrum back, and the engine's G2 (quadrature) against the inverse transform written here,
    G2(r) = (1/2 pi) int_0^oo dk k J_0(k r) (1 + k^2) e^{-k^2}, and against Monte Carlo."""
    pv = VectorSymbol("p", 2)
    target = (1 + Dot(pv, pv)) * sp.exp(-Dot(pv, pv))
    net = ns.inverse_design(target, pv, d=2, frequency=ns.Normal("b", 0, 1, shape=2))
    S = net.power_spectrum()
    q = S.momentum
    assert sp.simplify(S.expr - (1 + Dot(q, q)) * sp.exp(-Dot(q, q))) == 0
    r = np.array([0.0, 0.8, 2.0])
    X = np.zeros((3, 2, 2))
    X[:, 1, 1] = r
    hand = np.array([integrate.quad(lambda k: k * special.j0(k * rr) * (1 + k * k) * np.exp(-k * k), 0, np.inf)[0]
                     for rr in r]) / (2 * np.pi)
    np.testing.assert_allclose(net.correlator(2).evaluate(X, sigma_a=1.3, N=3), hand, rtol=1e-9)
    np.testing.assert_allclose(S.position_space(X, sigma_a=1.3), hand, rtol=1e-8)
    rng = np.random.default_rng(31)
    B = rng.normal(size=(400_000, 2))
    C = rng.uniform(-np.pi, np.pi, 400_000)
    F2 = 2 * (1 + np.sum(B * B, -1)) * np.exp(-np.sum(B * B, -1) / 2) / ((2 * np.pi) ** 2 / (2 * np.pi))
    for j in range(3):
        mean, se = z_mean(F2 * np.cos(B @ X[j, 0] + C) * np.cos(B @ X[j, 1] + C))
        assert abs(mean - hand[j]) < 5 * se
