r"""Bindings: numbers for the hyper-parameters of an expression, checked once.

A correlator :math:`G^{(n)}(x_1,\dots,x_n;\,\sigma_a,\sigma_b,N)` is evaluated at numbers
for its hyper-parameters, given by name (``sigma_a=1.0, N=10``). On their way to a compiled
kernel (or to a Monte Carlo sampler) the values are checked here, once:

* every name must be known (a misspelling such as ``sigmaa=`` is refused, with a
  did-you-mean hint), when the caller says which names are known;
* every value must be one real, finite number (sympy numbers become floats; strings, arrays,
  complex numbers, symbols, nan and inf are refused, naming the value);
* the symbol's assumptions are honoured: a ``positive`` scale may be 0 (the limit
  :math:`\sigma\to 0^+`) but not negative; a ``positive integer`` width :math:`N \ge 1`;
  an ``integer`` must be integral.

The result is a :class:`Bindings`, a read-only mapping ``name -> number``. Whoever receives a
:class:`Bindings` does not check it again: :meth:`Bindings.require` only looks up the symbols an
expression needs (and says which are missing).

>>> import sympy as sp
>>> N, s = sp.Symbol("N", positive=True, integer=True), sp.Symbol("sigma_a", positive=True)
>>> b = Bindings({"sigma_a": sp.Rational(1, 2), "N": 10}, known=[N, s], context="evaluate")
>>> dict(b)
{'sigma_a': 0.5, 'N': 10}
>>> b.require([s, N])[N]
10
>>> Bindings({"sigmaa": 1.0}, known=[s], context="evaluate")
Traceback (most recent call last):
...
TypeError: evaluate() got value(s) for unknown name(s) 'sigmaa' (did you mean 'sigma_a'?); the known names are: sigma_a
"""
from __future__ import annotations

import difflib
import math
from typing import Any, Iterable, Iterator, Mapping, Sequence

import numpy as np
import sympy as sp

__all__ = ["Bindings", "as_value", "as_values", "check_values", "unknown_value_names"]


def as_value(v: Any, name: str, context: str) -> int | float:
    r"""One hyper-parameter value as a real number :math:`v\in\mathbb R` (an ``int`` stays an int):
    sympy numbers (``Rational(1, 2)``, ``pi``) become floats; strings, arrays, complex numbers,
    symbols and nan/inf are refused, naming the value.

    >>> import sympy as sp
    >>> as_value(sp.Rational(1, 4), "sigma_a", "evaluate"), as_value(3, "N", "evaluate")
    (0.25, 3)
    """
    if isinstance(v, (bool, np.bool_)):
        raise TypeError(f"{context}: the value of {name} must be a real number, got {v!r}")
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, (str, bytes)):
        raise TypeError(f"{context}: the value of {name} must be a real number, got the string {v!r}")
    if isinstance(v, sp.Basic):
        if not v.is_number:
            raise TypeError(f"{context}: the value of {name} must be a number, got the expression {v}")
        c = complex(v.evalf())
        if c.imag != 0:
            raise ValueError(f"{context}: the value of {name} must be real, got {v}")
        v = int(v) if v.is_Integer else c.real
    else:
        a = np.asarray(v)
        if a.ndim != 0:
            raise TypeError(f"{context}: the value of {name} must be a single real number, "
                            f"got an array of shape {a.shape}")
        if np.iscomplexobj(a):
            if a.imag != 0:
                raise ValueError(f"{context}: the value of {name} must be real, got {v}")
            a = a.real
        try:
            v = float(a)
        except (TypeError, ValueError):
            raise TypeError(f"{context}: the value of {name} must be a real number, got {v!r}") from None
    if not math.isfinite(v):
        raise ValueError(f"{context}: the value of {name} must be finite, got {v}")
    return v


def as_values(values: Mapping[str, Any], context: str) -> dict:
    r"""All named values through :func:`as_value`.

    >>> as_values({"sigma_b": 0.7}, "evaluate")
    {'sigma_b': 0.7}
    """
    if isinstance(values, Bindings):
        return dict(values)
    return {k: as_value(v, k, context) for k, v in values.items()}


def unknown_value_names(values: Iterable[str], known: Iterable[str]) -> list:
    r"""The keywords of ``values`` that are not in ``known`` (a misspelling such as ``sigmaa=``,
    or a name of another network: one dict shared by several networks must be filtered, e.g.
    ``{k: v for k, v in VALUES.items() if k in corr.value_names()}``).

    >>> unknown_value_names({"sigmaa": 1.0, "N": 3}, ["N", "sigma_a"])
    ['sigmaa']
    """
    known = set(known)
    return sorted(k for k in values if k not in known)


def _check_assumptions(s: sp.Symbol, v, context: str) -> None:
    """The value ``v`` of ``s`` against its assumptions (positive, integer)."""
    # a positive scale may be set to 0 (the limit, e.g. sigma_b = 0: no bias), a width may not
    if s.is_positive and (v < 0 or (s.is_integer and v == 0)):
        raise ValueError(f"{context}: {s.name} must be positive, got {v}")
    if s.is_integer and v != round(v):
        raise ValueError(f"{context}: {s.name} must be an integer, got {v}")


class Bindings(Mapping):
    r"""Numbers for named hyper-parameters, validated once: a read-only mapping ``name -> number``.

    Parameters
    ----------
    values : the values by name, as the user gave them.
    known : the symbols the names may stand for (their assumptions are checked). ``None``: any
        name is accepted, and only the value itself is checked (the assumptions of a symbol are
        checked when :meth:`require` first meets it).
    context : the name of the calling function, for the messages (``"evaluate"``, ...).
    options : the caller's own keyword options; given (as a sequence), an unknown name is
        reported as an unexpected keyword argument of ``context`` that is neither an option nor a
        hyper-parameter of the network (``monte_carlo``, ``validate``).

    Unknown names raise ``TypeError`` (with a did-you-mean hint), bad values ``TypeError`` or
    ``ValueError`` naming the value; missing ones are reported by :meth:`require`.
    """

    def __init__(self, values: Mapping[str, Any], known: Iterable[sp.Symbol] | None = None,
                 context: str = "evaluate", options: Sequence[str] | None = None):
        self.context = context
        by_name: dict = {}
        for s in known or ():
            by_name.setdefault(s.name, []).append(s)
        if known is not None:
            self._refuse_unknown(values, sorted(by_name), options)
        if isinstance(values, Bindings):
            self._values = dict(values._values)
            self._checked = set(values._checked)
        else:
            self._values = {k: as_value(v, k, context) for k, v in values.items()}
            self._checked = set()
        for name, syms in by_name.items():
            if name in self._values:
                for s in syms:
                    self._check(s)

    # ------------------------------------------------------------------ checks
    def _refuse_unknown(self, values, known: list, options) -> None:
        unknown = unknown_value_names(values, known)
        if not unknown:
            return
        if options is None:
            hints = [f"{u!r} (did you mean {m[0]!r}?)" if (m := difflib.get_close_matches(u, known, 1)) else repr(u)
                     for u in unknown]
            raise TypeError(f"{self.context}() got value(s) for unknown name(s) {', '.join(hints)}; "
                            f"the known names are: {', '.join(known) or '(none)'}")
        candidates = list(options) + known
        hints = [f"{u!r}" + (f" (did you mean {m[0]!r}?)" if (m := difflib.get_close_matches(u, candidates, 1)) else "")
                 for u in unknown]
        raise TypeError(f"{self.context}() got unexpected keyword argument(s) {', '.join(hints)}: neither an option "
                        f"({', '.join(options)}) nor a hyper-parameter of the network ({', '.join(known) or 'none'})")

    def _check(self, s: sp.Symbol, context: str | None = None) -> None:
        if s not in self._checked:
            _check_assumptions(s, self._values[s.name], context or self.context)
            self._checked.add(s)

    # ------------------------------------------------------------------ use
    def require(self, symbols: Iterable[sp.Symbol], context: str | None = None) -> dict:
        r"""The values of ``symbols`` as a dict ``symbol -> number`` (what a compiled kernel takes);
        ``ValueError`` naming the missing ones. A symbol not checked yet (assumptions) is checked now."""
        context = context or self.context
        out, missing = {}, []
        for s in symbols:
            if s.name not in self._values:
                missing.append(s.name)
                continue
            self._check(s, context)
            out[s] = self._values[s.name]
        if missing:
            raise ValueError(f"{context}: missing value(s) for {', '.join(sorted(missing))}")
        return out

    def with_values(self, **more: Any) -> "Bindings":
        r"""A copy with further values (e.g. ``d`` read off the points), checked as values."""
        out = Bindings(self, None, self.context)
        out._values.update({k: as_value(v, k, self.context) for k, v in more.items()})
        out._checked = {s for s in out._checked if s.name not in more}
        return out

    def __getitem__(self, name: str):
        return self._values[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"Bindings({self._values!r})"

    def __reduce__(self):  # plain values travel (e.g. to Dask workers); they were checked here
        return (_restore, (self._values, self.context))


def _restore(values: dict, context: str) -> Bindings:
    return Bindings(values, None, context)


def check_values(symbols: Iterable[sp.Symbol], values: Mapping[str, Any], context: str) -> dict:
    r"""Map the named ``values`` onto ``symbols`` (a dict ``symbol -> number``); clear errors for
    missing or invalid ones. A :class:`Bindings` is not validated again (only looked up).

    >>> import sympy as sp
    >>> s = sp.Symbol("sigma_b", positive=True)
    >>> check_values([s], {"sigma_b": 0.7}, "evaluate")
    {sigma_b: 0.7}
    """
    if not isinstance(values, Bindings):
        values = Bindings({k: values[k] for k in {s.name for s in symbols} if k in values}, None, context)
    return values.require(symbols, context)
