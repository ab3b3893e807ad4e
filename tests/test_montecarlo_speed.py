"""Monte Carlo without repeated work (issue 13): the same numbers, computed once.

* The estimate and all jackknife replicas in one pass over the set partitions give the bits of
  one straightforward ``estimate_from_moments`` call per replica (the code before the change,
  written out here).
* Each distinct input point is evaluated once per draw and shared by the point sets: the bits of
  evaluating every point of every set (the NN-QFT paper's layout, 126 four-point tuples of 6
  inputs), for both estimators; and the cache-sized slices of draws inside a block give the bits
  of one pass.
* The opt-in float32 path: on the same draws it differs from float64 by less than its stated
  rounding error, which is not vacuous, and it agrees with the exact correlator within the
  statistical plus the rounding error.
* The Dask race: an identical call repeated on one client never loses its scattered work.
* The optional numba kernel gives the numpy numbers to rounding (skipped without numba).

Fixed seeds throughout, |z| < 5, no wall-clock limits (the speed is measured in
``benchmarks/bench_montecarlo.py``).
"""
from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest

import nnsym as ns
import nnsym.sampling.montecarlo as mc
from nnsym.sampling.moments import estimate_from_moments, moment_error_bound

ZMAX = 5.0
COS = dict(sigma_a=1.0, sigma_b=0.7)
GAUSS = dict(sigma_a=1.0, sigma_b=0.7, sigma_c=0.5)


def _per_replica(total, batch_sums, n, connected, method, N, bias_moments):
    """The jackknife as it was: one estimate_from_moments call per replica."""
    est = estimate_from_moments(total / total[0], n, connected, method, N, bias_moments)
    jk = np.array([
        estimate_from_moments((total - batch_sums[b]) / (total[0] - batch_sums[b][0]), n, connected, method, N,
                              bias_moments)
        for b in range(len(batch_sums))
    ])
    P = total.shape[-1]
    return np.broadcast_to(est, (P,)), np.broadcast_to(jk, (len(batch_sums), P))


def _six_inputs_126_tuples():
    """The paper's layout: every four-point tuple (with repetition) of 6 distinct inputs in d = 2."""
    pts = 0.5 * np.random.default_rng(1).normal(size=(6, 2))
    tuples = np.array(list(itertools.combinations_with_replacement(range(6), 4)))
    assert len(tuples) == 126
    return pts[tuples]


# ----------------------------------------------------------------------------- vectorised jackknife
@pytest.mark.parametrize("n,connected,method", [(4, True, "neuron"), (4, False, "neuron"), (6, False, "neuron"),
                                                (4, True, "network"), (2, False, "network")])
def test_one_pass_jackknife_same_bits_as_per_replica(monkeypatch, n, connected, method):
    net = ns.zoo.cos_net(2)
    X = 0.6 * np.random.default_rng(7).normal(size=(3, n, 2))
    kw = dict(connected=connected, samples=8192, batches=8, seed=5, method=method, N=3, **COS)
    new = ns.monte_carlo(net, n, X, **kw)
    monkeypatch.setattr(mc, "jackknife_replicas", _per_replica)
    old = ns.monte_carlo(net, n, X, **kw)
    np.testing.assert_array_equal(new.mean, old.mean)
    np.testing.assert_array_equal(new.stderr, old.stderr)
    assert np.all(new.stderr > 0)


def test_one_pass_jackknife_with_output_bias(monkeypatch):
    """The bias moments enter the one-pass sums as they entered each replica's."""
    import sympy as sp

    x = ns.Input("x", 1)
    net = ns.Network(sp.cos(ns.Normal("b", 0, 1) * x + ns.Uniform("c", -sp.pi, sp.pi)), ns.Normal("a", 0, 1), 4, x,
                     bias=ns.Normal("beta", 0.3, 0.5))
    X = np.random.default_rng(3).normal(size=(2, 4, 1))
    for connected in (True, False):
        kw = dict(connected=connected, samples=4096, batches=4, seed=1)
        new = ns.monte_carlo(net, 4, X, **kw)
        with monkeypatch.context() as m:
            m.setattr(mc, "jackknife_replicas", _per_replica)
            old = ns.monte_carlo(net, 4, X, **kw)
        np.testing.assert_array_equal(new.mean, old.mean)
        np.testing.assert_array_equal(new.stderr, old.stderr)


# ----------------------------------------------------------------------------- distinct inputs once
def _every_point(self):
    """The layout before the change: every point of every set evaluated on its own."""
    P, n, d = self.X.shape
    return self.X.reshape(P * n, d), np.arange(P * n).reshape(P, n)


@pytest.mark.parametrize("method,samples", [("network", 4096), ("neuron", 20000)])
def test_distinct_inputs_once_same_bits(monkeypatch, method, samples):
    net = ns.zoo.cos_net(2)
    X = _six_inputs_126_tuples()
    kw = dict(connected=True, samples=samples, batches=8, seed=3, method=method, N=4, **COS)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # few draws per batch
        new = ns.monte_carlo(net, 4, X, **kw)
        monkeypatch.setattr(mc.BlockWork, "distinct_points", _every_point)
        old = ns.monte_carlo(net, 4, X, **kw)
    np.testing.assert_array_equal(new.mean, old.mean)
    np.testing.assert_array_equal(new.stderr, old.stderr)
    np.testing.assert_array_equal(new.extra["max_draw_share"], old.extra["max_draw_share"])
    width = 4 if method == "network" else 1
    assert new.neuron_evaluations == samples * 6 * width  # 6 distinct inputs, not 504 points
    assert old.neuron_evaluations == samples * 504 * width


def test_cache_sized_slices_same_bits_as_one_pass(monkeypatch):
    """Inside a block the neuron values are computed in cache-sized slices of draws: every value as
    in one go."""
    net = ns.zoo.cos_net(2)
    X = 0.6 * np.random.default_rng(9).normal(size=(5, 4, 2))
    kw = dict(connected=True, samples=40_000, batches=8, seed=2, method="neuron", N=3, **COS)
    monkeypatch.setattr(mc, "CHUNK_ELEMENTS", 1000)  # many slices per block
    sliced = ns.monte_carlo(net, 4, X, **kw)
    monkeypatch.setattr(mc, "CHUNK_ELEMENTS", 1 << 40)  # one slice per block
    whole = ns.monte_carlo(net, 4, X, **kw)
    np.testing.assert_array_equal(sliced.mean, whole.mean)
    np.testing.assert_array_equal(sliced.stderr, whole.stderr)


def test_distinct_points_index_reproduces_the_points():
    X = _six_inputs_126_tuples()
    work = mc.BlockWork(ns.zoo.cos_net(2), 4, X, {}, "neuron", [1], [None])
    points, index = work.distinct_points()
    assert points.shape == (6, 2) and index.shape == (126, 4)
    np.testing.assert_array_equal(points[index], X)


# ----------------------------------------------------------------------------- float32
@pytest.mark.parametrize("name,method,connected", [("cos", "neuron", True), ("cos", "network", True),
                                                   ("gauss", "neuron", True), ("gauss", "neuron", False)])
def test_float32_within_stated_rounding_error(name, method, connected):
    net, vals = (ns.zoo.cos_net(2), COS) if name == "cos" else (ns.zoo.gauss_net(2), GAUSS)
    vals = dict(vals, N=5)
    X = 0.5 * np.random.default_rng(21).normal(size=(3, 4, 2))
    samples = 200_000 if method == "neuron" else 50_000
    kw = dict(connected=connected, samples=samples, seed=8, method=method, **vals)
    f64 = ns.monte_carlo(net, 4, X, **kw)
    f32 = ns.monte_carlo(net, 4, X, dtype="float32", **kw)
    assert f32.dtype == "float32" and f64.dtype == "float64"
    np.testing.assert_array_equal(f64.rounding_error, 0.0)
    err = f32.rounding_error
    assert err.shape == f32.mean.shape and np.all(err > 0)
    # same draws: the difference is rounding only, and the stated error bounds it
    diff = np.abs(f32.mean - f64.mean)
    assert np.all(diff <= err), f"|float32 - float64| = {diff} exceeds the stated rounding error {err}"
    assert np.all(diff > 0)  # the comparison is not vacuous: float32 did round
    assert np.all(err < 0.1 * f32.stderr)  # and the stated error is small next to the statistics
    exact = net.correlator(4, connected=connected).evaluate(X, **vals)
    assert np.all(np.abs(f32.z(exact)) < ZMAX), f32.z(exact)


def test_float32_validate_and_bad_dtype():
    net = ns.zoo.cos_net(2)
    X = 0.5 * np.random.default_rng(2).normal(size=(2, 2, 2))
    rep = ns.validate(net, 2, X, samples=50_000, dtype="float32", N=10, **COS)
    assert rep.passed and rep.estimate.dtype == "float32"
    est = ns.monte_carlo(net, 2, X, samples=4096, batches=8, dtype=np.float32, N=10, **COS)
    assert est.dtype == "float32"
    for bad in ("float16", "int64", "double-ish"):
        with pytest.raises(ValueError, match="dtype"):
            ns.monte_carlo(net, 2, X, samples=4096, dtype=bad, N=10, **COS)


def test_moment_error_bound_bounds_perturbations():
    """|estimate(m + delta) - estimate(m)| <= moment_error_bound(m, e) for |delta| <= e."""
    rng = np.random.default_rng(0)
    n, P = 4, 5
    m = rng.normal(size=(1 << n, P))
    m[0] = 1.0
    e = 0.01 * rng.random((1 << n, P))
    e[0] = 0.0
    for connected, method in [(True, "neuron"), (False, "neuron"), (True, "network"), (False, "network")]:
        bias = [1.0, 0.2, 0.3, -0.1, 0.5]
        bound = moment_error_bound(m, e, n, connected, method, 7, bias)
        base = estimate_from_moments(m, n, connected, method, 7, bias)
        for _ in range(20):
            delta = e * rng.choice([-1.0, 1.0], size=e.shape)
            moved = estimate_from_moments(m + delta, n, connected, method, 7, bias)
            assert np.all(np.abs(moved - base) <= bound * (1 + 1e-12)), (connected, method)


# ----------------------------------------------------------------------------- Dask
def test_dask_identical_calls_repeated_on_one_client():
    """Regression: the scattered work had a content-hashed key, so an identical call could find it
    released by the previous call (FutureCancelledError: lost dependencies, about 1 in 6)."""
    distributed = pytest.importorskip("distributed")
    net, X = ns.zoo.cos_net(2), np.random.default_rng(1).normal(size=(2, 4, 2))
    kw = dict(connected=True, samples=8000, batches=8, seed=11, chunk_size=1000, N=10, **COS)
    local = ns.monte_carlo(net, 4, X, **kw)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        for _ in range(8):
            remote = ns.monte_carlo(net, 4, X, client=client, **kw)
            np.testing.assert_array_equal(remote.mean, local.mean)
            np.testing.assert_array_equal(remote.stderr, local.stderr)


# ----------------------------------------------------------------------------- fused (numba)
def _scalar_input_net():
    import sympy as sp

    x = ns.Input("x", 1)
    w = sp.Symbol("w", positive=True)
    return ns.Network(sp.exp(-w * (ns.Normal("b", 0, 1) * x + ns.Uniform("c", -1, 1)) ** 2), ns.Normal("a", 0, 1),
                      3, x), dict(w=0.4)


@pytest.mark.filterwarnings("ignore::nnsym.UnreliableErrorWarning")  # the same draws both ways: compared, not trusted
@pytest.mark.parametrize("case", ["cos", "gauss", "scalar_input"])
def test_fused_numba_matches_numpy_to_rounding(case):
    pytest.importorskip("numba")
    if case == "scalar_input":
        net, vals = _scalar_input_net()
        X = np.random.default_rng(4).normal(size=(3, 4, 1))
    else:
        net, vals = (ns.zoo.cos_net(2), dict(COS, N=5)) if case == "cos" else (ns.zoo.gauss_net(2), dict(GAUSS, N=5))
        X = 0.5 * np.random.default_rng(4).normal(size=(3, 4, 2))
        X[1, 2] = X[1, 0]  # a repeated point
    for connected in (True, False):
        kw = dict(connected=connected, samples=40_000, batches=8, seed=6, **vals)
        ref = ns.monte_carlo(net, 4, X, **kw)
        fused = ns.monte_carlo(net, 4, X, fused=True, **kw)
        # the same draws; only the order of the sums over draws and the last bit of cos/exp differ
        np.testing.assert_allclose(fused.mean, ref.mean, rtol=1e-9, atol=1e-12 * np.max(np.abs(ref.mean)))
        np.testing.assert_allclose(fused.stderr, ref.stderr, rtol=1e-6)
        np.testing.assert_allclose(fused.extra["max_draw_share"], ref.extra["max_draw_share"], rtol=1e-9)


def test_fused_refusals(monkeypatch):
    net, X = ns.zoo.cos_net(2), 0.5 * np.random.default_rng(0).normal(size=(2, 2, 2))
    kw = dict(samples=4096, batches=8, N=3, **COS)
    with pytest.raises(ValueError, match="neuron estimator only"):
        ns.monte_carlo(net, 2, X, method="network", fused=True, **kw)
    with pytest.raises(ValueError, match="float64"):
        ns.monte_carlo(net, 2, X, dtype="float32", fused=True, **kw)
    with pytest.raises(TypeError, match="fused"):
        ns.monte_carlo(net, 2, X, fused="yes", **kw)
    from nnsym.errors import FusedUnavailable

    monkeypatch.setattr(mc, "numba_available", lambda: False)
    with pytest.raises(FusedUnavailable, match="needs numba"):
        ns.monte_carlo(net, 2, X, fused=True, **kw)
    monkeypatch.undo()
    pytest.importorskip("numba")
    with pytest.raises(FusedUnavailable, match="numba cannot compile"):  # scipy's erf: not numba's
        ns.monte_carlo(ns.zoo.erf_net(1), 2, np.zeros((1, 2, 1)), fused=True, samples=4096, batches=8,
                       **{str(k): 1.0 for k in ns.zoo.erf_net(1).hyperparameters if str(k) != "N"}, N=3)
