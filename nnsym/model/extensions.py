r"""Extensions: model methods whose work is done in a higher layer.

Some methods of the model's objects are conveniences whose mathematics lives above the model,
in :mod:`nnsym.analysis`: ``Network.power_spectrum`` (the Fourier transform
:math:`G(p) = \int d^dx\,e^{-ip\cdot x}G^{(2)}(x, 0)`), ``Correlator.is_translation_invariant``
and ``Correlator.is_rotation_invariant``. The model must not import the analysis layer, so the
analysis function registers itself under a name, and the method calls it by that name (in the
spirit of pandas' accessor registration):

.. code-block:: python

    # nnsym/analysis/spectra.py                  # nnsym/model/network.py
    @provides("power_spectrum")                  def power_spectrum(self, method="auto"):
    def power_spectrum(obj, method="auto"):          return call("power_spectrum", self, method=method)
        ...

``import nnsym`` imports every layer, so the registrations are always in place; a name that
nothing provides raises :class:`LookupError` saying which module would provide it.

>>> @provides("double_it")
... def double_it(x):
...     return 2 * x
>>> call("double_it", 21)
42
>>> call("no_such_thing")
Traceback (most recent call last):
...
LookupError: no implementation of 'no_such_thing' is registered (import the module that provides it, e.g. import nnsym)
"""
from __future__ import annotations

from typing import Any, Callable, TypeVar

__all__ = ["provides", "call", "provider"]

F = TypeVar("F", bound=Callable[..., Any])

_PROVIDERS: dict[str, Callable[..., Any]] = {}


def provides(name: str) -> Callable[[F], F]:
    r"""Decorator: register the decorated function as the implementation of ``name`` (the
    function itself is returned unchanged). A second registration under one name replaces the
    first (a re-imported module)."""
    if not isinstance(name, str) or not name:
        raise TypeError(f"an extension name must be a non-empty string, got {name!r}")

    def register(fn: F) -> F:
        _PROVIDERS[name] = fn
        return fn

    return register


def provider(name: str) -> Callable[..., Any]:
    r"""The function registered under ``name``; :class:`LookupError` when there is none."""
    try:
        return _PROVIDERS[name]
    except KeyError:
        raise LookupError(f"no implementation of {name!r} is registered (import the module that provides it, "
                          "e.g. import nnsym)") from None


def call(name: str, *args: Any, **kwargs: Any) -> Any:
    r"""Call the function registered under ``name`` with ``args`` and ``kwargs``."""
    return provider(name)(*args, **kwargs)
