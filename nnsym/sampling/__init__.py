r"""Layer 5, sampling: real networks drawn from the same definition.

Samplers built from a :class:`~nnsym.Network`, Monte Carlo estimators of
:math:`G^{(n)}` and :math:`G^{(n)}_c` with honest standard errors, executors (local, Dask)
that run blocks of draws, array backends, and ``validate`` (exact vs. Monte Carlo).
"""
