"""The optional JAX array backend (issue 13, item 5), on CPU.

* Monte Carlo with ``backend="jax"`` (neuron and network estimators; Normal, Uniform, Laplace,
  Cauchy laws and an output bias) agrees with the exact correlators (|z| < 5) and with the numpy
  backend's estimate (|z| < 5 on the difference); the same seed gives bit-identical numbers, for
  any chunk size.
* The kernels it compiles agree with nnsym's numpy kernels to 1e-12 (every ``_nn_`` helper the
  printer calls has a JAX version; a scipy function JAX lacks runs on the host).
* A clear error for ``backend="jax"`` without JAX (simulated) and for a misspelt backend name.

The tests that need JAX skip cleanly when it is not installed; all Monte Carlo uses fixed seeds.
"""
from __future__ import annotations

import pickle
import sys

import numpy as np
import pytest
import sympy as sp

import nnsym as ns
from nnsym.core.special import LambdaBessel
from nnsym.core.vectors import ScalarPoint
from nnsym.numeric.kernels import compile_kernel, ones_symbols, point_arrays
from nnsym.sampling.backends import get_backend

# sample sizes are multiples of the 32 jackknife blocks: blocks of one shape, compiled once by JAX

ZMAX = 5.0
COS = dict(sigma_a=1.0, sigma_b=0.7)
X2 = 0.7 * np.random.default_rng(2).normal(size=(3, 2, 2))
X4 = 0.7 * np.random.default_rng(4).normal(size=(3, 4, 2))


@pytest.fixture(scope="module")
def jax_backend():
    pytest.importorskip("jax")
    return get_backend("jax")


@pytest.fixture(scope="module")
def cos_net():
    return ns.zoo.cos_net(2)


def _agree(est, exact, label):
    z = est.z(exact)
    assert np.all(np.isfinite(est.mean)) and np.all(est.stderr > 0), label
    assert np.all(np.abs(z) < ZMAX), f"{label}: z = {z}, mean {est.mean}, exact {exact}"
    assert np.max(np.abs(exact) / est.stderr) >= 3.0, f"{label}: too weak to resolve the exact value"


def _agree_with_numpy(est, ref, label):
    z = (est.mean - ref.mean) / np.hypot(est.stderr, ref.stderr)
    assert np.all(np.abs(z) < ZMAX), f"{label}: jax {est.mean} vs numpy {ref.mean} (z = {z})"


# ----------------------------------------------------------------------------- Monte Carlo
@pytest.mark.parametrize("n,connected,X,samples", [(2, False, X2, 51_200), (4, True, X4, 204_800)],
                         ids=["G2", "G4c"])
def test_cos_net_neuron_estimator_agrees(jax_backend, cos_net, n, connected, X, samples):
    vals = dict(COS, N=10)
    exact = cos_net.correlator(n, connected=connected).evaluate(X, **vals)
    est = ns.monte_carlo(cos_net, n, X, connected=connected, samples=samples, seed=3, backend="jax", **vals)
    ref = ns.monte_carlo(cos_net, n, X, connected=connected, samples=samples, seed=3, **vals)
    assert est.method == "neuron"
    _agree(est, exact, f"jax G^({n})")
    _agree_with_numpy(est, ref, f"G^({n})")
    assert not np.array_equal(est.mean, ref.mean)  # another generator: other numbers


def test_network_estimator_with_bias_and_other_laws(jax_backend):
    """Uniform readout, Laplace weights, Laplace output bias (the network estimator draws whole
    networks: the einsum over neurons and the bias run in JAX too)."""
    lam, s, sb = sp.symbols("lam s sigma_beta", positive=True)
    x = ns.Input("x", 2)
    net = ns.Network(sp.cos(ns.Laplace("b", 0, lam, shape=2).dot(x) + ns.Uniform("c", -sp.pi, sp.pi)),
                     readout=ns.Uniform("a", -s, s), width=sp.Symbol("N", positive=True, integer=True),
                     input=x, bias=ns.Laplace("beta", 0, sb))
    vals = dict(s=0.8, lam=0.5, sigma_beta=0.3, N=2)
    exact = net.correlator(4, connected=True).evaluate(X4, **vals)
    est = ns.monte_carlo(net, 4, X4, connected=True, samples=102_400, seed=5, method="network", backend="jax", **vals)
    _agree(est, exact, "network estimator, Laplace/Uniform laws, bias")


def test_cauchy_weights(jax_backend):
    m = sp.Symbol("m", positive=True)
    x = ns.Input("x", 1)
    net = ns.Network(sp.cos(ns.Cauchy("b", 0, m) * x + ns.Uniform("c", -sp.pi, sp.pi)),
                     readout=ns.Normal("a", 0, 1), width=sp.Symbol("N", positive=True, integer=True), input=x)
    X = np.array([[[0.0], [0.4]], [[0.3], [-0.5]]])
    vals = dict(m=0.6, N=10)
    exact = net.correlator(2).evaluate(X, **vals)
    _agree(ns.monte_carlo(net, 2, X, samples=40_960, seed=1, backend="jax", **vals), exact, "Cauchy weights")


def test_same_seed_same_numbers_any_chunk_size(jax_backend, cos_net):
    vals = dict(COS, N=10)
    runs = [ns.monte_carlo(cos_net, 4, X4, connected=True, samples=40_960, seed=7, backend="jax",
                           chunk_size=chunk, **vals) for chunk in (None, 2_560, None)]
    for est in runs[1:]:
        assert np.array_equal(est.mean, runs[0].mean) and np.array_equal(est.stderr, runs[0].stderr)
    other = ns.monte_carlo(cos_net, 4, X4, connected=True, samples=40_960, seed=8, backend="jax", **vals)
    assert not np.array_equal(other.mean, runs[0].mean)


def test_generator_explicit_keys(jax_backend):
    key = np.random.SeedSequence(11).spawn(3)[2]
    g, h = jax_backend.generator(key), jax_backend.generator(key)
    draws = [g.normal(0.5, 2.0, (4, 3)), g.uniform(-1.0, 1.0, 5), g.laplace(0.0, 1.0, 2), g.standard_cauchy(2)]
    again = [h.normal(0.5, 2.0, (4, 3)), h.uniform(-1.0, 1.0, 5), h.laplace(0.0, 1.0, 2), h.standard_cauchy(2)]
    for a, b in zip(draws, again):
        assert a.dtype == np.float64 and np.array_equal(jax_backend.asnumpy(a), jax_backend.asnumpy(b))
    assert not np.array_equal(jax_backend.asnumpy(draws[0][0]), jax_backend.asnumpy(draws[0][1]))
    # a method jax.random does not provide here: numpy's generator of the same block key
    gamma = jax_backend.asnumpy(jax_backend.generator(key).gamma(2.0, 1.0, 4))
    assert np.array_equal(gamma, np.random.default_rng(key).gamma(2.0, 1.0, 4))


def test_user_laws_and_densities_draw_through_jax(jax_backend):
    """A law whose ``frozen`` takes no ``xp`` (drawing with the generator's methods), and a user
    density (inverse-CDF sampling with ``xp.interp``)."""
    from nnsym.core.laws import Law

    class SignLaw(Law):
        name = "Sign"

        def frozen(self, values):
            return lambda rng, size: 2.0 * (rng.uniform(0.0, 1.0, size) < 0.5) - 1.0

    key = np.random.SeedSequence(3)
    signs = jax_backend.asnumpy(jax_backend.freeze(SignLaw(), {})(jax_backend.generator(key), (2000,)))
    assert set(np.unique(signs)) == {-1.0, 1.0} and abs(signs.mean()) < 5 / np.sqrt(2000)
    w = sp.Symbol("w", real=True)
    law = ns.Density("w", sp.exp(-w**2 / 2), (-sp.oo, sp.oo)).law  # the standard normal, by its density
    draws = jax_backend.asnumpy(jax_backend.freeze(law, {})(jax_backend.generator(key), (20000,)))
    assert draws.dtype == np.float64 and abs(draws.mean()) < 5 / np.sqrt(20000)
    assert abs(draws.var() - 1.0) < 5 * np.sqrt(2 / 20000)


def test_uniform_ball_draws(jax_backend):
    """The joint uniform-ball law (direction from standard normals, radius from a uniform) in JAX:
    inside the ball, :math:`E|b|^2 = R^2 D/(D+2)`."""
    law = ns.UniformBall("b", 2, 3).law
    draws = jax_backend.asnumpy(jax_backend.freeze(law, {})(jax_backend.generator(np.random.SeedSequence(4)),
                                                             (20000, 3)))
    r2 = np.sum(draws**2, axis=-1)
    assert draws.shape == (20000, 3) and np.all(r2 <= 4.0)
    assert abs(r2.mean() - 4.0 * 3 / 5) < 5 * r2.std() / np.sqrt(r2.size)


def test_fused_subset_sums_agree_with_moments(jax_backend):
    """The backend's one-XLA-computation subset sums against nnsym.sampling.moments.subset_sums."""
    from nnsym.sampling.moments import subset_sums

    Y = np.random.default_rng(0).normal(size=(1000, 3, 4))
    got_sq, ref_sq = np.empty((2, 3)), np.empty((2, 3))
    got = jax_backend.subset_sums(jax_backend.xp.asarray(Y), got_sq)
    ref = subset_sums(Y, ref_sq)
    np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(got_sq, ref_sq, rtol=1e-12)


def test_backend_survives_pickling(jax_backend):
    assert pickle.loads(pickle.dumps(jax_backend)) is jax_backend


# ----------------------------------------------------------------------------- kernels
def _kernel_case(corr, X, vals):
    """The correlator's expression as kernel arguments (points, 1_d, hyper-parameters, d) and values."""
    expr = corr.expr
    ones = ones_symbols(expr)
    dsym = None if corr.dim.is_Integer else corr.dim
    hyper = sorted(expr.free_symbols - set(corr.points) - set(ones) - {dsym}, key=sp.default_sort_key)
    args = list(corr.points) + ones + hyper
    Xf = X.reshape(-1, *X.shape[-2:])
    D = X.shape[-1]
    inputs = point_arrays(corr.points, Xf) + [np.ones(D)] * len(ones) + [float(vals[h.name]) for h in hyper]
    return args, expr, inputs


@pytest.mark.parametrize("net,n,connected,vals", [
    (ns.zoo.cos_net(2), 4, True, dict(COS, N=10)),
    (ns.zoo.relu_net(2), 2, False, dict(sigma_W=1.3, sigma_b=0.4, N=5)),
    (ns.zoo.erf_net(2), 2, False, dict(sigma_W=1.3, sigma_b=0.4, N=5)),
    (ns.zoo.gauss_net(2), 4, True, dict(COS, sigma_c=0.5, N=10)),
], ids=["cos-G4c", "relu-G2", "erf-G2", "gauss-G4c"])
def test_compiled_kernel_agrees_with_numpy(jax_backend, net, n, connected, vals):
    X = 0.8 * np.random.default_rng(n).normal(size=(50, n, 2))
    X[0, 1] = X[0, 0]  # coincident points: the rounding the helpers forgive
    args, expr, inputs = _kernel_case(net.correlator(n, connected=connected), X, vals)
    ref = compile_kernel(args, expr)(*inputs)
    got = jax_backend.asnumpy(jax_backend.compile(args, expr)(*inputs))
    assert got.dtype == np.float64
    np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-12)


def test_every_printer_helper_has_a_jax_version(jax_backend):
    x = sp.Symbol("x")
    numpy_globals = compile_kernel([x], x).__globals__
    jax_globals = jax_backend.compile([x], x).fn.__globals__
    helpers = [name for name in numpy_globals if name.startswith("_nn_")]
    assert helpers
    for name in helpers:
        assert name in jax_globals and jax_globals[name] is not numpy_globals[name], name


def test_function_missing_in_jax_runs_on_the_host(jax_backend):
    """The uniform ball's LambdaBessel prints as scipy.special.hyp0f1, which jax lacks."""
    s = sp.Symbol("s")
    expr = LambdaBessel(sp.Rational(3, 2), s) * sp.cos(s)
    values = np.linspace(-2.0, 9.0, 23)
    ref = compile_kernel([s], expr)(values)
    kernel = jax_backend.compile([s], expr)
    np.testing.assert_allclose(jax_backend.asnumpy(kernel(values)), ref, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(jax_backend.asnumpy(kernel.fn(values)), ref, rtol=1e-12, atol=1e-14)  # no jit


def test_kernel_that_cannot_be_traced_runs_eagerly(jax_backend):
    from nnsym.sampling.jax_backend import JaxKernel

    kernel = JaxKernel(lambda x: np.asarray(x) + 1.0)  # numpy on a traced array: jit fails
    assert np.array_equal(jax_backend.asnumpy(kernel(jax_backend.xp.asarray([1.0, 2.0]))), [2.0, 3.0])
    assert "jit=False" in repr(kernel)


def test_scalar_point_network(jax_backend):
    """A network on scalar points (d = 1, kernel arguments of shape (P,))."""
    x = ns.Input("x", 1)
    net = ns.Network(sp.cos(ns.Normal("b", 0, 1) * x + ns.Uniform("c", -sp.pi, sp.pi)),
                     readout=ns.Normal("a", 0, 1), width=sp.Symbol("N", positive=True, integer=True), input=x)
    assert isinstance(net.input, ScalarPoint)
    X = np.array([[[0.0], [0.5]]])
    exact = net.correlator(2).evaluate(X, N=3)
    _agree(ns.monte_carlo(net, 2, X, samples=20_480, seed=2, backend="jax", N=3), exact, "scalar points")


# ----------------------------------------------------------------------------- errors (need no JAX)
def test_jax_backend_without_jax_says_how_to_install(monkeypatch, cos_net):
    monkeypatch.setitem(sys.modules, "jax", None)  # "import jax" now fails as if it were not installed
    monkeypatch.delitem(sys.modules, "nnsym.sampling.jax_backend", raising=False)
    monkeypatch.setattr("nnsym.sampling.backends._BACKENDS", {"numpy": get_backend("numpy")})
    with pytest.raises(ImportError, match=r"array backend 'jax' needs the optional package 'jax'.*nnsym\[jax\]"):
        get_backend("jax")
    with pytest.raises(ImportError, match="nnsym\\[jax\\]"):
        ns.monte_carlo(cos_net, 2, X2, samples=10_000, backend="jax", **COS, N=10)


def test_misspelt_backend_name(cos_net):
    with pytest.raises(ValueError, match=r"unknown array backend 'jaxx'; known: jax, numpy"):
        get_backend("jaxx")
    with pytest.raises(ValueError, match="unknown array backend 'nmupy'"):
        ns.monte_carlo(cos_net, 2, X2, samples=10_000, backend="nmupy", **COS, N=10)
