"""Large n (issue 13): moments derived once per shape and relabelled, odd blocks skipped, one Add per
set-partition sum, and Wick/Isserlis for polynomial moments of Gaussian vectors.

Every shortcut is checked against the path without it, in the same process: a network with
``use_moment_symmetries = False`` takes one expectation per subset of points (the derivation as it was),
and the Wick rule is unregistered to let the transform method (differentiating the moment generating
function) answer. The Wick moments are also checked against tensor Gauss-Hermite quadrature (exact for
polynomials) and a fixed-seed Monte Carlo (|z| < 5).
"""
from __future__ import annotations

import itertools
import math
import time

import numpy as np
import pytest
import sympy as sp
from numpy.polynomial import hermite_e

import nnsym as ns
from nnsym.core.vectors import Dot, VectorSymbol, expand_dot
from nnsym.engine.registry import GROUP_RULES
from nnsym.engine.rules_wick import isserlis_moment, wick_method
from nnsym.model.network import (
    TooExpensive,
    cumulant,
    even_set_partitions,
    partition_count,
    relabel_points,
    set_partitions,
    width_sum_moment,
)

N = sp.Symbol("N", positive=True, integer=True)


def _pair(make, n, connected):
    """G^(n) (or G_c^(n)) with the moment symmetries and without them (each on a fresh network). The
    integration variables of unevaluated Gaussian expectations are Dummies, new in every derivation:
    they are compared by name."""
    out = []
    for flag in (True, False):
        net = make()
        net.use_moment_symmetries = flag
        e = net.correlator(n, connected=connected).expr
        out.append(e.xreplace({z: sp.Symbol(z.name) for z in e.atoms(sp.Dummy)}))
    return out


def _shared_cos(d):
    """The cos-net with its phase c shared by all neurons (not i.i.d.)."""
    net = ns.zoo.cos_net(d)
    c = next(p for p in net.params if p.name == "c")
    return ns.Network(net.neuron, net.readout, net.width, net.input, shared=[c])


def _cos_with_bias(d):
    net = ns.zoo.cos_net(d)
    return ns.Network(net.neuron, net.readout, net.width, net.input, bias=ns.Normal("beta", sp.Rational(1, 3), 1))


ZOO = {  # (network factory, largest n checked): symbolic d, d = 1 and 2, bias, shared parameters, no Z2
    "cos-d": (lambda: ns.zoo.cos_net(), 6),
    "cos-1": (lambda: ns.zoo.cos_net(1), 4),
    "gauss-2": (lambda: ns.zoo.gauss_net(2), 4),
    "erf-1 (bias)": (lambda: ns.zoo.erf_net(1), 4),
    "cauchy": (lambda: ns.zoo.cauchy_net(), 4),
    "cos-1 with odd bias": (lambda: _cos_with_bias(1), 4),
    "cos-2 shared phase": (lambda: _shared_cos(2), 4),
}


@pytest.mark.parametrize("name", list(ZOO))
def test_symmetric_moments_give_the_same_correlators(name):
    """Identical expressions, full and connected, n = 2..n_max, with and without the shortcuts."""
    make, n_max = ZOO[name]
    for n in range(2, n_max + 1):
        for connected in (True, False):
            if n > 4 and not connected:
                continue
            new, old = _pair(make, n, connected)
            assert new == old, (name, n, connected)


def test_relabelled_moment_is_the_direct_moment():
    """A subset's moment relabelled from x_1..x_k equals the moment taken at the subset, for points in any
    order, in general d (Dot of differences such as x_1 - x_2) and in d = 1 (powers of differences)."""
    for make in (ns.zoo.cos_net, lambda: ns.zoo.cos_net(1), lambda: ns.zoo.gauss_net(2), ns.zoo.cauchy_net):
        net = make()
        pts = net.points(6)
        for S in [(pts[4], pts[1]), (pts[5], pts[2], pts[0], pts[3]), (pts[3], pts[3], pts[1])]:
            ref_net = make()  # a fresh network: no shared memo
            ref_net.use_moment_symmetries = False
            assert net.neuron_moment(S) == ref_net.neuron_moment(S)


def test_relabel_points_is_xreplace():
    x = [VectorSymbol(f"x_{k}", sp.Symbol("d", positive=True, integer=True)) for k in range(1, 13)]
    s = sp.Symbol("s", positive=True)
    e = (sp.exp(-s * Dot(x[0] - x[1] + x[2] - x[3], x[0] - x[1] + x[2] - x[3])) * Dot(x[0], x[2])
         + Dot(x[1] - x[3], x[0] + 2 * x[2]) + sp.Piecewise((Dot(x[0], x[0]), Dot(x[0], x[1]) < 1), (sp.oo, True)))
    rng = np.random.default_rng(3)
    for _ in range(40):
        target = [x[j] for j in rng.choice(12, size=4, replace=False)]
        mapping = dict(zip(x[:4], target))
        assert relabel_points(e, mapping) == e.xreplace(mapping)


def test_odd_blocks_vanish_only_where_the_engine_would_say_zero():
    assert ns.zoo.cos_net()._odd_blocks_vanish and ns.zoo.erf_net(2)._odd_blocks_vanish
    assert ns.zoo.relu_net(1)._odd_blocks_vanish
    assert not ns.zoo.gauss_net(2)._odd_blocks_vanish  # exp(b.x): growth not polynomial (left to the engine)
    assert not ns.zoo.cauchy_net()._odd_blocks_vanish  # a Cauchy frequency: no entire transform
    x = ns.Input("x", 1)
    w = ns.Normal("w", 0, 1)
    assert not ns.Network(w * x, ns.Normal("a", 1, 1), N, x)._odd_blocks_vanish  # readout with a mean
    a = ns.Normal("a", 0, 1)
    assert not ns.Network(a * w * x, a, N, x)._odd_blocks_vanish  # readout inside the neuron
    net = ns.zoo.cos_net(2)
    x1, x2, x3 = net.points(3)
    assert net.neuron_moment((x1, x2, x3)) == 0 and net.neuron_moment((x1, x1, x2)) == 0


def test_even_set_partitions():
    for n in range(0, 9):
        items = tuple(range(n))
        ref = sorted(sorted(p) for p in set_partitions(items) if all(len(B) % 2 == 0 for B in p))
        got = even_set_partitions(items)
        assert sorted(sorted(p) for p in got) == ref
        assert len(got) == partition_count(n, even_blocks_only=True)
        assert partition_count(n) == len(set_partitions(items))


def test_sums_on_numpy_arrays_keep_their_bits():
    """cumulant and width_sum_moment on numpy arrays: the left-to-right sum of the loop they replaced."""
    rng = np.random.default_rng(7)
    items = tuple(range(5))
    table = {B: rng.normal(size=6) for k in range(1, 6) for B in itertools.combinations(items, k)}
    moment = lambda B: table[B]  # noqa: E731
    ref = 0
    for blocks in set_partitions(items):
        term = (-1) ** (len(blocks) - 1) * math.factorial(len(blocks) - 1)
        for B in blocks:
            term = term * moment(tuple(B))
        ref = ref + term
    got = cumulant(items, moment)
    assert isinstance(got, np.ndarray) and np.array_equal(got, ref)
    part = lambda blocks: np.prod([table[tuple(B)] for B in blocks], axis=0)  # noqa: E731
    ref_w = 0
    for blocks in set_partitions(items):
        ref_w = ref_w + math.prod(7 - j for j in range(len(blocks))) * part(blocks)
    assert np.array_equal(width_sum_moment(items, part, 7), ref_w)
    assert cumulant((1, 2), lambda B: {(1,): 2, (2,): 3, (1, 2): 7}[B]) == 1  # plain numbers stay numbers


def test_correlator_30_is_refused_before_any_work():
    """The refusal comes from the cost estimate alone: no expectation has been taken when it raises."""
    net = ns.zoo.cos_net()
    start = time.process_time()
    for connected in (True, False):
        with pytest.raises(TooExpensive, match=r"\^\(30\).*set partitions"):
            net.correlator(30, connected=connected)
    assert time.process_time() - start < 5  # generous: the estimate is a few Bell numbers
    assert not net.__dict__.get("_memo")  # not one moment derived or memoised


# ----------------------------------------------------------------------------- Wick / Isserlis
def _without_wick(fn):
    """``fn()`` with the Wick rule removed from the registry (the transform method answers), then restored."""
    rule = next(r for r in GROUP_RULES if r.function is wick_method)
    GROUP_RULES.unregister(wick_method)
    try:
        ns.clear_cache()
        return fn()
    finally:
        GROUP_RULES.register(wick_method, *rule.patterns, order=rule.order)
        ns.clear_cache()


def _gh_moment(f, mean, var, dim, n=12):
    """E[f(W)], W ~ N(mean 1, var I_dim), by a tensor Gauss-Hermite rule (exact for degree < 2n)."""
    z, w = hermite_e.hermegauss(n)
    w = w / w.sum()
    grids = np.meshgrid(*([z] * dim), indexing="ij")
    W = np.stack([g.ravel() for g in grids], axis=-1) * np.sqrt(var) + mean
    weights = np.prod(np.meshgrid(*([w] * dim), indexing="ij"), axis=0).ravel()
    return float(np.sum(weights * f(W)))


def test_isserlis_against_quadrature_and_the_transform_method():
    """E[(W.x1)^3 (W.x2)^2 (W.x3)] and the same tilted by e^{W.v}, W ~ N(mu 1, s^2 I_2): the rule, the
    transform method (rule removed) and Gauss-Hermite quadrature agree."""
    d, mu, var = 2, sp.Rational(1, 3), sp.Rational(1, 2)
    W = ns.Normal("W", mu, var, shape=d)
    xs = [VectorSymbol(f"x_{k}", d) for k in (1, 2, 3)]
    X = np.array([[0.3, -0.7], [1.1, 0.4], [-0.5, 0.9]])
    poly = W.dot(xs[0]) ** 3 * W.dot(xs[1]) ** 2 * W.dot(xs[2])
    for tilt in (sp.S.One, sp.exp(W.dot(xs[0] - xs[2]) / 2)):
        expr = poly * tilt
        got = ns.expectation(expr)
        ref = _without_wick(lambda: ns.expectation(expr))
        vec = {x.name: X[k] for k, x in enumerate(xs)} | {"1_d": np.ones(d)}

        def num(e):  # the scalar products of points at X, then a number
            e = expand_dot(e).replace(lambda t: isinstance(t, Dot),
                                      lambda t: sp.Float(vec[t.args[0].name] @ vec[t.args[1].name], 30))
            return float(e)

        g = lambda V: ((V @ X[0]) ** 3 * (V @ X[1]) ** 2 * (V @ X[2])  # noqa: E731
                       * (np.exp(V @ (X[0] - X[2]) / 2) if tilt != 1 else 1.0))
        quad = _gh_moment(g, float(mu), float(var), d, n=40 if tilt != 1 else 12)
        assert num(got) == pytest.approx(quad, rel=1e-10)
        assert num(got - ref) == pytest.approx(0, abs=1e-12 * abs(quad))


def test_isserlis_moment_is_the_pairing_sum():
    s = sp.symbols("s11 s12 s13 s22 s23 s33")
    C = [[s[0], s[1], s[2]], [s[1], s[3], s[4]], [s[2], s[4], s[5]]]
    assert sp.expand(isserlis_moment([0, 0, 0], C, (1, 1, 2))) == sp.expand(
        s[1] * s[5] + 2 * s[2] * s[4])  # E[z1 z2 z3^2] = C12 C33 + 2 C13 C23
    m = sp.symbols("m1 m2")
    assert sp.expand(isserlis_moment(list(m), [[s[0], s[1]], [s[1], s[3]]], (2, 1))) == sp.expand(
        m[0] ** 2 * m[1] + s[0] * m[1] + 2 * s[1] * m[0])


def test_hermite_neuron_with_bias_is_the_transform_method():
    """H_3(W.x + b) neurons in d = 2 (the case that took minutes at n = 4): the Wick rule and the transform
    method give the same 2-point function, and a fixed-seed Monte Carlo agrees with the 3-point one (|z| < 5)."""
    d = 2
    x = ns.Input("x", d)
    sW, sb = sp.Rational(7, 10), sp.Rational(3, 10)
    W = ns.Normal("W", 0, sW**2 / d, shape=d)
    b = ns.Normal("b", 0, sb**2)
    a = ns.Normal("a", sp.Rational(1, 2), sW**2 / N)

    def make():
        return ns.Network(sp.hermite(3, W.dot(x) + b), readout=a, width=N, input=x)

    X = np.array([[[0.3, -0.7], [1.1, 0.4], [-0.5, 0.9]], [[0.2, 0.2], [0.2, 0.2], [-1.0, 0.5]]])
    G2, ref2 = make().correlator(2), _without_wick(lambda: make().correlator(2))
    np.testing.assert_allclose(G2.evaluate(X[:, :2], N=3), ref2.evaluate(X[:, :2], N=3), rtol=1e-12, atol=1e-12)
    vg = make().correlator(3).evaluate(X, N=3)
    # Monte Carlo of the network itself: N = 3 neurons, 200k networks
    rng = np.random.default_rng(11)
    M, Nn = 200_000, 3
    Wd = rng.normal(0, float(sW) / np.sqrt(d), size=(M, Nn, d))
    bd = rng.normal(0, float(sb), size=(M, Nn))
    ad = rng.normal(0.5, float(sW) / np.sqrt(Nn), size=(M, Nn))
    H3 = lambda z: 8 * z**3 - 12 * z  # noqa: E731
    for p in range(len(X)):
        phi = [np.sum(ad * H3(Wd @ X[p, k] + bd), axis=1) for k in range(3)]
        prod = phi[0] * phi[1] * phi[2]
        z = (prod.mean() - vg[p]) / (prod.std() / np.sqrt(M))
        assert abs(z) < 5, (p, z, prod.mean(), vg[p])


def test_monotone_relabelling_is_xreplace():
    """The fast path (order-keeping maps, n >= 10 where x_10 sorts before x_2) against xreplace, on the
    cos-net's 6-point moment in general d and the gauss-net's (a vector of ones next to the points)."""
    for make in (ns.zoo.cos_net, lambda: ns.zoo.gauss_net(2)):
        net = make()
        pts = sorted(net.points(12), key=sp.default_sort_key)
        canon = sorted(net.points(4), key=sp.default_sort_key)
        m = net._direct_neuron_moment(tuple(canon))
        for sub in itertools.islice(itertools.combinations(pts, 4), 0, None, 23):
            mapping = {c: p for c, p in zip(canon, sub) if c != p}
            assert relabel_points(m, mapping, monotone=True) == m.xreplace(mapping), sub
