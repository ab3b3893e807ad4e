"""Networks and correlator objects: consistency between the two correlator
routes, the Correlator API, and clear errors on bad input. Monte Carlo checks of
the same networks are in test_against_numerics.py."""

import numpy as np
import pytest
import sympy as sp

import nnsym as ns

N = sp.Symbol("N", positive=True, integer=True)
sig = sp.Symbol("sigma", positive=True)
VALS = dict(N=3, sigma=0.8)  # the names of _scalar_net (evaluate refuses unknown names)


def _partitions(idx):
    return ns.set_partitions(idx)


def connected_from_full(full, X, vals):
    """kappa_n from the full moments G^(|B|) at sub-point-sets, by Moebius inversion (numeric)."""
    n = X.shape[-2]
    out = np.zeros(X.shape[:-2])
    for blocks in _partitions(range(n)):
        term = float(ns.moebius(len(blocks)))
        for B in blocks:
            term = term * full[len(B)](X[..., list(B), :], vals)
        out = out + term
    return out


def _scalar_net(shared=False, bias=False):
    x = ns.Input("x", 1)
    a = ns.Laplace("a", 0, sig / sp.sqrt(N))
    b = ns.Normal("b", 0, 1)
    c = ns.Uniform("c", -sp.pi, sp.pi)
    return ns.Network(
        sp.cos(b * x + c) + sp.Rational(1, 3) * sp.sin(2 * b * x), readout=a, width=N, input=x,
        shared=(c,) if shared else (), bias=ns.Normal("bout", 0, sig**2) if bias else None,
    )


@pytest.mark.parametrize("shared,bias", [(False, False), (True, False), (False, True), (True, True)])
def test_connected_is_moebius_inversion_of_full(shared, bias):
    """Two independent routes: the engine's connected function (N*kappa for i.i.d.,
    Moebius on full moments when shared) against a numerical Moebius inversion of
    the public full correlators."""
    net = _scalar_net(shared, bias)
    full = {k: (lambda Xs, v, k=k: net.correlator(k).evaluate(Xs, **v)) for k in range(1, 5)}
    X = np.random.default_rng(0).normal(size=(6, 4, 1))
    for n in (2, 3, 4):
        Xn = X[:, :n]
        got = net.correlator(n, connected=True).evaluate(Xn, **VALS)
        want = connected_from_full(full, Xn, VALS)
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


def test_iid_connected_scales_as_one_over_n_but_shared_does_not():
    X = np.random.default_rng(1).normal(size=(3, 4, 1))
    for shared, scale in ((False, True), (True, False)):
        G = _scalar_net(shared).correlator(4, connected=True)
        small, big = (G.evaluate(X, **{**VALS, "N": n}) for n in (10, 10_000))
        if scale:
            np.testing.assert_allclose(big * 10_000, small * 10, rtol=1e-9)
        else:  # independence breaking survives N -> infinity
            assert np.max(np.abs(big)) > 1e-3


def test_two_point_of_sigma_a_over_n_readout_is_width_independent():
    G2 = ns.zoo.cos_net(2).correlator(2)
    assert N not in G2.expr.free_symbols


def test_neuron_correlator():
    net = ns.zoo.cos_net(2)
    H2 = net.neuron_correlator(2)
    G2 = net.correlator(2)
    assert sp.simplify(G2.expr - sp.Symbol("sigma_a", positive=True) ** 2 * H2.expr) == 0
    assert H2.latex().startswith("H^{(2)}")


def test_correlator_api():
    G4 = ns.zoo.cos_net(2).correlator(4, connected=True)
    assert [p.name for p in G4.points] == ["x_1", "x_2", "x_3", "x_4"]
    assert isinstance(G4.expr, sp.Expr)
    assert G4.latex().startswith(r"G^{(4)}_c(x_{1}, \ldots, x_{4}) = ")
    assert G4._repr_latex_().startswith("$")
    assert {s.name for s in G4.free_parameters} == {"N", "sigma_a", "sigma_b"}
    X = np.random.default_rng(2).normal(size=(2, 3, 4, 2))
    out = G4.evaluate(X, sigma_a=1.0, sigma_b=0.7, N=10)
    assert out.shape == (2, 3)
    cached = dict(G4._cache)
    fixed = G4.subs({sp.Symbol("N", positive=True, integer=True): 10})
    np.testing.assert_allclose(fixed.evaluate(X, sigma_a=1.0, sigma_b=0.7), out, rtol=1e-13)
    # one compiled kernel and one analysis of the expression, reused: other values add nothing
    G4.evaluate(X, sigma_a=2.0, sigma_b=0.1, N=3)
    assert G4._cache.keys() == cached.keys() and all(G4._cache[k] is v for k, v in cached.items())
    assert sum(1 for k in G4._cache if k[0] == "plan") == 1


def test_evaluate_errors_are_clear():
    G4 = ns.zoo.cos_net(2).correlator(4, connected=True)
    X = np.zeros((5, 4, 2))
    with pytest.raises(ValueError, match=r"missing value\(s\) for N"):
        G4.evaluate(X, sigma_a=1.0, sigma_b=0.7)
    with pytest.raises(ValueError, match=r"shape \(\.\.\., 4, 2\)"):
        G4.evaluate(np.zeros((5, 4, 3)), sigma_a=1.0, sigma_b=0.7, N=2)
    with pytest.raises(ValueError, match=r"shape \(\.\.\., 4, d\)"):
        G4.evaluate(np.zeros((5, 3, 2)), sigma_a=1.0, sigma_b=0.7, N=2)
    with pytest.raises(ValueError, match="shape"):
        G4.evaluate(np.zeros(4), sigma_a=1.0, sigma_b=0.7, N=2)
    with pytest.raises(ValueError, match="sigma_a must be positive"):
        G4.evaluate(X, sigma_a=-1.0, sigma_b=0.7, N=2)
    with pytest.raises(ValueError, match="N must be an integer"):
        G4.evaluate(X, sigma_a=1.0, sigma_b=0.7, N=2.5)
    with pytest.raises(ValueError, match="inf or nan"):
        G4.evaluate(np.full((1, 4, 2), np.nan), sigma_a=1.0, sigma_b=0.7, N=2)


@pytest.mark.parametrize("n", [0, -2])
def test_n_must_be_positive(n):
    with pytest.raises(ValueError, match="n >= 1"):
        ns.zoo.cos_net(2).correlator(n)


def test_n_must_be_an_integer():
    with pytest.raises(TypeError, match="integer"):
        ns.zoo.cos_net(2).correlator(2.5)


def test_network_errors_are_clear():
    x = ns.Input("x", 2)
    a, b = ns.Normal("a", 0, 1), ns.Normal("b", 0, 1, shape=2)
    with pytest.raises(ValueError, match="does not depend on the input"):
        ns.Network(sp.cos(b.dot(b)), readout=a, width=3, input=x)
    with pytest.raises(TypeError, match="readout"):
        ns.Network(sp.cos(b.dot(x)), readout=sp.Symbol("a"), width=3, input=x)
    with pytest.raises(TypeError, match="nnsym.Input"):
        ns.Network(sp.cos(b.dot(x)), readout=a, width=3, input=sp.Symbol("x"))
    with pytest.raises(ValueError, match="width"):
        ns.Network(sp.cos(b.dot(x)), readout=a, width=0, input=x)
    with pytest.raises(ValueError, match="shared parameter"):
        ns.Network(sp.cos(b.dot(x)), readout=a, width=3, input=x, shared=(ns.Normal("z", 0, 1),))
    with pytest.raises(ValueError, match="dimension"):
        ns.Input("x", 0)


def test_readout_with_odd_moments_gives_odd_correlators():
    x = ns.Input("x", 1)
    a = ns.Normal("a", 1, 1)  # not even: no Z2
    b = ns.Normal("b", 0, 1)
    net = ns.Network(sp.cos(b * x), readout=a, width=2, input=x)
    G1 = net.correlator(1)
    assert G1.expr != 0
    # E[phi(x)] = N E[a] E[cos(b x)] = 2 exp(-x^2/2); checked against quadrature of the Gaussian
    from scipy.integrate import quad

    want = 2 * quad(lambda u: np.cos(u * 0.7) * np.exp(-u * u / 2) / np.sqrt(2 * np.pi), -np.inf, np.inf)[0]
    assert G1.evaluate(np.array([[[0.7]]]))[0] == pytest.approx(want, rel=1e-10)


def test_set_partitions_are_bell_numbers():
    assert [len(ns.set_partitions(range(n))) for n in range(1, 7)] == [1, 2, 5, 15, 52, 203]
    assert ns.moebius(3) == 2 and ns.moebius(4) == -6
