r"""Executors: who runs the blocks of a Monte Carlo estimate (this process, or a Dask cluster).

An executor receives the *work function* ``work(first, last)`` (the draws and subset sums of
blocks ``first..last-1``, an array) and the chunks ``[(first, last), ...]``, and returns the
results in chunk order: :meth:`LocalExecutor.map_blocks` runs them here, one after the other
(memory bounded by one chunk); :meth:`DaskExecutor.map_blocks` ships the work function once to
every worker and runs the chunks as tasks. Block ``j`` always draws from its own seed key, so
both give the same bits (see :mod:`nnsym.sampling.backends`).

>>> LocalExecutor().map_blocks(lambda first, last: list(range(first, last)), [(0, 2), (2, 3)])
[[0, 1], [2]]
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

__all__ = ["LocalExecutor", "DaskExecutor", "executor_for", "chunks_of"]

Work = Callable[[int, int], Any]


class LocalExecutor:
    r"""Run the chunks in this process, in order; ``progress(first, last)`` is called after each."""

    def map_blocks(self, work: Work, chunks: Sequence[tuple], progress: Callable | None = None) -> list:
        out = []
        for first, last in chunks:
            out.append(work(first, last))
            if progress is not None:
                progress(first, last)
        return out


def _run(work: Work, first: int, last: int) -> Any:  # a task on a Dask worker
    return work(first, last)


class DaskExecutor:
    r"""Run the chunks as tasks on a ``dask.distributed`` cluster: ``client`` is a
    ``distributed.Client`` or a scheduler address (a client is then opened and closed per call).
    Needs ``dask[distributed]`` (``pip install 'nnsym[dask]'``)."""

    def __init__(self, client: Any):
        try:
            from distributed import Client
        except ImportError as exc:  # pragma: no cover - exercised only without the extra
            raise ImportError("client= needs dask.distributed: pip install 'nnsym[dask]'") from exc
        if not isinstance(client, (str, Client)):
            raise TypeError(f"client must be a dask.distributed.Client or a scheduler address, got {client!r}")
        self.client = client

    def map_blocks(self, work: Work, chunks: Sequence[tuple], progress: bool | Callable = False) -> list:
        from distributed import Client
        from distributed import progress as dask_progress

        own = isinstance(self.client, str)
        client = Client(self.client) if own else self.client
        try:
            # once per worker, not once per task; under a key of its own (hash=False): a content-hashed
            # key is the same for an identical call, whose release of it raced with this call's use
            # ("FutureCancelledError: lost dependencies", about 1 call in 6)
            shared = client.scatter(work, broadcast=True, hash=False)
            futures = [client.submit(_run, shared, first, last, pure=False) for first, last in chunks]
            if progress:
                dask_progress(futures)
            return client.gather(futures)
        finally:
            if own:
                client.close()


def executor_for(client: Any = None) -> "LocalExecutor | DaskExecutor":
    r"""The executor for ``monte_carlo(..., client=...)``: local for ``None``, Dask otherwise.

    >>> type(executor_for(None)).__name__
    'LocalExecutor'
    """
    return LocalExecutor() if client is None else DaskExecutor(client)


def chunks_of(n_blocks: int, per_chunk: int) -> list:
    r"""The chunks ``[(first, last), ...]`` of ``per_chunk`` consecutive blocks each.

    >>> chunks_of(5, 2)
    [(0, 2), (2, 4), (4, 5)]
    """
    return [(s, min(n_blocks, s + per_chunk)) for s in range(0, n_blocks, per_chunk)]
