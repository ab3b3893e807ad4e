r"""Symmetry verdicts for correlators: translations, rotations, permutations and Z2.

Each check is first *symbolic*, on the expression:

* **translations** :math:`x_k\to x_k + a` for all points with a symbolic vector :math:`a`:
  the shifted expression is brought to a canonical form (exponents and scalar
  products expanded) and compared with the original;
* **rotations**: an expression that depends on the points only through scalar
  products :math:`x_i\cdot x_j` and :math:`|x_i-x_j|^2` is :math:`O(d)` invariant
  (no components, no fixed vector such as :math:`\mathbf 1`);
* **permutations**: the canonical forms of the permuted expressions agree;
* **Z2** (:math:`\phi\to-\phi`): odd correlators vanish, from the odd moments of the readout.

When the symbolic test is inconclusive (e.g. an unevaluated expectation, or a
form the canonicaliser does not recognise), the expression is evaluated at
random points and random group elements (``scipy.stats.special_ortho_group``
for rotations); a numerical counterexample decides ``False``, agreement gives
``True`` marked ``method = "numeric"``. For networks of the form
:math:`F(b)\cos(b\cdot x + c)` the structural argument of the Halverson talk (a
shift is absorbed into the uniform phase ``c``) proves translation invariance
at every n and N.

>>> import nnsym as ns
>>> G4c = ns.zoo.cos_net(3).correlator(4, connected=True)
>>> G4c.is_translation_invariant().holds
True
>>> ns.zoo.gauss_net(3).correlator(4, connected=True).is_translation_invariant().holds
False
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Mapping

import numpy as np
import sympy as sp

from ..core.random import RandomVector
from ..core.vectors import Component, Dot, ScalarPoint, VectorSymbol, expand_dot, vector_atoms
from ..engine.expectation import Expectation
from ..model.extensions import provides
from .toolkit import Verdict, default_values, evaluate_with_error, numeric_dimension, numeric_values

if TYPE_CHECKING:  # pragma: no cover
    from ..model.network import Network

__all__ = [
    "Verdict",
    "is_translation_invariant",
    "is_rotation_invariant",
    "is_permutation_symmetric",
    "z2_symmetry",
    "canonical",
    "default_values",
]


# ----------------------------------------------------------------------------- helpers
def canonical(expr) -> sp.Expr:
    r"""A canonical form for comparisons: scalar products and the arguments of exp and Abs
    expanded, exponentials of each product merged, e.g. :math:`e^{-|x_1-x_2|^2}` and
    :math:`e^{-|x_1|^2}e^{2x_1\cdot x_2}e^{-|x_2|^2}` agree.

    >>> x1, x2 = VectorSymbol("x_1", 2), VectorSymbol("x_2", 2)
    >>> canonical(sp.exp(-Dot(x1 - x2, x1 - x2))) == canonical(
    ...     sp.exp(-Dot(x1, x1)) * sp.exp(2 * Dot(x1, x2)) * sp.exp(-Dot(x2, x2)))
    True
    """
    e = sp.expand(expand_dot(sp.sympify(expr)), power_exp=False)
    terms = []
    for t in sp.Add.make_args(e):
        t = sp.powsimp(t, combine="exp")
        t = t.replace(lambda u: isinstance(u, sp.exp), lambda u: sp.exp(sp.expand(u.args[0])))
        t = t.replace(lambda u: isinstance(u, sp.Abs), lambda u: sp.Abs(sp.expand(u.args[0])))
        terms.append(t)
    return sp.Add(*terms)


def _same(a, b) -> bool:
    if a == b:
        return True
    return sp.expand(canonical(a) - canonical(b), power_exp=False) == 0


def _unpack(obj, points=None, dim=None):
    from ..model.correlator import Correlator

    if isinstance(obj, Correlator):
        return obj.expr, obj.points, obj.dim, obj.network
    if points is None or dim is None:
        raise TypeError("pass a Correlator, or an expression with points= and dim=")
    return sp.sympify(obj), tuple(points), sp.sympify(dim), None


def _compare(f0, f1, err, exact: bool):
    scale = max(float(np.max(np.abs(f0))), float(np.max(np.abs(f1))), 1e-300)
    dev = float(np.max(np.abs(f1 - f0)))
    tol = (1e-9 if exact else 1e-4) * scale + 50 * err
    return dev, scale, tol


# ----------------------------------------------------------------------------- translations
def _cos_layer_or_none(net):
    """The F(b) cos(b.x + c) structure of ``net`` (see :func:`nnsym.analysis.spectra.cos_layer`), or None."""
    from ..model.neurons import NotACosLayer, cos_layer

    if net is None:
        return None
    try:
        return cos_layer(net)
    except (NotACosLayer, TypeError):
        return None


def _structural_translation(net) -> Verdict | None:
    L = _cos_layer_or_none(net)
    if L is None:
        return None
    return Verdict(True, (
        f"structural: every neuron is F cos(alpha b.x + c) with its own uniform phase {L.phase} ~ {L.phase.law}; "
        f"a shift x -> x + a adds alpha b.a to the phase, which the uniform law of {L.phase} absorbs, so every "
        "correlator is translation invariant at every n and N"), "structural")


@provides("is_translation_invariant")  # Correlator.is_translation_invariant
def is_translation_invariant(obj, values: Mapping | None = None, points=None, dim=None, seed: int = 0,
                             samples: int = 6) -> Verdict:
    r"""Is :math:`G(x_1+a,\dots,x_n+a) = G(x_1,\dots,x_n)` for all :math:`a\in\mathbb R^d`?

    Symbolic (shift by a symbolic vector, canonical comparison), structural for
    :math:`F(b)\cos(b\cdot x+c)` networks, numeric at random points and shifts otherwise.

    >>> import nnsym as ns
    >>> str(ns.zoo.cos_net(2).correlator(2).is_translation_invariant())[:24]
    'yes [symbolic]: shifting'
    """
    expr, points, dim, net = _unpack(obj, points, dim)
    if not any(p in expr.free_symbols for p in points):
        return Verdict(True, "the expression does not depend on the points", "symbolic")
    shift = ScalarPoint("shift_") if isinstance(points[0], ScalarPoint) else VectorSymbol("shift_", dim)
    shifted = expr.xreplace({p: p + shift for p in points})
    if shift not in shifted.free_symbols or (not shifted.has(Expectation) and _same(shifted, expr)):
        return Verdict(True, "shifting all points by a symbolic vector a leaves the expression unchanged "
                             "(it depends on differences x_i - x_j only)", "symbolic")
    structural = _structural_translation(net)
    if structural is not None:
        return structural
    vals = numeric_values(expr, values, dim)
    D = numeric_dimension(dim, vals)
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(samples, len(points), D))
    a = rng.normal(scale=1.5, size=(samples, 1, D))
    exact = not expr.has(Expectation)
    f0, e0, _ = evaluate_with_error(expr, X, vals, points=points, dim=dim)
    f1, e1, _ = evaluate_with_error(expr, X + a, vals, points=points, dim=dim)
    dev, scale, tol = _compare(f0, f1, e0 + e1, exact)
    where = f"at {samples} random point sets and shifts (d = {D}, values {vals})"
    if dev > tol:
        j = int(np.argmax(np.abs(f1 - f0)))
        return Verdict(False, (f"counterexample: G(x) = {f0[j]:.6g} but G(x + a) = {f1[j]:.6g} {where}; "
                               "the expression depends on the points beyond their differences"),
                       "numeric" if not exact else "symbolic+numeric", {"max_deviation": dev, "scale": scale})
    return Verdict(True, (f"numerical: max |G(x + a) - G(x)| = {dev:.2e} (scale {scale:.2e}) {where}; "
                          "no symbolic proof"), "numeric", {"max_deviation": dev, "scale": scale})


# ----------------------------------------------------------------------------- rotations
def _only_scalar_products(expr, points) -> bool:
    pts = set(points)
    if expr.has(Component) or expr.has(Expectation):
        return False
    vecs = vector_atoms(expr)
    if not vecs <= pts:
        return False  # e.g. the ones vector of a law with a mean
    for dt in expr.atoms(Dot):
        if not vector_atoms(dt) <= pts:
            return False
    return True


def _structural_rotation(net) -> Verdict | None:
    L = _cos_layer_or_none(net)
    if L is None:
        return None
    b = L.freq
    if not isinstance(b, RandomVector):
        return None
    law = b.law
    iso_law = law.is_isotropic
    F = L.F
    iso_F = _only_scalar_products(F.xreplace({b: VectorSymbol("bb_", b.dim)}), (VectorSymbol("bb_", b.dim),)) \
        if F.has(b) else True
    if iso_law and iso_F:
        return Verdict(True, (f"structural: P({b}) = {law} and F = {F} are O(d) invariant; a rotation of x is "
                              f"absorbed into {b}, so every correlator is rotation invariant at every n and N"),
                       "structural")
    return None


@provides("is_rotation_invariant")  # Correlator.is_rotation_invariant
def is_rotation_invariant(obj, values: Mapping | None = None, points=None, dim=None, seed: int = 0,
                          samples: int = 4, rotations: int = 3) -> Verdict:
    r"""Is :math:`G(Rx_1,\dots,Rx_n) = G(x_1,\dots,x_n)` for all :math:`R\in SO(d)`?

    Symbolic when the expression depends on the points only through :math:`x_i\cdot x_j`
    (then even :math:`O(d)` invariant); structural for isotropic :math:`F(|b|)\cos(b\cdot x + c)`
    networks; otherwise random rotations from ``scipy.stats.special_ortho_group``.

    >>> import nnsym as ns
    >>> ns.zoo.gauss_net(3).correlator(4, connected=True).is_rotation_invariant().holds
    True
    """
    from scipy.stats import special_ortho_group

    expr, points, dim, net = _unpack(obj, points, dim)
    if sp.sympify(dim) == 1:
        return Verdict(True, "d = 1: the rotation group SO(1) is trivial (parity x -> -x is a reflection, "
                             "not a rotation)", "symbolic")
    if _only_scalar_products(expr, points):
        return Verdict(True, "the expression depends on the points only through scalar products x_i.x_j and "
                             "|x_i - x_j|^2, which every rotation (indeed O(d)) preserves", "symbolic")
    structural = _structural_rotation(net)
    if structural is not None:
        return structural
    vals = numeric_values(expr, values, dim)
    D = numeric_dimension(dim, vals)
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(samples, len(points), D))
    exact = not expr.has(Expectation)
    f0, e0, _ = evaluate_with_error(expr, X, vals, points=points, dim=dim)
    worst = (0.0, 1e-300, 0.0)
    for j in range(rotations):
        R = special_ortho_group.rvs(D, random_state=seed + 17 * j + 1)
        f1, e1, _ = evaluate_with_error(expr, X @ R.T, vals, points=points, dim=dim)
        dev, scale, tol = _compare(f0, f1, e0 + e1, exact)
        if dev > tol:
            return Verdict(False, (f"counterexample: a random rotation (special_ortho_group, d = {D}) changes G by "
                                   f"{dev:.3g} (scale {scale:.3g}) at values {vals}"),
                           "numeric", {"max_deviation": dev, "scale": scale})
        worst = max(worst, (dev, scale, tol))
    return Verdict(True, (f"numerical: {rotations} random rotations (special_ortho_group, d = {D}) at {samples} point "
                          f"sets change G by at most {worst[0]:.2e} (scale {worst[1]:.2e}); no symbolic proof"),
                   "numeric", {"max_deviation": worst[0], "scale": worst[1]})


# ----------------------------------------------------------------------------- permutations
def is_permutation_symmetric(obj, values: Mapping | None = None, points=None, dim=None, seed: int = 0) -> Verdict:
    r"""Is the correlator symmetric under permutations of its points? (Checked on the
    generators: the transposition :math:`(1\,2)` and the cycle :math:`(1\,2\cdots n)`.)

    >>> import nnsym as ns
    >>> is_permutation_symmetric(ns.zoo.cos_net(2).correlator(4, connected=True)).holds
    True
    """
    expr, points, dim, net = _unpack(obj, points, dim)
    n = len(points)
    if n < 2:
        return Verdict(True, "a 1-point function", "symbolic")
    gens = [(1, 0) + tuple(range(2, n)), tuple(range(1, n)) + (0,)]
    symbolic = True
    for perm in gens:
        e2 = expr.xreplace({points[k]: points[perm[k]] for k in range(n)})
        if not _same(e2, expr):
            symbolic = False
            break
    if symbolic:
        return Verdict(True, "the expression is invariant under the transposition (1 2) and the cycle (1 2 ... n), "
                             "which generate all permutations", "symbolic")
    vals = numeric_values(expr, values, dim)
    D = numeric_dimension(dim, vals)
    X = np.random.default_rng(seed).normal(size=(4, n, D))
    exact = not expr.has(Expectation)
    f0, e0, _ = evaluate_with_error(expr, X, vals, points=points, dim=dim)
    for perm in gens:
        f1, e1, _ = evaluate_with_error(expr, X[:, list(perm), :], vals, points=points, dim=dim)
        dev, scale, tol = _compare(f0, f1, e0 + e1, exact)
        if dev > tol:
            return Verdict(False, f"counterexample: permuting the points changes G by {dev:.3g} (scale {scale:.3g})",
                           "numeric")
    return Verdict(True, "numerical: permuting the points (generators) leaves G unchanged at random points",
                   "numeric")


# ----------------------------------------------------------------------------- Z2
def z2_symmetry(net: "Network", n_max: int = 3) -> Verdict:
    r"""Z2 (:math:`\phi\to-\phi`): do all odd correlators vanish?

    Decided from the odd moments: an even readout law independent of the neuron (and
    an even output bias) gives :math:`E[a^{2k+1}] = 0`, so every odd correlator vanishes
    at every N. Otherwise the odd correlators up to ``n_max`` are computed.

    >>> import nnsym as ns
    >>> z2_symmetry(ns.zoo.cos_net(2)).holds
    True
    """
    from ..model.network import Network

    if not isinstance(net, Network):
        raise TypeError(f"z2_symmetry needs an nnsym.Network, got {type(net).__name__}")
    a = net.readout
    if net.is_z2_symmetric:  # the one Z2 rule (see Network.is_z2_symmetric)
        return Verdict(True, (f"the readout law {a.law} is even and independent of the neuron (E[a^(2k+1)] = 0)"
                              + ("" if net.bias is None else " and the output bias is even")
                              + ": every odd correlator vanishes, at every N"), "structural")
    for n in range(1, n_max + 1, 2):
        G = net.correlator(n)
        if G.expr == 0:
            continue
        vals = numeric_values(G.expr, {}, net.dim)
        D = numeric_dimension(net.dim, vals)
        X = np.random.default_rng(0).normal(size=(4, n, D))
        f, err, _ = evaluate_with_error(G.expr, X, vals, points=G.points, dim=net.dim)
        if float(np.max(np.abs(f))) > 1e-9 + 50 * err:
            return Verdict(False, f"G^({n}) = {G.expr} does not vanish (e.g. {f[0]:.4g} at random points)", "numeric")
    return Verdict(None, f"odd correlators up to n = {n_max} vanish, but the readout law is not even: "
                         "higher odd correlators are not decided", "undecided")
