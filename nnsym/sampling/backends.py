r"""Array backends: where the Monte Carlo draws live (numpy by default; JAX optional; CuPy as one new module).

The Monte Carlo estimators need four things of an array library, and nothing else:

* ``xp``: the array namespace (``numpy``; ``cupy``; ``jax.numpy``) in which the subset sums
  :math:`\sum_s \prod_{k\in B} Y_{s,k}` are formed;
* ``generator(key)``: a random generator for one block of draws, from that block's
  ``numpy.random.SeedSequence`` key (``SeedSequence(seed).spawn(n_blocks)[j]``);
* ``freeze(law, values)``: a law's sampler ``draw(rng, size)`` with its parameters fixed to
  numbers, drawing arrays of ``xp``;
* ``compile(args, expr)``: the neuron :math:`h(x;\theta)` lambdified to a kernel on arrays of
  ``xp``; and ``asnumpy(a)`` to bring the per-block sums home (small: :math:`2^n` numbers per
  point set).

Optionally, ``subset_sums_point_major(Yt, full_sq)``: the subset sums of the values ``Yt``
(n, P, S) formed the backend's own way (JAX: one compiled computation), as numpy (2^n, P), filling
``full_sq`` as :func:`nnsym.sampling.moments.subset_sums_point_major` does; without it the Monte
Carlo layer runs that generic function on arrays of ``xp``.

**Reproducibility, per backend.** A backend promises: the same seed gives bit-identical numbers
for any ``chunk_size`` and on a Dask cluster as locally, because block ``j`` always draws from
its own key with the backend's generator and the blocks' sums are reduced in block order. The
numbers differ between backends (a GPU generator is not numpy's); each backend states its own
promise in its docstring.

A CuPy backend would be one new module, ``nnsym/sampling/cupy_backend.py``::

    import cupy, cupyx.scipy.special
    from ..numeric.kernels import compile_kernel
    from .backends import register_backend

    class CupyBackend:
        name = "cupy"
        xp = cupy
        def generator(self, key):                  # cupy's Philox stream from the block's key
            return cupy.random.Generator(cupy.random.Philox4x3210(key.generate_state(1)[0]))
        def freeze(self, law, values):
            return law.frozen(values, xp=cupy)     # the laws draw with cupy.random
        def compile(self, args, expr):             # the printed numpy.* names resolve to cupy
            return compile_kernel(args, expr, modules=[{"numpy": cupy, "scipy": cupyx.scipy}, "numpy"])
        def asnumpy(self, a):
            return cupy.asnumpy(a)

    register_backend(CupyBackend())             # known by name from now on

and, once the module is imported (``import nnsym.sampling.cupy_backend``),
``monte_carlo(..., backend="cupy")`` would run on the GPU, with the promise
"bit-identical for a given seed, chunk size and Dask layout, on one GPU model".

**Backends.** ``"numpy"`` (:class:`NumpyBackend`, the default) and ``"jax"``
(:mod:`nnsym.sampling.jax_backend`: ``jax.random`` draws from explicit keys, XLA-compiled kernels,
float64, on CPU, GPU or TPU), which needs the optional extra ``pip install 'nnsym[jax]'`` and is
imported on first use of its name; asking for it without JAX raises ``ImportError`` saying so.

>>> import numpy as np
>>> be = get_backend("numpy")
>>> be.name, be.xp is np
('numpy', True)
>>> key = np.random.SeedSequence(0).spawn(2)[1]
>>> float(be.generator(key).random()) == float(np.random.default_rng(key).random())
True
"""
from __future__ import annotations

import importlib
from typing import Any, Callable, Protocol, runtime_checkable

import numpy as np

from ..numeric.kernels import compile_kernel

__all__ = ["ArrayBackend", "NumpyBackend", "NUMPY", "OPTIONAL_BACKENDS", "get_backend", "register_backend"]


@runtime_checkable
class ArrayBackend(Protocol):
    r"""What the Monte Carlo layer asks of an array library (see the module docstring)."""

    name: str
    xp: Any

    def generator(self, key: np.random.SeedSequence) -> Any:
        """A random generator for one block, from the block's seed key."""

    def freeze(self, law: Any, values: Any) -> Callable:
        """The law's sampler ``draw(rng, size)`` with its parameters fixed to numbers."""

    def compile(self, args: list, expr: Any) -> Callable:
        """The sympy expression ``expr`` compiled to a kernel on arrays of ``xp``."""

    def asnumpy(self, a: Any) -> np.ndarray:
        """An array of ``xp`` as a numpy array."""


class NumpyBackend:
    r"""The numpy backend (the default): numpy arrays, numpy's ``default_rng`` (PCG64) per block.

    Reproducibility: with a given seed, every estimate is bit-identical for any ``chunk_size``,
    on a Dask cluster as locally, and on any machine with the same numpy version (numpy keeps
    its ``Generator`` streams stable across releases; the reductions are numpy's).
    """

    name = "numpy"
    xp = np

    def generator(self, key: np.random.SeedSequence) -> np.random.Generator:
        return np.random.default_rng(key)

    def freeze(self, law: Any, values: Any) -> Callable:
        return law.frozen(values)

    def compile(self, args: list, expr: Any) -> Callable:
        return compile_kernel(args, expr)

    def asnumpy(self, a: Any) -> np.ndarray:
        return np.asarray(a)

    def __reduce__(self):  # one instance per process, also on Dask workers
        return (get_backend, (self.name,))

    def __repr__(self) -> str:
        return "NumpyBackend()"


NUMPY = NumpyBackend()
"""The default backend."""

_BACKENDS = {"numpy": NUMPY}

OPTIONAL_BACKENDS = {"jax": ("nnsym.sampling.jax_backend", "jax")}
"""The backends shipped as optional modules: name -> (the module that registers it when imported,
the package it needs, also the name of its extra: ``pip install 'nnsym[jax]'``)."""


def _load_optional(name: str) -> None:
    """Import the module of the optional backend ``name`` (which registers it), or say which
    package is missing."""
    module, package = OPTIONAL_BACKENDS[name]
    try:
        importlib.import_module(module)
    except ImportError as exc:
        if exc.name is not None and exc.name != package and not exc.name.startswith(package + "."):
            raise  # something else is broken: show it as it is
        raise ImportError(f"the array backend {name!r} needs the optional package {package!r}, which is not "
                          f"installed: pip install 'nnsym[{name}]' (or pip install {package})") from exc


def register_backend(backend: ArrayBackend) -> ArrayBackend:
    r"""Make ``backend`` known by its ``name`` (``monte_carlo(..., backend="cupy")``); the one line a
    new backend module adds at its end. Returns the backend; a second backend of the same name,
    or an object that does not follow :class:`ArrayBackend`, is refused.

    >>> class Float64Numpy(NumpyBackend):
    ...     name = "numpy-doc"
    >>> register_backend(Float64Numpy()).name, get_backend("numpy-doc").name
    ('numpy-doc', 'numpy-doc')
    >>> _ = _BACKENDS.pop("numpy-doc")
    """
    if not isinstance(backend, ArrayBackend):
        raise TypeError(f"a backend needs name, xp, generator, freeze, compile and asnumpy; got {backend!r}")
    if not isinstance(backend.name, str) or not backend.name:
        raise ValueError(f"a backend needs a non-empty name, got {backend.name!r}")
    if backend.name in _BACKENDS and _BACKENDS[backend.name] is not backend:
        raise ValueError(f"an array backend named {backend.name!r} is already registered")
    _BACKENDS[backend.name] = backend
    return backend


def get_backend(backend: "str | ArrayBackend | None" = None) -> ArrayBackend:
    r"""The backend called ``backend`` (``None`` or ``"numpy"``: :data:`NUMPY`), or ``backend``
    itself when it is a backend object. An optional backend (:data:`OPTIONAL_BACKENDS`, e.g.
    ``"jax"``) is imported on first use; ``ImportError`` if its package is not installed,
    ``ValueError`` for an unknown name.

    >>> get_backend() is NUMPY
    True
    """
    if backend is None:
        return NUMPY
    if isinstance(backend, str):
        if backend not in _BACKENDS and backend in OPTIONAL_BACKENDS:
            _load_optional(backend)
        try:
            return _BACKENDS[backend]
        except KeyError:
            known = sorted(set(_BACKENDS) | set(OPTIONAL_BACKENDS))
            raise ValueError(f"unknown array backend {backend!r}; known: {', '.join(known)} "
                             "(or pass a backend object)") from None
    if isinstance(backend, ArrayBackend):
        return backend
    raise TypeError(f"backend must be a backend name or object, got {backend!r}")
