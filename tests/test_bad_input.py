"""A catalogue of bad input across the public API (issue 8).

Each case is ``(id, callable, exception type, regex)``: the call must raise that exception
and its message must match the regex, which names the problem (the parameter, the value or
the keyword at fault). Cases marked ``# new`` were accepted in silence (or failed with an
unrelated numpy/sympy error) before issue 8. Valid input that used to fail, and the Monte
Carlo trust checks, are tested below the catalogue.
"""
from __future__ import annotations

import io
import warnings
from contextlib import redirect_stderr, redirect_stdout

import numpy as np
import pytest
import sympy as sp

import nnsym as ns
from nnsym.cli import main as cli_main

# ----------------------------------------------------------------------------- fixtures
b_sym = sp.Symbol("b", real=True)
m_sym = sp.Symbol("m")
N = sp.Symbol("N", positive=True, integer=True)
sigma_a = sp.Symbol("sigma_a", positive=True)

COS = ns.zoo.cos_net(2)
COS_D = ns.zoo.cos_net()  # symbolic d
G2 = COS.correlator(2)
G2_D = COS_D.correlator(2)
X2 = np.zeros((1, 2, 2))
V = dict(sigma_a=1.0, sigma_b=0.7, N=10)
MC = dict(samples=2000, batches=4)

x1 = ns.Input("x", 1)
x2 = ns.Input("x", 2)


def _net1(neuron=None, readout=None, width=N, **kw):
    a = readout if readout is not None else ns.Normal("a", 0, sigma_a**2 / N)
    neuron = neuron if neuron is not None else sp.cos(ns.Normal("b", 0, 1) * x1 + ns.Uniform("c", -sp.pi, sp.pi))
    return ns.Network(neuron, readout=a, width=width, input=x1, **kw)


def _cauchy_readout():
    return _net1(readout=ns.Cauchy("a", 0, 1), width=3)


def _cauchy_polynomial_weight():
    w = ns.Cauchy("w", 0, 1)
    return _net1(neuron=w * sp.cos(ns.Normal("b", 0, 1) * x1), readout=ns.Normal("a", 0, 1), width=3)


def _shared_net():
    w = ns.Normal("w", 0, 1)
    return _net1(neuron=sp.cos(w * x1 + ns.Uniform("c", -sp.pi, sp.pi)), width=3, shared=(w,))


def _plain_width_net():
    M = sp.Symbol("M", positive=True)  # no integer assumption: checked when the value arrives
    return _net1(readout=ns.Normal("a", 0, 1), width=M)


def _two_n():
    N2 = sp.Symbol("N", positive=True)  # another symbol named N, other assumptions
    return _net1(readout=ns.Normal("a", 0, 1 / N2), width=N)


def _two_b():
    neuron = sp.cos(ns.Normal("b", 0, 1) * x1 + ns.Uniform("b", 0, 1))
    return _net1(neuron=neuron)


def _mc(net, n, X, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ns.monte_carlo(net, n, X, **{**MC, **kw})


def _cli(*argv):
    """Run the CLI; a non-zero exit raises ValueError with what it printed (no traceback allowed)."""
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        rc = cli_main(list(argv))
    text = out.getvalue() + err.getvalue()
    assert "Traceback" not in text
    if rc != 0:
        raise ValueError(text)
    return text


# ----------------------------------------------------------------------------- the catalogue
CASES = [
    # --- laws: constructors
    ("normal-negative-variance", lambda: ns.Normal("a", 0, -1), ValueError, r"Normal variance must be"),
    ("normal-complex-mean", lambda: ns.Normal("a", sp.I, 1), ValueError, r"Normal mean must be a real number"),  # new
    ("normal-complex-variance", lambda: ns.Normal("a", 0, 1j), ValueError, r"Normal variance must be a real number"),  # new
    ("normal-nan-mean", lambda: ns.Normal("a", sp.nan, 1), ValueError, r"Normal mean must be a real number"),  # new
    ("normal-infinite-variance", lambda: ns.Normal("a", 0, sp.oo), ValueError, r"Normal variance must be finite"),  # new
    ("uniform-low-ge-high", lambda: ns.Uniform("c", 2, -1), ValueError, r"high - low must be positive"),
    ("uniform-infinite", lambda: ns.Uniform("c", -sp.oo, sp.oo), ValueError, r"Uniform low must be finite"),  # new
    ("uniform-half-infinite", lambda: ns.Uniform("c", 0, sp.oo), ValueError, r"Uniform high must be finite"),  # new
    ("cauchy-scale", lambda: ns.Cauchy("c", 0, -2), ValueError, r"Cauchy scale must be positive"),
    ("laplace-complex-loc", lambda: ns.Laplace("c", 1 + 2j, 1), ValueError, r"Laplace loc must be a real number"),  # new
    ("laplace-scale-zero", lambda: ns.Laplace("c", 0, 0), ValueError, r"Laplace scale must be positive"),
    ("ball-radius", lambda: ns.UniformBall("b", -1, 3), ValueError, r"radius must be positive"),
    ("shape-fraction", lambda: ns.Normal("a", 0, 1, shape=2.5), TypeError, r"shape must be a positive integer.*2\.5"),  # new
    ("shape-rational", lambda: ns.Normal("a", 0, 1, shape=sp.Rational(5, 2)), TypeError, r"shape must be a positive integer.*5/2"),  # new
    ("shape-bool", lambda: ns.Normal("a", 0, 1, shape=True), TypeError, r"shape must be a positive integer.*True"),  # new
    ("shape-zero", lambda: ns.Normal("a", 0, 1, shape=0), ValueError, r"shape must be a positive"),
    ("name-not-string", lambda: ns.Normal(3, 0, 1), TypeError, r"name must be a non-empty string"),
    # --- laws: moments and sampling
    ("law-moment-fraction", lambda: ns.Normal("a", 0, 1).law.moment(2.5), TypeError, r"moment order must be a non-negative integer, got 2\.5"),  # new
    ("param-moment-fraction", lambda: ns.Normal("a", 0, 1).moment(2.5), TypeError, r"moment order must be a non-negative integer, got 2\.5"),  # new
    ("uniform-moment-fraction", lambda: ns.Uniform("c", 0, 1).moment(1.5), TypeError, r"moment order.*1\.5"),  # new
    ("density-moment-fraction", lambda: ns.Density("b", sp.exp(-b_sym), (0, sp.oo)).moment(0.5), TypeError, r"moment order.*0\.5"),  # new
    ("ball-moment-fraction", lambda: ns.UniformBall("b", 1, 3).law.moment(2.5), TypeError, r"moment order.*2\.5"),  # new
    ("moment-negative", lambda: ns.Normal("a", 0, 1).moment(-1), ValueError, r"moment order must be >= 0"),
    ("cauchy-moment", lambda: ns.Cauchy("c", 0, 1).moment(2), ValueError, r"(no finite moment|does not exist)"),
    ("sample-none", lambda: ns.Normal("a", 0, 1).sample(None, 3), TypeError, r"numpy Generator.*got None"),  # new
    ("sample-int-seed", lambda: ns.Uniform("c", 0, 1).law.sample(42, 3), TypeError, r"numpy Generator.*got 42"),  # new
    ("ball-sample-none", lambda: ns.UniformBall("b", 1, 3).sample(None, 2), TypeError, r"numpy Generator"),  # new
    ("vector-sample-none", lambda: ns.Normal("b", 0, 1, shape=2).sample(None, 2), TypeError, r"numpy Generator"),  # new
    ("sample-negative-variance", lambda: ns.Normal("a", 0, m_sym).sample(np.random.default_rng(0), 3, m=-1.0), ValueError, r"variance must be"),
    # --- user densities
    ("density-negative", lambda: ns.Density("b", b_sym, (-1, 2)), ValueError, r"density b is negative.*\(-1, 2\)"),  # new
    ("density-negative-sin", lambda: ns.Density("b", sp.sin(b_sym), (0, 4)), ValueError, r"density sin\(b\) is negative"),  # new
    ("density-negative-at-values", lambda: ns.Density("b", 1 + m_sym * b_sym, (0, 1)).sample(np.random.default_rng(0), 3, m=-3), ValueError, r"negative.*'m': -3"),  # new
    ("density-wrong-symbol", lambda: ns.Density("b", sp.exp(-sp.Symbol("c") ** 2), (-sp.oo, sp.oo)), ValueError, r"does not depend on the symbol called 'b' \(it uses c\)"),  # new
    ("density-not-normalisable", lambda: ns.Density("b", 1 / b_sym, (1, sp.oo)), ValueError, r"does not normalise"),
    ("density-lo-ge-hi", lambda: ns.Density("b", b_sym, (1, 0)), ValueError, r"lo < hi"),
    ("density-support-not-pair", lambda: ns.Density("b", b_sym, (0, 1, 2)), TypeError, r"support must be a pair"),  # new
    ("density-complex-support", lambda: ns.Density("b", b_sym, (0, sp.I)), ValueError, r"support must be a real number"),  # new
    # --- inputs, dot products, networks
    ("input-name", lambda: ns.Input(2, 2), TypeError, r"input name must be a non-empty string"),
    ("input-dimension", lambda: ns.Input("x", 0), ValueError, r"input dimension must be >= 1"),
    ("neuron-without-input", lambda: _net1(neuron=sp.cos(ns.Normal("b", 0, 1))), ValueError, r"does not depend on the input"),
    ("readout-vector", lambda: _net1(readout=ns.Normal("a", 0, 1, shape=2)), TypeError, r"readout must be a scalar"),
    ("input-not-input", lambda: ns.Network(sp.cos(sp.Symbol("y")), ns.Normal("a", 0, 1), 3, sp.Symbol("y")), TypeError, r"nnsym\.Input"),
    ("width-fraction", lambda: _net1(width=2.5), ValueError, r"width must be a positive integer"),
    ("width-zero", lambda: _net1(width=0), ValueError, r"width must be a positive integer"),
    ("shared-not-parameter", lambda: _net1(shared=(ns.Normal("z", 0, 1),)), ValueError, r"shared parameter z"),
    ("bias-in-neuron", lambda: _net1(neuron=sp.cos(ns.Normal("b", 0, 1) * x1), bias=ns.Normal("b", 0, 1)), ValueError, r"output bias b"),
    ("scalar-param-times-vector", lambda: ns.Network(sp.cos(ns.Normal("w", 0, 1) * x2), ns.Normal("a", 0, 1), 3, x2), TypeError, r"must be a scalar expression.*vector x"),  # new
    ("shape3-dot-d2", lambda: ns.Normal("w", 0, 1, shape=3).dot(x2), ValueError, r"different dimensions \(w in dimension 3; x in dimension 2\)"),  # new
    ("input-dot-shape3", lambda: x2.dot(ns.Normal("w", 0, 1, shape=3)), ValueError, r"different dimensions"),  # new
    ("Dot-shape3-in-network", lambda: ns.Network(sp.cos(ns.Dot(ns.Normal("w", 0, 1, shape=3), x2)), ns.Normal("a", 0, 1), 3, x2), ValueError, r"w \(dimension 3\)"),  # new
    ("scalar-param-dot-vector", lambda: ns.Normal("w", 0, 1).dot(x2), TypeError, r"w is a scalar"),
    ("dot-vector-minus-scalar", lambda: ns.dot(x2 - sp.Symbol("mu"), x2), TypeError, r"-mu \+ x is not a vector"),  # new
    ("dot-vector-scalar", lambda: ns.dot(x2, 2), TypeError, r"x is a vector but 2 is a scalar"),  # new
    ("two-symbols-named-N", _two_n, ValueError, r"two different symbols are named 'N'"),  # new
    ("two-parameters-named-b", _two_b, ValueError, r"two different symbols are named 'b'"),  # new
    # --- correlators and evaluate
    ("correlator-n-zero", lambda: COS.correlator(0), ValueError, r"n >= 1"),
    ("correlator-n-fraction", lambda: COS.correlator(2.5), TypeError, r"number of points must be an integer"),
    ("evaluate-wrong-n", lambda: G2.evaluate(np.zeros((1, 3, 2)), **V), ValueError, r"\(\.\.\., 2, d\)"),
    ("evaluate-wrong-d", lambda: G2.evaluate(np.zeros((1, 2, 3)), **V), ValueError, r"\(\.\.\., 2, 2\) in d = 2"),
    ("evaluate-missing", lambda: G2.evaluate(X2, sigma_a=1.0, N=10), ValueError, r"missing value\(s\) for sigma_b"),
    ("evaluate-misspelt", lambda: G2.evaluate(X2, sigmaa=1.0, sigma_a=1.0, sigma_b=0.7), TypeError, r"'sigmaa' \(did you mean 'sigma_a'\?\).*known names are: N, sigma_a, sigma_b"),  # new
    ("evaluate-unknown", lambda: G2.evaluate(X2, foo=1.0, **V), TypeError, r"unknown name\(s\) 'foo'"),  # new
    ("evaluate-point-name", lambda: G2.evaluate(X2, x_1=1.0, **V), TypeError, r"unknown name\(s\) 'x_1'"),  # new
    ("evaluate-negative-sigma", lambda: G2.evaluate(X2, sigma_a=-1.0, sigma_b=0.7), ValueError, r"sigma_a must be positive"),
    ("evaluate-fraction-N", lambda: COS.correlator(4, connected=True).evaluate(np.zeros((1, 4, 2)), sigma_a=1, sigma_b=0.7, N=2.5), ValueError, r"N must be an integer"),
    ("evaluate-complex-points", lambda: G2.evaluate(X2 + 1j, **V), ValueError, r"points must be real, got complex"),  # new
    ("evaluate-string-points", lambda: G2.evaluate(np.full((1, 2, 2), "a"), **V), TypeError, r"points must be a real numeric array"),  # new
    ("evaluate-string-value", lambda: G2.evaluate(X2, sigma_a="1", sigma_b=0.7), TypeError, r"value of sigma_a must be a real number, got the string '1'"),  # new
    ("evaluate-array-value", lambda: G2.evaluate(X2, sigma_a=np.ones(3), sigma_b=0.7), TypeError, r"value of sigma_a must be a single real number.*\(3,\)"),  # new
    ("evaluate-nan-value", lambda: G2.evaluate(X2, sigma_a=np.nan, sigma_b=0.7), ValueError, r"value of sigma_a must be finite, got nan"),  # new
    ("evaluate-inf-value", lambda: G2.evaluate(X2, sigma_a=1.0, sigma_b=np.inf), ValueError, r"value of sigma_b must be finite, got inf"),  # new
    ("evaluate-complex-value", lambda: G2.evaluate(X2, sigma_a=1j, sigma_b=0.7), ValueError, r"value of sigma_a must be real"),  # new
    ("evaluate-symbolic-value", lambda: G2.evaluate(X2, sigma_a=sp.Symbol("s"), sigma_b=0.7), TypeError, r"value of sigma_a must be a number"),  # new
    ("evaluate-nan-points", lambda: G2.evaluate(np.full((1, 2, 2), np.nan), **V), ValueError, r"points contain inf or nan"),
    ("evaluate-d-disagrees", lambda: G2_D.evaluate(X2, d=3, **V), ValueError, r"d = 3 disagrees"),
    # --- monte_carlo
    ("mc-not-network", lambda: ns.monte_carlo(G2, 2, X2, **V), TypeError, r"needs an nnsym\.Network"),
    ("mc-fraction-N", lambda: _mc(COS, 2, X2, sigma_a=1.0, sigma_b=0.7, N=2.5), ValueError, r"N must be an integer, got 2\.5"),  # new
    ("mc-fraction-width", lambda: _mc(_plain_width_net(), 2, np.zeros((1, 2, 1)), M=2.5), ValueError, r"width M must be a positive integer, got 2\.5"),  # new
    ("mc-chunk-zero", lambda: _mc(COS, 2, X2, chunk_size=0, **V), ValueError, r"chunk_size must be >= 1"),  # new
    ("mc-chunk-negative", lambda: _mc(COS, 2, X2, chunk_size=-1, **V), ValueError, r"chunk_size must be >= 1"),  # new
    ("mc-chunk-fraction", lambda: _mc(COS, 2, X2, chunk_size=2.5, **V), TypeError, r"chunk_size must be an integer"),  # new
    ("mc-batches-zero", lambda: _mc(COS, 2, X2, batches=0, **V), ValueError, r"batches must be >= 2"),  # new
    ("mc-batches-one", lambda: _mc(COS, 2, X2, batches=1, **V), ValueError, r"batches must be >= 2"),  # new
    ("mc-samples-fraction", lambda: _mc(COS, 2, X2, samples=2000.5, **V), TypeError, r"samples must be an integer"),  # new
    ("mc-samples-few", lambda: _mc(COS, 2, X2, samples=5, **V), ValueError, r"samples must be at least"),
    ("mc-misspelt-option", lambda: _mc(COS, 2, X2, progres=True, **V), TypeError, r"'progres' \(did you mean 'progress'\?\)"),  # new
    ("mc-progress-string", lambda: _mc(COS, 2, X2, progress="yes", **V), TypeError, r"progress must be True, False or a delay"),  # new
    ("mc-unknown-value", lambda: _mc(COS, 2, X2, foo=1.0, **V), TypeError, r"'foo'.*hyper-parameter of the network \(N, d?,? ?sigma_a, sigma_b\)"),  # new
    ("mc-negative-seed", lambda: _mc(COS, 2, X2, seed=-1, **V), ValueError, r"seed must be a non-negative integer"),  # new
    ("mc-string-seed", lambda: _mc(COS, 2, X2, seed="a", **V), TypeError, r"seed must be a non-negative integer"),  # new
    ("mc-connected-string", lambda: _mc(COS, 2, X2, connected="yes", **V), TypeError, r"connected must be True or False"),  # new
    ("mc-complex-points", lambda: _mc(COS, 2, X2 + 1j, **V), ValueError, r"points must be real"),  # new
    ("mc-d-disagrees", lambda: _mc(COS_D, 2, X2, d=3, **V), ValueError, r"d = 3 disagrees"),  # new
    ("mc-wrong-shape", lambda: _mc(COS, 2, np.zeros((1, 3, 2)), **V), ValueError, r"\(\.\.\., 2, d\)"),
    ("mc-method", lambda: _mc(COS, 2, X2, method="magic", **V), ValueError, r"method must be"),
    ("mc-neuron-with-shared", lambda: _mc(_shared_net(), 2, np.zeros((1, 2, 1)), method="neuron", sigma_a=1, N=3), ValueError, r"i\.i\.d\."),
    ("mc-nan-value", lambda: _mc(COS, 2, X2, sigma_a=np.nan, sigma_b=0.7, N=10), ValueError, r"value of sigma_a must be finite"),  # new
    ("mc-string-value", lambda: _mc(COS, 2, X2, sigma_a="1", sigma_b=0.7, N=10), TypeError, r"value of sigma_a must be a real number"),  # new
    ("mc-missing-value", lambda: _mc(COS, 2, X2, sigma_b=0.7, N=10), ValueError, r"missing value\(s\) for sigma_a"),
    ("mc-cauchy-readout-G2", lambda: _mc(_cauchy_readout(), 2, np.zeros((1, 2, 1))), ns.DivergentExpectation, r"E\[\|a\|\^2\] of the readout a ~ CauchyLaw"),  # new
    ("mc-cauchy-readout-G1", lambda: _mc(_cauchy_readout(), 1, np.zeros((1, 1, 1))), ns.DivergentExpectation, r"E\[\|a\|\^1\]"),  # new
    ("mc-cauchy-polynomial-weight", lambda: _mc(_cauchy_polynomial_weight(), 2, np.zeros((1, 2, 1))), ns.DivergentExpectation, r"E\[\|w\|\^2\] of the parameter w"),  # new
    ("mc-cauchy-bias", lambda: _mc(_net1(bias=ns.Cauchy("beta", 0, 1)), 2, np.zeros((1, 2, 1)), sigma_a=1, N=3), ns.DivergentExpectation, r"output bias beta"),  # new
    # --- validate
    ("validate-misspelt", lambda: ns.validate(COS, 2, X2, sample=1000, **V), TypeError, r"'sample' \(did you mean 'samples'\?\)"),  # new
    ("validate-alpha", lambda: ns.validate(COS, 2, X2, alpha=2, **V), ValueError, r"alpha must be in \(0, 1\)"),
    ("validate-not-network", lambda: ns.validate(G2, 2, X2, **V), TypeError, r"needs an nnsym\.Network"),  # new
    ("validate-complex-points", lambda: ns.validate(COS, 2, X2 + 1j, **V), ValueError, r"points must be real"),  # new
    # --- command line
    ("cli-negative-seed", lambda: _cli("derive", "cos-net", "--points", "2", "--d", "1", "--seed", "-1"), ValueError, r"the seed must be a non-negative integer, got -1"),  # new
    ("cli-points-zero", lambda: _cli("derive", "cos-net", "--points", "0", "--no-validate"), ValueError, r"positive integer"),
    ("cli-unknown-value", lambda: _cli("derive", "cos-net", "--points", "2", "--d", "1", "--samples", "2000", "--value", "sigmaa=1"), ValueError, r"'sigmaa' \(did you mean 'sigma_a'\?\)"),  # new
]


def test_catalogue_size():
    assert len(CASES) >= 60
    assert len({c[0] for c in CASES}) == len(CASES)


@pytest.mark.parametrize("call,exc,pattern", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_refused(call, exc, pattern):
    with pytest.raises(exc, match=pattern):
        call()


# ----------------------------------------------------------------------------- valid input that used to fail
@pytest.mark.parametrize("sa,sb", [(sp.Rational(1, 2), sp.pi), (sp.Float(0.5), sp.Rational(7, 10)), (np.float32(0.5), 1)])
def test_sympy_and_numpy_numbers_as_values(sa, sb):
    got = G2.evaluate(X2, sigma_a=sa, sigma_b=sb)
    np.testing.assert_allclose(got, [0.125])
    est = _mc(COS, 2, X2, sigma_a=sa, sigma_b=sb, N=sp.Integer(10))
    assert abs(est.mean[0] - 0.125) < 5 * est.stderr[0]
    rep = ns.validate(COS, 2, X2, samples=4000, batches=8, sigma_a=sa, sigma_b=sb, N=10)
    assert rep.passed


def test_dict_shared_by_two_networks_is_filtered_by_value_names():
    """sigma_c belongs to the Gauss-net, not to the cos-net: refused there, unless filtered."""
    vals = dict(V, sigma_c=0.3)
    with pytest.raises(TypeError, match=r"'sigma_c'.*known names are: N, sigma_a, sigma_b"):
        G2.evaluate(X2, **vals)
    with pytest.raises(TypeError, match=r"'sigma_c'"):
        _mc(COS, 2, X2, **vals)
    np.testing.assert_allclose(G2.evaluate(X2, **{k: v for k, v in vals.items() if k in G2.value_names()}), [0.5])


def test_values_of_the_network_accepted_by_every_correlator():
    # H^(2) contains neither N nor sigma_a: values shared by a network's correlators are fine
    H2 = COS.neuron_correlator(2)
    assert {s.name for s in H2.free_parameters} == {"sigma_b"}
    np.testing.assert_allclose(H2.evaluate(X2, **V), [0.5])
    np.testing.assert_allclose(G2_D.evaluate(X2, d=2, **V), [0.5])


def test_dot_of_vector_expressions():
    """``x - mu`` is a sympy Add without ``.dot``: ``ns.dot`` takes any vector expressions."""
    mu = ns.Normal("mu", 0, 1, shape=2)
    net = ns.Network(sp.exp(-ns.dot(x2 - mu, x2 - mu) / 2), ns.Normal("a", 0, 1), 3, x2)
    X = np.random.default_rng(0).normal(size=(3, 2, 2))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ns.NumericWarning)
        got = net.correlator(2).evaluate(X)
    # N E[a^2] prod_j int phi(m) e^{-(m-u_j)^2/2 - (m-v_j)^2/2} dm = 3 prod_j e^{(u+v)^2/6 - (u^2+v^2)/2}/sqrt(3)
    u, v = X[:, 0], X[:, 1]
    exact = 3 * np.prod(np.exp((u + v) ** 2 / 6 - (u**2 + v**2) / 2) / np.sqrt(3), axis=-1)
    np.testing.assert_allclose(got, exact, rtol=1e-6)
    assert ns.dot(x2, x2) == ns.Dot(x2, x2) == x2.dot(x2)
    assert ns.dot(x1, x1) == x1**2  # d = 1: scalars


def test_moment_exists():
    assert ns.Normal("a", 0, 1).law.moment_exists(12) is True
    assert [ns.Cauchy("a", 0, 1).law.moment_exists(k) for k in range(3)] == [True, False, False]
    heavy = ns.Density("b", 1 / (1 + b_sym**4), (-sp.oo, sp.oo)).law  # tails ~ b^-4: E|b|^k < oo iff k < 3
    assert [heavy.moment_exists(k) for k in range(5)] == [True, True, True, False, False]
    assert ns.Density("b", 1 / (1 + b_sym**2), (-3, 3)).law.moment_exists(9) is True  # bounded support
    with pytest.raises(TypeError, match="moment order"):
        heavy.moment_exists(1.5)


# ----------------------------------------------------------------------------- Monte Carlo trust
def test_cauchy_weight_inside_cosine_is_fine():
    """A Cauchy weight inside a bounded function needs no moment: no refusal, no warning."""
    b = ns.Cauchy("b", 0, 1)
    net = _net1(neuron=sp.cos(b * x1 + ns.Uniform("c", -sp.pi, sp.pi)), readout=ns.Normal("a", 0, 1), width=3)
    X = np.array([[[0.0], [0.5]]])
    with warnings.catch_warnings():
        warnings.simplefilter("error", ns.NumericWarning)
        est = ns.monte_carlo(net, 2, X, samples=40_000, seed=1)
    exact = np.exp(-0.5) / 2 * 3  # N E[a^2] E[cos(b(x-y))]/2
    assert abs(est.mean[0] - exact) < 5 * est.stderr[0]


def test_heavy_tailed_gauss_net_warns():
    """Gauss-net at sigma_b = 3: G_c^(4) is dominated by draws that are never sampled."""
    net = ns.zoo.gauss_net(2)
    X = np.array([[[0.6, 0.5], [0.5, 0.7], [0.7, 0.4], [0.4, 0.6]],      # |x| ~ 0.8: heavy
                  [[0.3, -0.2], [0.1, 0.4], [-0.5, 0.2], [0.2, 0.1]]])  # small |x|
    vals = dict(sigma_a=1.0, sigma_b=3.0, sigma_c=0.3, N=10)
    exact = net.correlator(4, connected=True).evaluate(X, **vals)
    for seed in range(2):
        with pytest.warns(ns.UnreliableErrorWarning, match=r"standard error is unreliable.*point set.*\[0\]"):
            est = ns.monte_carlo(net, 4, X, connected=True, samples=100_000, seed=seed, **vals)
        # the warning is deserved: the sample second moment is ~1e-20 of the exact one, and z is absurd
        assert est.extra["second_moment_ratio"][0] < 1e-6
        assert abs(est.z(exact)[0]) > 10


@pytest.mark.parametrize("n,connected,method", [(2, False, "neuron"), (4, True, "neuron"), (4, True, "network")])
def test_ordinary_cos_net_does_not_warn(n, connected, method):
    net = ns.zoo.cos_net(2)
    X = np.random.default_rng(2).uniform(-1, 1, size=(4, n, 2))
    with warnings.catch_warnings():
        warnings.simplefilter("error", ns.UnreliableErrorWarning)
        for seed in range(5):
            est = ns.monte_carlo(net, n, X, connected=connected, samples=20_000, seed=seed, method=method,
                                 sigma_a=1.0, sigma_b=0.7, N=10 if method == "neuron" else 2)
            assert np.all(est.extra["max_draw_share"] < 0.8)
            ratio = est.extra["second_moment_ratio"]
            if method == "network":  # the exact E[Y^2] is a neuron moment: neuron estimator only
                assert ratio is None
            elif ratio is None:  # derived only when some draw hints at heavy tails
                assert np.all(est.extra["max_draw_share"] <= 0.1)
            else:
                assert np.all(ratio > 0.1)
