"""The quartic coupling in momentum space (issue 10, item 4, third bullet):
lambda(p_1..p_4) = -Gtilde_c(p_1..p_4) / prod_i G(p_i), a distribution for the cos-layer networks.

Every result is checked two independent ways:

* by hand: the cos-net (d = 1), Cauchy-net and free-scalar (d = 3) couplings typed from the
  derivations in the docstrings, and the identity -lambda prod G = Gtilde_c on each support;
* back in position space: the literal sympy distribution integrated against plane waves (its
  deltas collapsed here, by the delta identity, the remaining momenta by scipy quadrature) and the
  module's own ``position_space``, both against the engine's position-space G_c^(4)
  (``net.correlator(4, connected=True).evaluate``), for cos_net(1) and cauchy_net(); in d = 2 by
  Gauss-Hermite quadrature of the structures' coefficients;
* by Monte Carlo of real sampled neurons: G_c^(4) at points (``ns.monte_carlo``) against the
  position-space integral of the distribution, and the windowed Fourier coefficients of sampled
  neurons (numpy, written here) against the distribution smeared by the same windows, on and off
  the delta supports (|z| < 5, fixed seeds); the same comparison without the disconnected
  structures fails, so the test can fail.
"""
import math

import numpy as np
import pytest
import sympy as sp
from scipy import integrate

import nnsym as ns
from nnsym.analysis.momentum_coupling import (
    DeltaStructure,
    MomentumCoupling,
    MomentumFourPoint,
    VectorDelta,
    momentum_connected_four_point,
    momentum_quartic_coupling,
)
from nnsym.analysis.spectra import power_spectrum
from nnsym.core.vectors import Component, VectorSymbol

N = sp.Symbol("N", positive=True, integer=True)
sa, sb, m, Lam = sp.symbols("sigma_a sigma_b m Lambda", positive=True)

COS_VALUES = dict(sigma_a=1.1, sigma_b=0.8, N=3)
CAUCHY_VALUES = dict(sigma_a=0.9, m=1.3, N=4)

pytestmark = pytest.mark.filterwarnings("ignore::nnsym.NumericWarning")


def point_sets(seed, n=6, scale=1.0, d=1):
    """Random point sets (n, 4, d); the first is the coincident point, the second a symmetric pair."""
    X = np.random.default_rng(seed).normal(scale=scale, size=(n, 4, d))
    X[0] = 0.0
    X[1, :, 0] = [0.3, 0.3, -0.2, -0.2]
    return X


# ----------------------------------------------------------------------------- by hand
def test_cos_net_d1_coupling_by_hand():
    r"""cos-net, d = 1 (docs/conventions.md, "Cos-net"): with g(v) = e^{-sigma_b^2 v^2/2} = E_b[cos(b v)],
    b ~ N(0, sigma_b^2) of density P,

        G_c^(4)(x) = sigma_a^4/(8N) [3 sum_s g(s.x) - 2 (g_12 g_34 + g_13 g_24 + g_14 g_23)],

    s over (++--), (+-+-), (+--+). Transform: g(s.x) = int dw P(w) e^{i w s.x}, and
    int prod_k dx_k e^{-i p_k x_k} e^{i w s_k x_k} = (2 pi)^4 prod_k delta(p_k - s_k w), so

        FT[g(s.x)] = (2 pi)^4 P(p_1) prod_{k>=2} delta(p_k - s_k p_1)
                   = 2 pi delta(sum p) * (2 pi)^3 P(p_1) delta(p_2 - s_2 p_1) delta(p_3 - s_3 p_1),
        FT[g_12 g_34] = (2 pi)^2 P(p_1) delta(p_1 + p_2) (2 pi)^2 P(p_3) delta(p_3 + p_4)
                      = 2 pi delta(sum p) * (2 pi)^3 P(p_1) P(p_3) delta(p_1 + p_2).

    The spectrum is G(p) = FT[(sigma_a^2/2) g] = pi sigma_a^2 P(p). Dividing each coefficient of
    Gtilde_c by prod_i G(p_i) on its support (G(p_1)^4 on a line, G(p_1)^2 G(p_3)^2 on a plane):

        lambda_line  = -(3 sigma_a^4 pi^3 P(p_1)/N) / (pi sigma_a^2 P(p_1))^4 = -3/(N pi sigma_a^4 P(p_1)^3)
                     = -3 (2 pi)^{3/2} sigma_b^3 e^{3 p_1^2/(2 sigma_b^2)} / (N pi sigma_a^4),
        lambda_plane = +(2 sigma_a^4 pi^3 P(p_1) P(p_3)/N) / (pi sigma_a^2)^4 P(p_1)^2 P(p_3)^2
                     = 4 sigma_b^2 e^{(p_1^2 + p_3^2)/(2 sigma_b^2)} / (N sigma_a^4).
    """
    lam = momentum_quartic_coupling(ns.zoo.cos_net(1))
    p1, p2, p3, p4 = lam.momenta
    line = -3 * (2 * sp.pi) ** sp.Rational(3, 2) * sb**3 * sp.exp(3 * p1**2 / (2 * sb**2)) / (N * sp.pi * sa**4)
    conn = [S for S in lam.structures if S.kind == "connected"]
    disc = [S for S in lam.structures if S.kind == "disconnected"]
    assert len(conn) == 3 and len(disc) == 3
    for S in conn:
        assert sp.simplify(S.coefficient - line) == 0
        assert S.where is sp.true
    assert {S.signs for S in conn} == {(1, 1, -1, -1), (1, -1, 1, -1), (1, -1, -1, 1)}
    for S in disc:
        q1, q2 = S.free
        plane = 4 * sb**2 * sp.exp((q1**2 + q2**2) / (2 * sb**2)) / (N * sa**4)
        assert q1 == p1 and sp.simplify(S.coefficient - plane) == 0
    # the delta factors of the (++--) line and the (12)(34) plane, and the whole distribution
    S0 = next(S for S in conn if S.signs == (1, 1, -1, -1))
    assert S0.deltas == (sp.DiracDelta(p1 - p2), sp.DiracDelta(p1 + p3))
    D0 = next(S for S in disc if S.pairing == ((1, 2), (3, 4)))
    assert D0.deltas == (sp.DiracDelta(p1 + p2),) and D0.free == (p1, p3)
    assert sp.simplify(lam.expr - sum(S.coefficient * sp.Mul(*S.deltas) for S in lam.structures)) == 0
    # numbers: the coefficient evaluates to the hand formula
    P = np.array([[[0.0]], [[0.7]], [[-1.3]]])
    got = S0.evaluate(P, **COS_VALUES)
    s_a, s_b, n = COS_VALUES["sigma_a"], COS_VALUES["sigma_b"], COS_VALUES["N"]
    want = -3 * (2 * math.pi) ** 1.5 * s_b**3 * np.exp(3 * P[:, 0, 0] ** 2 / (2 * s_b**2)) / (n * math.pi * s_a**4)
    assert np.allclose(got, want, rtol=1e-12)


def test_cauchy_net_coupling_by_hand():
    r"""Cauchy net: P(b) = m/(pi (b^2 + m^2)), G(p) = pi sigma_a^2 P(p) = sigma_a^2 m/(p^2 + m^2)
    (docs/conventions.md, "Momentum space"). Exactly as for the cos-net (test above), with
    E[a^4] = 3 sigma_a^4/N^2: lambda_line = -3/(N pi sigma_a^4 P(p_1)^3) = -3 pi^2 (p_1^2 + m^2)^3/(N m^3 sigma_a^4),
    lambda_plane = 2 pi/(N G(p_1) G(p_3)) = 2 pi (p_1^2 + m^2)(p_3^2 + m^2)/(N m^2 sigma_a^4)."""
    lam = momentum_quartic_coupling(ns.zoo.cauchy_net())
    p1 = lam.momenta[0]
    for S in lam.structures:
        if S.kind == "connected":
            want = -3 * sp.pi**2 * (p1**2 + m**2) ** 3 / (N * m**3 * sa**4)
        else:
            q = S.free[1]
            want = 2 * sp.pi * (p1**2 + m**2) * (q**2 + m**2) / (N * m**2 * sa**4)
        assert sp.simplify(S.coefficient - want) == 0


def test_free_scalar_d3_coupling_by_hand():
    r"""Free scalar, d = 3: b uniform in |b| < Lambda (P = 3/(4 pi Lambda^3)), F = 1/sqrt(b^2 + m^2),
    G(p) = 3 pi^2 sigma_a^2/(Lambda^3 (p^2 + m^2)) for |p| < Lambda. S_4 = 2 P F^4, N E[a^4] = 3 sigma_a^4/N:
    lambda_line = -(3 sigma_a^4/N)(2 pi)^9/16 * 2P/(p^2 + m^2)^2 / G^4 = -16 Lambda^9 (p^2 + m^2)^2/(9 N sigma_a^4),
    lambda_plane = (2 pi)^3/(N G(p_1) G(p_3)) = 8 Lambda^6 (p_1^2 + m^2)(p_3^2 + m^2)/(9 pi N sigma_a^4);
    both only inside the cutoff (outside, G = 0 and the quotient is undefined)."""
    lam = momentum_quartic_coupling(ns.zoo.free_scalar(3))
    p1 = lam.momenta[0]
    sq = lambda v: ns.Dot(v, v)  # noqa: E731
    for S in lam.structures:
        body = S.coefficient
        assert isinstance(body, sp.Piecewise) and len(body.args) == 1  # no "otherwise": undefined outside
        value, cond = body.args[0]
        assert cond == S.where
        if S.kind == "connected":
            want = -16 * Lam**9 * (sq(p1) + m**2) ** 2 / (9 * N * sa**4)
            assert S.where == (Lam**2 >= sq(p1))
        else:
            q = S.free[1]
            want = 8 * Lam**6 * (sq(p1) + m**2) * (sq(q) + m**2) / (9 * sp.pi * N * sa**4)
        assert sp.simplify(value - want) == 0
    vals = dict(sigma_a=1.0, m=0.5, Lambda=2.0, N=4)
    S0 = lam.structures[0]
    inside = S0.evaluate(np.array([[[0.3, 0.4, 0.5]]]), **vals)
    assert np.allclose(inside, -16 * 2.0**9 * (0.5 + 0.25) ** 2 / (9 * 4))
    with pytest.raises(ValueError, match="undefined"):
        S0.evaluate(np.array([[[1.5, 1.5, 0.0]]]), **vals)


@pytest.mark.parametrize("make", [lambda: ns.zoo.cos_net(1), ns.zoo.cauchy_net, lambda: ns.zoo.free_scalar(1),
                                  lambda: ns.zoo.cos_net(2), lambda: ns.zoo.free_scalar(3), lambda: ns.zoo.cos_net()],
                         ids=["cos1", "cauchy", "free1", "cos2", "free3", "cos_d"])
def test_coupling_times_spectra_is_the_four_point_coefficient(make):
    """-lambda_S prod_i G(p_i) on the support of S equals the coefficient of S in Gtilde_c (the spectra
    from power_spectrum, written independently of the four-point derivation), and the disconnected
    coefficients are -(2 pi)^d G(p_1) G(p_k)/N (Gaussian readout, docs/conventions.md "Correlators at finite N")."""
    net = make()
    lam = momentum_quartic_coupling(net)
    G4 = lam.four_point
    spec = power_spectrum(net)
    G = lambda v: spec.expr.xreplace({spec.momentum: v})  # noqa: E731
    assert len(lam.structures) == len(G4.structures) == 6
    for L, T in zip(lam.structures, G4.structures):
        assert L.deltas == T.deltas and L.support == T.support
        prodG = sp.Mul(*[G(s) for s in T.support])
        if L.where is not sp.true:  # inside the cutoff the Piecewise pieces are their first branch
            inside = lambda e: e.replace(lambda a: isinstance(a, sp.Piecewise), lambda a: a.args[0][0])  # noqa: E731
            lhs, rhs = inside(-L.coefficient * prodG), inside(T.coefficient)
        else:
            lhs, rhs = -L.coefficient * prodG, T.coefficient
        assert sp.simplify(sp.powsimp(sp.expand_power_base(lhs - rhs, force=True), force=True)) == 0
        if T.kind == "disconnected":
            q1, q2 = T.free
            want = -(2 * sp.pi) ** G4.dim * G(q1) * G(q2) / N
            diff = sp.piecewise_fold(T.coefficient - want)
            assert sp.simplify(sp.powsimp(sp.expand_power_base(diff, force=True), force=True)) == 0


def test_symbolic_d_is_the_d2_result():
    """The cos-net in symbolic d, at d = 2, is the d = 2 distribution (coefficients and constants)."""
    d = sp.Symbol("d", positive=True, integer=True)
    Gd, G2 = momentum_connected_four_point(ns.zoo.cos_net(d)), momentum_connected_four_point(ns.zoo.cos_net(2))
    for A, B in zip(Gd.structures, G2.structures):
        assert A.kind == B.kind and A.label == B.label
        a = A.coefficient.subs(d, 2)
        ren = {q: VectorSymbol(q.name, 2) for q in A.free}
        a = a.xreplace(ren)
        assert sp.simplify(a - B.coefficient) == 0
    assert Gd.conservation == (2 * sp.pi) ** d * VectorDelta(sum(Gd.momenta, sp.S.Zero))


# ----------------------------------------------------------------------------- back to position space
def collapse_deltas(term, phase, variables):
    """Integrate ``term * e^{i phase}`` over the momenta ``variables`` that its DiracDelta factors fix
    (the delta identity int dv delta(a v + r) f(v) = f(-r/a)/|a|); returns (term, phase, variables left)."""
    left = list(variables)
    while True:
        deltas = [f for f in sp.Mul.make_args(term) if isinstance(f, sp.DiracDelta)
                  and any(v in f.args[0].free_symbols for v in left)]
        if not deltas:
            return term, phase, left
        arg = deltas[0].args[0]
        v = next(v for v in left if v in arg.free_symbols)
        a = sp.diff(arg, v)
        sol = v - arg / a
        term = (term / deltas[0]).xreplace({v: sol}) / abs(a)
        phase = sp.expand(phase.xreplace({v: sol}))
        left.remove(v)


def line_fourier(f, v):
    """int_R f(q) e^{i q v} dq by QUADPACK (cos and sin parts separately; f numeric)."""
    ev = lambda q: f(q) + f(-q)  # noqa: E731
    od = lambda q: f(q) - f(-q)  # noqa: E731
    if abs(v) > 1e-12:
        c = integrate.quad(ev, 0, np.inf, weight="cos", wvar=abs(v), limlst=200)[0]
        s = integrate.quad(od, 0, np.inf, weight="sin", wvar=abs(v), limlst=200)[0] * np.sign(v)
    else:
        c, s = integrate.quad(ev, 0, np.inf, limit=400, epsabs=1e-13)[0], 0.0
    return c + 1j * s


def literal_position_space(G4, X, values):
    r"""G_c^(4)(x) = int prod_k dp_k/(2 pi) e^{i p_k x_k} G_c(p) from the literal sympy ``G4.expr`` (d = 1):
    its deltas collapsed over p_2, p_3, p_4, the momenta left by quadrature (the integrand factorises)."""
    ps = G4.momenta
    xs = sp.symbols("y1:5", real=True)
    phase = sum(p * x for p, x in zip(ps, xs))
    subs = {s: values[s.name] for s in G4.expr.free_symbols if s.name in values}
    out = np.zeros(len(X))
    for term in sp.Add.make_args(sp.expand(G4.expr, deep=False)):  # distribute the conservation factor only
        t, ph, _ = collapse_deltas(term, phase, [ps[3], ps[1], ps[2]])
        t = t.xreplace(subs) / (2 * sp.pi) ** 4
        free = sorted(t.free_symbols & set(ps), key=sp.default_sort_key)
        parts = sp.separatevars(t, symbols=free, dict=True)
        const = complex(parts.pop("coeff"))
        fns = {q: sp.lambdify([q], parts[q], "numpy") for q in free}
        for j, x in enumerate(X[:, :, 0]):
            phx = ph.xreplace(dict(zip(xs, x)))
            val = const
            for q in free:
                val *= line_fourier(lambda u, fq=fns[q]: float(np.real(fq(u))), float(sp.diff(phx, q)))
            out[j] += val.real
    return out


@pytest.mark.parametrize("make,values", [(lambda: ns.zoo.cos_net(1), COS_VALUES), (ns.zoo.cauchy_net, CAUCHY_VALUES)],
                         ids=["cos_net", "cauchy_net"])
def test_literal_distribution_back_in_position_space(make, values):
    """The sympy expression G_c(p_1..p_4) (deltas and all), integrated against plane waves, is the
    engine's position-space G_c^(4) at random points."""
    net = make()
    G4 = momentum_connected_four_point(net)
    X = point_sets(7, n=5)
    got = literal_position_space(G4, X, values)
    want = net.correlator(4, connected=True).evaluate(X, **values)
    assert np.allclose(got, want, rtol=1e-7, atol=1e-10), (got, want)


@pytest.mark.parametrize("make,values", [(lambda: ns.zoo.cos_net(1), COS_VALUES), (ns.zoo.cauchy_net, CAUCHY_VALUES),
                                         (lambda: ns.zoo.free_scalar(1), dict(sigma_a=1.0, m=0.7, Lambda=2.5, N=5))],
                         ids=["cos_net", "cauchy_net", "free_scalar"])
def test_position_space_method_and_its_stated_error(make, values):
    """``MomentumFourPoint.position_space`` (quadrature over b of the collapsed deltas) against the
    engine's G_c^(4), within its stated error (plus the engine's own quadrature error for the free
    scalar, whose position-space G_c^(4) is numeric)."""
    from nnsym.analysis.toolkit import evaluate_with_error

    net = make()
    G4 = momentum_connected_four_point(net)
    X = point_sets(11, n=8)
    val, err, numeric = G4.position_space(X, **values)
    ref, ref_err, _ = evaluate_with_error(net.correlator(4, connected=True), X, values)
    assert numeric and err > 0 and val.shape == (8,)
    assert np.all(np.abs(val - ref) <= err + ref_err + 1e-14), (np.abs(val - ref), err, ref_err)
    assert err < 1e-6 * np.max(np.abs(ref))


def test_d2_distribution_by_gauss_hermite_quadrature():
    """cos-net in d = 2: each structure's coefficient (``DeltaStructure.evaluate``) integrated over its
    free momenta against the plane waves by tensor Gauss-Hermite quadrature (written here) gives the
    engine's G_c^(4) at random points."""
    net = ns.zoo.cos_net(2)
    vals = dict(sigma_a=1.0, sigma_b=1.1, N=3)
    G4 = momentum_connected_four_point(net)
    t, w = np.polynomial.hermite.hermgauss(24)
    s = vals["sigma_b"]  # coefficients ~ e^{-|q|^2/sigma_b^2} in d = 2: q = sigma_b t
    Q = s * np.stack(np.meshgrid(t, t, indexing="ij"), -1).reshape(-1, 2)
    W = (np.outer(w, w) * np.exp(np.add.outer(t**2, t**2))).ravel() * s**2
    X = point_sets(5, n=4, scale=0.8, d=2)
    want = net.correlator(4, connected=True).evaluate(X, **vals)
    got = np.zeros(len(X))
    for S in G4.structures:
        if S.kind == "connected":
            c = S.evaluate(Q[:, None, :], **vals)
            sgn = np.array([float(sp.diff(e, S.free[0])) for e in S.support])
            for j, x in enumerate(X):
                got[j] += np.sum(W * c * np.cos(Q @ (sgn @ x))) / (2 * math.pi) ** 6
        else:
            Q2 = np.concatenate([np.repeat(Q, len(Q), 0)[:, None, :], np.tile(Q, (len(Q), 1))[:, None, :]], 1)
            c = S.evaluate(Q2, **vals)
            W2 = np.repeat(W, len(W)) * np.tile(W, len(W))
            A = np.array([[float(sp.diff(e, q)) for e in S.support] for q in S.free])  # (2, 4)
            for j, x in enumerate(X):
                v = A @ x  # (2, 2): the position combination of each free momentum
                got[j] += np.sum(W2 * c * np.cos(Q2[:, 0] @ v[0] + Q2[:, 1] @ v[1])) / (2 * math.pi) ** 6
    assert np.allclose(got, want, rtol=1e-9, atol=1e-12), (got, want)


# ----------------------------------------------------------------------------- Monte Carlo
@pytest.mark.parametrize("make,values", [(lambda: ns.zoo.cos_net(1), dict(sigma_a=1.0, sigma_b=1.0, N=2)),
                                         (ns.zoo.cauchy_net, dict(sigma_a=1.0, m=1.0, N=2))],
                         ids=["cos_net", "cauchy_net"])
def test_monte_carlo_at_points_against_the_distribution(make, values):
    """Monte Carlo of sampled neurons (ns.monte_carlo, neuron estimator) against the position-space
    integral of the distribution, |z| < 5 with the MC standard error and the stated quadrature error."""
    net = make()
    X = point_sets(2, n=6, scale=0.7)
    val, err, _ = momentum_connected_four_point(net).position_space(X, **values)
    est = ns.monte_carlo(net, 4, X, connected=True, samples=2_000_000, seed=3, method="neuron", **values)
    z = (est.mean - val) / np.hypot(est.stderr, err)
    assert np.all(np.abs(z) < 5), z


def window_ft(k, L):
    """Fourier transform of the Gaussian window w(x) = e^{-x^2/(2 L^2)}: sqrt(2 pi) L e^{-k^2 L^2/2}."""
    return math.sqrt(2 * math.pi) * L * np.exp(-0.5 * (k * L) ** 2)


def smeared(G4, P, L, values, kinds=("connected", "disconnected")):
    r"""G_c^W(p) = int prod_k dq_k/(2 pi) w^(p_k - q_k) G_c(q) of the distribution (d = 1): for each
    structure (2 pi)^{-3} c_0 prod_{free q} int dq f_q(q) prod_{k on q} w^(p_k - (dp_k/dq) q)."""
    out = 0.0
    for S in G4.structures:
        if S.kind not in kinds:
            continue
        c0 = float(S.constant.subs({s: values[s.name] for s in S.constant.free_symbols}))
        val = c0 / (2 * math.pi) ** 3
        for q, f in S.factors:
            fn = sp.lambdify([q], f.subs({s: values[s.name] for s in f.free_symbols if s != q}), "numpy")
            wk = [(k, float(sp.diff(e, q))) for k, e in enumerate(S.support) if sp.diff(e, q) != 0]
            centres = [P[k] / a for k, a in wk]
            lo, hi = min(centres) - 10 / L, max(centres) + 10 / L
            g = lambda u: float(fn(u)) * np.prod([window_ft(P[k] - a * u, L) for k, a in wk])  # noqa: E731
            val *= integrate.quad(g, lo, hi, points=centres, limit=200, epsabs=1e-14, epsrel=1e-11)[0]
        out += val
    return out


@pytest.mark.parametrize("which", ["cos_net", "cauchy_net"])
def test_monte_carlo_windowed_fourier_coefficients(which):
    r"""Momentum space directly: the Fourier coefficients of sampled neurons in a Gaussian window,
    h^W(p) = int dx e^{-ipx} w(x) cos(b x + c) = [e^{ic} w^(p - b) + e^{-ic} w^(p + b)]/2, give
    G_c^W(p_1..p_4) = N kappa(a h^W(p_1), ..., a h^W(p_4)) (numpy, batches of neurons here). The
    distribution smeared by the same windows must agree (|z| < 5) on a line (p, p, -p, -p), on a
    plane only (p, -p, q, -q), where both meet, and off the supports; the distribution without its
    disconnected structures must not (|z| > 5 somewhere)."""
    net = ns.zoo.cos_net(1) if which == "cos_net" else ns.zoo.cauchy_net()
    values = dict(sigma_a=1.0, sigma_b=1.0, N=2) if which == "cos_net" else dict(sigma_a=1.0, m=1.0, N=2)
    L = 2.0
    P = np.array([[0.7, 0.7, -0.7, -0.7], [0.4, -0.4, 1.1, -1.1], [0.5, -0.5, 0.5, -0.5], [1.0, 0.3, -0.5, -0.8]])
    G4 = momentum_connected_four_point(net)
    exact = np.array([smeared(G4, p, L, values) for p in P])
    partial = np.array([smeared(G4, p, L, values, kinds=("connected",)) for p in P])
    rng = np.random.default_rng(np.random.SeedSequence(2024))
    n_batches, per = 40, 100_000
    est = np.empty((n_batches, len(P)), dtype=complex)
    for j in range(n_batches):
        a = rng.normal(0.0, values["sigma_a"] / math.sqrt(values["N"]), per)
        b = rng.normal(0.0, values["sigma_b"], per) if which == "cos_net" else values["m"] * rng.standard_cauchy(per)
        c = rng.uniform(-math.pi, math.pi, per)
        for i, p in enumerate(P):
            Z = a[:, None] * 0.5 * (np.exp(1j * c)[:, None] * window_ft(p[None, :] - b[:, None], L)
                                    + np.exp(-1j * c)[:, None] * window_ft(p[None, :] + b[:, None], L))
            m2 = lambda u, v: np.mean(Z[:, u] * Z[:, v])  # noqa: E731 -- E[Z] = 0 exactly (E[a] = 0)
            m4 = np.mean(Z[:, 0] * Z[:, 1] * Z[:, 2] * Z[:, 3])
            est[j, i] = values["N"] * (m4 - m2(0, 1) * m2(2, 3) - m2(0, 2) * m2(1, 3) - m2(0, 3) * m2(1, 2))
    mean, se = est.mean(0), est.std(0, ddof=1) / math.sqrt(n_batches)
    assert np.all(np.abs(mean.imag) < 5 * se.real + 1e-12)
    z = (mean.real - exact) / np.abs(se)
    assert np.all(np.abs(z) < 5), (z, mean.real, exact)
    assert abs(exact[0]) > 20 * abs(se[0]) and abs(exact[1]) > 20 * abs(se[1])  # not a test of 0 = 0
    z_partial = (mean.real - partial) / np.abs(se)
    assert np.max(np.abs(z_partial)) > 5, z_partial


# ----------------------------------------------------------------------------- refusals and bad input
def test_gauss_net_is_refused_not_translation_invariant():
    for f in (momentum_connected_four_point, momentum_quartic_coupling):
        with pytest.raises(ValueError, match="not translation invariant.*G_c\\^\\(4\\)"):
            f(ns.zoo.gauss_net(1))


def test_two_layer_net_is_refused_not_translation_invariant():
    with pytest.raises(ValueError, match="not translation invariant.*G\\^\\(2\\)"):
        momentum_connected_four_point(ns.zoo.erf_net(1))


def test_translation_invariant_neuron_outside_the_cos_layer_has_no_rule():
    """cos(b x + c)^2 is translation invariant (a shift is absorbed by c) but not F(b) cos(b x + c)."""
    _, s_a, s_b, _ = ns.zoo.symbols()
    x = ns.Input("x", 1)
    net = ns.Network(sp.cos(ns.Normal("b", 0, s_b**2) * x + ns.Uniform("c", -sp.pi, sp.pi)) ** 2,
                     ns.Normal("a", 0, s_a**2 / N), N, x)
    with pytest.raises(ns.NoClosedForm, match="no momentum-space rule"):
        momentum_connected_four_point(net)
    with pytest.raises(ns.NoClosedForm, match="cos-layer form"):
        momentum_quartic_coupling(net)


def test_non_translation_invariant_tanh_neuron_is_refused():
    _, s_a, s_b, _ = ns.zoo.symbols()
    x = ns.Input("x", 1)
    net = ns.Network(sp.tanh(ns.Normal("b", 0, s_b**2) * x + ns.Uniform("c", -sp.pi, sp.pi)),
                     ns.Normal("a", 0, s_a**2 / N), N, x)
    with pytest.raises(ValueError, match="not translation invariant"):
        momentum_connected_four_point(net)


def test_shared_parameters_and_non_networks_are_refused():
    _, s_a, s_b, _ = ns.zoo.symbols()
    x = ns.Input("x", 1)
    b = ns.Normal("b", 0, s_b**2)
    net = ns.Network(sp.cos(b * x + ns.Uniform("c", -sp.pi, sp.pi)), ns.Normal("a", 0, s_a**2 / N), N, x, shared=(b,))
    with pytest.raises(ns.NoClosedForm, match="shared"):
        momentum_connected_four_point(net)
    with pytest.raises(TypeError, match="Network"):
        momentum_quartic_coupling(ns.zoo.cos_net(1).correlator(2))


def test_output_bias():
    """A Gaussian output bias has no fourth cumulant: nothing changes. A Laplace bias (kappa_4 = 12 s^4)
    adds 12 (2 pi)^3 delta(p_1) delta(p_2) delta(p_3) (d = 1), and the coupling is refused there."""
    _, s_a, s_b, _ = ns.zoo.symbols()
    x = ns.Input("x", 1)
    neuron = sp.cos(ns.Normal("b", 0, s_b**2) * x + ns.Uniform("c", -sp.pi, sp.pi))
    parts = (neuron, ns.Normal("a", 0, s_a**2 / N), N, x)
    plain = momentum_connected_four_point(ns.Network(*parts))
    gauss = momentum_connected_four_point(ns.Network(*parts, bias=ns.Normal("beta", 0, 1)))
    assert gauss.expr == plain.expr
    lap = momentum_connected_four_point(ns.Network(*parts, bias=ns.Laplace("beta", 0, 1)))
    zero = lap.structures[-1]
    p1, p2, p3, _ = lap.momenta
    assert zero.kind == "zero mode" and zero.free == ()
    deltas = sp.DiracDelta(p1) * sp.DiracDelta(p2) * sp.DiracDelta(p3)
    assert sp.simplify(zero.expr - 12 * (2 * sp.pi) ** 3 * deltas) == 0
    val, _, _ = lap.position_space(np.zeros((1, 4, 1)), sigma_a=1.0, sigma_b=1.0, N=2)
    assert np.isclose(val[0], 0.1875 + 12)  # sigma_a^4/(8N) (9 - 6) + kappa_4(beta)
    with pytest.raises(ns.NoClosedForm, match="zero mode"):
        momentum_quartic_coupling(ns.Network(*parts, bias=ns.Laplace("beta", 0, 1)))


def test_position_space_bad_input():
    G4 = momentum_connected_four_point(ns.zoo.cos_net(1))
    with pytest.raises(ValueError, match="shape"):
        G4.position_space(np.zeros((3, 2, 1)), **COS_VALUES)
    with pytest.raises(TypeError, match="sigma_b"):
        G4.position_space(np.zeros((1, 4, 1)), sigma_a=1.0, sigmab=1.0, N=2)
    with pytest.raises(ValueError, match="missing"):
        G4.position_space(np.zeros((1, 4, 1)), sigma_a=1.0, N=2)
    with pytest.raises(ValueError, match="sigma_b"):
        G4.position_space(np.zeros((1, 4, 1)), sigma_a=1.0, sigma_b=-1.0, N=2)
    with pytest.raises(ns.NoClosedForm, match="d = 1 only"):
        momentum_connected_four_point(ns.zoo.cos_net(2)).position_space(np.zeros((1, 4, 2)), sigma_a=1, sigma_b=1, N=2)


# ----------------------------------------------------------------------------- objects and printing
def test_vector_delta():
    p, q = VectorSymbol("p", 3), VectorSymbol("q", 3)
    assert VectorDelta(-p + q) == VectorDelta(p - q)
    assert VectorDelta(p + q).components() == sp.Mul(*[sp.DiracDelta(Component(p, j) + Component(q, j))
                                                       for j in range(3)])
    assert sp.latex(VectorDelta(p + q)) == r"\delta^{(3)}\left(p + q\right)"
    with pytest.raises(TypeError, match="vector"):
        VectorDelta(sp.Symbol("t"))
    d = sp.Symbol("d", positive=True, integer=True)
    with pytest.raises(ValueError, match="symbolic"):
        VectorDelta(VectorSymbol("p", d)).components()


def test_objects_say_they_are_distributions_and_state_the_convention():
    lam = momentum_quartic_coupling(ns.zoo.cauchy_net())
    G4 = lam.four_point
    assert isinstance(lam, MomentumCoupling) and isinstance(G4, MomentumFourPoint)
    assert isinstance(lam.structures[0], DeltaStructure)
    assert G4.is_distribution and lam.is_distribution
    assert "distribution, not a function" in G4.support and "lines p_k = s_k p_1" in G4.support
    assert "divided by prod_i G(p_i) evaluated on that structure's support" in lam.description
    assert "lambda/4!" in lam.convention and "-lambda prod_i G(p_i)" in lam.convention
    tex = lam.latex()
    assert r"\tilde G_c = -\lambda\prod_i G(p_i)" in tex and "distribution" in tex
    assert r"\delta\left(p_{1} + p_{2}\right)" in tex
    assert "distribution" in G4.latex() and G4._repr_latex_().startswith("$")
    assert "delta structures" in repr(G4) and "sum p = 0" in repr(lam)
    p1, p2, p3, p4 = G4.momenta
    assert G4.expr == G4.conservation * G4.reduced
    assert G4.conservation == 2 * sp.pi * sp.DiracDelta(p1 + p2 + p3 + p4)
