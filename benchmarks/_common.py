"""Pieces shared by the benchmark scripts (not part of the package)."""
from __future__ import annotations

import multiprocessing as mp
import sys
import time
from queue import Empty


def independent():
    """The tests' independent numerics (``tests/independent.py``: hand-written numpy and scipy that do
    not import nnsym), for the benchmarks' baselines."""
    import importlib
    import os

    tests = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests")
    if tests not in sys.path:
        sys.path.insert(0, tests)
    return importlib.import_module("independent")


def clear_caches() -> list[str]:
    """Clear every cache we can find; returns a description of what was cleared."""
    cleared = []
    from sympy.core.cache import clear_cache as sympy_clear_cache

    sympy_clear_cache()
    cleared.append("sympy")
    import nnsym

    if callable(getattr(nnsym, "clear_cache", None)):
        nnsym.clear_cache()
        cleared.append("nnsym.clear_cache()")
    n_lru = 0
    for name, module in list(sys.modules.items()):
        if module is None or not (name == "nnsym" or name.startswith("nnsym.")):
            continue
        for obj in list(vars(module).values()):
            if getattr(obj, "__module__", None) != name:
                continue
            candidates = [obj]
            if isinstance(obj, type):  # cached methods / static functions of classes
                candidates += [getattr(v, "__func__", v) for v in vars(obj).values()]
            for cand in candidates:
                clear = getattr(cand, "cache_clear", None)
                if callable(clear):
                    clear()
                    n_lru += 1
    if n_lru:
        cleared.append(f"{n_lru} functools caches in nnsym")
    return cleared


def time_in_subprocess(worker, timeout: float):
    """Run ``worker(queue)`` in a spawned process; it puts (status, seconds, text) on the queue.
    Returns that triple, or ('timeout', elapsed, '') if nothing came within ``timeout`` seconds."""
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=worker, args=(queue,), daemon=True)
    start = time.perf_counter()
    proc.start()
    try:
        status, elapsed, text = queue.get(timeout=timeout)
    except Empty:  # nothing came within the timeout
        status, elapsed, text = "timeout", time.perf_counter() - start, ""
    finally:
        if proc.is_alive():
            proc.terminate()
        proc.join(5)
        if proc.is_alive():
            proc.kill()
            proc.join()
    return status, elapsed, text
