r"""Progress bars for long derivations and long Monte Carlo runs (tqdm, an optional extra).

>>> progress_bar(False) is None
True
"""
from __future__ import annotations

import warnings
from typing import Any

__all__ = ["progress_bar"]


def progress_bar(progress: bool) -> Any:
    """``tqdm`` (a bar factory: ``bar(total=..., unit=...)``) when ``progress`` is true and tqdm is
    installed; None when ``progress`` is false, or with a warning when tqdm is missing."""
    if not progress:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        warnings.warn("progress=True needs tqdm (pip install 'nnsym[progress]')", stacklevel=4)
        return None
    return tqdm
