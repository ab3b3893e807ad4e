r"""The sampler: a :class:`~nnsym.Network` as numbers -- parameter draws and the compiled neuron.

One definition gives both the exact correlators (the engine) and the draws (here): the laws are
frozen to numbers once (``law.frozen`` through the array backend), the neuron
:math:`h(x;\theta)` is lambdified once, and a network's samplers are cached on the network.

>>> import numpy as np, nnsym as ns
>>> s = network_sampler(ns.zoo.cos_net(1), {"sigma_a": 1.0, "sigma_b": 1.0, "N": 4}, 1)
>>> s.field_values(np.random.default_rng(0), 3, np.zeros((2, 1))).shape
(3, 2)
"""
from __future__ import annotations

from typing import Any, Mapping

import numpy as np
import sympy as sp

from ..core.random import RandomVector, numeric_value
from ..core.vectors import ScalarPoint
from ..model.network import Network
from .backends import ArrayBackend, get_backend

__all__ = ["NetworkSampler", "network_sampler"]


class NetworkSampler:
    r"""Numeric view of a :class:`Network`: parameter draws from the laws' samplers and the
    neuron :math:`h(x;\theta)` lambdified (in a stable form: products of exponentials merged into
    one, e.g. the Gauss-net normalisation), both on the arrays of ``backend`` (default numpy,
    see :mod:`nnsym.sampling.backends`).

    ``neuron_kernel(*theta, x, *hyper_values)`` is the compiled neuron, ``params`` the
    neuron's parameters (in the kernel's order) and ``hyper_values`` the numbers of its
    hyper-parameters."""

    def __init__(self, net: Network, values: Mapping[str, Any], dim: int, backend: "ArrayBackend | str | None" = None):
        self.net = net
        self.backend = get_backend(backend)
        self.dim = int(dim)
        self.values = dict(values)
        dsym = net.dim if not net.dim.is_Integer else None
        if dsym is not None:
            self.values[dsym.name] = self.dim
        neuron = sp.powsimp(net.neuron, combine="exp")  # exp(u)/sqrt(exp(2v)) -> exp(u - v): no overflow
        self.params = [p for p in net.params if p != net.readout]
        hyper = sorted(neuron.free_symbols - set(self.params) - {net.input}, key=sp.default_sort_key)
        missing = [h.name for h in hyper if h.name not in self.values]
        if missing:
            raise ValueError(f"monte_carlo: missing value(s) for {', '.join(sorted(missing))}")
        self.hyper_values = [self.values[h.name] for h in hyper]
        self.neuron_kernel = self.backend.compile(self.params + [net.input] + hyper, neuron)
        self.width = int(round(numeric_value(net.width, self.values, "width N")))
        # laws frozen to numbers once (no sympy in the sampling loop)
        self._frozen = {p: self.backend.freeze(p.law, self.values) for p in net.params}
        width = numeric_value(net.width, self.values, "width N")
        if width != round(width) or width < 1:
            raise ValueError(f"monte_carlo: the width {net.width} must be a positive integer, got {width:g}")

    def draw(self, p, rng, batch: tuple):
        r"""Draws of the parameter ``p`` for a batch of neurons: shape ``batch + (1,)`` for a scalar,
        ``batch + (1, d)`` for a vector (the axis of length 1 meets the points)."""
        draw = self._frozen[p]
        if isinstance(p, RandomVector):
            return draw(rng, batch + (self.dim,)).reshape(batch + (1, self.dim))
        return draw(rng, batch).reshape(batch + (1,))

    def draw_neurons(self, rng, S: int) -> tuple:
        r"""Parameters of ``S`` single neurons: ``(a, theta)``, the readouts (S, 1) and the neuron's
        parameters in kernel order (scalars (S, 1), vectors (S, 1, d)), in the generator's order."""
        a = self.draw(self.net.readout, rng, (S,))
        return a, [self.draw(p, rng, (S,)) for p in self.params]

    def neurons_at(self, drawn: tuple, points, dtype=None):
        r""":math:`a\,h(x_m)` of the neurons ``drawn`` (:meth:`draw_neurons`) at ``points`` (M, d): (S, M).

        ``dtype``: the floating type of the evaluation (default float64; ``"float32"`` rounds the
        drawn parameters and the points to single precision first)."""
        a, theta = drawn
        if dtype is not None:
            a, theta = a.astype(dtype), [t.astype(dtype) for t in theta]
        with np.errstate(over="ignore", invalid="ignore"):
            h = self._kernel(theta, self._cast_points(points, dtype), dtype)
            return a * h

    def neuron_values(self, rng, S: int, points: np.ndarray, dtype=None) -> np.ndarray:
        r"""``S`` single-neuron draws of :math:`a\,h(x_m)` at ``points`` (shape (M, d)): (S, M)."""
        return self.neurons_at(self.draw_neurons(rng, S), points, dtype)

    def draw_networks(self, rng, S: int) -> tuple:
        r"""Parameters of ``S`` whole networks: ``(a, theta, bias)``, the readouts (S, N, 1), the
        neurons' parameters ((S, 1, ...) when shared, (S, N, ...) otherwise) and the output biases
        (S, 1) (``None`` without a bias), in the generator's order."""
        N = self.width
        xp = self.backend.xp
        a = self.draw(self.net.readout, rng, (S, N)) if self.net.readout not in self.net.shared else \
            xp.broadcast_to(self.draw(self.net.readout, rng, (S, 1)), (S, N, 1))
        theta = []
        for p in self.params:
            theta.append(self.draw(p, rng, (S, 1)) if p in self.net.shared else self.draw(p, rng, (S, N)))
        bias = None if self.net.bias is None else self.backend.freeze(self.net.bias.law, self.values)(rng, (S, 1))
        return a, theta, bias

    def fields_at(self, drawn: tuple, points, dtype=None):
        r""":math:`\phi(x_m) = \sum_i a_i h_i(x_m) (+ b_{\rm out})` of the networks ``drawn``
        (:meth:`draw_networks`) at ``points`` (M, d): (S, M); ``dtype`` as in :meth:`neurons_at`."""
        a, theta, bias = drawn
        if dtype is not None:
            a, theta = a.astype(dtype), [t.astype(dtype) for t in theta]
            bias = None if bias is None else bias.astype(dtype)
        S, N = a.shape[0], self.width
        xp = self.backend.xp
        with np.errstate(over="ignore", invalid="ignore"):
            h = xp.broadcast_to(self._kernel(theta, self._cast_points(points, dtype), dtype), (S, N, len(points)))
            phi = xp.einsum("sn,snm->sm", xp.broadcast_to(a[..., 0], (S, N)), h)
        if bias is not None:
            phi = phi + bias
        return phi

    def field_values(self, rng, S: int, points: np.ndarray, dtype=None) -> np.ndarray:
        r"""``S`` whole-network draws of :math:`\phi(x_m)`: (S, M)."""
        return self.fields_at(self.draw_networks(rng, S), points, dtype)

    def _kernel(self, theta, points, dtype):
        h = self.neuron_kernel(*theta, self._point_arg(points), *self.hyper_values)
        if dtype is not None and getattr(h, "dtype", None) != dtype:  # e.g. a float64 constant in the kernel
            h = self.backend.xp.asarray(h, dtype=dtype)
        return h

    def _cast_points(self, points, dtype):
        return points if dtype is None else self.backend.xp.asarray(points, dtype=dtype)

    def _point_arg(self, points):
        return points[:, 0] if isinstance(self.net.input, ScalarPoint) else points


def network_sampler(net: Network, values: Mapping[str, Any], dim: int,
                    backend: "ArrayBackend | str | None" = None) -> NetworkSampler:
    r"""The :class:`NetworkSampler` of ``net`` at these values, dimension and backend, compiled once
    and cached on the network (:meth:`~nnsym.Network.derived_cache`: it lives and dies with the
    network, so a new network never meets an old one's sampler)."""
    backend = get_backend(backend)
    cache = net.derived_cache("sampling.NetworkSampler")
    key = (tuple(sorted((k, float(v)) for k, v in values.items())), int(dim), backend.name, id(backend))
    if key not in cache:
        if len(cache) > 32:
            cache.clear()
        cache[key] = NetworkSampler(net, values, dim, backend)
    return cache[key]
