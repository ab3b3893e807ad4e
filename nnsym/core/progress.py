r"""Progress bars for long derivations and long Monte Carlo runs (tqdm, an optional extra).

``progress`` is ``True`` (a bar at once), ``False`` (none), or a number of seconds: the bar appears
only if the work is still running then (tqdm's ``delay``), so short work stays silent.

>>> progress_bar(False) is None
True
"""
from __future__ import annotations

import functools
import warnings
from typing import Any

__all__ = ["progress_bar", "check_progress"]


def check_progress(progress: Any, context: str) -> bool | float:
    """``progress`` as given, after checking it is True, False or a number of seconds >= 0."""
    if isinstance(progress, bool) or progress is None:
        return bool(progress)
    if isinstance(progress, (int, float)) and not isinstance(progress, bool) and progress >= 0:
        return float(progress)
    raise TypeError(f"{context}: progress must be True, False or a delay in seconds >= 0, got {progress!r}")


def progress_bar(progress: bool | float) -> Any:
    """``tqdm`` (a bar factory: ``bar(total=..., unit=...)``) when ``progress`` is true and tqdm is
    installed, shown after ``progress`` seconds when it is a number; None when ``progress`` is false,
    or with a warning when tqdm is missing."""
    if progress is None or progress is False:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        warnings.warn("progress=True needs tqdm (pip install 'nnsym[progress]')", stacklevel=4)
        return None
    if isinstance(progress, bool):
        return tqdm
    return functools.partial(tqdm, delay=float(progress))
