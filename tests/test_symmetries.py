"""Symmetry verdicts (issue 4): translations, rotations, permutations, Z2.

Each verdict is checked against a direct numerical test written here (the correlator
evaluated at shifted / rotated / permuted points, or a hand formula), so that a verdict
is never only checked against itself."""
import numpy as np
import pytest
import sympy as sp
from scipy.stats import special_ortho_group

import nnsym as ns
from nnsym.analysis.symmetries import (
    Verdict,
    is_permutation_symmetric,
    is_rotation_invariant,
    is_translation_invariant,
    z2_symmetry,
)

DSYM = sp.Symbol("d", positive=True, integer=True)
V = dict(sigma_a=1.3, sigma_b=0.7, sigma_c=0.4, N=7)
pytestmark = pytest.mark.filterwarnings("ignore::nnsym.NumericWarning")


def shifted_difference(G, D, seed=0, **vals):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(8, G.n, D))
    a = rng.normal(scale=1.5, size=(8, 1, D))
    vals = {k: v for k, v in vals.items() if k in G.value_names()}  # V serves the cos- and the Gauss-net
    return np.max(np.abs(G.evaluate(X + a, **vals) - G.evaluate(X, **vals)))


def rotated_difference(G, D, seed=0, **vals):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(8, G.n, D))
    R = special_ortho_group.rvs(D, random_state=seed + 100)
    vals = {k: v for k, v in vals.items() if k in G.value_names()}
    return np.max(np.abs(G.evaluate(X @ R.T, **vals) - G.evaluate(X, **vals)))


@pytest.mark.parametrize("d", [1, 2, 3, DSYM])
def test_cos_net_four_point_translation_invariant_at_finite_N(d):
    G4c = ns.zoo.cos_net(d).correlator(4, connected=True)
    v = G4c.is_translation_invariant()
    assert v.holds is True and v.method == "symbolic"
    D = 3 if d == DSYM else int(d)
    assert shifted_difference(G4c, D, **V) < 1e-14
    r = G4c.is_rotation_invariant()
    assert r.holds is True
    assert rotated_difference(G4c, D, **V) < 1e-14


@pytest.mark.parametrize("d", [1, 3, DSYM])
def test_gauss_net_four_point_not_translation_invariant_but_two_point_is(d):
    net = ns.zoo.gauss_net(d)
    G2, G4c = net.correlator(2), net.correlator(4, connected=True)
    D = 3 if d == DSYM else int(d)
    assert G2.is_translation_invariant().holds is True
    assert shifted_difference(G2, D, **V) < 1e-13
    v = G4c.is_translation_invariant()
    assert v.holds is False and "counterexample" in v.evidence
    assert shifted_difference(G4c, D, **V) > 1e-3  # independent: evaluate at shifted points
    # both are rotation invariant (they depend on the points through x_i . x_j only)
    assert G4c.is_rotation_invariant().holds is True
    if D > 1:
        assert rotated_difference(G4c, D, **V) < 1e-10


def test_rotation_verdict_numeric_for_iid_uniform_weights():
    """b with i.i.d. uniform components: G2 = prod_j sinc(...) (components): not rotation invariant."""
    N = sp.Symbol("N", positive=True, integer=True)
    x = ns.Input("x", 2)
    net = ns.Network(sp.cos(ns.Uniform("b", -1, 1, shape=2).dot(x) + ns.Uniform("c", -sp.pi, sp.pi)),
                     ns.Normal("a", 0, 1 / N), N, x)
    G2 = net.correlator(2)
    v = G2.is_rotation_invariant(N=3)
    assert v.holds is False and v.method == "numeric"
    assert rotated_difference(G2, 2, N=3) > 1e-3
    assert G2.is_translation_invariant().holds is True


def test_rotation_verdict_numeric_without_closed_form():
    """The free scalar's G2 has no closed form: structurally invariant from the network; as a bare
    expression (no network) the verdict comes from random rotations, and agrees."""
    net = ns.zoo.free_scalar(2)
    G2 = net.correlator(2)
    v = G2.is_rotation_invariant()
    assert v.holds is True and v.method == "structural"
    bare = ns.Correlator(G2.expr, G2.points, G2.dim)
    vals = dict(sigma_a=1.0, m=0.9, Lambda=1.7, N=5)
    vb = is_rotation_invariant(bare, vals, samples=3, rotations=2)
    assert vb.holds is True and vb.method == "numeric"
    tb = is_translation_invariant(bare, vals, samples=3)
    assert tb.holds is True and tb.method == "numeric"
    assert rotated_difference(G2, 2, **vals) < 1e-8


def test_translation_structural_for_cos_layers():
    G4c = ns.zoo.free_scalar(3).correlator(4, connected=True)
    v = G4c.is_translation_invariant()
    assert v.holds is True and v.method == "structural" and "uniform phase" in v.evidence
    vals = dict(sigma_a=1.0, m=0.9, Lambda=1.1, N=5)
    X = np.random.default_rng(1).normal(size=(2, 4, 3)) * 0.5
    a = np.array([0.7, -1.1, 0.4])
    np.testing.assert_allclose(G4c.evaluate(X + a, **vals), G4c.evaluate(X, **vals), rtol=1e-7)


def test_permutations_and_z2():
    G4c = ns.zoo.gauss_net(2).correlator(4, connected=True)
    assert is_permutation_symmetric(G4c).holds is True
    X = np.random.default_rng(2).normal(size=(5, 4, 2))
    for perm in ([1, 0, 2, 3], [3, 1, 0, 2]):
        np.testing.assert_allclose(G4c.evaluate(X[:, perm], **V), G4c.evaluate(X, **V), rtol=1e-12)
    x1, x2 = ns.ScalarPoint("x_1"), ns.ScalarPoint("x_2")
    skew = ns.Correlator(sp.exp(-(x1 - 2 * x2) ** 2), (x1, x2), 1)
    assert is_permutation_symmetric(skew).holds is False
    assert skew.is_translation_invariant().holds is False
    # Z2: an even readout kills odd correlators (checked by computing G^(3) directly)
    net = ns.zoo.cos_net(1)
    assert z2_symmetry(net).holds is True and net.correlator(3).expr == 0
    N = sp.Symbol("N", positive=True, integer=True)
    x = ns.Input("x", 1)
    odd = ns.Network(sp.cos(ns.Normal("b", 0, 1) * x), ns.Normal("a", 1 / N, 1 / N), N, x)
    v = z2_symmetry(odd)
    assert v.holds is False
    assert odd.correlator(1).evaluate(np.zeros((1, 1, 1)), N=3)[0] != 0


def test_verdict_objects_and_bad_input():
    assert bool(Verdict(True, "x")) is True
    with pytest.raises(ValueError, match="undecided"):
        bool(Verdict(None, "why"))
    with pytest.raises(TypeError):
        is_translation_invariant(sp.Symbol("y"))
    with pytest.raises(TypeError):
        z2_symmetry("cos-net")
    assert "yes" in str(ns.zoo.cos_net(2).correlator(2).is_translation_invariant())
