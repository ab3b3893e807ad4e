r"""The JAX array backend ``"jax"``: Monte Carlo draws and compiled kernels on ``jax.numpy`` arrays.

``monte_carlo(net, n, X, backend="jax", ...)`` (and ``network_sampler(..., backend="jax")``) draw
the parameters with ``jax.random`` and evaluate the neuron :math:`h(x;\theta)` as an XLA-compiled
kernel, on whatever device JAX runs on (CPU, GPU, TPU); the result is the same
:class:`~nnsym.sampling.montecarlo.MonteCarloEstimate`. The module is imported on first use of
the name (:func:`~nnsym.sampling.backends.get_backend`); it needs the optional extra
``pip install 'nnsym[jax]'`` (for a GPU, JAX's own CUDA wheels).

**float64.** JAX computes in float32 unless told otherwise; creating this backend (on importing
this module, which the first ``get_backend("jax")`` does) sets JAX's process-wide switch
``jax_enable_x64 = True``, so every draw, kernel and sum is float64 as with numpy (the opt-in
``monte_carlo(..., dtype="float32")`` path works here as with numpy). Other JAX code in the same
process then defaults to float64 too.

**Random numbers.** Block ``j`` of a run draws from its own ``numpy.random.SeedSequence`` key
(see :mod:`nnsym.sampling.backends`); the backend turns it into an explicit JAX key
(``threefry2x32``, from 64 bits of the key's child stream ``spawn_key + (0x6A6178,)``) and
splits that key once per draw. The laws' samplers call numpy-``Generator`` methods, which
:class:`JaxGenerator` maps to ``jax.random``: ``normal``, ``standard_normal``, ``uniform``,
``random``, ``standard_cauchy``, ``laplace``, ``exponential``, ``standard_exponential``
(the Normal, Uniform, Cauchy and Laplace laws, the uniform ball's direction and radius, the
inverse-CDF sampling of a user density). Any other method (``gamma``, ``beta``, ... of a user law)
is drawn by numpy's ``default_rng`` of the same block key and copied to a JAX array.

**Kernels.** :meth:`JaxBackend.compile` prints the expression with nnsym's numpy printer
(:func:`~nnsym.numeric.kernels.compile_kernel`) and runs the code in a namespace where
``numpy`` is ``jax.numpy`` and ``scipy`` is ``jax.scipy``; nnsym's helpers (``_nn_sqrt``,
``_nn_dot``, ``_nn_clip1``, ``_nn_correlation``) have JAX versions here. A function JAX lacks
(``scipy.special.hyp0f1`` of the uniform ball's transform, ``erfi``, ...) is computed on the host by
numpy/scipy through ``jax.pure_callback``. The kernel is ``jax.jit``-compiled (once per array
shape); a kernel that cannot be traced runs operation by operation.

**Reductions.** The Monte Carlo layer asks its backend for the subset sums
:math:`\sum_s\prod_{k\in B}Y_{s,k}`: here :meth:`JaxBackend.subset_sums_point_major` forms them
as one XLA computation on the device and brings the :math:`2^n \times P` results home (about 5x
faster than operation by operation on a CPU). The generic functions of
:mod:`nnsym.sampling.moments` (e.g. the rounding sums of the float32 path) also run on this
backend's arrays: they write their small results item by item, which JAX arrays do not allow, so
``xp.zeros``/``xp.empty`` of this backend are numpy's (host scratch arrays) and
``xp.ascontiguousarray`` is ``jnp.asarray`` (JAX arrays have no memory layout to ask for);
everything else in ``xp`` is ``jax.numpy``.

**Cost.** JAX compiles every operation once per array shape and process (0.02-0.7 s each on a
CPU; the random draws cost most): the first ``monte_carlo`` call with a new sample size pays a few
seconds, later calls do not. ``jax.config.update("jax_compilation_cache_dir", path)`` keeps the
compilations across processes. On a CPU, XLA's float64 ``exp``/``arcsin`` are several times slower
than numpy's and the backend is mainly a correctness check of the GPU path
(``benchmarks/bench_backends.py`` prints the ratios on the machine at hand).

**Reproducibility.** With a given seed the estimates are bit-identical for any ``chunk_size`` and
on a Dask cluster as locally, on one JAX version and device kind (the ``threefry`` draws are the
same on every device; the XLA code of a kernel may differ between CPU and GPU in the last bits).
The numbers differ from the numpy backend's (another generator) and agree with them statistically.

>>> import numpy as np, nnsym as ns
>>> be = ns.sampling.backends.get_backend("jax")
>>> be.name, be.asnumpy(be.generator(np.random.SeedSequence(0)).normal(0.0, 1.0, 3)).dtype
('jax', dtype('float64'))
"""
from __future__ import annotations

import inspect
import types
from typing import Any, Callable

import jax
import jax.numpy as jnp
import jax.scipy.special  # noqa: F401 -- makes jax.scipy.special an attribute of jax.scipy
import numpy as np
import scipy
import scipy.special  # noqa: F401

from ..numeric.kernels import HELPER_ROUNDING, compile_kernel
from .backends import get_backend, register_backend

__all__ = ["JaxBackend", "JaxGenerator", "JAX"]

_JAX_STREAM = 0x6A6178  # "jax": the child stream of a block key that seeds the JAX key


# ----------------------------------------------------------------------------- random numbers
def _shape(size, *params) -> tuple:
    """numpy's ``size`` argument as a shape (None: the broadcast shape of the parameters)."""
    if size is None:
        return tuple(jnp.broadcast_shapes(*(jnp.shape(p) for p in params))) if params else ()
    return (int(size),) if np.ndim(size) == 0 else tuple(int(s) for s in size)


def _jit_draw(sample: Callable) -> Callable:
    """``sample(key, shape, *params)`` as one XLA computation, compiled once per shape (static)."""
    return jax.jit(sample, static_argnums=1)


_SPLIT = jax.jit(lambda key: tuple(jax.random.split(key)))
_DRAWS = {
    "normal": _jit_draw(lambda k, shape, loc, scale: loc + scale * jax.random.normal(k, shape, jnp.float64)),
    "standard_normal": _jit_draw(lambda k, shape: jax.random.normal(k, shape, jnp.float64)),
    "uniform": _jit_draw(lambda k, shape, low, high: jax.random.uniform(k, shape, jnp.float64, low, high)),
    "random": _jit_draw(lambda k, shape: jax.random.uniform(k, shape, jnp.float64)),
    "standard_cauchy": _jit_draw(lambda k, shape: jax.random.cauchy(k, shape, jnp.float64)),
    "laplace": _jit_draw(lambda k, shape, loc, scale: loc + scale * jax.random.laplace(k, shape, jnp.float64)),
    "exponential": _jit_draw(lambda k, shape, scale: scale * jax.random.exponential(k, shape, jnp.float64)),
    "standard_exponential": _jit_draw(lambda k, shape: jax.random.exponential(k, shape, jnp.float64)),
}


class JaxGenerator:
    r"""A numpy-``Generator``-like random generator on ``jax.random``, for one block of draws.

    Its JAX key comes from the block's ``numpy.random.SeedSequence`` ``key`` and is split once per
    draw (explicit keys: the same key gives the same numbers). The methods the laws use map to
    ``jax.random`` (see the module docstring; each draw is one XLA computation, compiled once per
    shape); any other numpy ``Generator`` method is drawn by ``numpy.random.default_rng(key)`` and
    returned as a JAX array.

    >>> g = JaxGenerator(np.random.SeedSequence(1))
    >>> h = JaxGenerator(np.random.SeedSequence(1))
    >>> bool((g.uniform(-1.0, 1.0, (2, 3)) == h.uniform(-1.0, 1.0, (2, 3))).all())
    True
    """

    def __init__(self, key: np.random.SeedSequence):
        if not isinstance(key, np.random.SeedSequence):
            raise TypeError(f"the JAX generator needs a numpy SeedSequence as key, got {key!r}")
        child = np.random.SeedSequence(key.entropy, spawn_key=tuple(key.spawn_key) + (_JAX_STREAM,),
                                       pool_size=key.pool_size)
        self._key = jax.random.wrap_key_data(jnp.asarray(child.generate_state(2, np.uint32)), impl="threefry2x32")
        self._seed = key
        self._numpy: np.random.Generator | None = None

    def _draw(self, law: str, size, *params):
        self._key, sub = _SPLIT(self._key)
        return _DRAWS[law](sub, _shape(size, *params), *params)

    def normal(self, loc=0.0, scale=1.0, size=None):
        r"""Draws of :math:`\mathcal N(\mathrm{loc}, \mathrm{scale}^2)` (``jax.random.normal``)."""
        return self._draw("normal", size, loc, scale)

    def standard_normal(self, size=None):
        r"""Draws of :math:`\mathcal N(0, 1)`."""
        return self._draw("standard_normal", size)

    def uniform(self, low=0.0, high=1.0, size=None):
        r"""Draws of :math:`U[\mathrm{low}, \mathrm{high})` (``jax.random.uniform``)."""
        return self._draw("uniform", size, low, high)

    def random(self, size=None):
        r"""Draws of :math:`U[0, 1)`."""
        return self._draw("random", size)

    def standard_cauchy(self, size=None):
        """Draws of the standard Cauchy law (``jax.random.cauchy``)."""
        return self._draw("standard_cauchy", size)

    def laplace(self, loc=0.0, scale=1.0, size=None):
        """Draws of the Laplace law (``jax.random.laplace``)."""
        return self._draw("laplace", size, loc, scale)

    def exponential(self, scale=1.0, size=None):
        """Draws of the exponential law of mean ``scale`` (``jax.random.exponential``)."""
        return self._draw("exponential", size, scale)

    def standard_exponential(self, size=None):
        """Draws of the exponential law of mean 1."""
        return self._draw("standard_exponential", size)

    def __getattr__(self, name: str):
        if name.startswith("_") or not hasattr(np.random.Generator, name):
            raise AttributeError(f"{type(self).__name__} has no attribute {name!r}")
        if self._numpy is None:  # the fallback: numpy's generator of the same block key
            self._numpy = np.random.default_rng(self._seed)
        method = getattr(self._numpy, name)
        return lambda *args, **kwargs: jnp.asarray(method(*args, **kwargs))

    def __repr__(self) -> str:
        return f"JaxGenerator({self._seed!r})"


# ----------------------------------------------------------------------------- kernels
def _nn_sqrt(x):
    """sqrt that forgives rounding just below 0 (nnsym's numpy helper, in JAX)."""
    x = jnp.asarray(x)
    if jnp.iscomplexobj(x):
        return jnp.sqrt(x)
    return jnp.sqrt(jnp.where((x < 0) & (x > -HELPER_ROUNDING), 0.0, x))


def _nn_correlation(k12, k11, k22):
    r"""The correlation :math:`k_{12}/\sqrt{k_{11}k_{22}}` clipped to [-1, 1]; 0 where a variance is 0."""
    k12, k11, k22 = jnp.broadcast_arrays(*(jnp.asarray(a, dtype=jnp.float64) for a in (k12, k11, k22)))
    den = k11 * k22
    rho = jnp.where(den > 0, k12 / jnp.sqrt(jnp.where(den > 0, den, 1.0)), 0.0)
    return jnp.clip(rho, -1.0, 1.0)


def _nn_clip1(x):
    """Arguments of arccos/arcsin: forgive |x| = 1 + rounding."""
    x = jnp.asarray(x)
    if jnp.iscomplexobj(x):
        return x
    return jnp.where((jnp.abs(x) > 1) & (jnp.abs(x) < 1 + HELPER_ROUNDING), jnp.sign(x), x)


def _nn_dot(u, v):
    """u . v over the last axis, broadcast (a batch (..., 1, d) of parameter vectors against
    points (M, d) gives (..., M)): a fused multiply-add, no matrix product on a tiny inner axis."""
    return jnp.sum(jnp.asarray(u) * jnp.asarray(v), axis=-1)


_HELPERS = {"_nn_sqrt": _nn_sqrt, "_nn_correlation": _nn_correlation, "_nn_clip1": _nn_clip1, "_nn_dot": _nn_dot}
"""JAX versions of every helper nnsym's printer calls (tests check the set against the numpy one)."""


def _on_host(fn: Callable) -> Callable:
    """``fn`` (a numpy/scipy function JAX lacks) run on the host through ``jax.pure_callback``:
    elementwise, the result of the broadcast shape and the inputs' floating (or complex) type."""
    def call(*args):
        args = [jnp.asarray(a) for a in args]
        dtype = jnp.result_type(*args, jnp.float64)
        shape = jnp.broadcast_shapes(*(a.shape for a in args))
        return jax.pure_callback(lambda *a: np.asarray(fn(*a), dtype=dtype), jax.ShapeDtypeStruct(shape, dtype),
                                 *args, vmap_method="broadcast_all")

    call.__name__ = getattr(fn, "__name__", "host_function")
    return call


class _JaxNamespace:
    """A numpy or scipy module as the printed kernels see it: each name from the JAX module when it
    has it, else the host function through :func:`_on_host` (constants and submodules likewise)."""

    def __init__(self, jax_module: Any, host_module: types.ModuleType):
        self._jax, self._host = jax_module, host_module

    def __getattr__(self, name: str):
        host = getattr(self._host, name)  # AttributeError: neither has it
        jx = getattr(self._jax, name, None) if self._jax is not None else None
        if isinstance(host, types.ModuleType):
            return _JaxNamespace(jx, host)
        if jx is not None:
            return jx
        return _on_host(host) if callable(host) else host

    def __repr__(self) -> str:
        return f"<{self._host.__name__} names resolved in JAX>"


_KERNEL_MODULES = [_HELPERS, {"numpy": _JaxNamespace(jnp, np), "scipy": _JaxNamespace(jax.scipy, scipy)}]

_UNTRACEABLE = (jax.errors.TracerArrayConversionError, jax.errors.ConcretizationTypeError,
                jax.errors.TracerBoolConversionError, jax.errors.TracerIntegerConversionError)


class JaxKernel:
    r"""A compiled kernel on JAX arrays: the lambdified function ``fn`` run through ``jax.jit`` (XLA
    fuses it into one loop, compiled once per array shape); if the code cannot be traced (it converts
    a traced array to numpy), it runs operation by operation from then on. ``fn`` is the plain
    function."""

    def __init__(self, fn: Callable):
        self.fn = fn
        self._jit: Callable | None = jax.jit(fn)

    def __call__(self, *args):
        if self._jit is not None:
            try:
                return self._jit(*args)
            except _UNTRACEABLE:
                self._jit = None
        return self.fn(*args)

    def __repr__(self) -> str:
        return f"JaxKernel({getattr(self.fn, '__name__', 'kernel')}, jit={self._jit is not None})"


# ----------------------------------------------------------------------------- reductions
def _subset_sums_and_squares(Yt):
    r"""For ``Yt`` (n, P, S): the subset sums :math:`\sum_s\prod_{k\in B}Yt_{k,p,s}` (2^n, P), mask
    order, mask 0 the count; and the sum and maximum over draws of the squared full product (2, P).
    The same depth-first products as :func:`nnsym.sampling.moments.subset_sums`, traced once per
    shape into one XLA computation (sums in float64)."""
    n, P, S = Yt.shape
    rows = [jnp.full((P,), float(S))] + [None] * ((1 << n) - 1)
    squares = None
    stack = [(None, 0, 0)]
    while stack:
        prod, mask, start = stack.pop()
        for k in range(start, n):
            nxt = Yt[k] if prod is None else prod * Yt[k]
            m = mask | (1 << k)
            rows[m] = nxt.sum(axis=-1, dtype=jnp.float64)
            if m == (1 << n) - 1:
                sq = nxt * nxt
                squares = jnp.stack([sq.sum(axis=-1, dtype=jnp.float64), sq.max(axis=-1).astype(jnp.float64)])
            if k + 1 < n:
                stack.append((nxt, m, k + 1))
    return jnp.stack(rows), squares


_SUBSET_SUMS = jax.jit(_subset_sums_and_squares)


# ----------------------------------------------------------------------------- the backend
class _ArrayNamespace:
    """``jax.numpy``, except the host scratch arrays of the subset sums (see the module docstring)."""

    zeros = staticmethod(np.zeros)
    empty = staticmethod(np.empty)
    ascontiguousarray = staticmethod(jnp.asarray)

    def __getattr__(self, name: str):
        value = getattr(jnp, name)
        setattr(self, name, value)  # looked up once
        return value

    def __repr__(self) -> str:
        return "<jax.numpy, with zeros/empty on the host>"


class JaxBackend:
    r"""The JAX backend: ``jax.numpy`` arrays, ``jax.random`` draws from explicit keys, kernels
    compiled by XLA (see the module docstring, which states its reproducibility promise).

    Creating it enables JAX's float64 (``jax_enable_x64``)."""

    name = "jax"

    def __init__(self):
        jax.config.update("jax_enable_x64", True)
        self.xp = _ArrayNamespace()

    def generator(self, key: np.random.SeedSequence) -> JaxGenerator:
        return JaxGenerator(key)

    def freeze(self, law: Any, values: Any) -> Callable:
        params = inspect.signature(law.frozen).parameters
        takes_xp = "xp" in params or any(p.kind is p.VAR_KEYWORD for p in params.values())
        draw = law.frozen(values, xp=jnp) if takes_xp else law.frozen(values)
        return lambda rng, size: jnp.asarray(draw(rng, size))

    def compile(self, args: list, expr: Any) -> JaxKernel:
        return JaxKernel(compile_kernel(args, expr, modules=_KERNEL_MODULES))

    def asnumpy(self, a: Any) -> np.ndarray:
        return np.asarray(a)

    def subset_sums_point_major(self, Yt, full_sq: "np.ndarray | None" = None) -> np.ndarray:
        r""":func:`nnsym.sampling.moments.subset_sums_point_major` as one XLA computation: ``Yt`` (n, P, S)
        on the device, the (2^n, P) sums returned as numpy; ``full_sq`` (a numpy (2, P) array), if
        given, receives the sum and maximum of the squared full product. An optional backend method:
        the Monte Carlo layer calls it, when a backend has it, instead of the generic sums."""
        sums, squares = _SUBSET_SUMS(jnp.asarray(Yt))
        if full_sq is not None:
            full_sq[...] = np.asarray(squares)
        return np.asarray(sums)

    def subset_sums(self, Y, full_sq: "np.ndarray | None" = None) -> np.ndarray:
        r""":func:`nnsym.sampling.moments.subset_sums` (``Y`` of shape (S, P, n)) as one XLA computation
        (see :meth:`subset_sums_point_major`)."""
        return self.subset_sums_point_major(jnp.transpose(jnp.asarray(Y), (2, 1, 0)), full_sq)

    def __reduce__(self):  # one instance per process, also on Dask workers
        return (get_backend, (self.name,))

    def __repr__(self) -> str:
        return "JaxBackend()"


JAX = register_backend(JaxBackend())
"""The JAX backend (registered as ``"jax"``)."""
