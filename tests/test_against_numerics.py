"""Check exact nnsym correlators against independent numerics.

Every exact result of the engine (``Correlator.evaluate``) is compared with an
independent estimate from ``tests/independent.py`` (hand-written numpy Monte
Carlo with jackknife standard errors, or scipy quadrature), never with a
formula derived the way the engine derives it.

Monte Carlo comparisons: fixed seeds, |z| < 5 at every point set with
z = (exact - mc_mean) / stderr.  Deterministic references (quadrature) are
compared with a tolerance built from the quadrature error estimate.

Tests marked ``slow`` are excluded by default; run them with ``python -m pytest -m slow``.
Each has a fast counterpart covering the same code path.
"""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

import independent as ind

PI = np.pi
SA, SB, SC = 1.0, 0.7, 0.3  # sigma_a, sigma_b, sigma_c
P = 4  # point sets per check

def _slow(f):
    # the "slow" marker is registered in pyproject.toml and excluded by default
    return pytest.mark.slow(f)


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ns():
    mod = pytest.importorskip("nnsym")
    if getattr(mod, "__file__", None) is None:  # bare directory, engine not written yet
        pytest.skip("nnsym engine not importable yet")
    return mod


def assert_z(exact, mean, stderr, zmax=5.0, label="", X=None):
    """|exact - mean| / stderr < zmax at every point set.  Where stderr == 0
    (deterministic quantity) compare with rtol 1e-10 instead."""
    exact = np.atleast_1d(np.asarray(exact, dtype=float))
    mean = np.atleast_1d(np.asarray(mean, dtype=float))
    stderr = np.broadcast_to(np.atleast_1d(np.asarray(stderr, dtype=float)), mean.shape)
    assert exact.shape == mean.shape, f"{label}: shape {exact.shape} vs {mean.shape}"
    bad = []
    lines = []
    for i in range(mean.size):
        e, m, s = exact.flat[i], mean.flat[i], stderr.flat[i]
        if s == 0:
            ok = np.isclose(e, m, rtol=1e-10, atol=0.0)
            z = np.nan
        else:
            z = (e - m) / s
            ok = np.isfinite(z) and abs(z) < zmax
        pts = "" if X is None else np.array2string(np.asarray(X)[i].ravel(), precision=3)
        line = (f"  point set {i} {pts}: exact={e:.8g} mc={m:.8g} "
                f"stderr={s:.3g} z={z:.2f}{'' if ok else '   <-- FAIL'}")
        lines.append(line)
        if not ok:
            bad.append(i)
    assert not bad, f"{label}: |z| >= {zmax} (or rtol 1e-10 failed) at {bad}\n" + "\n".join(lines)


def assert_quad(exact, value, abserr, label="", X=None):
    """Compare with a deterministic quadrature reference: tolerance from the
    quadrature error estimate (floored at 1e-10 relative)."""
    exact = np.atleast_1d(np.asarray(exact, dtype=float))
    value = np.atleast_1d(np.asarray(value, dtype=float))
    abserr = np.broadcast_to(np.atleast_1d(np.asarray(abserr, dtype=float)), value.shape)
    tol = 1e-10 * np.maximum(np.abs(value), 1e-3) + 10 * abserr
    bad = np.flatnonzero(~(np.abs(exact - value) <= tol))
    lines = [f"  point set {i}: exact={exact[i]:.14g} quad={value[i]:.14g} "
             f"diff={exact[i] - value[i]:.3g} tol={tol[i]:.3g}" for i in range(value.size)]
    assert bad.size == 0, f"{label}: quadrature mismatch at {list(bad)}\n" + "\n".join(lines)


def evaluate(corr, X, **values):
    out = np.asarray(corr.evaluate(np.asarray(X, dtype=float), **values))
    assert np.all(np.abs(np.imag(out)) < 1e-12), "complex output"
    out = np.real(out).astype(float)
    assert out.shape == np.asarray(X).shape[:-2], f"evaluate shape {out.shape} for X {np.shape(X)}"
    return out


def points(seed, n, d, scale, coincident_first=True):
    """P point sets of shape (n, d), uniform in [-scale, scale]^d; the first
    point set has all points coincident (exercises |x_i - x_j| = 0)."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-scale, scale, size=(P, n, d))
    if coincident_first:
        X[0] = X[0, 0]
    return X


_CACHE: dict = {}


def cached(key, fn):
    if key not in _CACHE:
        _CACHE[key] = fn()
    return _CACHE[key]


# ---------------------------------------------------------------------------
# independent samplers of the zoo networks (written from docs/conventions.md and the README)
# ---------------------------------------------------------------------------


def zoo_draw(kind, d, N):
    var_a = SA**2 / N if kind == "cos" else SA**2 / (2 * N)

    def draw(rng, M):
        p = {"a": rng.normal(0.0, np.sqrt(var_a), M),
             "b": rng.normal(0.0, SB / np.sqrt(d), (M, d))}
        p["c"] = rng.uniform(-PI, PI, M) if kind == "cos" else rng.normal(0.0, SC, M)
        return p

    return draw


def zoo_neuron(kind, d):
    if kind == "cos":
        return lambda p, X: np.cos(ind.bdotx(p["b"], X) + ind.col(p["c"]))

    def h(p, X):
        x2 = np.sum(np.asarray(X) ** 2, axis=-1)[:, None, :]  # (P, 1, n)
        return np.exp(ind.bdotx(p["b"], X) + ind.col(p["c"]) - SC**2 - SB**2 * x2 / d)

    return h


def zoo_values(kind, N):
    v = dict(sigma_a=SA, sigma_b=SB, N=N)
    if kind == "gauss":
        v["sigma_c"] = SC
    return v


ZOO_SCALE = {"cos": 1.5, "gauss": 0.5}  # gauss: |x| < 1 keeps the variance finite/moderate
DSPECS = [1, 2, 3, "sym2", "sym3"]


def zoo_net(ns, kind, dspec):
    if isinstance(dspec, str):
        d_sym = sp.Symbol("d", positive=True, integer=True)
        D = int(dspec[-1])
        net = (ns.zoo.cos_net if kind == "cos" else ns.zoo.gauss_net)(d_sym)
        return net, D, {"d": D}
    net = (ns.zoo.cos_net if kind == "cos" else ns.zoo.gauss_net)(dspec)
    return net, dspec, {}


# ---------------------------------------------------------------------------
# 4. toolkit self-tests (no nnsym needed)
# ---------------------------------------------------------------------------


def test_toolkit_gaussian_fourth_cumulant_is_zero():
    rng = np.random.default_rng(101)
    Y = rng.normal(0.3, 1.7, 10**6)
    k, s = ind.joint_cumulant_from_samples(np.stack([Y] * 4, axis=-1))
    assert_z(0.0, k, s, label="kappa_4 of a Gaussian")
    # mixed joint cumulant of a correlated Gaussian vector also vanishes
    Z = rng.standard_normal((10**6, 2))
    Y2 = np.stack([Z[:, 0], Z[:, 0] + Z[:, 1], Z[:, 1], 2 * Z[:, 0]], axis=-1)
    k, s = ind.joint_cumulant_from_samples(Y2)
    assert_z(0.0, k, s, label="joint kappa_4 of a Gaussian vector")


def test_toolkit_exponential_cumulants():
    rng = np.random.default_rng(102)
    E = rng.exponential(1.0, 10**6)
    # kappa_n of Exp(1) = (n-1)!
    for n, exact in [(2, 1.0), (3, 2.0), (4, 6.0)]:
        k, s = ind.joint_cumulant_from_samples(np.stack([E] * n, axis=-1))
        assert_z(exact, k, s, label=f"kappa_{n} of Exp(1)")
    m, s = ind.moment_from_samples(np.stack([E] * 3, axis=-1))
    assert_z(6.0, m, s, label="E[Y^3] of Exp(1)")


def test_toolkit_stderr_is_calibrated():
    """Spread of the z-scores of 200 independent small estimates ~ N(0, 1)."""
    rng = np.random.default_rng(103)
    zs = []
    for _ in range(200):
        Y = rng.standard_normal(20000)
        k, s = ind.joint_cumulant_from_samples(np.stack([Y] * 4, axis=-1))
        zs.append(k / s)
    zs = np.asarray(zs)
    # std of the sample std of 200 N(0,1) values is ~0.05
    assert 0.8 < zs.std() < 1.25, zs.std()
    assert abs(zs.mean()) < 5 / np.sqrt(200), zs.mean()


def test_toolkit_cumulant_identities():
    rng = np.random.default_rng(104)
    Y = rng.standard_normal((10**5, 2)) @ np.array([[1.0, 0.5], [0.0, 2.0]])
    k, _ = ind.joint_cumulant_from_samples(Y)
    np.testing.assert_allclose(k, np.cov(Y.T, bias=True)[0, 1], rtol=1e-10)
    # kappa of independent blocks vanishes: kappa(U, U, V, V) = 0 for indep U, V
    U, V = rng.exponential(size=(2, 10**6))
    k, s = ind.joint_cumulant_from_samples(np.stack([U, U, V, V], axis=-1))
    assert_z(0.0, k, s, label="kappa(U,U,V,V), U indep V")
    assert [len(ind.set_partitions(n)) for n in range(1, 7)] == [1, 2, 5, 15, 52, 203]


def test_toolkit_network_estimators_agree():
    """Whole-network cumulant == N * single-neuron cumulant (i.i.d. neurons),
    both estimated independently -- checks the two estimators against each other."""
    X = points(105, 4, 1, 1.0)
    draw, neuron, N = zoo_draw("cos", 1, 3), zoo_neuron("cos", 1), 3
    k1, s1 = ind.single_neuron_connected(X, draw, neuron, N, seed=1)
    k2, s2 = ind.network_estimate(X, draw, neuron, N, seed=2, kind="cumulant")
    assert_z(k1, k2, np.hypot(s1, s2), label="single-neuron vs whole-network G_c^(4)", X=X)


def test_toolkit_quadrature_and_samplers():
    # Gauss-Hermite / quad_vec: E_b E_c[cos(b x1 + c) cos(b x2 + c)] = exp(-s^2 v^2/2)/2
    v, err = ind.cosnet_H_quad_d1([0.3, -0.5], 0.7)
    assert abs(v - 0.5 * np.exp(-0.49 * 0.64 / 2)) < 1e-12 + 10 * err
    # QAWF Fourier integral of the Cauchy law: exp(-gamma |v|)
    g = 0.6
    v, err = ind.symmetric_charfun_quad(lambda b: g / (np.pi * (g * g + b * b)), 1.3)
    assert abs(v - np.exp(-g * 1.3)) < 1e-9
    # rejection sampler on the standard normal (envelope N(0, 2))
    rng = np.random.default_rng(106)
    y = ind.rejection_sample(rng, 10**6, lambda b: -b * b / 2,
                             lambda r, m: r.normal(0, np.sqrt(2), m),
                             lambda b: -b * b / 4 - 0.5 * np.log(2.0), 0.5 * np.log(2.0))
    m, s = ind.moment_from_samples(np.stack([y, y], axis=-1))
    assert_z(1.0, m, s, label="rejection sampler E[Y^2]")


# ---------------------------------------------------------------------------
# 1. zoo networks
# ---------------------------------------------------------------------------


def _zoo_mc(kind, D, what):
    """Independent MC reference for the zoo nets (cached: symbolic-d tests reuse it)."""
    scale = ZOO_SCALE[kind]
    if what == "G2":
        N = 10
        X = points(1000 + D, 2, D, scale)
        fn = lambda: ind.network_estimate(X, zoo_draw(kind, D, N), zoo_neuron(kind, D),
                                          N, seed=11 + D, kind="moment")
    elif what == "Gc4":
        N = 10
        X = points(2000 + D, 4, D, scale)
        fn = lambda: ind.single_neuron_connected(X, zoo_draw(kind, D, N), zoo_neuron(kind, D),
                                                 N, seed=21 + D)
    elif what == "G4":
        N = 3
        X = points(3000 + D, 4, D, scale)
        fn = lambda: ind.network_estimate(X, zoo_draw(kind, D, N), zoo_neuron(kind, D),
                                          N, seed=31 + D, kind="moment")
    else:
        raise ValueError(what)
    est, se = cached(("zoo", kind, D, what), fn)
    return X, N, est, se


@pytest.mark.parametrize("dspec", DSPECS)
@pytest.mark.parametrize("kind", ["cos", "gauss"])
@pytest.mark.parametrize("what", ["G2", "Gc4", "G4"])
def test_zoo_against_mc(ns, kind, dspec, what):
    net, D, extra = zoo_net(ns, kind, dspec)
    X, N, est, se = _zoo_mc(kind, D, what)
    n = 2 if what == "G2" else 4
    corr = net.correlator(n, connected=(what == "Gc4"))
    # symbolic d: the dimension is read off X (last axis); passing d=D explicitly
    # by name must give the same numbers
    for kw in ([{}, extra] if extra else [{}]):
        exact = evaluate(corr, X, **zoo_values(kind, N), **kw)
        assert_z(exact, est, se, label=f"{kind}_net(d={dspec}) {what} N={N} {kw}", X=X)


@pytest.mark.parametrize("kind", ["cos", "gauss"])
def test_zoo_d1_against_quadrature(ns, kind):
    """d = 1: G^(2) and G_c^(4) from deterministic quadrature moments
    (Gauss-Hermite in b, quad_vec / Gauss-Hermite in c) + Moebius formula."""
    net = (ns.zoo.cos_net if kind == "cos" else ns.zoo.gauss_net)(1)
    N = 7
    var_a = SA**2 / N if kind == "cos" else SA**2 / (2 * N)
    Ea = {1: 0.0, 2: var_a, 3: 0.0, 4: 3 * var_a**2}

    def H(xs):
        if kind == "cos":
            return ind.cosnet_H_quad_d1(xs, SB)
        return ind.gaussnet_H_quad_d1(xs, SB, SC), 1e-15

    for n, connected in [(2, False), (4, True)]:
        X = points(4000 + n, n, 1, ZOO_SCALE[kind])
        corr = net.correlator(n, connected=connected)
        exact = evaluate(corr, X, **zoo_values(kind, N))
        ref, err = [], []
        for Xi in X:
            xs = Xi[:, 0]

            def mom(mask):
                idx = [k for k in range(n) if mask >> k & 1]
                h, e = H(xs[idx])
                return Ea[len(idx)] * h, Ea[len(idx)] * e

            k, e = ind.cumulant_from_quad_moments(mom, n)
            ref.append(N * k)
            err.append(N * e)
        assert_quad(exact, ref, err, label=f"{kind}_net(1) n={n} connected={connected}", X=X)


# ---------------------------------------------------------------------------
# 3. odd correlators of the cos-net
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("d", [1, 2])
def test_cosnet_odd_correlators_vanish(ns, d):
    net = ns.zoo.cos_net(d)
    for connected in (False, True):
        corr = net.correlator(3, connected=connected)
        assert sp.sympify(corr.expr) == 0, f"G^(3) (connected={connected}) = {corr.expr}"
    X = points(5000 + d, 3, d, 1.5)
    N = 3
    exact = evaluate(net.correlator(3), X, **zoo_values("cos", N))
    assert np.all(exact == 0.0)
    est, se = ind.network_estimate(X, zoo_draw("cos", d, N), zoo_neuron("cos", d), N,
                                   seed=51 + d, kind="moment")
    assert_z(exact, est, se, label=f"cos_net({d}) G^(3)", X=X)


# ---------------------------------------------------------------------------
# 2. networks built with the public API (not in the zoo)
# ---------------------------------------------------------------------------

# (a) cos neuron, Uniform readout a ~ U[-s, s], b ~ Laplace(0, beta), c ~ U[-pi, pi], d = 1

A_VALS = dict(s=0.8, beta=0.5, N=3)


def _net_a(ns):
    s = sp.Symbol("s", positive=True)
    beta = sp.Symbol("beta", positive=True)
    N = sp.Symbol("N", positive=True, integer=True)
    x = ns.Input("x", 1)
    a = ns.Uniform("a", -s, s)
    b = ns.Laplace("b", 0, beta)
    c = ns.Uniform("c", -sp.pi, sp.pi)
    return ns.Network(sp.cos(b * x + c), a, N, x)


def _draw_a(rng, M):
    return {"a": rng.uniform(-A_VALS["s"], A_VALS["s"], M),
            "b": rng.laplace(0.0, A_VALS["beta"], M),
            "c": rng.uniform(-PI, PI, M)}


def _cos_neuron_1d(p, X):
    return np.cos(ind.bdotx(p["b"], X) + ind.col(p["c"]))


@pytest.mark.parametrize("n", [4, 6])
def test_uniform_readout_laplace_weight_connected(ns, n):
    net = _net_a(ns)
    X = points(6000 + n, n, 1, 1.5)
    exact = evaluate(net.correlator(n, connected=True), X, **A_VALS)
    est, se = ind.single_neuron_connected(X, _draw_a, _cos_neuron_1d, A_VALS["N"], seed=60 + n)
    assert_z(exact, est, se, label=f"uniform-readout/Laplace cos net G_c^({n})", X=X)


# (b) cos neuron with b ~ Cauchy(0, gamma), d = 1

B_VALS = dict(sigma_a=SA, gamma=0.6, N=5)


def _net_b(ns):
    sa = sp.Symbol("sigma_a", positive=True)
    gamma = sp.Symbol("gamma", positive=True)
    N = sp.Symbol("N", positive=True, integer=True)
    x = ns.Input("x", 1)
    a = ns.Normal("a", 0, sa**2 / N)
    b = ns.Cauchy("b", 0, gamma)
    c = ns.Uniform("c", -sp.pi, sp.pi)
    return ns.Network(sp.cos(b * x + c), a, N, x)


def _draw_b(rng, M):
    return {"a": rng.normal(0.0, B_VALS["sigma_a"] / np.sqrt(B_VALS["N"]), M),
            "b": B_VALS["gamma"] * rng.standard_cauchy(M),
            "c": rng.uniform(-PI, PI, M)}


def test_cauchy_weight_two_point(ns):
    net = _net_b(ns)
    X = points(7000, 2, 1, 2.0)
    exact = evaluate(net.correlator(2), X, **B_VALS)
    est, se = ind.network_estimate(X, _draw_b, _cos_neuron_1d, B_VALS["N"], seed=70, kind="moment")
    assert_z(exact, est, se, label="Cauchy cos net G^(2) vs whole-network MC", X=X)
    # quadrature: N E[a^2] E_c[cos(b x1 + c) cos(b x2 + c)] = sigma_a^2/2 E_b[cos(b (x1 - x2))],
    # the Cauchy Fourier integral done numerically (QAWF)
    g = B_VALS["gamma"]
    ref = [ind.symmetric_charfun_quad(lambda b: g / (np.pi * (g * g + b * b)),
                                      Xi[0, 0] - Xi[1, 0]) for Xi in X]
    val = np.array([SA**2 / 2 * r[0] for r in ref])
    err = np.array([SA**2 / 2 * r[1] for r in ref])
    assert_quad(exact, val, err, label="Cauchy cos net G^(2) vs QAWF quadrature", X=X)


# (c) d = 2, Gaussian b vector, nonzero-mean Normal readout; sin(b.x + c) and cos(b.x)

C_VALS = dict(mu=0.4, sigma_a=SA, sigma_b=SB, N=4)


def _net_c(ns, kind):
    mu = sp.Symbol("mu", real=True)
    sa = sp.Symbol("sigma_a", positive=True)
    sb = sp.Symbol("sigma_b", positive=True)
    N = sp.Symbol("N", positive=True, integer=True)
    x = ns.Input("x", 2)
    a = ns.Normal("a", mu, sa**2 / N)
    b = ns.Normal("b", 0, sb**2, shape=2)
    if kind == "sin_phase":
        c = ns.Uniform("c", 0, 1)
        h = sp.sin(b.dot(x) + c)
    else:
        h = sp.cos(b.dot(x))
    return ns.Network(h, a, N, x)


def _draw_c(rng, M):
    return {"a": rng.normal(C_VALS["mu"], C_VALS["sigma_a"] / np.sqrt(C_VALS["N"]), M),
            "b": rng.normal(0.0, C_VALS["sigma_b"], (M, 2)),
            "c": rng.uniform(0.0, 1.0, M)}


def _neuron_c(kind):
    if kind == "sin_phase":
        return lambda p, X: np.sin(ind.bdotx(p["b"], X) + ind.col(p["c"]))
    return lambda p, X: np.cos(ind.bdotx(p["b"], X))


@pytest.mark.parametrize("n", [1, 2, 3])
@pytest.mark.parametrize("kind", ["sin_phase", "cos_nophase"])
def test_nonzero_mean_readout_full_moments(ns, kind, n):
    net = _net_c(ns, kind)
    X = points(8000 + 10 * n, n, 2, 1.2)
    exact = evaluate(net.correlator(n), X, **C_VALS)
    est, se = ind.network_estimate(X, _draw_c, _neuron_c(kind), C_VALS["N"],
                                   seed=80 + n + (0 if kind == "sin_phase" else 5), kind="moment")
    assert_z(exact, est, se, label=f"{kind} d=2 mu!=0 G^({n}) N=4", X=X)


# (d) polynomial parameter dependence, d = 1

D_VALS = dict(sigma_a=SA, sigma_b=SB, sigma_c=0.8, N=6)


def _net_d(ns, kind):
    sa = sp.Symbol("sigma_a", positive=True)
    sb = sp.Symbol("sigma_b", positive=True)
    sc = sp.Symbol("sigma_c", positive=True)
    N = sp.Symbol("N", positive=True, integer=True)
    x = ns.Input("x", 1)
    a = ns.Normal("a", 0, sa**2 / N)
    b = ns.Normal("b", 0, sb**2)
    if kind == "bx_cosc":
        c = ns.Uniform("c", -sp.pi, sp.pi)
        h = b * x * sp.cos(c)
    else:
        c = ns.Normal("c", 0, sc**2)
        h = b * x + c**2
    return ns.Network(h, a, N, x)


def _draw_d(kind):
    def draw(rng, M):
        p = {"a": rng.normal(0.0, D_VALS["sigma_a"] / np.sqrt(D_VALS["N"]), M),
             "b": rng.normal(0.0, D_VALS["sigma_b"], M)}
        p["c"] = (rng.uniform(-PI, PI, M) if kind == "bx_cosc"
                  else rng.normal(0.0, D_VALS["sigma_c"], M))
        return p
    return draw


def _neuron_d(kind):
    if kind == "bx_cosc":
        return lambda p, X: ind.bdotx(p["b"], X) * np.cos(ind.col(p["c"]))
    return lambda p, X: ind.bdotx(p["b"], X) + ind.col(p["c"]) ** 2


@pytest.mark.parametrize("kind", ["bx_cosc", "bx_plus_c2"])
def test_polynomial_neuron_two_point(ns, kind):
    net = _net_d(ns, kind)
    X = points(9000, 2, 1, 1.5)
    vals = {k: v for k, v in D_VALS.items() if kind != "bx_cosc" or k != "sigma_c"}
    exact = evaluate(net.correlator(2), X, **vals)
    est, se = ind.network_estimate(X, _draw_d(kind), _neuron_d(kind), D_VALS["N"],
                                   seed=90 + len(kind), kind="moment")
    assert_z(exact, est, se, label=f"{kind} G^(2)", X=X)


@pytest.mark.parametrize("kind", ["bx_cosc", "bx_plus_c2"])
def test_polynomial_neuron_connected_four_point(ns, kind):
    net = _net_d(ns, kind)
    X = points(9100, 4, 1, 1.5)
    vals = {k: v for k, v in D_VALS.items() if kind != "bx_cosc" or k != "sigma_c"}
    exact = evaluate(net.correlator(4, connected=True), X, **vals)
    est, se = ind.single_neuron_connected(X, _draw_d(kind), _neuron_d(kind), D_VALS["N"],
                                          seed=95 + len(kind))
    assert_z(exact, est, se, label=f"{kind} G_c^(4)", X=X)


# (e) shared parameter: h = cos(b x + c) with c shared by all neurons, d = 1

E_VALS = dict(sigma_a=SA, sigma_b=1.2)


def _net_e(ns):
    sa = sp.Symbol("sigma_a", positive=True)
    sb = sp.Symbol("sigma_b", positive=True)
    N = sp.Symbol("N", positive=True, integer=True)
    x = ns.Input("x", 1)
    a = ns.Normal("a", 0, sa**2 / N)
    b = ns.Normal("b", 0, sb**2)
    c = ns.Uniform("c", -sp.pi, sp.pi)
    return ns.Network(sp.cos(b * x + c), a, N, x, shared=(c,))


def _draw_e(N):
    def draw(rng, M):
        return {"a": rng.normal(0.0, E_VALS["sigma_a"] / np.sqrt(N), M),
                "b": rng.normal(0.0, E_VALS["sigma_b"], M)}
    return draw


def _draw_e_shared(rng, S):
    return {"c": rng.uniform(-PI, PI, S)}


def _shared_mc(n, N):
    X = points(10000 + n, n, 1, 1.0)
    acc = cached(("shared", n, N), lambda: ind.network_accumulator(
        X, _draw_e(N), _cos_neuron_1d, N, seed=100 + 10 * n + N, draw_shared=_draw_e_shared))
    return X, acc


@pytest.mark.parametrize("N", [2, 5])
@pytest.mark.parametrize("what", ["G2", "G4", "Gc4"])
def test_shared_parameter(ns, what, N):
    net = _net_e(ns)
    n = 2 if what == "G2" else 4
    X, acc = _shared_mc(n, N)
    corr = net.correlator(n, connected=(what == "Gc4"))
    exact = evaluate(corr, X, **E_VALS, N=N)
    est, se = acc.cumulant() if what == "Gc4" else acc.moment()
    assert_z(exact, est, se, label=f"shared-c cos net {what} N={N}", X=X)


def test_shared_parameter_connected_survives_large_N(ns):
    """N * G_c^(4) grows ~N for a shared parameter (independence breaking):
    G_c^(4) tends to a nonzero N-independent limit; check the engine's
    N -> oo limit against whole-network MC at large N."""
    net = _net_e(ns)
    X, _ = _shared_mc(4, 5)
    N = 40
    exact = evaluate(net.correlator(4, connected=True), X, **E_VALS, N=N)
    est, se = ind.network_estimate(X, _draw_e(N), _cos_neuron_1d, N, seed=141,
                                   draw_shared=_draw_e_shared, kind="cumulant",
                                   neuron_draws=2 * 10**6)
    assert_z(exact, est, se, label=f"shared-c cos net G_c^(4) N={N}", X=X)
    assert np.max(np.abs(exact)) > 10 * np.max(se), "independence-breaking term not resolved"


# (f) output bias

F_VALS = dict(sigma_a=SA, sigma_b=SB, sbo=0.4, N=3)


def _net_f(ns):
    sa = sp.Symbol("sigma_a", positive=True)
    sb = sp.Symbol("sigma_b", positive=True)
    sbo = sp.Symbol("sbo", positive=True)
    N = sp.Symbol("N", positive=True, integer=True)
    x = ns.Input("x", 1)
    a = ns.Normal("a", 0, sa**2 / N)
    b = ns.Normal("b", 0, sb**2)
    c = ns.Uniform("c", -sp.pi, sp.pi)
    return ns.Network(sp.cos(b * x + c), a, N, x, bias=ns.Normal("bout", 0, sbo**2))


def _draw_f(rng, M):
    return {"a": rng.normal(0.0, F_VALS["sigma_a"] / np.sqrt(F_VALS["N"]), M),
            "b": rng.normal(0.0, F_VALS["sigma_b"], M),
            "c": rng.uniform(-PI, PI, M)}


def _bias_f(rng, S):
    return rng.normal(0.0, F_VALS["sbo"], S)


@pytest.mark.parametrize("what", ["G2", "Gc4", "G4"])
def test_output_bias(ns, what):
    net = _net_f(ns)
    n = 2 if what == "G2" else 4
    X = points(11000 + n, n, 1, 1.5)
    exact = evaluate(net.correlator(n, connected=(what == "Gc4")), X, **F_VALS)
    acc = cached(("bias", n), lambda: ind.network_accumulator(
        X, _draw_f, _cos_neuron_1d, F_VALS["N"], seed=110 + n, bias=_bias_f))
    est, se = acc.cumulant() if what == "Gc4" else acc.moment()
    assert_z(exact, est, se, label=f"cos net + N(0, sbo^2) output bias {what}", X=X)


# (g) Density law for the first-layer weight: p(b) ~ exp(-b^2/2) (1 + b^2)

G_VALS = dict(sigma_a=SA, N=4)


def _net_g(ns):
    sa = sp.Symbol("sigma_a", positive=True)
    N = sp.Symbol("N", positive=True, integer=True)
    bs = sp.Symbol("b")
    x = ns.Input("x", 1)
    a = ns.Normal("a", 0, sa**2 / N)
    b = ns.Density("b", sp.exp(-bs**2 / 2) * (1 + bs**2), (-sp.oo, sp.oo))
    c = ns.Uniform("c", -sp.pi, sp.pi)
    return ns.Network(sp.cos(b * x + c), a, N, x)


def _density_g(b):
    return np.exp(-b * b / 2) * (1 + b * b)


def _sample_density_g(rng, M):
    # exact rejection sampling from proposal N(0, 2):
    # log f - log q = -b^2/4 + log(1 + b^2) + const, maximal at b^2 = 3
    log_q = lambda b: -b * b / 4 - 0.5 * np.log(4 * np.pi)
    log_f = lambda b: -b * b / 2 + np.log1p(b * b)
    log_M = np.log(4.0) - 0.75 + 0.5 * np.log(4 * np.pi)
    return ind.rejection_sample(rng, M, log_f, lambda r, m: r.normal(0, np.sqrt(2), m),
                                log_q, log_M)


def _draw_g(rng, M):
    return {"a": rng.normal(0.0, G_VALS["sigma_a"] / np.sqrt(G_VALS["N"]), M),
            "b": _sample_density_g(rng, M),
            "c": rng.uniform(-PI, PI, M)}


def test_density_weight_two_point(ns):
    net = _net_g(ns)
    X = points(12000, 2, 1, 1.5)
    exact = evaluate(net.correlator(2), X, **G_VALS)
    est, se = ind.network_estimate(X, _draw_g, _cos_neuron_1d, G_VALS["N"], seed=120, kind="moment")
    assert_z(exact, est, se, label="Density-weight cos net G^(2) vs MC", X=X)
    # deterministic: sigma_a^2 E_b E_c[cos(b x1 + c) cos(b x2 + c)], both integrals by quad
    ref, err = [], []
    for Xi in X:
        x1, x2 = Xi[0, 0], Xi[1, 0]

        def f(b):
            return integrate_c(lambda c: np.cos(b * x1 + c) * np.cos(b * x2 + c))

        v, e = ind.expectation_quad(f, _density_g, -np.inf, np.inf, eps=1e-12)
        ref.append(SA**2 * v)
        err.append(SA**2 * e)
    assert_quad(exact, ref, err, label="Density-weight cos net G^(2) vs nested quad", X=X)


def integrate_c(f):
    from scipy import integrate
    v, _ = integrate.quad(f, -PI, PI, epsabs=1e-13, epsrel=1e-12)
    return v / (2 * PI)


@_slow  # the engine needs ~10-30 s here (one symbolic integral per distinct argument
#         of the Density law's transform); test_density_weight_two_point covers the
#         Density code path fast.
def test_density_weight_connected_four_point(ns):
    net = _net_g(ns)
    X = points(12100, 4, 1, 1.5)
    exact = evaluate(net.correlator(4, connected=True), X, **G_VALS)
    est, se = ind.single_neuron_connected(X, _draw_g, _cos_neuron_1d, G_VALS["N"], seed=121)
    assert_z(exact, est, se, label="Density-weight cos net G_c^(4) vs MC", X=X)


def test_density_weight_inverse_cdf_sampler_agrees():
    """The grid inverse-CDF sampler and the rejection sampler agree (E[b^2] = 2,
    E[b^4] = (3 + 15)/2 = 9 for p ~ exp(-b^2/2)(1+b^2))."""
    rng = np.random.default_rng(122)
    inv = ind.inverse_cdf_sampler(_density_g, -12, 12)
    for y in (inv(rng, 10**6), _sample_density_g(rng, 10**6)):
        m2, s2 = ind.moment_from_samples(np.stack([y, y], axis=-1))
        m4, s4 = ind.moment_from_samples(np.stack([y] * 4, axis=-1))
        assert_z(2.0, m2, s2, label="E[b^2]")
        assert_z(9.0, m4, s4, label="E[b^4]")


# ---------------------------------------------------------------------------
# slow: larger-sample repeats (the fast tests above cover the same code)
# ---------------------------------------------------------------------------


@_slow
@pytest.mark.parametrize("kind", ["cos", "gauss"])
def test_zoo_connected_four_point_high_precision(ns, kind):
    D = 2
    net = ns.zoo.cos_net(D) if kind == "cos" else ns.zoo.gauss_net(D)
    N = 3
    X = points(13000, 4, D, ZOO_SCALE[kind])
    exact = evaluate(net.correlator(4, connected=True), X, **zoo_values(kind, N))
    est, se = ind.single_neuron_connected(X, zoo_draw(kind, D, N), zoo_neuron(kind, D), N,
                                          seed=130, n_samples=2 * 10**7, n_batches=100)
    assert_z(exact, est, se, label=f"{kind}_net({D}) G_c^(4) 2e7 draws", X=X)
