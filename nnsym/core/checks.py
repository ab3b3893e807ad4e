"""Guards on sympy: numerical spot checks of closed forms, and a time limit.

Sympy's integrator can return wrong closed forms (the |x| of
``inverse_fourier_transform``, ReLU in d = 2, ...). Every closed form that
nnsym gets from ``sympy.integrate`` is compared with a numerical integral at
random parameter values before it is used (:func:`spot_check`).
"""
from __future__ import annotations

import contextlib
import random
import signal
import threading
from typing import Callable, Mapping

import sympy as sp

from ..errors import SpotCheckError

__all__ = ["spot_check", "time_limit", "SpotCheckError", "random_values"]


def random_values(symbols, seed: int = 0) -> dict:
    """Random numeric values that respect each symbol's assumptions."""
    rng = random.Random(seed)
    out = {}
    for s in sorted(symbols, key=sp.default_sort_key):
        if s.is_integer:
            out[s] = rng.randint(2, 6)
        elif s.is_positive or s.is_nonnegative:
            out[s] = rng.uniform(0.6, 1.9)
        else:
            out[s] = rng.uniform(-1.4, 1.4)
    return out


def spot_check(
    closed,
    numeric: Callable[[Mapping], complex],
    what: str,
    extra: Mapping[str, sp.Symbol] | None = None,
    trials: int = 2,
    rtol: float = 1e-7,
    raise_on_failure: bool = True,
) -> bool:
    """Compare ``closed`` with ``numeric(values)`` at ``trials`` random points.

    ``values`` maps every free symbol of ``closed`` (and each symbol of
    ``extra``, also under its key) to a number.
    """
    closed = sp.sympify(closed)
    syms = set(closed.free_symbols) | set((extra or {}).values())
    for trial in range(trials):
        vals = random_values(syms, seed=trial)
        for key, sym in (extra or {}).items():
            vals[key] = vals[sym]
        exact = complex(closed.subs({s: vals[s] for s in closed.free_symbols}).evalf(30))
        approx = numeric(vals)
        if abs(exact - approx) > rtol * max(1.0, abs(approx)):
            if raise_on_failure:
                raise SpotCheckError(f"{what}: sympy gives {exact}, numerical integration {approx} at {vals}")
            return False
    return True


@contextlib.contextmanager
def time_limit(seconds: float):
    """Raise ``TimeoutError`` if the block runs longer than ``seconds`` (main thread only)."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        yield
        return

    def _raise(signum, frame):
        raise TimeoutError(f"gave up after {seconds} s")

    old = signal.signal(signal.SIGALRM, _raise)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
