r"""The Osterwalder-Schrader report: one :class:`AxiomVerdict` per axiom E0-E4, at finite N and
for :math:`N\to\infty`, collected in an :class:`OSReport` by :func:`os_axioms`.

>>> import nnsym as ns
>>> rep = ns.os_axioms(ns.zoo.cauchy_net())
>>> rep.permutation_symmetry.holds, rep.permutation_symmetry.N
(True, 'every N')
"""
from __future__ import annotations

import math
import textwrap
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Mapping

import sympy as sp

from ...errors import DivergentExpectation
from ..spectra import power_spectrum
from ..toolkit import Verdict, default_values
from .cluster import cluster_decomposition
from .euclidean import euclidean_invariance
from .reflection import reflection_positivity
from .symmetry import permutation_symmetry
from .temperedness import temperedness
from .verdicts import AxiomCorrelators

if TYPE_CHECKING:  # pragma: no cover
    from ...model.network import Network

__all__ = ["os_axioms", "OSReport", "AxiomVerdict"]


_AXIOMS = [
    ("E0", "temperedness"),
    ("E1", "euclidean_invariance"),
    ("E2", "reflection_positivity"),
    ("E3", "permutation_symmetry"),
    ("E4", "cluster_decomposition"),
]


# ----------------------------------------------------------------------------- report objects
@dataclass
class AxiomVerdict:
    """One axiom, decided at finite N and for N -> oo.

    ``holds`` / ``evidence`` / ``N`` are the headline: the verdict for "every N" when both
    regimes agree, else the requested regime (or, by default, the finite-N verdict if it
    is decided, otherwise the N -> oo one).
    """

    code: str
    name: str
    finite_N: Verdict
    large_N: Verdict
    regime: str | None = None  # None: choose; "finite N" or "N -> oo"

    @property
    def _headline(self) -> tuple[Verdict, str]:
        f, l = self.finite_N, self.large_N
        if self.regime == "finite N":
            return f, ("every N" if f.holds is not None and f.holds == l.holds else "finite N")
        if self.regime == "N -> oo":
            return l, ("every N" if l.holds is not None and f.holds == l.holds else "N -> oo")
        if f.holds is not None and f.holds == l.holds:
            return f, "every N"
        if f.holds is not None:
            return f, "finite N"
        if l.holds is not None:
            return l, "N -> oo"
        return f, "finite N"

    @property
    def holds(self) -> bool | None:
        return self._headline[0].holds

    @property
    def evidence(self) -> str:
        return self._headline[0].evidence

    @property
    def method(self) -> str:
        return self._headline[0].method

    @property
    def N(self) -> str:
        """Which N the headline is about: ``"every N"``, ``"finite N"`` or ``"N -> oo"``."""
        return self._headline[1]

    @property
    def details(self) -> dict:
        return self._headline[0].details

    def __bool__(self):
        if self.holds is None:
            raise ValueError(f"{self.code} {self.name}: undecided ({self.evidence})")
        return bool(self.holds)

    def __str__(self):
        word = {True: "holds", False: "FAILS", None: "undecided"}
        lines = [f"{self.code} {self.name.replace('_', ' ')}: {word[self.holds]} ({self.N})"]
        for tag, v in (("finite N", self.finite_N), ("N -> oo ", self.large_N)):
            body = textwrap.fill(f"{word[v.holds]} [{v.method}]: {v.evidence}", 100,
                                 initial_indent=f"    {tag}: ", subsequent_indent=" " * 14)
            lines.append(body)
        return "\n".join(lines)


@dataclass
class OSReport:
    """Verdicts on E0-E4 for one network (attributes ``temperedness``, ``euclidean_invariance``,
    ``reflection_positivity``, ``permutation_symmetry``, ``cluster_decomposition``)."""

    network: Any
    temperedness: AxiomVerdict
    euclidean_invariance: AxiomVerdict
    reflection_positivity: AxiomVerdict
    permutation_symmetry: AxiomVerdict
    cluster_decomposition: AxiomVerdict
    values: dict = field(default_factory=dict)
    regime: str | None = None
    spectrum: Any = None

    @property
    def axioms(self) -> list:
        return [getattr(self, name) for _, name in _AXIOMS]

    def __iter__(self):
        return iter(self.axioms)

    @property
    def holds(self) -> bool | None:
        """All five hold (True), one fails (False), else None -- each in its headline regime."""
        hs = [a.holds for a in self.axioms]
        if any(h is False for h in hs):
            return False
        return True if all(h is True for h in hs) else None

    def __str__(self):
        net = self.network
        head = [f"Osterwalder-Schrader report for {net!r}",
                f"regime: {self.regime or 'finite N and N -> oo (headline: every N when both agree)'}; "
                f"numbers at {self.values}"]
        if self.spectrum is not None:
            head.append(f"power spectrum [{self.spectrum.method}]: G(p) = {self.spectrum.expr}")
        return "\n".join(head + [str(a) for a in self.axioms])

    __repr__ = __str__


def os_axioms(net: "Network", N: Any = None, values: Mapping | None = None, seed: int = 0) -> OSReport:
    r"""Osterwalder-Schrader report (E0-E4) for ``net``.

    ``N``: ``None`` (headline per axiom: every N when finite N and N -> oo agree, else the
    decided regime, finite N first), ``"finite"`` or ``sympy.oo`` (the N -> oo limit).
    ``values``: numbers (by name) for the numeric checks; defaults are drawn in [0.6, 1.4]
    (``N = 7``) and listed in the report.

    >>> import nnsym as ns
    >>> rep = ns.os_axioms(ns.zoo.cos_net(1))
    >>> rep.reflection_positivity.holds, rep.permutation_symmetry.holds
    (False, True)
    """
    from ...model.network import Network

    if not isinstance(net, Network):
        raise TypeError(f"os_axioms needs an nnsym.Network, got {type(net).__name__}")
    if N is None:
        regime = None
    elif isinstance(N, str) and N.lower() in ("finite", "finite n"):
        regime = "finite N"
    elif N in (sp.oo, math.inf) or (isinstance(N, str) and N.lower() in ("oo", "inf", "infinity", "n -> oo")):
        regime = "N -> oo"
    else:
        raise ValueError(f"N must be None, 'finite' or sympy.oo, got {N!r}")
    syms = set(net.hyperparameters)
    vals = default_values(syms, seed)
    if not net.dim.is_Integer:
        vals[net.dim.name] = 3
    vals.update(values or {})

    def make(code, name, fin, lg):
        return AxiomVerdict(code, name, fin, lg, regime)

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            G2 = net.correlator(2, connected=True)
            G4c = net.correlator(4, connected=True)
    except (DivergentExpectation, ValueError) as exc:
        bad = Verdict(False, f"the correlators do not exist: {exc}", "structural")
        und = Verdict(None, f"the correlators do not exist: {exc}", "undecided")
        return OSReport(net, make("E0", "temperedness", bad, bad), *[make(c, n, und, und) for c, n in _AXIOMS[1:]],
                        values=vals, regime=regime)
    C = AxiomCorrelators.from_correlators(net, G2, G4c, vals)
    try:
        S = power_spectrum(net)
    except (ValueError, NotImplementedError):  # not translation invariant, or no transform (NoClosedForm)
        S = None

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        e0f, e0l = temperedness(C)
        e1f, e1l = euclidean_invariance(C)
        e2f, e2l = reflection_positivity(C, S)
        e3f, e3l = permutation_symmetry(C)
        e4f, e4l = cluster_decomposition(C, S)
    return OSReport(net, make("E0", "temperedness", e0f, e0l), make("E1", "euclidean_invariance", e1f, e1l),
                    make("E2", "reflection_positivity", e2f, e2l), make("E3", "permutation_symmetry", e3f, e3l),
                    make("E4", "cluster_decomposition", e4f, e4l), values=vals, regime=regime, spectrum=S)
