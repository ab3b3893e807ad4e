"""The numeric layer: ``ns.monte_carlo`` and ``ns.validate`` (issue 3).

* Acceptance: both estimators ("neuron" and "network") agree with the exact
  connected 4- and 6-point functions (|z| < 5 at every point set) for networks
  with non-Gaussian priors (uniform readout, Laplace and Cauchy first-layer
  weights, d = 1 and d = 2), with an output bias, and with a shared parameter
  (network estimator only).
* Calibration: over many seeds |z| < 2 holds in about 95% of cases, for both
  estimators.
* Reproducibility: the same seed gives bit-identical numbers for any chunk size
  and on a real Dask ``LocalCluster``.
* Streaming (bounded memory), overflow/nan detection, the stable Gauss-net form,
  bad input, the validation table and the progress bar.

All Monte Carlo here uses fixed seeds, so every test is deterministic. Tests
marked ``slow`` are excluded by default; each has a faster counterpart above it
covering the same code.
"""
from __future__ import annotations

import math
import tracemalloc
import warnings

import numpy as np
import pytest
import sympy as sp

import nnsym as ns

ZMAX = 5.0
PI = sp.pi

N = sp.Symbol("N", positive=True, integer=True)
sigma_a = sp.Symbol("sigma_a", positive=True)
s_sym = sp.Symbol("s", positive=True)  # uniform readout a ~ U[-s, s]
lam = sp.Symbol("lam", positive=True)  # Laplace scale
m_sym = sp.Symbol("m", positive=True)  # Cauchy scale
sigma_w = sp.Symbol("sigma_w", positive=True)  # shared weight
sigma_beta = sp.Symbol("sigma_beta", positive=True)  # output bias scale

COS_VALUES = dict(sigma_a=1.0, sigma_b=0.7)


# ----------------------------------------------------------------------------- networks
def _phase():
    return ns.Uniform("c", -PI, PI)


def uniform_readout_laplace_d1():
    """a ~ U[-s, s] (no 1/N: G_c grows with N), b ~ Laplace(0, lam), d = 1."""
    x = ns.Input("x", 1)
    a = ns.Uniform("a", -s_sym, s_sym)
    b = ns.Laplace("b", 0, lam)
    return ns.Network(sp.cos(b * x + _phase()), readout=a, width=N, input=x), dict(s=0.8, lam=0.9)


def cauchy_d1():
    """b ~ Cauchy(0, m): E[cos(b v)] = exp(-m |v|) (docs/conventions.md, "Momentum space", Cauchy net)."""
    x = ns.Input("x", 1)
    a = ns.Normal("a", 0, sigma_a**2 / N)
    b = ns.Cauchy("b", 0, m_sym)
    return ns.Network(sp.cos(b * x + _phase()), readout=a, width=N, input=x), dict(sigma_a=1.0, m=0.6)


def cauchy_d2():
    """Cauchy vector weights in d = 2 (i.i.d. components): exp(-m (|v_1| + |v_2|))."""
    x = ns.Input("x", 2)
    a = ns.Normal("a", 0, sigma_a**2 / N)
    b = ns.Cauchy("b", 0, m_sym, shape=2)
    return ns.Network(sp.cos(b.dot(x) + _phase()), readout=a, width=N, input=x), dict(sigma_a=1.0, m=0.6)


def laplace_d2_bias():
    """Uniform readout, Laplace vector weights in d = 2, and a Laplace output bias
    (kappa_4 = 12 sigma_beta^4, kappa_6 = 240 sigma_beta^6: the bias contributes)."""
    x = ns.Input("x", 2)
    a = ns.Uniform("a", -s_sym, s_sym)
    b = ns.Laplace("b", 0, lam, shape=2)
    beta = ns.Laplace("beta", 0, sigma_beta)
    net = ns.Network(sp.cos(b.dot(x) + _phase()), readout=a, width=N, input=x, bias=beta)
    return net, dict(s=0.8, lam=0.5, sigma_beta=0.3)


def shared_weight_d1():
    """A weight offset w shared by all neurons: h_i = cos((b_i + w) x + c_i)."""
    x = ns.Input("x", 1)
    a = ns.Normal("a", 0, sigma_a**2 / N)
    b = ns.Normal("b", 0, 1)
    w = ns.Normal("w", 0, sigma_w**2)
    net = ns.Network(sp.cos((b + w) * x + _phase()), readout=a, width=N, input=x, shared=[w])
    return net, dict(sigma_a=1.0, sigma_w=0.8)


def shared_amplitude_d1():
    """A shared amplitude g ~ U[1/2, 3/2]: h_i = g cos(b_i x + c_i)."""
    x = ns.Input("x", 1)
    a = ns.Normal("a", 0, sigma_a**2 / N)
    b = ns.Normal("b", 0, 1)
    g = ns.Uniform("g", sp.Rational(1, 2), sp.Rational(3, 2))
    net = ns.Network(g * sp.cos(b * x + _phase()), readout=a, width=N, input=x, shared=[g])
    return net, dict(sigma_a=1.0)


_NETS: dict = {}


def net_and_values(name):
    """One network object per factory, so its correlator cache is reused across tests."""
    if name not in _NETS:
        _NETS[name] = globals()[name]()
    return _NETS[name]


def _dim(net):
    return int(net.dim)


def _points(n, d, seed, P=3, scale=0.7):
    return scale * np.random.default_rng(seed).normal(size=(P, n, d))


def assert_agrees(est, exact, label, min_resolution=3.0):
    """|z| < ZMAX at every point set, and the estimate resolves the exact value
    (max |exact|/stderr >= min_resolution) so that the check is not vacuous."""
    exact = np.asarray(exact, dtype=float)
    assert est.mean.shape == exact.shape and est.stderr.shape == exact.shape, label
    assert np.all(np.isfinite(est.mean)) and np.all(est.stderr > 0), f"{label}: {est}"
    z = est.z(exact)
    table = "\n".join(
        f"  #{i}: exact={e:.6g} mc={m:.6g} +- {s:.3g} z={zz:+.2f}"
        for i, (e, m, s, zz) in enumerate(zip(exact.ravel(), est.mean.ravel(), est.stderr.ravel(), z.ravel()))
    )
    assert np.all(np.abs(z) < ZMAX), f"{label}: |z| >= {ZMAX}\n{table}"
    resolution = np.max(np.abs(exact) / est.stderr)
    assert resolution >= min_resolution, f"{label}: test too weak (max |exact|/stderr = {resolution:.2f})\n{table}"


# ----------------------------------------------------------------------------- acceptance
# (network factory, n): both estimators; N = 10 for the neuron estimator (its
# variance does not grow with N), N = 2 for the network estimator (whose noise on
# G_c grows relative to G_c with N).
IID_CASES = [
    ("uniform_readout_laplace_d1", 4),
    ("uniform_readout_laplace_d1", 6),
    ("cauchy_d1", 4),
    ("cauchy_d1", 6),
    ("cauchy_d2", 4),
    ("cauchy_d2", 6),
    ("laplace_d2_bias", 4),
    ("laplace_d2_bias", 6),
]


@pytest.mark.parametrize("name,n", IID_CASES, ids=[f"{a}-G{n}c" for a, n in IID_CASES])
@pytest.mark.parametrize("method,samples,width", [("neuron", 500_000, 10), ("network", 200_000, 2)])
def test_connected_agrees_with_exact(name, n, method, samples, width):
    net, vals = net_and_values(name)
    vals = dict(vals, N=width)
    X = _points(n, _dim(net), seed=100 + n)
    exact = net.correlator(n, connected=True).evaluate(X, **vals)
    est = ns.monte_carlo(net, n, X, connected=True, samples=samples, seed=1, method=method, **vals)
    assert est.method == method and est.samples == samples
    assert est.neuron_evaluations == samples * X.shape[0] * n * (width if method == "network" else 1)
    assert_agrees(est, exact, f"{name} G_c^({n}) {method}")


@pytest.mark.parametrize("n", [2, 4])
@pytest.mark.parametrize("method,samples,width", [("neuron", 300_000, 10), ("network", 100_000, 3)])
def test_full_moments_with_bias_agree(n, method, samples, width):
    """Full (not connected) moments: falling factorials of N and bias moments in the
    neuron estimator, plain moments of phi in the network estimator."""
    net, vals = net_and_values("laplace_d2_bias")
    vals = dict(vals, N=width)
    X = _points(n, 2, seed=200 + n)
    exact = net.correlator(n).evaluate(X, **vals)
    est = ns.monte_carlo(net, n, X, samples=samples, seed=2, method=method, **vals)
    assert_agrees(est, exact, f"laplace_d2_bias G^({n}) {method}")


def test_output_bias_contributes():
    """The bias case above is not vacuous: removing the bias changes G_c^(4) by
    kappa_4(beta) = 12 sigma_beta^4, many standard errors."""
    net, vals = net_and_values("laplace_d2_bias")
    vals = dict(vals, N=10)
    X = _points(4, 2, seed=104)
    est = ns.monte_carlo(net, 4, X, connected=True, samples=200_000, seed=3, method="neuron", **vals)
    kappa4 = 12 * vals["sigma_beta"] ** 4
    exact = net.correlator(4, connected=True).evaluate(X, **vals)
    assert np.all(np.abs(est.z(exact)) < ZMAX)
    assert np.all(np.abs(est.z(exact - kappa4)) > 10)


@pytest.mark.parametrize("width", [3, 10])
def test_shared_parameter_network_estimator(width):
    net, vals = net_and_values("shared_weight_d1")
    vals = dict(vals, N=width)
    X = _points(4, 1, seed=300)
    exact = net.correlator(4, connected=True).evaluate(X, **vals)
    est = ns.monte_carlo(net, 4, X, connected=True, samples=200_000, seed=4, **vals)  # auto -> network
    assert est.method == "network"
    assert_agrees(est, exact, f"shared w G_c^(4) N={width}")


def test_shared_parameter_survives_large_width():
    """Independence breaking: with a shared parameter G_c^(4) does not vanish as N grows."""
    net, vals = net_and_values("shared_weight_d1")
    X = _points(4, 1, seed=300)
    G = net.correlator(4, connected=True)
    small = G.evaluate(X, **dict(vals, N=3))
    big = G.evaluate(X, **dict(vals, N=10**6))
    # i.i.d. neurons would give big/small = 3e-6
    assert np.max(np.abs(big)) > 1e-2 * np.max(np.abs(small)) > 0


def test_shared_parameter_neuron_estimator_refused():
    net, vals = net_and_values("shared_weight_d1")
    X = _points(4, 1, seed=300)
    with pytest.raises(ValueError, match=r"(?i)i\.i\.d\..*w.*network"):
        ns.monte_carlo(net, 4, X, connected=True, samples=1000, method="neuron", **dict(vals, N=3))
    with pytest.raises(ValueError, match="i.i.d."):
        ns.validate(net, 4, X, connected=True, samples=1000, method="neuron", **dict(vals, N=3))


def test_shared_amplitude_six_point():
    """Connected 6-point function with a shared parameter (network estimator)."""
    net, vals = net_and_values("shared_amplitude_d1")
    vals = dict(vals, N=3)
    X = _points(6, 1, seed=306)
    exact = net.correlator(6, connected=True).evaluate(X, **vals)
    est = ns.monte_carlo(net, 6, X, connected=True, samples=200_000, seed=5, method="network", **vals)
    assert_agrees(est, exact, "shared g G_c^(6)")


@pytest.mark.slow  # ~25 s to derive; test_shared_amplitude_six_point covers the same code
def test_shared_weight_six_point():
    net, vals = net_and_values("shared_weight_d1")
    vals = dict(vals, N=3)
    X = _points(6, 1, seed=306)
    exact = net.correlator(6, connected=True).evaluate(X, **vals)
    est = ns.monte_carlo(net, 6, X, connected=True, samples=400_000, seed=6, method="network", **vals)
    assert_agrees(est, exact, "shared w G_c^(6)")


def test_validate_passes_on_non_gaussian_network():
    net, vals = net_and_values("cauchy_d2")
    X = _points(4, 2, seed=104)
    rep = ns.validate(net, 4, X, connected=True, samples=200_000, seed=7, **dict(vals, N=10))
    assert rep.passed, str(rep)
    assert rep.estimate.method == "neuron"
    assert rep.z.shape == (3,) and rep.exact.shape == (3,)
    assert rep.threshold > 3  # Bonferroni over 3 point sets at alpha = 1e-3


# ----------------------------------------------------------------------------- calibration
def _binomial_band(p0, trials, k=4.5):
    sd = math.sqrt(p0 * (1 - p0) / trials)
    return p0 - k * sd, min(1.0, p0 + k * sd)


def _calibration(method, width, seeds, samples=20_000):
    net = ns.zoo.cos_net(2)
    vals = dict(COS_VALUES, N=width)
    X = np.array([[[0.0, 0.0], [0.3, -0.2], [0.6, 0.5], [-0.4, 0.9]],
                  [[0.1, 0.2], [0.1, 0.2], [-0.5, 0.3], [0.8, -0.6]]])
    exact = net.correlator(4, connected=True).evaluate(X, **vals)
    z = np.array([
        ns.monte_carlo(net, 4, X, connected=True, samples=samples, seed=seed, method=method, **vals).z(exact)
        for seed in range(seeds)
    ])
    return z


def _check_calibration(z, seeds):
    """Fraction of |z| < 2 in a binomial band around 0.95 (the spread is taken
    from the number of seeds, conservative for the correlated point sets),
    plus the mean and spread of z (SE 1/sqrt(seeds) and ~1/sqrt(2 seeds))."""
    frac = float(np.mean(np.abs(z) < 2))
    lo, hi = _binomial_band(0.95, seeds)
    msg = (f"fraction |z|<2 = {frac:.3f} (band [{lo:.3f}, {hi:.3f}]), "
           f"mean z = {z.mean(axis=0)}, sd z = {z.std(axis=0)}")
    assert lo <= frac <= hi, msg
    assert np.all(np.abs(z.mean(axis=0)) < 5 / math.sqrt(seeds)), msg
    spread = z.std()
    assert 1 - 5 / math.sqrt(2 * seeds) < spread < 1 + 6 / math.sqrt(2 * seeds), msg


@pytest.mark.parametrize("method,width", [("neuron", 10), ("network", 2)])
def test_stderr_calibrated(method, width):
    seeds = 200
    _check_calibration(_calibration(method, width, seeds), seeds)


@pytest.mark.slow  # 1000 seeds: a tighter band; test_stderr_calibrated covers the same code
@pytest.mark.parametrize("method,width", [("neuron", 10), ("network", 2)])
def test_stderr_calibrated_many_seeds(method, width):
    seeds = 1000
    _check_calibration(_calibration(method, width, seeds), seeds)


# ----------------------------------------------------------------------------- reproducibility
def _repro_inputs():
    net = ns.zoo.cos_net(2)
    X = np.random.default_rng(11).normal(size=(2, 4, 2))
    return net, X, dict(COS_VALUES, N=10)


@pytest.mark.parametrize("method", ["neuron", "network"])
def test_same_seed_any_chunk_size_bit_identical(method):
    net, X, vals = _repro_inputs()
    kw = dict(connected=True, samples=100_000, seed=42, method=method, **vals)
    ref = ns.monte_carlo(net, 4, X, **kw)
    for chunk in (5000, 33333, 1000, 10**9):
        est = ns.monte_carlo(net, 4, X, chunk_size=chunk, **kw)
        np.testing.assert_array_equal(est.mean, ref.mean, err_msg=f"chunk_size={chunk}")
        np.testing.assert_array_equal(est.stderr, ref.stderr, err_msg=f"chunk_size={chunk}")
    again = ns.monte_carlo(net, 4, X, **kw)
    np.testing.assert_array_equal(again.mean, ref.mean)
    other = ns.monte_carlo(net, 4, X, **{**kw, "seed": 43})
    assert np.all(other.mean != ref.mean) and np.all(other.stderr != ref.stderr)


@pytest.fixture(scope="module")
def dask_cluster():
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       host="127.0.0.1", dashboard_address=None)
    client = distributed.Client(cluster)
    try:
        yield cluster, client
    finally:
        client.close()
        cluster.close()


def test_dask_matches_local_bit_identical(dask_cluster):
    cluster, client = dask_cluster
    net, X, vals = _repro_inputs()
    kw = dict(connected=True, samples=100_000, seed=42, **vals)
    local = ns.monte_carlo(net, 4, X, chunk_size=10_000, **kw)
    remote = ns.monte_carlo(net, 4, X, chunk_size=10_000, client=client, **kw)
    by_address = ns.monte_carlo(net, 4, X, client=cluster.scheduler_address, **kw)
    for est in (remote, by_address):
        np.testing.assert_array_equal(est.mean, local.mean)
        np.testing.assert_array_equal(est.stderr, local.stderr)
        assert est.method == local.method == "neuron"
    # both workers took part in the chunked run
    assert len(client.scheduler_info()["workers"]) == 2


def test_dask_shared_network_and_progress(dask_cluster):
    """A shared-parameter network (network estimator) pickles to the workers and
    gives the local numbers; progress=True works with a client."""
    _, client = dask_cluster
    net, vals = net_and_values("shared_weight_d1")
    X = _points(4, 1, seed=300)
    kw = dict(connected=True, samples=20_000, seed=9, chunk_size=2000, **dict(vals, N=3))
    local = ns.monte_carlo(net, 4, X, **kw)
    remote = ns.monte_carlo(net, 4, X, client=client, progress=True, **kw)
    np.testing.assert_array_equal(remote.mean, local.mean)
    np.testing.assert_array_equal(remote.stderr, local.stderr)


def test_bad_client_type():
    net, X, vals = _repro_inputs()
    with pytest.raises(TypeError, match="client"):
        ns.monte_carlo(net, 4, X, samples=1000, client=object(), **vals)


# ----------------------------------------------------------------------------- streaming
def test_streaming_memory_bounded():
    """2e6 draws at 32 point sets (1.28e8 neuron evaluations): holding the draws
    would take >= 1 GB; the traced peak stays below 15% of that."""
    net = ns.zoo.cos_net(2)
    X = np.random.default_rng(12).normal(size=(32, 2, 2))
    samples = 2_000_000
    vals = dict(COS_VALUES, N=10)
    exact = net.correlator(2).evaluate(X, **vals)
    ns.monte_carlo(net, 2, X, samples=1000, **vals)  # compile outside the traced run
    all_draws = samples * X.shape[0] * 2 * 8  # one float64 per neuron evaluation
    tracemalloc.start()
    try:
        est = ns.monte_carlo(net, 2, X, samples=samples, seed=13, chunk_size=50_000, **vals)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert est.neuron_evaluations == samples * 64
    assert peak < 0.15 * all_draws, f"peak {peak / 2**20:.0f} MiB vs {all_draws / 2**20:.0f} MiB for all draws"
    assert np.all(np.abs(est.z(exact)) < ZMAX)


def test_progress_bar(capsys):
    pytest.importorskip("tqdm")
    net, X, vals = _repro_inputs()
    with_bar = ns.monte_carlo(net, 4, X, samples=20_000, seed=1, progress=True, chunk_size=5000, **vals)
    plain = ns.monte_carlo(net, 4, X, samples=20_000, seed=1, **vals)
    np.testing.assert_array_equal(with_bar.mean, plain.mean)
    err = capsys.readouterr().err
    assert "20000" in err.replace(",", "") or "20.0k" in err, err


# ----------------------------------------------------------------------------- numerical hazards
def _exp_net(neuron_of):
    x = ns.Input("x", 1)
    a = ns.Normal("a", 0, 1)
    b = ns.Normal("b", 0, 400)
    return ns.Network(neuron_of(b, x), readout=a, width=N, input=x)


@pytest.mark.parametrize("neuron_of", [lambda b, x: sp.exp(b * x), lambda b, x: sp.exp(sp.exp(b * x / 20))],
                         ids=["exp", "exp_exp"])
@pytest.mark.parametrize("method", ["neuron", "network"])
def test_overflow_raises(neuron_of, method):
    net = _exp_net(neuron_of)
    X = np.array([[[30.0], [30.0]]])
    with pytest.raises(FloatingPointError, match="overflow"):
        ns.monte_carlo(net, 2, X, samples=10_000, method=method, N=3)


def test_nan_raises():
    x = ns.Input("x", 1)
    net = ns.Network(sp.log(ns.Normal("b", 0, 1) * x), readout=ns.Normal("a", 0, 1), width=N, input=x)
    with pytest.raises(FloatingPointError, match="nan"):
        ns.monte_carlo(net, 2, np.array([[[1.0], [2.0]]]), samples=1000, N=2)


def test_gauss_net_large_x_stable():
    """At |x|^2 = 1800 the literal normalisation sqrt(exp(2(sigma_c^2 + sigma_b^2 |x|^2/d)))
    overflows; the sampler's log-space form gives finite numbers and no warning."""
    net = ns.zoo.gauss_net(2)
    vals = dict(sigma_a=1.0, sigma_b=0.7, sigma_c=0.3, N=5)
    x = np.array([30.0, 30.0])
    with np.errstate(over="ignore"):
        assert not np.isfinite(np.exp(2 * (0.3**2 + 0.7**2 * x @ x / 2)))
    X = np.array([[x, x], [x, x + 0.5], [x, -x]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for method in ("neuron", "network"):
            est = ns.monte_carlo(net, 2, X, samples=20_000, method=method, **vals)
            assert np.all(np.isfinite(est.mean)) and np.all(np.isfinite(est.stderr)), est
        est4 = ns.monte_carlo(net, 4, np.array([[x, x, x, x]]), connected=True, samples=20_000, **vals)
        assert np.all(np.isfinite(est4.mean)) and np.all(np.isfinite(est4.stderr)), est4
    exact = net.correlator(2).evaluate(X, **vals)
    assert np.all(np.isfinite(exact))


def test_gauss_net_moderate_x_agrees():
    """The rewritten (log-space) neuron is the same function: G^(2) and G_c^(4) agree with the exact ones."""
    net = ns.zoo.gauss_net(2)
    vals = dict(sigma_a=1.0, sigma_b=0.7, sigma_c=0.3, N=5)
    X2 = _points(2, 2, seed=21, scale=1.0)
    est = ns.monte_carlo(net, 2, X2, samples=300_000, seed=3, **vals)
    assert_agrees(est, net.correlator(2).evaluate(X2, **vals), "gauss-net G^(2)")
    X4 = _points(4, 2, seed=22, scale=0.6)
    est = ns.monte_carlo(net, 4, X4, connected=True, samples=300_000, seed=3, **vals)
    assert_agrees(est, net.correlator(4, connected=True).evaluate(X4, **vals), "gauss-net G_c^(4)")


# ----------------------------------------------------------------------------- bad input
def test_bad_input_messages():
    net, X, vals = _repro_inputs()
    with pytest.raises(ValueError, match="n"):
        ns.monte_carlo(net, 0, X[:, :0], samples=1000, **vals)
    with pytest.raises(ValueError, match=r"\(\.\.\., 4, d\)"):
        ns.monte_carlo(net, 4, X[:, :3], samples=1000, **vals)
    with pytest.raises(ValueError, match=r"\(\.\.\., 4, 2\)"):
        ns.monte_carlo(net, 4, np.zeros((2, 4, 3)), samples=1000, **vals)
    with pytest.raises(ValueError, match="method"):
        ns.monte_carlo(net, 4, X, samples=1000, method="bogus", **vals)
    with pytest.raises(ValueError, match="missing value.*sigma_b"):
        ns.monte_carlo(net, 4, X, samples=1000, sigma_a=1.0, N=10)
    with pytest.raises(ValueError, match="missing value.*sigma_a"):
        ns.monte_carlo(net, 4, X, samples=1000, sigma_b=0.7, N=10)
    with pytest.raises(ValueError, match="missing value.*N"):
        ns.monte_carlo(net, 4, X, samples=1000, **COS_VALUES)
    with pytest.raises(ValueError, match="inf or nan"):
        ns.monte_carlo(net, 4, np.full((1, 4, 2), np.nan), samples=1000, **vals)
    with pytest.raises(ValueError, match="samples"):
        ns.monte_carlo(net, 4, X, samples=10, **vals)
    with pytest.raises(TypeError, match="Network"):
        ns.monte_carlo("cos-net", 4, X, samples=1000, **vals)
    with pytest.raises(ValueError, match="alpha"):
        ns.validate(net, 4, X, samples=1000, alpha=2.0, **vals)


@pytest.mark.parametrize("n", [0, -1])
def test_bad_n(n):
    net, _, vals = _repro_inputs()
    with pytest.raises(ValueError):
        ns.monte_carlo(net, n, np.zeros((1, 1, 2)), samples=1000, **vals)


def test_shapes_follow_point_batch():
    net, _, vals = _repro_inputs()
    X = np.random.default_rng(3).normal(size=(2, 3, 2, 2))
    est = ns.monte_carlo(net, 2, X, samples=10_000, **vals)
    assert est.mean.shape == est.stderr.shape == (2, 3)
    single = ns.monte_carlo(net, 2, X[0, 0], samples=10_000, **vals)
    assert single.mean.shape == single.stderr.shape == ()


# ----------------------------------------------------------------------------- validation report
def test_validation_table_and_verdict():
    net, X, vals = _repro_inputs()
    rep = ns.validate(net, 4, X, connected=True, samples=50_000, seed=0, **vals)
    text = str(rep)
    assert rep.passed and "PASS" in text and "FAIL" not in text, text
    header = next(line for line in text.splitlines() if "exact" in line and "MC mean" in line)
    assert header.split()[-1] == "z", header
    assert len([line for line in text.splitlines() if line.lstrip()[:1].isdigit()]) == X.shape[0], text
    # z column of the table is the report's z
    exact = net.correlator(4, connected=True).evaluate(X, **vals)
    np.testing.assert_allclose(rep.z, rep.estimate.z(exact))
    # a wrong "exact" value is caught
    assert np.all(np.abs(rep.estimate.z(exact * 1.5)) > 5)


def test_validate_fails_on_wrong_exact(monkeypatch):
    """Feed validate a correlator that is off by 50%: the verdict is FAIL."""
    net, X, vals = _repro_inputs()
    true_corr = net.correlator

    class Wrong:
        def __init__(self, corr):
            self.corr = corr

        def evaluate(self, X, **v):
            return 1.5 * self.corr.evaluate(X, **v)

    monkeypatch.setattr(net, "correlator", lambda n, connected=False: Wrong(true_corr(n, connected=connected)))
    rep = ns.validate(net, 4, X, connected=True, samples=50_000, seed=0, **vals)
    assert not rep.passed and "FAIL" in str(rep), str(rep)
    assert np.all(np.abs(rep.z) > rep.threshold)


def test_validate_passes_options_through():
    net, X, vals = _repro_inputs()
    a = ns.validate(net, 2, X[:, :2], samples=20_000, seed=3, batches=16, chunk_size=4000, **vals)
    b = ns.monte_carlo(net, 2, X[:, :2], samples=20_000, seed=3, batches=16, **vals)
    assert a.estimate.batches == 16
    np.testing.assert_array_equal(a.mean, b.mean.reshape(-1))


def test_seed_sequence_seeds_are_reproducible_and_independent():
    """A SeedSequence seed (e.g. spawned for independent runs) gives the same numbers on every call
    (the caller's object is not advanced) and different ones from its sibling."""
    import numpy as np

    import nnsym as ns

    net = ns.zoo.cos_net(1)
    X = np.array([[[0.1], [0.4]]])
    a, b = np.random.SeedSequence(5).spawn(2)
    vals = dict(samples=20_000, sigma_a=1.0, sigma_b=1.0, N=10)
    first = ns.monte_carlo(net, 2, X, seed=a, **vals).mean
    assert np.array_equal(first, ns.monte_carlo(net, 2, X, seed=a, **vals).mean)
    assert not np.array_equal(first, ns.monte_carlo(net, 2, X, seed=b, **vals).mean)
