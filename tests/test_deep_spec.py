"""One deep-MLP specification (nnsym.model.deep.DeepMLP) feeding the kernels and the sampler.

References, none of which uses nnsym's recursion:

* the layer recursion composed by hand in numpy from the single-layer formulas of the
  conventions (arcsin for erf, arc-cosine for ReLU), with per-layer activations and variances;
* Monte Carlo of real networks drawn by the spec's sampler (|z| < 5 from the standard error
  across networks, fixed seed);
* the zoo's two-layer networks (their 2-point functions come from the engine).
"""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import sympy as sp

import nnsym as ns
from nnsym.model.deep import MLP, DeepMLP

from independent import erf_P, relu_P

ZMAX = 5.0
relu = lambda z: sp.Max(0, z)
N = sp.Symbol("N", positive=True, integer=True)
sW, sb = sp.symbols("sigma_W sigma_b", positive=True)


def hand_nngp(Ps, sws, sbs, x, y):
    """K^{(L+1)} with E[f_l f_l] = Ps[l-1] and sigma_W^(l), sigma_b^(l) = sws[l], sbs[l]."""
    d = x.shape[-1]
    K11, K12, K22 = (sbs[0] ** 2 + sws[0] ** 2 * np.sum(a * b, -1) / d for a, b in ((x, x), (x, y), (y, y)))
    for l, P in enumerate(Ps, start=1):
        K11, K12, K22 = (sbs[l] ** 2 + sws[l] ** 2 * P(K11, K11, K11), sbs[l] ** 2 + sws[l] ** 2 * P(K11, K12, K22),
                         sbs[l] ** 2 + sws[l] ** 2 * P(K22, K22, K22))
    return K12


# ----------------------------------------------------------------------------- validation
@pytest.mark.parametrize("kwargs,error,match", [
    (dict(depth=0), ValueError, "depth"),
    (dict(depth=1.5), ValueError, "depth"),
    (dict(d=0), ValueError, "input dimension"),
    (dict(d=2.5), ValueError, "input dimension"),
    (dict(widths=0), ValueError, "width n_1"),
    (dict(widths=[10, -3]), ValueError, "width n_2"),
    (dict(widths=2.5), ValueError, "width"),
    (dict(widths="10"), TypeError, "width"),
    (dict(widths=[10, 10, 10]), ValueError, "one value per layer"),
    (dict(widths=sp.Symbol("n", negative=True)), ValueError, "width"),
    (dict(sigma_W=-1.0), ValueError, "sigma_W"),
    (dict(sigma_b=[0.1, 0.2, -0.3]), ValueError, r"sigma_b\^\(2\)"),
    (dict(sigma_b=sp.Symbol("s", negative=True)), ValueError, "sigma_b"),
    (dict(sigma_W=float("nan")), ValueError, "sigma_W"),
    (dict(sigma_W="1"), TypeError, "sigma_W"),
    (dict(sigma_W=[1, 2]), ValueError, "one value per layer"),
    (dict(activation="relu"), TypeError, "activation"),
    (dict(activation=np.tanh), TypeError, "activation of layer 1"),
    (dict(activation=lambda z: z > 0), TypeError, "activation of layer 1"),
    (dict(activation=[sp.erf]), ValueError, "one value per layer"),
    (dict(parameterisation="mup"), ValueError, "parameterisation"),
])
def test_spec_refuses_bad_input(kwargs, error, match):
    args = dict(activation=sp.erf, depth=2, d=3) | kwargs
    with pytest.raises(error, match=match):
        DeepMLP(**args)


def test_spec_normalises_per_layer():
    spec = DeepMLP([sp.erf, relu], 2, 3, widths=[N, 7], sigma_W=[1, 2, 3], sigma_b=0)
    assert spec.widths == (N, 7) and spec.sigma_W == (1, 2, 3) and spec.sigma_b == (0, 0, 0)
    assert spec.fan_in(0) == 3 and spec.fan_in(1) == N and spec.fan_in(2) == 7
    assert spec.weight_variance(1) == 4 / N and spec.weight_variance(2, {"N": 5}) == 9 / 7
    z = sp.Symbol("z")
    assert spec.activation_expr(2, z) == sp.Max(0, z)
    assert DeepMLP(sp.erf, 2, 3).widths == (sp.oo, sp.oo) and DeepMLP(sp.erf, 2, 3).infinite_width
    assert spec.replace(widths=100).widths == (100, 100)
    assert MLP is DeepMLP and "DeepMLP(activation=[Lambda(z, erf(z)), Lambda(z, Max(0, z))]" in repr(spec)
    with pytest.raises(ValueError, match="layer index"):
        spec.activation_expr(0, z)
    with pytest.raises(ValueError, match="missing value"):
        DeepMLP(sp.erf, 1, 2).layer_variances(0, {})


def test_network_and_sample_refusals():
    with pytest.raises(ValueError, match="depth 2"):
        DeepMLP(sp.erf, 2, 2, widths=N).network()
    with pytest.raises(ValueError, match="finite width"):
        DeepMLP(sp.erf, 1, 2).network()
    with pytest.raises(ValueError, match="standard parameterisation"):
        DeepMLP(sp.erf, 1, 2, widths=N, parameterisation="ntk").network()
    spec = DeepMLP(sp.erf, 2, 2, sigma_W=1.0, sigma_b=0.0)
    X = np.eye(2)
    with pytest.raises(ValueError, match="infinite"):
        spec.sample(X, 4)
    with pytest.raises(ValueError, match=r"shape \(M, 2\)"):
        spec.sample(np.zeros((3, 3)), 4, widths=5)
    with pytest.raises(ValueError, match="samples"):
        spec.sample(X, 0, widths=5)
    with pytest.raises(ValueError, match="missing value.*N"):
        spec.replace(widths=N).sample(X, 4)
    with pytest.raises(ValueError, match="missing value.*sigma_W"):
        DeepMLP(sp.erf, 1, 2, widths=3).sample(X, 4)


# ----------------------------------------------------------------------------- kernels from the spec
@pytest.mark.parametrize("f", [relu, sp.erf, sp.Abs])
@pytest.mark.parametrize("d", [1, 2, sp.Symbol("d", positive=True, integer=True)])
def test_kernel_from_spec_is_deep_kernel(f, d):
    K = ns.DeepKernel(f, 2, d)
    spec = DeepMLP(f, 2, d, parameterisation="ntk")
    for KS in (ns.DeepKernel.from_spec(spec), ns.deep_kernels(spec, None, None)):
        assert KS.spec == spec and K.spec.parameterisation == "ntk"
        assert KS.nngp.expr == K.nngp.expr and KS.ntk.expr == K.ntk.expr
    # a finite-width spec has the same infinite-width kernels
    assert ns.DeepKernel.from_spec(spec.replace(widths=[N, 4])).nngp.expr == K.nngp.expr


def test_numeric_kernel_from_spec_is_deep_kernel():
    X = np.random.default_rng(1).normal(size=(5, 2, 2))
    v = dict(sigma_W=1.3, sigma_b=0.4)
    K = ns.DeepKernel(sp.tanh, 2, 2)
    KS = ns.DeepKernel.from_spec(DeepMLP(sp.tanh, 2, 2, parameterisation="ntk"))
    assert not K.symbolic and not KS.symbolic
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ns.NumericWarning)
        np.testing.assert_array_equal(KS.evaluate_nngp(X, **v), K.evaluate_nngp(X, **v))
        np.testing.assert_array_equal(KS.evaluate_ntk(X, **v), K.evaluate_ntk(X, **v))


def test_per_layer_spec_is_the_hand_recursion():
    """erf then ReLU, different variances per layer: symbolic kernel = numpy recursion by hand."""
    sws, sbs = [1.2, 0.8, 1.5], [0.3, 0.0, 0.6]
    spec = DeepMLP([sp.erf, relu], 2, 2, sigma_W=sws, sigma_b=sbs)
    K = ns.DeepKernel.from_spec(spec)
    assert K.symbolic and K.nngp.is_exact
    X = np.random.default_rng(2).normal(size=(6, 2, 2))
    np.testing.assert_allclose(K.evaluate_nngp(X), hand_nngp([erf_P, relu_P], sws, sbs, X[:, 0], X[:, 1]),
                               rtol=1e-12)
    # the numeric recursion runs per layer too (its stated error bounds the difference)
    num, err = K._numeric(X, {}, "nngp", with_error=True)
    assert np.max(np.abs(num - K.evaluate_nngp(X))) < 1e-2 and err < 1e-2
    # the standard parameterisation has no infinite-width NTK; its NNGP is the same
    with pytest.raises(ns.DivergentExpectation, match="parameterisation"):
        _ = K.ntk
    with pytest.raises(ns.DivergentExpectation, match="parameterisation"):
        spec.ntk_step(1, 1.0, 1.0, 1.0)


# ----------------------------------------------------------------------------- the sampler
def test_sample_deep_mlp_is_the_spec_sampler():
    X = np.random.default_rng(3).normal(size=(4, 3))
    for f, depth, w, sw, sbv, ch in ((relu, 3, 40, 1.5, 0.5, 8), (sp.erf, 1, 20, 1.3, 0.0, 256)):
        a = ns.sample_deep_mlp(f, depth, w, X, samples=30, seed=11, sigma_W=sw, sigma_b=sbv, chunk=ch)
        b = DeepMLP(f, depth, 3, widths=w, sigma_W=sw, sigma_b=sbv).sample(X, 30, seed=11, chunk=ch)
        np.testing.assert_array_equal(a, b)
    # symbolic variances and widths take values by name; the same draws
    c = DeepMLP(relu, 3, 3, widths=N).sample(X, 30, seed=11, chunk=8, N=40, sigma_W=1.5, sigma_b=0.5)
    np.testing.assert_array_equal(c, ns.sample_deep_mlp(relu, 3, 40, X, 30, 11, 1.5, 0.5, 8))


def test_sampler_agrees_with_the_nngp_at_large_width():
    """erf then ReLU, per-layer variances, widths 300: E[phi(x_i) phi(x_j)] = K^{(3)}(x_i, x_j)."""
    sws, sbs = [1.2, 0.8, 1.5], [0.3, 0.0, 0.6]
    spec = DeepMLP([sp.erf, relu], 2, 2, widths=300, sigma_W=sws, sigma_b=sbs)
    Xp = np.array([[1.0, 0.0], [0.0, 1.0], [0.6, -0.8]])
    pairs = [(0, 0), (1, 1), (0, 1), (0, 2), (1, 2)]
    P = np.array([[Xp[i], Xp[j]] for i, j in pairs])
    exact = ns.DeepKernel.from_spec(spec).evaluate_nngp(P)
    Y = spec.sample(Xp, 1500, seed=5, chunk=16)
    prods = np.stack([Y[:, i] * Y[:, j] for i, j in pairs], axis=1)
    mean, se = prods.mean(0), prods.std(0, ddof=1) / math.sqrt(len(Y))
    z = (mean - exact) / se
    assert np.all(np.abs(z) < ZMAX), (exact, mean, se, z)
    assert np.all(se < 0.1 * np.abs(exact))


# ----------------------------------------------------------------------------- depth 1 = the zoo's two-layer networks
@pytest.mark.parametrize("kind,f", [("erf", sp.erf), ("relu", relu)])
def test_depth_one_spec_is_the_zoo_network(kind, f):
    d = 2
    net = DeepMLP(f, 1, d, widths=N, sigma_W=sW, sigma_b=sb).network()
    zoo = getattr(ns.zoo, f"{kind}_net")(d)
    assert net.neuron == zoo.neuron and net.params == zoo.params and net.bias == zoo.bias
    assert str(net.readout.law) == str(zoo.readout.law) and str(net.bias.law) == str(zoo.bias.law)
    G2 = net.correlator(2)
    assert G2.expr == zoo.correlator(2).expr
    X = np.random.default_rng(4).normal(size=(5, 2, d))
    K = ns.DeepKernel(f, 1, d).evaluate_nngp(X, sigma_W=1.3, sigma_b=0.4)
    np.testing.assert_allclose(G2.evaluate(X, sigma_W=1.3, sigma_b=0.4, N=3), K, rtol=1e-12)
    # without biases the network has none, and its G2 is the kernel with sigma_b = 0
    net0 = DeepMLP(f, 1, d, widths=N, sigma_W=sW, sigma_b=0).network()
    assert net0.bias is None and not any(p.name.startswith("b") for p in net0.params)
    K0 = ns.DeepKernel(f, 1, d, sigma_b=0).evaluate_nngp(X, sigma_W=1.3)
    np.testing.assert_allclose(net0.correlator(2).evaluate(X, sigma_W=1.3, N=3), K0, rtol=1e-12)
