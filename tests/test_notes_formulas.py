"""The zoo against the formulas of docs/conventions.md ("Cos-net", "Gauss-net"), two ways each:
symbolically (the difference simplifies to 0) and numerically at random points
(agreement to 1e-12 with a numpy transcription of the formula). The Monte
Carlo check of the same correlators is in test_against_numerics.py."""
import numpy as np
import pytest
import sympy as sp

import nnsym as ns
from nnsym.core.vectors import Dot, expand_dot

N, sa, sb, sc = sp.Symbol("N", positive=True, integer=True), *sp.symbols("sigma_a sigma_b sigma_c", positive=True)
DSYM = sp.Symbol("d", positive=True, integer=True)
VALUES = dict(sigma_a=1.3, sigma_b=0.7, sigma_c=0.4, N=7)



def notes_symbolic(kind, pts, d):
    """The docs/conventions.md formulas typed with nnsym's Dot; scalar points (d = 1) use plain squares."""
    scalar = isinstance(pts[0], ns.ScalarPoint)
    sq = (lambda v: v**2) if scalar else (lambda v: Dot(v, v))
    dot = (lambda u, v: u * v) if scalar else (lambda u, v: Dot(u, v))
    g = lambda v: sp.exp(-sb**2 * sq(v) / (2 * d))
    if kind == "G2":
        x1, x2 = pts
        return sa**2 / 2 * g(x1 - x2)
    x1, x2, x3, x4 = pts
    pairs = g(x1 - x2) * g(x3 - x4) + g(x1 - x3) * g(x2 - x4) + g(x1 - x4) * g(x2 - x3)
    if kind == "cos4":
        return sa**4 / (8 * N) * (3 * (g(x1 + x2 - x3 - x4) + g(x1 - x2 + x3 - x4) + g(x1 - x2 - x3 + x4)) - 2 * pairs)
    xs = [x1, x2, x3, x4]
    form = sum(sq(x) for x in xs) - 2 * sum(dot(xs[k], xs[l]) for k in range(4) for l in range(k + 1, 4))
    return sa**4 / (4 * N) * (3 * sp.exp(4 * sc**2) * sp.exp(-sb**2 / (2 * d) * form) - pairs)


def _values(corr):
    """VALUES serves the cos- and the Gauss-net: each correlator gets its own names (evaluate refuses others)."""
    return {k: v for k, v in VALUES.items() if k in corr.value_names()}


def notes_numpy(kind, X, d, v=VALUES):
    """The same formulas in plain numpy; X has shape (P, n, d)."""
    s_a, s_b, s_c, n_ = v["sigma_a"], v["sigma_b"], v["sigma_c"], v["N"]
    g = lambda u: np.exp(-s_b**2 * np.sum(u * u, -1) / (2 * d))
    if kind == "G2":
        return s_a**2 / 2 * g(X[:, 0] - X[:, 1])
    x1, x2, x3, x4 = (X[:, k] for k in range(4))
    pairs = g(x1 - x2) * g(x3 - x4) + g(x1 - x3) * g(x2 - x4) + g(x1 - x4) * g(x2 - x3)
    if kind == "cos4":
        plus = g(x1 + x2 - x3 - x4) + g(x1 - x2 + x3 - x4) + g(x1 - x2 - x3 + x4)
        return s_a**4 / (8 * n_) * (3 * plus - 2 * pairs)
    xs = [x1, x2, x3, x4]
    form = (sum(np.sum(x * x, -1) for x in xs)
            - 2 * sum(np.sum(xs[k] * xs[l], -1) for k in range(4) for l in range(k + 1, 4)))
    return s_a**4 / (4 * n_) * (3 * np.exp(4 * s_c**2) * np.exp(-s_b**2 / (2 * d) * form) - pairs)


CASES = [
    (ns.zoo.cos_net, 2, False, "G2"),
    (ns.zoo.cos_net, 4, True, "cos4"),
    (ns.zoo.gauss_net, 2, False, "G2"),
    (ns.zoo.gauss_net, 4, True, "gauss4"),
]


@pytest.mark.parametrize("d", [DSYM, 1, 2, 3])
@pytest.mark.parametrize("builder,n,connected,kind", CASES)
def test_zoo_equals_notes_symbolically(builder, n, connected, kind, d):
    corr = builder(d).correlator(n, connected=connected)
    assert corr.is_exact
    diff = expand_dot(corr.expr - notes_symbolic(kind, corr.points, d))
    assert sp.simplify(sp.expand(diff)) == 0


@pytest.mark.parametrize("d", [DSYM, 1, 2, 3])
@pytest.mark.parametrize("builder,n,connected,kind", CASES)
def test_zoo_equals_notes_numerically(builder, n, connected, kind, d):
    corr = builder(d).correlator(n, connected=connected)
    dnum = 3 if d is DSYM else d
    X = np.random.default_rng(12).normal(size=(50, n, dnum)) * 0.6
    got = corr.evaluate(X, **_values(corr))
    want = notes_numpy(kind, X, dnum)
    assert got.shape == (50,)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)


def test_general_d_takes_dimension_from_points():
    G2 = ns.zoo.cos_net(DSYM).correlator(2)
    X = np.random.default_rng(0).normal(size=(4, 2, 5))
    np.testing.assert_allclose(G2.evaluate(X, **_values(G2)), notes_numpy("G2", X, 5), rtol=1e-12)
    with pytest.raises(ValueError, match="disagrees"):
        G2.evaluate(X, d=3, **_values(G2))


def test_general_d_result_is_written_with_distances():
    G2 = ns.zoo.cos_net(DSYM).correlator(2)
    x1, x2 = G2.points
    assert G2.expr == sa**2 / 2 * sp.exp(-sb**2 * Dot(x1 - x2, x1 - x2) / (2 * DSYM))
    assert r"\left|x_{1} - x_{2}\right|^{2}" in G2.latex()


def test_duality_same_two_point_different_four_point():
    c, g = ns.zoo.cos_net(2), ns.zoo.gauss_net(2)
    assert c.correlator(2).expr == g.correlator(2).expr
    X = np.random.default_rng(3).normal(size=(10, 4, 2)) * 0.5
    Gc, Gg = c.correlator(4, connected=True), g.correlator(4, connected=True)
    d4 = Gc.evaluate(X, **_values(Gc)) - Gg.evaluate(X, **_values(Gg))
    assert np.max(np.abs(d4)) > 1e-3


@pytest.mark.parametrize("builder", [ns.zoo.cos_net, ns.zoo.gauss_net])
def test_odd_correlators_vanish_without_integrating(builder):
    net = builder(DSYM)
    assert net.correlator(3).expr == 0
    assert net.correlator(5, connected=True).expr == 0
