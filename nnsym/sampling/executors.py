"""Scale-out: Monte Carlo chunks as tasks on a Dask distributed cluster.

Optional: needs ``dask[distributed]`` (``pip install 'nnsym[dask]'``). Each task
draws whole blocks from their own spawned seeds, so the cluster returns the
same numbers as a local run with the same seed.
"""
from __future__ import annotations

__all__ = ["run_on_dask"]


def run_on_dask(client, plan, chunks, progress: bool = False) -> list:
    """Run ``_run_blocks(plan, start, stop)`` for every chunk on ``client``
    (a ``distributed.Client`` or a scheduler address); results in chunk order."""
    try:
        from distributed import Client, progress as dask_progress
    except ImportError as exc:  # pragma: no cover - exercised only without the extra
        raise ImportError("client= needs dask.distributed: pip install 'nnsym[dask]'") from exc
    from ..sampling.montecarlo import _run_blocks

    own = isinstance(client, str)
    if own:
        client = Client(client)
    elif not isinstance(client, Client):
        raise TypeError(f"client must be a dask.distributed.Client or a scheduler address, got {client!r}")
    try:
        shared_plan = client.scatter(plan, broadcast=True)
        futures = [client.submit(_run_blocks, shared_plan, s, e, pure=False) for s, e in chunks]
        if progress:
            dask_progress(futures)
        return client.gather(futures)
    finally:
        if own:
            client.close()
