"""The law protocol (nnsym.core.laws.Law): every built-in law answers every capability, and
consistently (mean/variance vs. moments, support vs. samples, quadrature vs. moments, the xp
sampler vs. the default one); a new law written as in the Subclassing section works through
the engine and the Monte Carlo layer; and no module outside the laws tests a law's class or
reads its params."""
import ast
import pathlib
import types

import numpy as np
import pytest
import sympy as sp
from user_laws import TwoPointLaw

import nnsym as ns
from nnsym.core.random import RandomSymbol
from nnsym.errors import DivergentExpectation

q = sp.Symbol("q", real=True)

SCALAR = {
    "normal": lambda: ns.Normal("p", 0.3, 2.0),
    "normal-centred": lambda: ns.Normal("p", 0, 1.5),
    "point-mass": lambda: ns.Normal("p", 0.7, 0),
    "uniform": lambda: ns.Uniform("p", -1.0, 2.5),
    "uniform-phase": lambda: ns.Uniform("p", -sp.pi, sp.pi),
    "laplace": lambda: ns.Laplace("p", 0.5, 1.5),
    "cauchy": lambda: ns.Cauchy("p", 0.2, 0.7),
    "density": lambda: ns.Density("q", sp.exp(-q**2 / 2) * (1 + q**2), (-sp.oo, sp.oo)),
    "density-gamma": lambda: ns.Density("q", q * sp.exp(-q), (0, sp.oo)),
    "density-compact": lambda: ns.Density("q", 1 - q**2, (-1, 1)),
}
BALL = lambda: ns.UniformBall("b", 1.3, 3)  # noqa: E731


def _float(x) -> float:
    return float(sp.N(x))


@pytest.fixture(params=sorted(SCALAR))
def law(request):
    return SCALAR[request.param]().law


def test_every_capability_answers(law):
    for cap in ("support", "is_bounded", "is_even", "is_gaussian", "is_isotropic", "is_degenerate", "is_joint"):
        getattr(law, cap)
    assert isinstance(law.is_uniform_phase(1), bool)
    assert law.is_joint is False and law.is_joint == law.joint
    assert callable(law.frozen({})) and law.transform(sp.I * sp.Rational(1, 3)) is not None


def test_mean_and_variance_agree_with_moments(law):
    if law.moment_exists(1) is False:  # Cauchy: no mean, so no variance
        with pytest.raises(DivergentExpectation, match="no mean"):
            _ = law.mean
        with pytest.raises(DivergentExpectation):
            _ = law.variance
        assert law.has_mgf is False
        return
    m1, m2 = law.moment(1), law.moment(2)
    assert abs(_float(law.mean - m1)) < 1e-12
    assert abs(_float(law.variance - (m2 - m1**2))) < 1e-12
    assert _float(law.variance) >= 0
    if law.is_even:
        assert law.mean == 0


def test_support_holds_the_samples(law):
    lo, hi = law.support
    x = law.sample(np.random.default_rng(1), 20000)
    assert np.all(x >= _float(lo)) and np.all(x <= _float(hi))
    assert law.is_bounded == bool(sp.sympify(lo).is_finite and sp.sympify(hi).is_finite)
    if law.is_degenerate:
        assert lo == hi == law.mean and np.all(x == _float(law.mean))
    if law.is_even:
        assert lo == -hi or sp.simplify(lo + hi) == 0


def test_quadrature_weights_and_second_moment(law):
    nodes, w = law.quadrature(100, {})
    assert abs(w.sum() - 1) < 1e-10
    if law.moment_exists(2):
        m2 = _float(law.moment(2))
        assert abs(np.sum(w * nodes**2) - m2) < 1e-8 * max(1.0, m2)
    else:  # Cauchy(l, g): E[1/(1 + theta^2)] = (g + 1)/(l^2 + (g + 1)^2) instead
        l, g = 0.2, 0.7
        assert abs(np.sum(w / (1 + nodes**2)) - (g + 1) / (l**2 + (g + 1) ** 2)) < 1e-8


def test_sample_with_numpy_namespace_is_bit_identical(law):
    a = law.sample(np.random.default_rng(7), (50, 3))
    b = law.sample(np.random.default_rng(7), (50, 3), xp=np)
    c = law.frozen({}, xp=np)(np.random.default_rng(7), (50, 3))
    assert a.shape == (50, 3) and np.array_equal(a, b) and np.array_equal(a, c)


class _Recorder(types.SimpleNamespace):
    """An array namespace that is numpy but records which functions the sampler calls."""

    def __init__(self):
        super().__init__(calls=[])

    def __getattr__(self, name):
        self.calls.append(name)
        return getattr(np, name)


class _ForeignGenerator:
    """A generator that is not numpy's Generator (as another backend's would be)."""

    def __init__(self, seed):
        self._rng = np.random.default_rng(seed)

    def __getattr__(self, name):
        return getattr(self._rng, name)


@pytest.mark.parametrize("make", [SCALAR["density"], SCALAR["normal"], BALL])
def test_sample_through_another_array_namespace(make):
    p = make()
    size = (200, 3) if p.law.is_joint else (200,)
    xp = _Recorder()
    got = p.law.sample(_ForeignGenerator(3), size, xp=xp)
    assert np.array_equal(got, p.law.sample(np.random.default_rng(3), size))
    if p.law.is_joint or p.law.name == "Density":  # these use array functions beyond operators
        assert xp.calls
    with pytest.raises(TypeError, match="numpy Generator"):
        p.law.sample(_ForeignGenerator(3), size)  # without xp the generator must be numpy's


def test_predicates():
    laws = {k: f().law for k, f in SCALAR.items()}
    assert [k for k, v in laws.items() if v.is_gaussian] == ["normal", "normal-centred", "point-mass"]
    assert [k for k, v in laws.items() if v.is_isotropic] == ["normal-centred"]
    assert [k for k, v in laws.items() if v.is_degenerate] == ["point-mass"]
    bounded = sorted(k for k, v in laws.items() if v.is_bounded)
    assert bounded == ["density-compact", "point-mass", "uniform", "uniform-phase"]
    assert {"density-compact", "normal-centred", "uniform-phase"} <= {k for k, v in laws.items() if v.is_even}
    assert not any(laws[k].is_even for k in ("normal", "point-mass", "uniform", "laplace", "cauchy", "density-gamma"))
    # the uniform phase of a cos-net: s * theta covers whole periods
    ph = laws["uniform-phase"]
    assert ph.is_uniform_phase(1) and ph.is_uniform_phase(2) and not ph.is_uniform_phase(sp.Rational(1, 2))
    quarter = ns.Uniform("c", 0, sp.pi / 2).law
    assert not quarter.is_uniform_phase(1) and quarter.is_uniform_phase(4)
    assert not any(v.is_uniform_phase(1) for k, v in laws.items() if k != "uniform-phase")
    # Cauchy has no variance; a heavy tail with a mean has an infinite one
    assert laws["cauchy"].moment_exists(2) is False


def test_joint_ball_law():
    law = BALL().law
    R = 1.3
    assert law.is_joint and law.joint and law.is_isotropic and law.is_even and law.is_bounded
    assert not law.is_gaussian and law.support == (-law.radius, law.radius)
    assert law.mean == 0 and sp.simplify(law.variance - law.moment(2)) == 0
    x = law.sample(np.random.default_rng(0), (5000, 3))
    assert np.all(np.linalg.norm(x, axis=-1) <= R)
    assert abs(x[:, 0].var() - _float(law.variance)) < 0.03
    nodes, w = law.vector_quadrature(12, 3, {})
    assert abs(w.sum() - 1) < 1e-12 and abs(np.sum(w * nodes[:, 0] ** 2) - _float(law.moment(2))) < 1e-10
    a = law.sample(np.random.default_rng(4), (30, 3))
    assert np.array_equal(a, law.sample(np.random.default_rng(4), (30, 3), xp=np))
    with pytest.raises(NotImplementedError, match="vector_quadrature"):
        law.quadrature(5, {})


def test_density_variable_is_public():
    law = SCALAR["density-gamma"]().law
    assert law.density.subs(law.variable, q) == q * sp.exp(-q)
    assert law.variable not in law.free_symbols()


# ----------------------------------------------------------------------------- a new law, as in the docstring


def test_a_new_law_in_a_network():
    w = sp.Symbol("w", positive=True)
    law = TwoPointLaw(w)
    assert law.mean == 0 and law.variance == w**2 and law.is_bounded and law.moment(4) == w**4
    assert law.mgf_domain(sp.Symbol("s")) is sp.true and law.moment_exists(7) is True
    with pytest.raises(ValueError, match="TwoPoint w"):
        TwoPointLaw(-1)
    N = sp.Symbol("N", positive=True, integer=True)
    x = ns.Input("x", 1)
    a = RandomSymbol("a", TwoPointLaw(1 / sp.sqrt(N)))
    net = ns.Network(sp.cos(ns.Normal("b", 0, 1) * x + ns.Uniform("c", -sp.pi, sp.pi)), a, N, x)
    G2 = net.correlator(2)
    x1, x2 = G2.points
    assert sp.simplify(G2.expr - sp.exp(-(x1 - x2) ** 2 / 2) / 2) == 0
    X = np.random.default_rng(0).normal(size=(3, 2, 1))
    rep = ns.validate(net, 2, X, samples=20000, seed=0, N=3)
    assert rep.passed


# ----------------------------------------------------------------------------- the rest of nnsym asks, never looks
LAW_MODULES = {"laws.py", "scalar_laws.py", "density.py", "joint_laws.py", "random.py"}


def _law_class_names(node) -> list[str]:
    elts = node.elts if isinstance(node, ast.Tuple) else [node]
    names = [e.id if isinstance(e, ast.Name) else e.attr if isinstance(e, ast.Attribute) else "" for e in elts]
    return [n for n in names if n.endswith("Law")]


def _mentions_law(node) -> bool:
    return isinstance(node, ast.Name) and "law" in node.id.lower() or \
        isinstance(node, ast.Attribute) and (node.attr == "law" or _mentions_law(node.value))


def test_no_module_outside_the_laws_tests_a_law_class_or_reads_its_params():
    root = pathlib.Path(ns.__file__).parent
    offences = []
    for path in sorted(root.rglob("*.py")):
        if path.parent.name == "core" and path.name in LAW_MODULES:
            continue
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            where = f"{path.relative_to(root.parent)}:{getattr(node, 'lineno', '?')}"
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) in ("isinstance", "issubclass") \
                    and len(node.args) == 2 and _law_class_names(node.args[1]):
                offences.append(f"{where}: {ast.unparse(node)}")
            indexed = isinstance(node, ast.Subscript) and isinstance(node.value, ast.Attribute)
            if indexed and node.value.attr == "params":
                offences.append(f"{where}: {ast.unparse(node)}")
            if isinstance(node, ast.Attribute) and node.attr == "params" and _mentions_law(node.value):
                offences.append(f"{where}: {ast.unparse(node)}")
    assert not offences, "ask the law (mean, variance, support, is_gaussian, ...) instead:\n" + "\n".join(offences)
