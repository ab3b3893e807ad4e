r"""One deep-network specification: the MLP from which the deep kernels and the sampler both come.

A :class:`DeepMLP` is a multi-layer perceptron with :math:`L` hidden layers of widths
:math:`n_1, \dots, n_L` on inputs :math:`x\in\mathbb R^{n_0}`, :math:`n_0 = d`,

.. math:: z^{(1)} = W^{(0)}x + b^{(0)},\qquad
          z^{(l+1)} = W^{(l)} f_l\big(z^{(l)}\big) + b^{(l)}\quad (l = 1, \dots, L),\qquad
          \phi(x) = z^{(L+1)} \in \mathbb R,

with independent Gaussian weights and biases

.. math:: W^{(l)}_{ij} \sim \mathcal N\big(0,\, C_W^{(l)}/n_l\big),\qquad
          b^{(l)}_i \sim \mathcal N\big(0,\, C_b^{(l)}\big),\qquad
          C_W^{(l)} = \big(\sigma_W^{(l)}\big)^2,\ C_b^{(l)} = \big(\sigma_b^{(l)}\big)^2,

so the first layer has weight variance :math:`\sigma_W^2/d` and every later one
:math:`\sigma_W^2/\mathrm{fan\_in}`. At infinite width the output is a Gaussian process whose
kernel obeys the layer map written once, here (:meth:`DeepMLP.input_kernel`,
:meth:`DeepMLP.kernel_step`):

.. math:: K^{(1)}(x,x') = C_b^{(0)} + C_W^{(0)}\,\frac{x\cdot x'}{n_0},\qquad
          K^{(l+1)} = C_b^{(l)} + C_W^{(l)}\,E_{(u,v)\sim\mathcal N(0,K^{(l)})}[f_l(u)f_l(v)].

In the NTK parameterisation (Jacot et al.) the same network is written
:math:`W^{(l)} = \sigma_W^{(l)}\omega^{(l)}/\sqrt{n_l}`, :math:`b^{(l)} = \sigma_b^{(l)}\beta^{(l)}`
with :math:`\omega, \beta\sim\mathcal N(0, 1)` the trained parameters: the network at
initialisation, hence the NNGP kernel and the sampler, is the same; its neural tangent kernel has
the infinite-width limit (:meth:`DeepMLP.ntk_step`)

.. math:: \Theta^{(1)} = K^{(1)},\qquad
          \Theta^{(l+1)} = K^{(l+1)} + C_W^{(l)}\,\Theta^{(l)}\,E[f_l'(u)f_l'(v)].

The deep kernels (:class:`nnsym.DeepKernel`), the sampled networks (:meth:`DeepMLP.sample`,
:func:`nnsym.sample_deep_mlp`) and the one-hidden-layer :class:`~nnsym.Network` of the zoo
(:meth:`DeepMLP.network`) all read this one specification.
"""
from __future__ import annotations

import dataclasses
import math
import numbers
from typing import Callable, Mapping

import numpy as np
import sympy as sp

from ..core.random import Normal
from ..errors import DivergentExpectation
from ..numeric.bindings import check_values
from ..numeric.kernels import as_points
from .network import Input, Network

__all__ = ["DeepMLP", "MLP", "as_activation"]

PARAMETERISATIONS = ("standard", "ntk")


def as_activation(f) -> Callable:
    r"""An activation :math:`f` as a callable from sympy expressions to sympy expressions.

    Accepts a sympy function class (``sp.erf``, ``sp.tanh``), a :class:`sympy.Lambda` or any
    Python callable on sympy expressions (``lambda z: sp.Max(0, z)`` for ReLU); refuses anything
    else with a ``TypeError``.

    >>> import sympy as sp
    >>> z = sp.Symbol("z")
    >>> as_activation(sp.Lambda(z, z**2))(sp.Symbol("u"))
    u**2
    """
    if isinstance(f, sp.Lambda):
        return lambda z: f(z)
    if callable(f):
        return f
    raise TypeError(f"activation must be a callable on sympy expressions or a sympy Lambda, got {f!r}")


def _per_layer(value, count: int, what: str) -> tuple:
    """``value`` for each of ``count`` layers: one value for all, or a list/tuple of ``count`` values."""
    if isinstance(value, (list, tuple)):
        if len(value) != count:
            raise ValueError(f"DeepMLP: {what} needs one value per layer ({count}), got {len(value)}: {value!r}")
        return tuple(value)
    return (value,) * count


def _std(s, name: str):
    """A standard deviation: a real number >= 0 (kept as given, numpy scalars as Python numbers) or a
    sympy expression that is not known to be negative or non-real."""
    if isinstance(s, (bool, np.bool_)) or isinstance(s, (str, bytes)):
        raise TypeError(f"DeepMLP: {name} must be a number >= 0 or a sympy expression, got {s!r}")
    if isinstance(s, numbers.Real):
        s = s.item() if isinstance(s, np.generic) else s
        if not math.isfinite(s) or s < 0:
            raise ValueError(f"DeepMLP: {name} is a standard deviation and must be finite and >= 0 "
                             f"(the variance is its square), got {s}")
        return s
    if not isinstance(s, sp.Expr):
        raise TypeError(f"DeepMLP: {name} must be a number >= 0 or a sympy expression, got {s!r}")
    if s.is_negative or s.is_extended_real is False or (s.is_number and not s.is_finite):
        raise ValueError(f"DeepMLP: {name} is a standard deviation and must be real and >= 0, got {s}")
    return s


def _width(n, l: int):
    """A hidden width: an int >= 1, a positive (integer) sympy expression, or None / oo (infinite)."""
    if n is None or n is sp.oo or (isinstance(n, float) and n == math.inf):
        return sp.oo
    if isinstance(n, (bool, np.bool_, str, bytes)) or not isinstance(n, (numbers.Real, sp.Expr)):
        raise TypeError(f"DeepMLP: the width n_{l} must be an int >= 1, a sympy Symbol or None (infinite), got {n!r}")
    n = sp.sympify(n)
    if ((n.is_number and not n.is_Integer) or n.is_integer is False or n.is_positive is False
            or (n.is_Integer and n < 1)):
        raise ValueError(f"DeepMLP: the width n_{l} must be an integer >= 1 (or a positive integer Symbol), got {n}")
    return n


@dataclasses.dataclass(frozen=True, init=False, repr=False)
class DeepMLP:
    r"""A deep MLP: input dimension, depth, widths, activations and variances per layer.

    Parameters
    ----------
    activation : :math:`f`, a sympy function of one variable (``sp.erf``,
        ``lambda z: sp.Max(0, z)``, a :class:`sympy.Lambda`), or a list of ``depth`` of them
        (:math:`f_1, \dots, f_L`, one per hidden layer).
    depth : :math:`L\ge 1`, the number of hidden layers.
    d : the input dimension :math:`n_0` (an int or a sympy Symbol).
    widths : :math:`n_1, \dots, n_L`: one value for all hidden layers or a list of ``depth``;
        each an int, a positive integer Symbol, or None / ``sp.oo`` for infinite width (default).
    sigma_W, sigma_b : :math:`\sigma_W^{(l)}, \sigma_b^{(l)}` (standard deviations; the
        variances are their squares), one value for all layers or a list of ``depth + 1``
        (:math:`l = 0, \dots, L`, the last one for the readout); numbers >= 0 or sympy
        expressions (default: the positive Symbols ``sigma_W``, ``sigma_b``).
    parameterisation : ``"standard"`` (the weights as written) or ``"ntk"`` (the same network
        written :math:`\sigma_W\omega/\sqrt{n_l}`, trained in :math:`\omega`); it changes the
        NTK only (:meth:`ntk_step`), not the network at initialisation.

    The fields are normalised to one entry per layer: ``activation`` and ``widths`` have
    ``depth`` entries (hidden layers 1..L), ``sigma_W`` and ``sigma_b`` have ``depth + 1``
    (layers 0..L).

    >>> import sympy as sp
    >>> spec = DeepMLP(sp.erf, depth=2, d=3, widths=[100, 50], sigma_W=1.5, sigma_b=0)
    >>> spec.widths, spec.sigma_W, spec.fan_in(2)
    ((100, 50), (1.5, 1.5, 1.5), 50)
    >>> spec.weight_variance(1)
    0.0225
    >>> DeepMLP(sp.erf, 1, 2, sigma_W=-1)
    Traceback (most recent call last):
    ...
    ValueError: DeepMLP: sigma_W^(0) is a standard deviation and must be finite and >= 0 (the variance is its square), got -1
    """  # noqa: E501 -- a doctest's expected exception message is one line, compared verbatim: it cannot be wrapped

    activation: tuple
    depth: int
    d: sp.Expr
    widths: tuple
    sigma_W: tuple
    sigma_b: tuple
    parameterisation: str

    def __init__(self, activation, depth: int, d, widths=None, sigma_W=None, sigma_b=None,
                 parameterisation: str = "standard"):
        if (isinstance(depth, (bool, np.bool_)) or not isinstance(depth, numbers.Real) or int(depth) != depth
                or depth < 1):
            raise ValueError(f"depth (number of hidden layers) must be an integer >= 1, got {depth}")
        L = int(depth)
        dd = sp.sympify(d) if isinstance(d, (numbers.Integral, sp.Expr)) and not isinstance(d, bool) else None
        if dd is None or not (dd.is_Integer and dd >= 1 or dd.is_Symbol and dd.is_positive is not False):
            raise ValueError(f"DeepMLP: the input dimension d must be an integer >= 1 or a sympy Symbol, got {d!r}")
        acts = tuple(as_activation(f) for f in _per_layer(activation, L, "activation"))
        z = sp.Dummy("z", real=True)
        for l, f in enumerate(acts, start=1):
            try:
                fz = sp.sympify(f(z))
            except (TypeError, ValueError, AttributeError, sp.SympifyError) as e:
                raise TypeError(f"DeepMLP: the activation of layer {l}, {f!r}, must map a sympy expression to a "
                                f"sympy expression; calling it on a symbol failed: {e}") from None
            if not isinstance(fz, sp.Expr):
                raise TypeError(f"DeepMLP: the activation of layer {l} must return a sympy expression, got {fz!r}")
        ws = tuple(_width(n, l) for l, n in enumerate(_per_layer(widths, L, "widths"), start=1))
        ws = tuple(int(n) if n.is_Integer else n for n in ws)
        sW = sp.Symbol("sigma_W", positive=True) if sigma_W is None else sigma_W
        sb = sp.Symbol("sigma_b", positive=True) if sigma_b is None else sigma_b
        sWs = tuple(_std(s, f"sigma_W^({l})") for l, s in enumerate(_per_layer(sW, L + 1, "sigma_W")))
        sbs = tuple(_std(s, f"sigma_b^({l})") for l, s in enumerate(_per_layer(sb, L + 1, "sigma_b")))
        if parameterisation not in PARAMETERISATIONS:
            raise ValueError(f"DeepMLP: parameterisation must be one of {PARAMETERISATIONS}, got {parameterisation!r}")
        for name, value in (("activation", acts), ("depth", L), ("d", dd), ("widths", ws), ("sigma_W", sWs),
                            ("sigma_b", sbs), ("parameterisation", parameterisation)):
            object.__setattr__(self, name, value)

    def __repr__(self):
        z = sp.Symbol("z")
        one = lambda t: t[0] if len(set(t)) == 1 else list(t)
        acts = one(tuple(sp.Lambda(z, self.activation_expr(l, z)) for l in range(1, self.depth + 1)))
        return (f"DeepMLP(activation={acts}, depth={self.depth}, d={self.d}, widths={one(self.widths)}, "
                f"sigma_W={one(self.sigma_W)}, sigma_b={one(self.sigma_b)}, "
                f"parameterisation={self.parameterisation!r})")

    def replace(self, **changes) -> "DeepMLP":
        """A copy with some fields changed (e.g. ``spec.replace(widths=1000)``); validated again."""
        return dataclasses.replace(self, **changes)

    # ------------------------------------------------------------------ layers
    @property
    def infinite_width(self) -> bool:
        """True when every hidden layer has infinite width (the NNGP limit)."""
        return all(n is sp.oo for n in self.widths)

    def fan_in(self, l: int):
        r"""The fan-in :math:`n_l` of the weights :math:`W^{(l)}`: :math:`n_0 = d`, then the widths.

        >>> DeepMLP(lambda z: z, 2, 5, widths=[3, 4]).fan_in(0)
        5
        """
        self._check_layer(l, 0, self.depth)
        return self.d if l == 0 else self.widths[l - 1]

    def activation_expr(self, l: int, z) -> sp.Expr:
        r""":math:`f_l(z)`, the activation of hidden layer :math:`l = 1, \dots, L` at ``z``.

        >>> import sympy as sp
        >>> DeepMLP(lambda z: sp.Max(0, z), 1, 2).activation_expr(1, sp.Symbol("u"))
        Max(0, u)
        """
        self._check_layer(l, 1, self.depth)
        return sp.sympify(self.activation[l - 1](z))

    def layer_variances(self, l: int, values: Mapping | None = None) -> tuple:
        r""":math:`(C_W^{(l)}, C_b^{(l)}) = ((\sigma_W^{(l)})^2, (\sigma_b^{(l)})^2)` of layer
        :math:`l = 0, \dots, L`: sympy expressions, or floats when ``values`` (by symbol name) are given.

        >>> import sympy as sp
        >>> DeepMLP(sp.erf, 1, 2).layer_variances(1)
        (sigma_W**2, sigma_b**2)
        >>> DeepMLP(sp.erf, 1, 2).layer_variances(1, {"sigma_W": 2, "sigma_b": 0.5})
        (4.0, 0.25)
        """
        self._check_layer(l, 0, self.depth)
        C = (self.sigma_W[l] ** 2, self.sigma_b[l] ** 2)
        if values is None:
            return C
        return tuple(self._number(c, values) for c in C)

    def weight_variance(self, l: int, values: Mapping | None = None):
        r"""The variance :math:`C_W^{(l)}/n_l` of one weight :math:`W^{(l)}_{ij}`
        (:math:`\sigma_W^2/d` in the first layer)."""
        C_W = self.layer_variances(l, values)[0]
        return C_W / self._resolve(self.fan_in(l), values)

    def bias_variance(self, l: int, values: Mapping | None = None):
        r"""The variance :math:`C_b^{(l)}` of one bias :math:`b^{(l)}_i`."""
        return self.layer_variances(l, values)[1]

    # ------------------------------------------------------------------ the kernel map (infinite width)
    def input_kernel(self, xy, n0=None, values: Mapping | None = None):
        r"""The first layer's preactivation kernel :math:`K^{(1)} = C_b^{(0)} + C_W^{(0)}\,x\cdot x'/n_0`.

        ``xy`` is :math:`x\cdot x'` (a sympy expression or an array); ``n0`` the input dimension
        (default ``d``; give the number when ``d`` is a Symbol and ``xy`` is numeric); ``values``
        (by symbol name) make the variances floats, for numpy arrays.

        >>> import sympy as sp
        >>> DeepMLP(sp.erf, 1, 2).input_kernel(sp.Symbol("xy"))
        sigma_W**2*xy/2 + sigma_b**2
        """
        C_W, C_b = self.layer_variances(0, values)
        return C_b + C_W * xy / (self.d if n0 is None else n0)

    def kernel_step(self, l: int, moment, values: Mapping | None = None):
        r"""One layer of the NNGP recursion, :math:`K^{(l+1)} = C_b^{(l)} + C_W^{(l)}\,E[f_l(u)f_l(v)]`
        with :math:`(u,v)\sim\mathcal N(0, K^{(l)})`, for :math:`l = 1, \dots, L`; ``moment`` is
        :math:`E[f_l(u)f_l(v)]` (symbolic or an array).

        >>> import sympy as sp
        >>> DeepMLP(sp.erf, 2, 2).kernel_step(2, sp.Symbol("P"))
        P*sigma_W**2 + sigma_b**2
        """
        self._check_layer(l, 1, self.depth)
        C_W, C_b = self.layer_variances(l, values)
        return C_b + C_W * moment

    def ntk_step(self, l: int, kernel, theta, derivative_moment, values: Mapping | None = None):
        r"""One layer of the NTK recursion (NTK parameterisation),
        :math:`\Theta^{(l+1)} = K^{(l+1)} + C_W^{(l)}\,\Theta^{(l)}\,E[f_l'(u)f_l'(v)]`,
        for :math:`l = 1, \dots, L`; ``kernel`` is :math:`K^{(l+1)}` (from :meth:`kernel_step`),
        ``theta`` is :math:`\Theta^{(l)}` (:math:`\Theta^{(1)} = K^{(1)}`). Raises
        :class:`~nnsym.DivergentExpectation` for the standard parameterisation (see :meth:`check_ntk`).

        >>> import sympy as sp
        >>> K, T, Pd = sp.symbols("K T Pd")
        >>> DeepMLP(sp.erf, 1, 2, parameterisation="ntk").ntk_step(1, K, T, Pd)
        K + Pd*T*sigma_W**2
        """
        self._check_layer(l, 1, self.depth)
        self.check_ntk()
        C_W = self.layer_variances(l, values)[0]
        return kernel + C_W * theta * derivative_moment

    def check_ntk(self) -> None:
        r"""Refuse the infinite-width NTK of the standard parameterisation: there
        :math:`\partial\phi/\partial W^{(l)}_{ij} = f(z^{(l)}_j)`, and the sum over the :math:`n_l`
        weights of a row grows like :math:`n_l` (no limit); the NTK parameterisation divides it by
        :math:`n_l`. Raises :class:`~nnsym.DivergentExpectation` unless ``parameterisation == "ntk"``."""
        if self.parameterisation != "ntk":
            raise DivergentExpectation(
                "the infinite-width NTK of the standard parameterisation does not exist (it grows like the "
                "widths); the NTK recursion is that of the NTK parameterisation: build the spec with "
                "parameterisation='ntk' (the same network at initialisation, the same NNGP)")

    # ------------------------------------------------------------------ the network itself
    def network(self) -> Network:
        r"""The one-hidden-layer network (``depth == 1``) as an :class:`~nnsym.Network` of width
        :math:`n_1` (standard parameterisation):
        :math:`\phi(x) = \sum_{i\le n_1} W^{(1)}_i f_1(W^{(0)}_i\cdot x + b^{(0)}_i) + b^{(1)}` with
        parameters ``W0`` (:math:`\mathcal N(0, C_W^{(0)}/d)` per component), ``b0``, ``W1``
        (:math:`\mathcal N(0, C_W^{(1)}/n_1)`) and the output bias ``b1``; a bias whose
        :math:`\sigma_b` is 0 is left out. Its correlators come from the engine, exactly.

        >>> import sympy as sp
        >>> N = sp.Symbol("N", positive=True, integer=True)
        >>> net = DeepMLP(sp.erf, 1, 2, widths=N).network()
        >>> net.neuron, net.readout, net.width, net.bias
        (erf(b0 + Dot(W0, x)), W1, N, b1)
        """
        if self.depth != 1:
            raise ValueError(f"DeepMLP.network() builds one-hidden-layer networks (a Network has one layer of "
                             f"i.i.d. neurons); this spec has depth {self.depth}: use sample() or DeepKernel")
        if self.parameterisation != "standard":
            raise ValueError("DeepMLP.network() writes the network in the standard parameterisation (the same "
                             "network at initialisation): use spec.replace(parameterisation='standard')")
        n1 = self.widths[0]
        if n1 is sp.oo:
            raise ValueError("DeepMLP.network() needs a finite width n_1 (an int or a Symbol), this spec has "
                             "infinite width: use spec.replace(widths=N)")
        x = Input("x", self.d)
        (C_W0, C_b0), (C_W1, C_b1) = self.layer_variances(0), self.layer_variances(1)
        W1 = Normal("W1", 0, C_W1 / n1)
        W0 = Normal("W0", 0, C_W0 / self.d, shape=self.d)
        z = W0.dot(x)
        if not sp.sympify(C_b0).is_zero:
            z = z + Normal("b0", 0, C_b0)
        bias = None if sp.sympify(C_b1).is_zero else Normal("b1", 0, C_b1)
        return Network(self.activation[0](z), readout=W1, width=n1, input=x, bias=bias)

    def sample(self, X, samples: int, seed: int | None = 0, widths=None, chunk: int = 256, **values) -> np.ndarray:
        r"""Outputs :math:`\phi(x_m)` of ``samples`` independent networks drawn from this spec at the
        points ``X`` (shape (M, d)): an array (samples, M).

        Each network draws :math:`W^{(l)}_{ij}\sim\mathcal N(0, (\sigma_W^{(l)})^2/n_l)` and
        :math:`b^{(l)}_i\sim\mathcal N(0, (\sigma_b^{(l)})^2)` layer by layer (a bias with
        :math:`\sigma_b = 0` is not drawn) and applies :math:`f_l` elementwise. ``widths``
        overrides the spec's widths (needed when they are infinite); symbolic widths, variances
        and activation parameters take ``values`` by name. ``chunk`` networks are drawn at once.

        >>> import numpy as np, sympy as sp
        >>> spec = DeepMLP(sp.tanh, 2, 2, widths=8, sigma_W=1.0, sigma_b=0.0)
        >>> spec.sample(np.eye(2), samples=5, seed=1).shape
        (5, 2)
        """
        X = as_points(X, "X")
        if X.ndim != 2:
            raise ValueError(f"X must have shape (M, d), got {X.shape}")
        M, d = X.shape
        if self.d.is_Integer and d != int(self.d):
            raise ValueError(f"X must have shape (M, {self.d}), got {X.shape}")
        for name, v in (("samples", samples), ("chunk", chunk)):
            if isinstance(v, (bool, np.bool_)) or not isinstance(v, numbers.Integral) or v < 1:
                raise ValueError(f"DeepMLP.sample: {name} must be an integer >= 1, got {v!r}")
        ns_ = [d] + self._sample_widths(widths, values)
        sW = [float(self._number(s, values)) for s in self.sigma_W]
        sb = [float(self._number(s, values)) for s in self.sigma_b]
        fs = [self._numpy_activation(l, values) for l in range(1, self.depth + 1)]
        rng = np.random.default_rng(seed)
        out = np.empty((samples, M))
        for s0 in range(0, samples, chunk):
            S = min(chunk, samples - s0)
            W = rng.normal(0, sW[0] / math.sqrt(d), (S, ns_[1], d))
            b = rng.normal(0, sb[0], (S, ns_[1], 1)) if sb[0] > 0 else 0.0
            h = np.einsum("swd,md->swm", W, X) + b
            for l in range(1, self.depth):
                W = rng.normal(0, sW[l] / math.sqrt(ns_[l]), (S, ns_[l + 1], ns_[l]))
                b = rng.normal(0, sb[l], (S, ns_[l + 1], 1)) if sb[l] > 0 else 0.0
                h = np.einsum("svw,swm->svm", W, fs[l - 1](h)) + b
            L = self.depth
            Wout = rng.normal(0, sW[L] / math.sqrt(ns_[L]), (S, ns_[L]))
            bout = rng.normal(0, sb[L], (S, 1)) if sb[L] > 0 else 0.0
            out[s0:s0 + S] = np.einsum("sw,swm->sm", Wout, fs[L - 1](h)) + bout
        return out

    # ------------------------------------------------------------------ helpers
    def _check_layer(self, l, lo: int, hi: int) -> None:
        if isinstance(l, bool) or not isinstance(l, numbers.Integral) or not lo <= l <= hi:
            raise ValueError(f"DeepMLP: layer index must be an integer in {lo}..{hi}, got {l!r}")

    @staticmethod
    def _number(expr, values: Mapping):
        """``expr`` at the named ``values`` as a float (a plain number is returned as a float)."""
        expr = sp.sympify(expr)
        subs = check_values(sorted(expr.free_symbols, key=sp.default_sort_key), values, "DeepMLP")
        return float(expr.subs(subs))

    def _resolve(self, n, values: Mapping | None):
        if values is None or not isinstance(n, sp.Basic) or n.is_Number:
            return n
        return int(self._number(n, values))

    def _sample_widths(self, widths, values: Mapping) -> list:
        ws = self.widths if widths is None else tuple(
            _width(n, l) for l, n in enumerate(_per_layer(widths, self.depth, "widths"), start=1))
        out = []
        for l, n in enumerate(ws, start=1):
            if n is sp.oo:
                raise ValueError(f"DeepMLP.sample: the width n_{l} is infinite; give finite widths (widths=...)")
            out.append(int(self._resolve(sp.sympify(n), values)))
        return out

    def _numpy_activation(self, l: int, values: Mapping) -> Callable:
        z = sp.Dummy("z", real=True)
        fz = self.activation_expr(l, z)
        hyper = sorted(fz.free_symbols - {z}, key=sp.default_sort_key)
        if hyper:
            fz = fz.subs(check_values(hyper, values, "DeepMLP.sample"))
        return sp.lambdify([z], fz, modules=["scipy", "numpy"])


MLP = DeepMLP
"""Alias of :class:`DeepMLP`."""
