r"""Infinite-width kernels (NNGP, NTK), the NTK of a single-layer network, and kernel inference.

**Deep networks.** The network is specified once, by a :class:`~nnsym.model.deep.DeepMLP`
(the layer map below is written there); :class:`DeepKernel` and :func:`sample_deep_mlp` are
views of it. An MLP with L hidden layers of width N, activation f,
:math:`z^{1} = W^{0}x + b^{0}`, :math:`z^{l+1} = W^{l} f(z^{l}) + b^{l}`, weights of variance
:math:`\sigma_W^2/\mathrm{fan\_in}` (:math:`\sigma_W^2/d` in the first layer) and biases
:math:`\sigma_b^2`. At infinite width the output is a Gaussian process with

.. math:: K^{1}(x,x') = \sigma_b^2 + \sigma_W^2\,x\cdot x'/d,\qquad
          K^{l+1} = \sigma_b^2 + \sigma_W^2\,E_{(u,v)\sim\mathcal N(0,K^{l})}[f(u)f(v)],

and (NTK parameterisation, Jacot et al.)
:math:`\Theta^{1} = K^{1}`, :math:`\Theta^{l+1} = K^{l+1} + \sigma_W^2\,\Theta^{l}\,E[f'(u)f'(v)]`.
The pair expectations are the engine's closed forms (:func:`nnsym.engine.gaussian.pair_expectation`):
they compose symbolically for ReLU, erf, sign, Heaviside and every activation that is piecewise
polynomial with its kink at 0 (Abs, leaky ReLU, ...); otherwise the recursion runs numerically
(two-dimensional Gauss-Legendre panels per layer, split at the activation's kinks) and the kernel
says so, with a stated error.

**Single-layer NTK** of any :class:`~nnsym.Network` (standard parameterisation, as written):
:math:`\Theta(x,x') = E[\sum_\theta \partial_\theta\phi(x)\,\partial_\theta\phi(x')]`
by sympy differentiation of the neuron and the expectation engine; the empirical NTK of a
sampled network; the frozen-NTK solution of gradient descent with MSE loss (Leung, eq. 2.51)
:math:`\phi_\infty(x) = \phi_0(x) + \Theta(x,X)\Theta(X,X)^{-1}(y-\phi_0(X))`;
and the NNGP posterior mean and variance.
"""
from __future__ import annotations

import warnings

import numpy as np
import sympy as sp

from ..core.random import RandomSymbol
from ..core.vectors import Dot, ScalarPoint, VectorSymbol, expand_dot
from ..engine.expectation import expectation
from ..engine.gaussian import pair_expectation
from ..engine.piecewise import kink_points
from ..errors import DivergentExpectation, NoClosedForm, NumericWarning
from ..model.correlator import Correlator
from ..model.deep import DeepMLP
from ..model.network import Input, Network, tidy
from ..numeric.bindings import Bindings
from ..numeric.kernels import as_points, compile_kernel
from ..numeric.quadrature import (
    KINKED_FUNCTIONS,
    PANEL_NODES,
    PANEL_NODES_CHECK,
    gauss1_kinked,
    gauss2_kinked,
    smooth_pair_moments,
)
from ..sampling.sampler import NetworkSampler

__all__ = ["DeepKernel", "deep_kernels", "ntk", "empirical_ntk", "ntk_predict", "gp_posterior", "sample_deep_mlp"]


class _LayerMoments:
    r"""The two Gaussian pair moments one hidden layer's activation :math:`f` feeds the recursions:
    :math:`P = E[f(u)f(v)]` and :math:`P' = E[f'(u)f'(v)]`,
    :math:`(u,v)\sim\mathcal N(0, [[k_{11},k_{12}],[k_{12},k_{22}]])`,
    in closed form when the engine has one (else None), and their values on the diagonal
    :math:`k_{11} = k_{12} = k_{22} = k` (:math:`E[f(u)^2]`, :math:`E[f'(u)^2]`, :math:`u\sim\mathcal N(0,k)`).
    :meth:`DeepKernel._layer_kernel` compiles them, with a layer's step, into numpy kernels."""

    def __init__(self, f, u, k):
        k11, k12, k22 = k
        self.f = f
        self.k = k
        self.fz = sp.sympify(f(u))
        self.fpz = sp.diff(self.fz, u)
        # f' with a Dirac delta (sign, Heaviside, a jump): E[f'(u)^2] = oo, the NTK does not exist
        self.ntk_divergent = self.fpz.has(sp.DiracDelta)
        self.P = pair_expectation(f, k11, k12, k22)
        self.Pd = None if self.ntk_divergent else pair_expectation(sp.Lambda(u, self.fpz), k11, k12, k22)

    def diagonal(self, expr, kk):
        """``expr`` (P or Pd) at :math:`k_{11} = k_{12} = k_{22} =` ``kk`` (xreplace: no re-simplification)."""
        k11, k12, k22 = self.k
        return expr.xreplace({k11: kk, k12: kk, k22: kk})

    def hyper(self) -> set:
        """The symbols of the closed forms other than the k's (parameters of the activation)."""
        out = set()
        for e in (self.P, self.Pd):
            if e is not None:
                out |= e.free_symbols
        return out - set(self.k)


class _NumericMoments:
    r"""The pair moments of an activation without closed form, by quadrature: :math:`E[f(u)f(v)]`,
    :math:`E[f'(u)f'(v)]` (and on the diagonal) with ``n`` Gauss-Legendre nodes per panel.
    Smooth activations (no kinks in :math:`f`, :math:`f'`): one whitened tensor grid for every pair
    (:func:`nnsym.numeric.quadrature.smooth_pair_moments`); kinked ones: panels split at the kinks
    (:func:`nnsym.numeric.quadrature.gauss2_kinked`), pairs in chunks."""

    PAIR_CHUNK = 256  # pairs per call of gauss2_kinked: bounds its temporaries

    def __init__(self, m: "_LayerMoments", u):
        extra = (m.fz.free_symbols | m.fpz.free_symbols) - {u}
        if extra:
            raise ValueError(f"the activation {m.fz} has free symbols {sorted(map(str, extra))}: "
                             "give it numbers (the numeric recursion needs a numeric activation)")
        mods = [{"Heaviside": lambda x, h0=0.5: np.heaviside(x, h0)}, "scipy", "numpy"]
        self.f = sp.lambdify([u], m.fz, modules=mods)
        self.fp = None if m.ntk_divergent else sp.lambdify([u], m.fpz, modules=mods)
        self.kf, self.kfp = _float_kinks(m.fz, u), _float_kinks(m.fpz, u)
        self.smooth = not (m.fz.has(*KINKED_FUNCTIONS) or m.fpz.has(*KINKED_FUNCTIONS) or self.kf or self.kfp)

    def pair(self, k11, k12, k22, n: int, ntk: bool):
        """(P, Pd) at the arrays k11, k12, k22 (same shape); Pd is None unless ``ntk``."""
        funs = [self.f, self.fp] if ntk else [self.f]
        if self.smooth:
            out = smooth_pair_moments(funs, k11, k12, k22, n)
            return out[0], (out[1] if ntk else None)
        a, c, b = (np.ravel(t) for t in np.broadcast_arrays(k11, k12, k22))
        sa, sb = np.sqrt(a), np.sqrt(b)
        with np.errstate(divide="ignore", invalid="ignore"):
            rho = np.clip(np.where(sa * sb > 0, c / (sa * sb), 0.0), -1.0, 1.0)
        L = np.zeros(a.shape + (2, 2))
        L[:, 0, 0] = sa
        L[:, 1, 0] = sb * rho
        L[:, 1, 1] = sb * np.sqrt(1 - rho**2)
        res = []
        for fun, kinks in ((self.f, self.kf), (self.fp, self.kfp))[:len(funs)]:
            g = (lambda p, q, fun=fun: fun(p) * fun(q))
            vals = np.empty(a.shape)
            for s0 in range(0, a.size, self.PAIR_CHUNK):
                sl = slice(s0, s0 + self.PAIR_CHUNK)
                vals[sl] = gauss2_kinked(g, np.zeros((vals[sl].size, 2)), L[sl], [kinks, kinks], n,
                                         chunk_nodes=1_000_000)
            res.append(vals.reshape(np.shape(k12)))
        return res[0], (res[1] if ntk else None)

    def diag(self, k, n: int, ntk: bool):
        """(E[f(u)^2], E[f'(u)^2]) at the variances ``k``; the second None unless ``ntk``."""
        s = np.sqrt(k)
        P = gauss1_kinked(lambda z: self.f(z) ** 2, np.zeros_like(k), s, self.kf, n)
        Pd = gauss1_kinked(lambda z: self.fp(z) ** 2, np.zeros_like(k), s, self.kfp, n) if ntk else None
        return P, Pd


class DeepKernel:
    r"""NNGP kernel :math:`K^{(L+1)}` and NTK :math:`\Theta^{(L+1)}` of a depth-L MLP.

    A view of one :class:`~nnsym.model.deep.DeepMLP` (``.spec``; here in the NTK
    parameterisation, infinite width): the recursions
    :math:`K^{(l+1)} = C_b^{(l)} + C_W^{(l)}E[f_l(u)f_l(v)]`,
    :math:`\Theta^{(l+1)} = K^{(l+1)} + C_W^{(l)}\Theta^{(l)}E[f_l'(u)f_l'(v)]` are the spec's
    (:meth:`~nnsym.model.deep.DeepMLP.kernel_step`, :meth:`~nnsym.model.deep.DeepMLP.ntk_step`).
    :meth:`from_spec` takes any spec (activations and variances per layer; its widths are ignored:
    the kernels are the infinite-width limit).

    ``.nngp`` and ``.ntk`` are :class:`~nnsym.Correlator` objects in two points
    when the recursion composes in closed form (``.symbolic`` is True), for printing and shallow
    depth (the composed expression grows about threefold per layer). The numbers come from the layer map
    instead: :meth:`evaluate_nngp`, :meth:`evaluate_ntk` (point pairs), :meth:`gram` (all pairs of a point
    set, or two sets) and :meth:`diagonal` compile, once per distinct activation, the pair moments
    :math:`P_l(k_{11}, k_{12}, k_{22}) = E[f_l(u)f_l(v)]` and :math:`P'_l = E[f_l'(u)f_l'(v)]` (with the
    layer's step, and on the diagonal :math:`k_{11} = k_{12} = k_{22}`) as numpy kernels and apply them
    layer by layer,

    .. math:: K^{(l+1)}_{ij} = C_b^{(l)} + C_W^{(l)}P_l\big(K^{(l)}_{ii}, K^{(l)}_{ij}, K^{(l)}_{jj}\big),\qquad
              \Theta^{(l+1)}_{ij} = K^{(l+1)}_{ij} + C_W^{(l)}\,\Theta^{(l)}_{ij}\,
              P'_l\big(K^{(l)}_{ii}, K^{(l)}_{ij}, K^{(l)}_{jj}\big),

    the diagonal :math:`K^{(l)}_{ii}` once per point; they equal the composed closed form to rounding
    and cost no tree walk per call. Without a closed form the pair moments are quadratures (Gauss-Legendre
    panels; one whitened grid for smooth activations, kink-split panels otherwise; two rules, and a
    :class:`~nnsym.numeric.kernels.NumericWarning` whose ``.error``, their difference, bounds the error).
    Closed forms: the
    engine's table (ReLU, erf, rectified monomials, sign, Heaviside) and every activation that is
    piecewise polynomial with its kink at 0 (Abs, leaky ReLU ``Max(a z, z)``, ``Min(0, z)``, a
    Piecewise of such), through :func:`nnsym.engine.gaussian.pair_expectation`. The numeric recursion
    splits its panels at the kinks of the activation, wherever they are
    (:func:`nnsym.engine.piecewise.kink_points`). When :math:`f'` is a distribution (sign, Heaviside: a
    Dirac delta) the NTK does not exist and asking for it raises
    :class:`~nnsym.DivergentExpectation`; the NNGP is still there.

    >>> import sympy as sp
    >>> K = DeepKernel(lambda z: sp.Max(0, z), depth=1, d=1)
    >>> K.symbolic, K.nngp.n
    (True, 2)
    >>> K.spec.parameterisation, K.spec.widths
    ('ntk', (oo,))
    >>> import numpy as np
    >>> X = np.array([[1.0], [-0.5], [2.0]])
    >>> G = K.gram(X, sigma_W=1.0, sigma_b=0.0)  # ReLU, one layer: |x||x'| (sin t + (pi - t) cos t)/(2 pi)
    >>> bool(np.allclose(G, [[0.5, 0.0, 1.0], [0.0, 0.125, 0.0], [1.0, 0.0, 2.0]], rtol=1e-14, atol=1e-15))
    True
    """

    def __init__(self, activation, depth: int, d, sigma_W=None, sigma_b=None):
        self._build(DeepMLP(activation, depth, d, widths=None, sigma_W=sigma_W, sigma_b=sigma_b,
                            parameterisation="ntk"))

    @classmethod
    def from_spec(cls, spec: DeepMLP) -> "DeepKernel":
        r"""The infinite-width kernels of the MLP ``spec`` (a :class:`~nnsym.model.deep.DeepMLP`;
        its finite widths, if any, are ignored). The NTK needs ``parameterisation="ntk"``.

        >>> import sympy as sp
        >>> from nnsym.model.deep import DeepMLP
        >>> spec = DeepMLP([sp.erf, lambda z: sp.Max(0, z)], depth=2, d=2, parameterisation="ntk")
        >>> DeepKernel.from_spec(spec).symbolic
        True
        """
        if not isinstance(spec, DeepMLP):
            raise TypeError(f"DeepKernel.from_spec needs a DeepMLP, got {spec!r}")
        self = cls.__new__(cls)
        self._build(spec)
        return self

    def _build(self, spec: DeepMLP) -> None:
        self.spec = spec
        self.depth = spec.depth
        self.f = spec.activation[0]
        uniform = lambda t: t[0] if len(set(t)) == 1 else t
        self.sigma_W = uniform(spec.sigma_W)
        self.sigma_b = uniform(spec.sigma_b)
        x = Input("x", spec.d)
        self.dim = x.dim
        self.points = (ScalarPoint("x_1"), ScalarPoint("x_2")) if isinstance(x, ScalarPoint) else (
            VectorSymbol("x_1", x.dim), VectorSymbol("x_2", x.dim))
        k11, k22 = sp.symbols("k11 k22", positive=True)
        k12 = sp.Symbol("k12", real=True)
        u = sp.Dummy("u", real=True)
        self._u = u
        self._k = (k11, k12, k22)
        # one set of pair moments per distinct activation; self._layers[l - 1] serves hidden layer l
        distinct = {}
        self._layers = []
        for f in spec.activation:
            fz = sp.sympify(f(u))
            if fz not in distinct:
                distinct[fz] = _LayerMoments(f, u, self._k)
            self._layers.append(distinct[fz])
        self._distinct = list(distinct.values())
        self._ntk_divergent = any(m.ntk_divergent for m in self._distinct)
        self._nngp_closed = all(m.P is not None for m in self._distinct)
        self.symbolic = all(m.P is not None and (m.Pd is not None or m.ntk_divergent) for m in self._distinct)
        self._nngp = self._ntk = None
        self._steps = None  # the compiled layer map, built at the first evaluation
        self._last_bound = (None, None)  # the last values checked, and their numbers

    @property
    def _activation_text(self) -> str:
        fzs = [m.fz for m in self._distinct]
        return str(fzs[0]) if len(fzs) == 1 else "[" + ", ".join(str(m.fz) for m in self._layers) + "]"

    @property
    def nngp(self) -> Correlator:
        """The NNGP kernel as a Correlator (closed form); AttributeError when there is none."""
        if not self._nngp_closed:
            raise AttributeError(f"the NNGP of {self._activation_text} has no closed form: use evaluate_nngp (numeric)")
        if self._nngp is None:
            self._nngp = Correlator(self._recursion(ntk=False)[0], self.points, self.dim, name="K")
        return self._nngp

    @property
    def ntk(self) -> Correlator:
        """The NTK as a Correlator (closed form); DivergentExpectation when f' is a distribution (or the
        spec is in the standard parameterisation), AttributeError when there is no closed form."""
        self._refuse_divergent_ntk()
        if not self.symbolic:
            raise AttributeError(f"the NTK of {self._activation_text} has no closed form: use evaluate_ntk (numeric)")
        if self._ntk is None:
            self._ntk = Correlator(self._recursion(ntk=True)[1], self.points, self.dim, name="Theta")
        return self._ntk

    def latex(self, style: str = "inline", label: str | None = None, *, form: str = "recursion",
              distances: str = "abs", prefactor: bool = True, width: float | None = None) -> str:
        r"""The NNGP kernel :math:`K^{(L+1)}` and the NTK :math:`\Theta^{(L+1)}` in LaTeX, through the
        printer of :meth:`nnsym.Correlator.latex` (:mod:`nnsym.model.latex`, same ``style``,
        ``distances``, ``prefactor``, ``width``).

        ``form="recursion"`` (default) writes them layer by layer, as in a paper, with
        :math:`K^{(l)}_{ij} \equiv K^{(l)}(x_i, x_j)`:
        :math:`K^{(1)}_{ij} = C_b^{(0)} + C_W^{(0)} x_i\cdot x_j/d`, then
        :math:`K^{(l+1)}_{ij} = C_b^{(l)} + C_W^{(l)}E[f(u)f(v)]` in closed form in
        :math:`K^{(l)}_{ii}, K^{(l)}_{ij}, K^{(l)}_{jj}`, and
        :math:`\Theta^{(l+1)}_{ij} = K^{(l+1)}_{ij} + C_W^{(l)}\Theta^{(l)}_{ij}E[f'(u)f'(v)]`
        (left out when the NTK does not exist). ``form="closed"`` writes :attr:`nngp` and
        :attr:`ntk` fully composed (long already at depth 2).

        With ``style="align"`` the rows of :math:`K^{(L+1)}` and :math:`\Theta^{(L+1)}` are
        numbered, labelled ``<label>-nngp`` and ``<label>-ntk``.

        Raises :class:`~nnsym.NoClosedForm` when the recursion has no closed form (an activation
        without closed-form pair moments: use :meth:`evaluate_nngp`).

        >>> import sympy as sp
        >>> first = DeepKernel(sp.erf, depth=1, d=2).latex(distances="x_ij").split(r",\qquad ")[0]
        >>> print(first.split(r" \qquad")[0])
        K^{(1)}_{ij} = \frac{\sigma_{W}^{2} x_{i} \cdot x_{j}}{2} + \sigma_{b}^{2}
        >>> tex = DeepKernel(sp.erf, depth=2, d=2).latex("align", label="eq:erf")
        >>> [line.split("&=")[0].strip() for line in tex.splitlines() if r"\label" in line or "&=" in line][-2:]
        ['\\Theta^{(2)}_{ij}', '\\Theta^{(3)}_{ij}']
        >>> r"\label{eq:erf-nngp}" in tex and r"\label{eq:erf-ntk}" in tex
        True
        """
        from ..model.latex import LINE_WIDTH, Row, equations

        if form not in ("recursion", "closed"):
            raise ValueError(f"form must be 'recursion' or 'closed', got {form!r}")
        if not self._nngp_closed:
            raise NoClosedForm(f"the NNGP of {self._activation_text} has no closed form to print: "
                               "evaluate_nngp computes it numerically")
        try:
            self._refuse_divergent_ntk()
            has_ntk = self.symbolic
        except DivergentExpectation:
            has_ntk = False
        L = self.depth
        tag = (lambda kind: f"{label}-{kind}") if label is not None else (lambda kind: None)
        opts = dict(distances=distances, prefactor=prefactor, width=width or LINE_WIDTH)
        if form == "closed":
            rows = [Row(r"K^{(%d)}(x_{1}, x_{2})" % (L + 1), self.nngp.expr, self.points, tag("nngp"))]
            if has_ntk:
                rows.append(Row(r"\Theta^{(%d)}(x_{1}, x_{2})" % (L + 1), self.ntk.expr, self.points, tag("ntk")))
            return equations(rows, style, **opts, points=self.points)
        scalar = isinstance(self.points[0], ScalarPoint)
        xi, xj = (ScalarPoint("x_i"), ScalarPoint("x_j")) if scalar else (
            VectorSymbol("x_i", self.dim), VectorSymbol("x_j", self.dim))
        names: dict = {}

        def layer(kind: str, l: int, ab: str) -> sp.Symbol:  # K^{(l)}_{ab}, Theta^{(l)}_{ab}
            name = f"z{kind}{l}_{ab}"  # z: after the hyper-parameters in sympy's order of factors
            sym = sp.Symbol(name, positive=True) if ab != "ij" else sp.Symbol(name, real=True)
            names[sym] = r"%s^{(%d)}_{%s}" % (r"\Theta" if kind == "T" else "K", l, ab)
            return sym

        k11, k12, k22 = self._k
        subs = [{k11: layer("K", l, "ii"), k12: layer("K", l, "ij"), k22: layer("K", l, "jj")} for l in range(1, L + 1)]
        first = self.spec.input_kernel(xi * xj if scalar else Dot(xi, xj))
        rows = [Row(r"K^{(1)}_{ij}", first, (xi, xj), None, L == 0,
                    r" \qquad \big(K^{(l)}_{ij} \equiv K^{(l)}(x_{i}, x_{j})\big)")]
        for l, (m, sub) in enumerate(zip(self._layers, subs), start=1):
            rows.append(Row(r"K^{(%d)}_{ij}" % (l + 1), self.spec.kernel_step(l, m.P.xreplace(sub)),
                            tuple(sub.values()), tag("nngp") if l == L else None, l == L))
        if has_ntk:
            rows.append(Row(r"\Theta^{(1)}_{ij}", layer("K", 1, "ij"), (), None, False))
            for l, (m, sub) in enumerate(zip(self._layers, subs), start=1):
                K_next, T = layer("K", l + 1, "ij"), layer("T", l, "ij")
                rows.append(Row(r"\Theta^{(%d)}_{ij}" % (l + 1),
                                self.spec.ntk_step(l, K_next, T, m.Pd.xreplace(sub)),
                                tuple(sub.values()) + (K_next, T), tag("ntk") if l == L else None, l == L))
        return equations(rows, style, **opts, symbol_names=names)

    def _refuse_divergent_ntk(self):
        self.spec.check_ntk()
        for m in self._distinct:
            if m.ntk_divergent:
                raise DivergentExpectation(
                    f"the NTK of the activation {m.fz} does not exist: its derivative {m.fpz} is a "
                    "distribution (a Dirac delta at a jump), so E[f'(u) f'(v)] is infinite at x = x' "
                    "(E[delta(u)^2] = oo); the NNGP (evaluate_nngp, .nngp) exists")

    def _recursion(self, ntk: bool = True):
        k11, k12, k22 = self._k
        spec = self.spec
        x1, x2 = self.points
        dot = (lambda a, b: a * b) if isinstance(x1, ScalarPoint) else Dot
        K11, K12, K22 = (spec.input_kernel(dot(a, b)) for a, b in ((x1, x1), (x1, x2), (x2, x2)))
        T12 = K12
        for l, m in enumerate(self._layers, start=1):
            diag = lambda kk: m.diagonal(m.P, kk)
            sub = {k11: K11, k12: K12, k22: K22}
            P = m.P.xreplace(sub)
            K12_next = spec.kernel_step(l, P)
            if ntk:
                T12 = spec.ntk_step(l, K12_next, T12, m.Pd.xreplace(sub))
            K12 = K12_next
            K11, K22 = spec.kernel_step(l, diag(K11)), spec.kernel_step(l, diag(K22))
        return K12, (T12 if ntk else None)

    # ------------------------------------------------------------------ the layer map, in numpy
    _BLOCK = 1 << 16  # pairs per block of the layer map: bounds the temporaries (~0.5 MB each)

    def _value_symbols(self) -> list:
        """The symbols the evaluations take values for: the variances' (every layer), the activations'
        parameters and a symbolic ``d`` (any other keyword is refused as a misspelling)."""
        if self._steps is not None:
            return self._steps[-1]
        syms = set()
        for s in self.spec.sigma_W + self.spec.sigma_b:
            syms |= sp.sympify(s).free_symbols
        for m in self._distinct:
            syms |= (m.fz.free_symbols - {self._u}) | m.hyper()
        if not self.dim.is_Integer:
            syms.add(self.dim)
        return sorted((s for s in syms if not isinstance(s, sp.Dummy)), key=sp.default_sort_key)

    def _compile_steps(self) -> tuple:
        r"""What every evaluation needs, built once: the hyper-parameters in the compiled order, the input
        kernel :math:`K^{(1)}(x\cdot x', n_0)` as a numpy function, and the value symbols."""
        if self._steps is None:
            hyper = [s for s in self._value_symbols() if s != self.dim]
            xy, n0 = sp.symbols("xy n0", real=True)
            self._steps = (hyper, compile_kernel([xy, n0] + hyper, self.spec.input_kernel(xy, n0)), {},
                           self._value_symbols())
        return self._steps

    def _bind(self, values, D: int):
        """The named ``values`` checked once (unknown names refused, as :meth:`nnsym.Correlator.bind`;
        a symbolic d is read off the points) and the hyper-parameters as numbers, in the compiled order."""
        hyper = self._compile_steps()[0]
        try:  # the same plain numbers as last time: checked then
            key = (D,) + tuple(sorted((k, type(v), v) for k, v in values.items()))
            hash(key)
        except TypeError:
            key = None
        if key is not None and key == self._last_bound[0]:
            return self._last_bound[1]
        b = Bindings(values, self._value_symbols(), "evaluate")
        if not self.dim.is_Integer:
            if self.dim.name in b and b[self.dim.name] != D:
                raise ValueError(f"{self.dim.name} = {b[self.dim.name]} disagrees with the points' last axis {D}")
            b = b.with_values(**{self.dim.name: D})
        elif D != int(self.dim):
            raise ValueError(f"points must have dimension d = {self.dim}, got {D}")
        got = b.require(hyper, "evaluate")
        hv = [got[h] for h in hyper]
        if key is not None:
            self._last_bound = (key, hv)
        return hv

    def _layer_kernel(self, l: int, m: "_LayerMoments", kind: str):
        r"""Layer ``l``'s map as one compiled numpy function (cached by its expression, so layers alike share it):

        * ``"pair"``: :math:`(k_{11}, k_{12}, k_{22}) \mapsto K^{(l+1)}_{12} = C_b^{(l)} + C_W^{(l)}P`;
        * ``"pair-ntk"``: :math:`(k_{11}, k_{12}, k_{22}, \Theta) \mapsto (K^{(l+1)}_{12}, K^{(l+1)}_{12} +
          C_W^{(l)}\Theta P')`;
        * ``"diag"``, ``"diag-ntk"``: the same at :math:`k_{11} = k_{12} = k_{22} = k` (:math:`P` and :math:`P'`
          simplified there: exact at coincident points);
        * ``"step"``, ``"step-ntk"``: the spec's steps alone, of :math:`(P, P', \Theta)`, for the quadrature.

        The steps are the spec's (:meth:`~nnsym.model.deep.DeepMLP.kernel_step`,
        :meth:`~nnsym.model.deep.DeepMLP.ntk_step`), composed with the pair moments in sympy for one layer."""
        hyper, _, cache, _ = self._compile_steps()
        if (l, kind) in cache:
            return cache[(l, kind)]
        spec = self.spec
        T, p, pd = sp.symbols("T p pd", real=True)
        if kind.startswith("step"):
            args, P, Pd = [p, pd, T], p, pd
        elif kind.startswith("pair"):
            args, P, Pd = list(self._k) + [T], m.P, m.Pd
        else:
            kk = sp.Symbol("kk", positive=True)
            args, P, Pd = [kk, T], m.diagonal(m.P, kk), (None if m.Pd is None else m.diagonal(m.Pd, kk))
        if kind.endswith("ntk"):
            Kn = spec.kernel_step(l, P)
            expr = sp.Tuple(Kn, spec.ntk_step(l, Kn, T, Pd))
        else:
            expr = spec.kernel_step(l, P)
        key = (tuple(args), expr)
        if key not in cache:
            cache[key] = compile_kernel(args + hyper, expr)
        cache[(l, kind)] = cache[key]
        return cache[key]

    def _layers_at(self, hv, rule, ntk: bool):
        """Per hidden layer, its map as numpy functions with the hyper-parameters ``hv`` bound: the compiled
        closed forms (``rule`` None) or the quadrature with ``rule`` nodes per panel."""
        out = []
        for l, m in enumerate(self._layers, start=1):
            tail = "-ntk" if ntk else ""
            if rule is None:
                out.append(_ClosedLayer(self._layer_kernel(l, m, "pair" + tail),
                                        self._layer_kernel(l, m, "diag" + tail), hv, ntk))
            else:
                if getattr(m, "numeric", None) is None:
                    m.numeric = _NumericMoments(m, self._u)
                out.append(_QuadLayer(m.numeric, rule, self._layer_kernel(l, m, "step" + tail), hv, ntk))
        return out

    @staticmethod
    def _diagonal(kd, layers):
        r"""The recursion on the diagonal, once per point: :math:`K^{(l)}(x,x)` for
        :math:`l = 1, \dots, L+1` (a list) and :math:`\Theta^{(L+1)}(x,x)` (None without the NTK)."""
        Ks, T = [kd], kd
        for layer in layers:
            kd, T = layer.diag(kd, T)
            kd = np.broadcast_to(kd, Ks[0].shape)  # a constant (e.g. E[sign(u)^2] = 1) as an array
            Ks.append(kd)
        return Ks, (None if T is None else np.broadcast_to(T, kd.shape))

    @staticmethod
    def _off_diagonal(ka, k12, kb, layers):
        r""":math:`K^{(L+1)}(x,x')` and :math:`\Theta^{(L+1)}(x,x')` (None without the NTK) from
        :math:`K^{(1)}(x,x')` = ``k12``, with the diagonals :math:`K^{(l)}(x,x)` = ``ka[l-1]``,
        :math:`K^{(l)}(x',x')` = ``kb[l-1]`` (arrays broadcasting against ``k12``)."""
        T = k12
        for l, layer in enumerate(layers):
            k12, T = layer.pair(ka[l], k12, kb[l], T)
        return k12, T

    def _check_which(self, which: str) -> bool:
        """Whether the NTK is needed (refused when it does not exist)."""
        if which not in ("nngp", "ntk", "both"):
            raise ValueError(f"which must be 'nngp', 'ntk' or 'both', got {which!r}")
        if which != "nngp":
            self._refuse_divergent_ntk()
        return which != "nngp"

    def _rules(self, which: str, quadrature: bool = False):
        """(None,) for the compiled closed forms, else (or when ``quadrature``) the two quadrature rules
        (value, check)."""
        closed = (self.symbolic if which != "nngp" else self._nngp_closed) and not quadrature
        return (None,) if closed else (PANEL_NODES, PANEL_NODES_CHECK)

    def _pairs(self, X, values, which: str, quadrature: bool = False):
        """The layer map at point pairs ``X`` (..., 2, d): a list of {"nngp": ..., "ntk": ...}, one per rule
        (one for the closed forms; the value and check rules of the quadrature)."""
        ntk = self._check_which(which)
        X = as_points(X)
        if X.ndim < 2 or X.shape[-2] != 2:
            raise ValueError(f"points must have shape (..., 2, d), got {X.shape}")
        if not np.all(np.isfinite(X)):
            raise ValueError("points contain inf or nan")
        D = X.shape[-1]
        hv = self._bind(values, D)
        inp = self._compile_steps()[1]
        batch = X.shape[:-2]
        Xf = X.reshape(-1, 2, D)
        P = Xf.shape[0]
        runs = []
        for rule in self._rules(which, quadrature):
            layers = self._layers_at(hv, rule, ntk)
            K, T = np.empty(P), np.empty(P)
            with np.errstate(all="ignore"):
                for s0 in range(0, P, self._BLOCK):
                    x1, x2 = Xf[s0:s0 + self._BLOCK, 0], Xf[s0:s0 + self._BLOCK, 1]
                    p = len(x1)
                    kd = np.broadcast_to(inp(np.concatenate([np.sum(x1 * x1, -1), np.sum(x2 * x2, -1)]), D, *hv),
                                         (2 * p,))
                    Ks, _ = self._diagonal(kd, layers)
                    k12 = np.broadcast_to(inp(np.sum(x1 * x2, -1), D, *hv), (p,))
                    k, t = self._off_diagonal([k[:p] for k in Ks], k12, [k[p:] for k in Ks], layers)
                    K[s0:s0 + p] = k
                    if ntk:
                        T[s0:s0 + p] = t
            runs.append({"nngp": K.reshape(batch), "ntk": T.reshape(batch) if ntk else None})
        return runs

    def _finish(self, runs, which: str, what: str):
        """The result of ``runs`` (one, or the value and check rules of the quadrature: their difference is
        the stated error, in a NumericWarning) for ``which``; inf or nan refused."""
        names = ("nngp", "ntk") if which == "both" else (which,)
        out = []
        for name in names:
            val = runs[0][name]
            if not np.all(np.isfinite(val)):
                raise FloatingPointError(f"DeepKernel: {int(np.sum(~np.isfinite(val)))} of {val.size} values of the "
                                         f"{name.upper()} are inf or nan (overflow at these points)")
            if len(runs) > 1:
                err = _rule_difference(val, runs[1][name])
                warnings.warn(NumericWarning(
                    f"DeepKernel: the {name.upper()} {what} of {self._activation_text} by numerical quadrature "
                    f"(Gauss-Legendre panels, {PANEL_NODES} against {PANEL_NODES_CHECK} nodes each; estimated "
                    f"abs. error {err:.1e})", error=err), stacklevel=3)
            out.append(val)
        return out[0] if len(out) == 1 else tuple(out)

    def _numeric(self, X, values, which, with_error: bool = False):
        """The recursion by quadrature at point pairs ``X`` (also for closed forms: a check), with
        :data:`~nnsym.numeric.quadrature.PANEL_NODES` and ``PANEL_NODES_CHECK`` nodes per panel; the
        difference is the stated error. Returns the values (and the error)."""
        ntk = self._check_which(which)
        runs = self._pairs(X, values, which, quadrature=True)
        name = "ntk" if ntk else "nngp"
        out = runs[0][name]
        return (out, _rule_difference(out, runs[1][name])) if with_error else out

    def evaluate_nngp(self, X, **values) -> np.ndarray:
        r""":math:`K^{(L+1)}` at point pairs ``X`` of shape (..., 2, d), by the layer map in numpy
        (compiled pair moments applied layer by layer; quadrature, with a NumericWarning, when there is
        no closed form). Equal to ``.nngp.evaluate`` (the composed closed form) to rounding."""
        return self._finish(self._pairs(X, values, "nngp"), "nngp", "at point pairs")

    def evaluate_ntk(self, X, **values) -> np.ndarray:
        r""":math:`\Theta^{(L+1)}` at point pairs ``X`` of shape (..., 2, d), by the layer map (see
        :meth:`evaluate_nngp`)."""
        self._refuse_divergent_ntk()
        return self._finish(self._pairs(X, values, "ntk"), "ntk", "at point pairs")

    def gram(self, X, X2=None, which: str = "nngp", **values):
        r"""Gram matrices :math:`K^{(L+1)}(x_i, x'_j)` and/or :math:`\Theta^{(L+1)}(x_i, x'_j)` of the
        points ``X`` (M, d) against ``X2`` (M2, d) (default ``X``: then the result is exactly symmetric and
        its diagonal comes from the recursion at coincident points, exact where
        :math:`\rho = 1` rounds badly).

        The diagonal recursion :math:`K^{(l+1)}(x,x) = C_b^{(l)} + C_W^{(l)}E[f_l(u)^2]`,
        :math:`u\sim\mathcal N(0, K^{(l)}(x,x))`, runs once per point; the pairs then run
        :math:`K^{(l+1)}_{ij} = C_b^{(l)} + C_W^{(l)}P_l(K^{(l)}_{ii}, K^{(l)}_{ij}, K^{(l)}_{jj})` and
        :math:`\Theta^{(l+1)}_{ij} = K^{(l+1)}_{ij} + C_W^{(l)}\Theta^{(l)}_{ij}P'_l(\dots)` in numpy, in
        blocks (bounded memory). ``which``: ``"nngp"``, ``"ntk"`` or ``"both"`` (a pair (K, Theta)).
        Values of the hyper-parameters by name, as for :meth:`evaluate_nngp`.

        >>> import numpy as np, sympy as sp
        >>> K = DeepKernel(lambda z: sp.Max(0, z), depth=3, d=2)
        >>> X = np.array([[1.0, 0.0], [0.6, 0.8], [-1.0, 0.5]])
        >>> G, T = K.gram(X, which="both", sigma_W=1.2, sigma_b=0.3)
        >>> G.shape, bool(np.all(G == G.T))
        ((3, 3), True)
        >>> pairs = np.stack(np.broadcast_arrays(X[:, None], X[None, :]), axis=-2)
        >>> bool(np.allclose(G, K.nngp.evaluate(pairs, sigma_W=1.2, sigma_b=0.3), rtol=1e-12, atol=0))
        True
        """
        ntk = self._check_which(which)
        X = as_points(X, "X")
        sym = X2 is None
        X2 = X if sym else as_points(X2, "X2")
        if X.ndim != 2 or X2.ndim != 2 or X.shape[1] != X2.shape[1]:
            raise ValueError(f"gram needs X (M, d) and X2 (M2, d) with the same d, got {X.shape} and {X2.shape}")
        if not (np.all(np.isfinite(X)) and np.all(np.isfinite(X2))):
            raise ValueError("points contain inf or nan")
        M, D = X.shape
        M2 = X2.shape[0]
        hv = self._bind(values, D)
        inp = self._compile_steps()[1]
        runs = []
        for rule in self._rules(which):
            layers = self._layers_at(hv, rule, ntk)
            with np.errstate(all="ignore"):
                allx = X if sym else np.concatenate([X, X2])
                kd = np.broadcast_to(inp(np.sum(allx * allx, -1), D, *hv), (len(allx),))
                Ks, Td = self._diagonal(kd, layers)
                ka, kb = [k[:M] for k in Ks], [k[-M2:] for k in Ks]
                blocks = self._gram_closed if rule is None else self._gram_pairs
                K, T = blocks(X, X2, sym, ka, kb, layers, hv, ntk, D)
            if sym:
                K[np.diag_indices(M)] = Ks[-1]
                if ntk:
                    T[np.diag_indices(M)] = Td
            runs.append({"nngp": K, "ntk": T})
        return self._finish(runs, which, "Gram matrix")

    def diagonal(self, X, which: str = "nngp", **values):
        r"""The kernels at coincident points, :math:`K^{(L+1)}(x_i, x_i)` and/or :math:`\Theta^{(L+1)}(x_i, x_i)`, of
        the points ``X`` (M, d): the diagonal recursion alone (the diagonal of :meth:`gram`, in O(M)).

        >>> import numpy as np, sympy as sp
        >>> K = DeepKernel(lambda z: sp.Max(0, z), depth=2, d=2)
        >>> X = np.array([[1.0, 0.0], [0.6, 0.8]])
        >>> bool(np.all(K.diagonal(X, sigma_W=1.2, sigma_b=0.3) == np.diag(K.gram(X, sigma_W=1.2, sigma_b=0.3))))
        True
        """
        ntk = self._check_which(which)
        X = as_points(X, "X")
        if X.ndim != 2:
            raise ValueError(f"diagonal needs X of shape (M, d), got {X.shape}")
        if not np.all(np.isfinite(X)):
            raise ValueError("points contain inf or nan")
        D = X.shape[1]
        hv = self._bind(values, D)
        inp = self._compile_steps()[1]
        runs = []
        for rule in self._rules(which):
            with np.errstate(all="ignore"):
                kd = np.broadcast_to(inp(np.sum(X * X, -1), D, *hv), (len(X),))
                Ks, Td = self._diagonal(kd, self._layers_at(hv, rule, ntk))
            runs.append({"nngp": np.array(np.broadcast_to(Ks[-1], (len(X),))),
                         "ntk": np.array(np.broadcast_to(Td, (len(X),))) if ntk else None})
        return self._finish(runs, which, "at coincident points")

    def _gram_closed(self, X, X2, sym, ka, kb, layers, hv, ntk, D):
        """Closed forms: blocks of rows against all columns (only the upper triangle when symmetric)."""
        inp = self._compile_steps()[1]
        M, M2 = len(X), len(X2)
        K = np.empty((M, M2))
        T = np.empty((M, M2)) if ntk else None
        rows = max(1, self._BLOCK // max(1, M2))
        dots = X @ X2.T  # one BLAS call (many small ones are slow when the cores are busy)
        for r0 in range(0, M, rows):
            r1 = min(M, r0 + rows)
            c0 = r0 if sym else 0
            k12 = np.broadcast_to(inp(dots[r0:r1, c0:], D, *hv), (r1 - r0, M2 - c0))
            k, t = self._off_diagonal([a[r0:r1, None] for a in ka], k12, [b[None, c0:] for b in kb], layers)
            for out, val in ((K, k), (T, t)):
                if out is None:
                    continue
                if np.shape(val) != k12.shape:  # a constant (e.g. sigma_W = 0)
                    val = np.broadcast_to(val, k12.shape)
                if sym and r1 - r0 == M:  # one block: made exactly symmetric at once
                    np.add(val, val.T, out=out)
                    out *= 0.5
                    continue
                out[r0:r1, c0:] = val
                if sym:  # mirror; the square block on the diagonal made exactly symmetric ((a + b)/2 = (b + a)/2)
                    out[c0:, r0:r1] = val.T
                    sq = val[:, :r1 - r0]
                    out[r0:r1, r0:r1] = 0.5 * (sq + sq.T)
        return K, T

    def _gram_pairs(self, X, X2, sym, ka, kb, layers, hv, ntk, D):
        """Quadrature: the distinct pairs as a flat list (i < j when symmetric), in blocks."""
        inp = self._compile_steps()[1]
        M, M2 = len(X), len(X2)
        I, J = np.triu_indices(M, 1) if sym else (np.repeat(np.arange(M), M2), np.tile(np.arange(M2), M))
        K = np.zeros((M, M2))
        T = np.zeros((M, M2)) if ntk else None
        for s0 in range(0, len(I), self._BLOCK):
            i, j = I[s0:s0 + self._BLOCK], J[s0:s0 + self._BLOCK]
            k12 = np.broadcast_to(inp(np.sum(X[i] * X2[j], -1), D, *hv), i.shape)
            k, t = self._off_diagonal([a[i] for a in ka], k12, [b[j] for b in kb], layers)
            for out, val in ((K, k), (T, t)):
                if out is not None:
                    out[i, j] = val
                    if sym:
                        out[j, i] = val
        return K, T


def _rule_difference(value, check) -> float:
    """The stated error of a quadrature result: its largest difference from the check rule's, at least
    1e-12 relative (0 for no values)."""
    if not value.size:
        return 0.0
    return max(float(np.max(np.abs(value - check))), 1e-12 * float(np.max(np.abs(value))))


class _ClosedLayer:
    r"""One layer's map from compiled closed forms, with the hyper-parameters bound: ``pair(k11, k12, k22, T)``
    and ``diag(k, T)`` give :math:`(K^{(l+1)}, \Theta^{(l+1)})` (the second None without the NTK)."""

    def __init__(self, pair, diag, hv, ntk: bool):
        self._pair, self._diag, self._hv, self._ntk = pair, diag, hv, ntk

    def pair(self, k11, k12, k22, T):
        if self._ntk:
            return self._pair(k11, k12, k22, T, *self._hv)
        return self._pair(k11, k12, k22, T, *self._hv), None

    def diag(self, k, T):
        if self._ntk:
            return self._diag(k, T, *self._hv)
        return self._diag(k, T, *self._hv), None


class _QuadLayer:
    """One layer's map with its pair moments by quadrature (``rule`` nodes per panel) and the spec's step."""

    def __init__(self, numeric: _NumericMoments, rule: int, step, hv, ntk: bool):
        self._m, self._n, self._step, self._hv, self._ntk = numeric, rule, step, hv, ntk

    def _apply(self, P, Pd, T):
        if self._ntk:
            return self._step(P, Pd, T, *self._hv)
        return self._step(P, Pd, T, *self._hv), None

    def pair(self, k11, k12, k22, T):
        k11, k12, k22 = np.broadcast_arrays(k11, k12, k22)
        P, Pd = self._m.pair(k11, k12, k22, self._n, self._ntk)
        return self._apply(P, Pd, T)

    def diag(self, k, T):
        P, Pd = self._m.diag(np.asarray(k, float), self._n, self._ntk)
        return self._apply(P, Pd, T)


def _float_kinks(expr, z):
    """The kinks of a numeric activation as floats ([] if none or unknown: the two rule sizes then
    disagree by about the error)."""
    ks = kink_points(expr, z)
    out = []
    for k in ks or []:
        try:
            c = complex(k)
        except TypeError:
            continue
        if c.imag == 0:
            out.append(c.real)
    return out


def deep_kernels(activation, depth: int, d, sigma_W=None, sigma_b=None) -> DeepKernel:
    """Shorthand for :class:`DeepKernel`; a :class:`~nnsym.model.deep.DeepMLP` as ``activation``
    (and nothing else) is :meth:`DeepKernel.from_spec`."""
    if isinstance(activation, DeepMLP):
        return DeepKernel.from_spec(activation)
    return DeepKernel(activation, depth, d, sigma_W, sigma_b)


# ----------------------------------------------------------------------------- NTK of a single-layer network
def _grad_dot(e1, e2, p):
    r""":math:`\nabla_p e_1\cdot\nabla_p e_2` for a scalar or vector parameter p."""
    if isinstance(p, RandomSymbol):
        return sp.diff(e1, p) * sp.diff(e2, p)

    def parts(e):
        e = expand_dot(e)
        atoms = sorted((a for a in e.atoms(Dot) if p in a.args), key=sp.default_sort_key)
        subs, out = {}, []
        for a in atoms:
            s = sp.Dummy("s", real=True)
            subs[a] = s
            u, v = a.args
            w = v if u == p else u
            out.append((s, 2 * p if w == p else w))
        es = e.xreplace(subs)
        if p in es.free_symbols:
            raise NoClosedForm(f"{p} enters the neuron other than through scalar products")
        return [(sp.diff(es, s).xreplace({v: k for k, v in subs.items()}), w) for s, w in out]

    g1, g2 = parts(e1), parts(e2)
    return sp.Add(*[c1 * c2 * Dot(w1, w2) for c1, w1 in g1 for c2, w2 in g2])


def ntk(net: Network) -> Correlator:
    r"""Analytic NTK :math:`\Theta(x_1,x_2) = E[\sum_\theta\partial_\theta\phi(x_1)\,\partial_\theta\phi(x_2)]`
    of a single-layer network with i.i.d. neurons (standard parameterisation, as written):
    :math:`N\,E[\nabla(a h(x_1))\cdot\nabla(a h(x_2))]` (+1 for an output bias).

    >>> import nnsym as ns, sympy as sp
    >>> x = ns.Input("x", 1); w = ns.Normal("w", 0, 1); a = ns.Normal("a", 0, 1)
    >>> ntk(ns.Network(w * x, readout=a, width=3, input=x)).expr
    6*x_1*x_2
    """
    if not net.iid:
        raise NoClosedForm("ntk() handles networks with i.i.d. neurons; this one shares "
                           f"{', '.join(map(str, net.shared))}")
    x1, x2 = net.points(2)
    e1, e2 = net.summand(x1), net.summand(x2)
    total = sp.S.Zero
    for p in net.params:
        total += _grad_dot(e1, e2, p)
    expr = net.width * expectation(total)
    if net.bias is not None:
        expr += 1
    return Correlator(tidy(expr), (x1, x2), net.dim, name="Theta", network=net)


def empirical_ntk(net: Network, X, rng=None, seed: int | None = 0, **values) -> np.ndarray:
    r"""The empirical NTK :math:`\sum_\theta\partial_\theta\phi(x)\,\partial_\theta\phi(x')` of one
    network drawn from ``net``, as a Gram matrix over the points ``X`` (shape (M, d)); returns (M, M)."""
    if not net.iid:
        raise NoClosedForm("empirical_ntk() handles networks with i.i.d. neurons")
    X = np.asarray(X, dtype=float)
    if X.ndim != 2:
        raise ValueError(f"X must have shape (M, d), got {X.shape}")
    rng = np.random.default_rng(seed) if rng is None else rng
    sampler = NetworkSampler(net, values, X.shape[-1])
    vals = dict(sampler.values)
    N = sampler.width
    draws = {net.readout: sampler.draw(net.readout, rng, (N,))}
    for p in sampler.params:
        draws[p] = sampler.draw(p, rng, (N,))
    e = net.readout * net.neuron
    hyper = sorted(e.free_symbols - set(net.params) - {net.input}, key=sp.default_sort_key)
    hv = [vals[h.name] for h in hyper]
    pts = X[:, 0] if isinstance(net.input, ScalarPoint) else X
    feats = []  # each (N, M) or (N, M, D)
    for p in net.params:
        if isinstance(p, RandomSymbol):
            fn = compile_kernel(net.params + [net.input] + hyper, sp.diff(e, p))
            feats.append(np.broadcast_to(fn(*[draws[q] for q in net.params], pts, *hv), (N, len(X)))[..., None])
        else:
            e_exp = expand_dot(e)
            atoms = sorted((a for a in e_exp.atoms(Dot) if p in a.args), key=sp.default_sort_key)
            grad = 0.0
            for a in atoms:
                s = sp.Dummy("s", real=True)
                u, v = a.args
                wv = v if u == p else u
                coeff = sp.diff(e_exp.xreplace({a: s}), s).xreplace({s: a})
                fn = compile_kernel(net.params + [net.input] + hyper, coeff)
                c = np.broadcast_to(fn(*[draws[q] for q in net.params], pts, *hv), (N, len(X)))
                if wv == net.input:
                    vec = np.broadcast_to(X, (N,) + X.shape)
                elif wv == p:
                    vec = 2 * np.broadcast_to(draws[p], (N, len(X), X.shape[-1]))
                else:
                    raise NoClosedForm(f"empirical_ntk(): the gradient along {wv} (a vector parameter "
                                       "dotted with another parameter) is not handled")
                grad = grad + c[..., None] * vec
            feats.append(grad)
    F = np.concatenate([np.moveaxis(f, 1, 0).reshape(len(X), -1) for f in feats], axis=1)  # (M, features)
    out = F @ F.T
    if net.bias is not None:
        out = out + 1.0
    return out


# ----------------------------------------------------------------------------- inference with a kernel
def _gram(kernel, A, B, values, which: str = "nngp"):
    """The Gram matrix kernel(A_i, B_j): by ``kernel.gram`` for a kernel that has one (a
    :class:`DeepKernel`: ``which`` says NNGP or NTK; exactly symmetric when ``B is A``), else by its
    ``evaluate`` (a Correlator) or the callable itself on all pairs (|A|, |B|, 2, d)."""
    if callable(getattr(kernel, "gram", None)):
        return np.asarray(kernel.gram(A, None if B is A else B, which=which, **values), dtype=float)
    A, B = np.asarray(A, float), np.asarray(B, float)
    pairs = np.stack(np.broadcast_arrays(A[:, None, :], B[None, :, :]), axis=-2)  # (|A|, |B|, 2, d)
    ev = kernel.evaluate if hasattr(kernel, "evaluate") else kernel
    return np.asarray(ev(pairs, **values), dtype=float)


def ntk_predict(theta, X_train, y_train, X_test, phi0_train=None, phi0_test=None, **values) -> np.ndarray:
    r"""Frozen-NTK solution of gradient descent with MSE loss (Leung, eq. 2.51):
    :math:`\phi_\infty(x) = \phi_0(x) + \Theta(x,X)\,\Theta(X,X)^{-1}(y - \phi_0(X))`.

    ``theta``: a two-point kernel (a Correlator such as :func:`ntk`'s, a :class:`DeepKernel` (its NTK, by
    :meth:`DeepKernel.gram`), or a callable on (..., 2, d));
    ``phi0_*``: the network at initialisation (default 0: the mean prediction)."""
    X_train, X_test = np.asarray(X_train, float), np.asarray(X_test, float)
    y = np.asarray(y_train, float)
    if X_train.ndim != 2 or X_test.ndim != 2 or X_train.shape[1] != X_test.shape[1] or len(y) != len(X_train):
        raise ValueError("X_train (n, d), y_train (n,), X_test (m, d) with the same d are required")
    p0tr = np.zeros(len(X_train)) if phi0_train is None else np.asarray(phi0_train, float)
    p0te = np.zeros(len(X_test)) if phi0_test is None else np.asarray(phi0_test, float)
    T = _gram(theta, X_train, X_train, values, "ntk")
    Tt = _gram(theta, X_test, X_train, values, "ntk")
    return p0te + Tt @ np.linalg.solve(T, y - p0tr)


def gp_posterior(kernel, X_train, y_train, X_test, noise: float = 0.0, **values):
    r"""NNGP posterior mean :math:`K(x,X)(K+\sigma_n^2)^{-1}y` and variance
    :math:`K(x,x) - K(x,X)(K+\sigma_n^2)^{-1}K(X,x)` at ``X_test``; returns (mean, var). ``kernel``: a
    Correlator, a :class:`DeepKernel` (its NNGP, by :meth:`DeepKernel.gram` and :meth:`DeepKernel.diagonal`)
    or a callable on (..., 2, d)."""
    if noise < 0:
        raise ValueError(f"noise variance must be >= 0, got {noise}")
    X_train, X_test = np.asarray(X_train, float), np.asarray(X_test, float)
    y = np.asarray(y_train, float)
    K = _gram(kernel, X_train, X_train, values) + noise * np.eye(len(X_train))
    Ks = _gram(kernel, X_test, X_train, values)
    if callable(getattr(kernel, "diagonal", None)):  # a DeepKernel: the diagonal recursion
        kss = np.asarray(kernel.diagonal(X_test, **values), float)
    else:
        kss = np.asarray((kernel.evaluate if hasattr(kernel, "evaluate") else kernel)(
            np.stack([X_test, X_test], axis=-2), **values), float)
    mean = Ks @ np.linalg.solve(K, y)
    var = kss - np.einsum("ij,ji->i", Ks, np.linalg.solve(K, Ks.T))
    return mean, var


# ----------------------------------------------------------------------------- sampling deep networks
def sample_deep_mlp(activation, depth: int, width: int, X, samples: int, seed: int = 0,
                    sigma_W: float = 1.0, sigma_b: float = 0.0, chunk: int = 256) -> np.ndarray:
    r"""Outputs of ``samples`` random depth-L MLPs (the convention of :class:`DeepKernel`) at the
    points ``X`` (M, d): array (samples, M). Used to validate the deep kernels by Monte Carlo.

    The same as ``DeepMLP(activation, depth, d, widths=width, sigma_W=sigma_W,
    sigma_b=sigma_b).sample(X, samples, seed, chunk=chunk)`` (:meth:`nnsym.model.deep.DeepMLP.sample`):
    every hidden layer has width ``width``, the weights of layer :math:`l` variance
    :math:`\sigma_W^2/n_l` (:math:`n_0 = d`), the biases :math:`\sigma_b^2` (none when 0).

    >>> import numpy as np, sympy as sp
    >>> sample_deep_mlp(sp.erf, 2, 16, np.eye(3), samples=4, seed=0).shape
    (4, 3)
    """
    X = np.asarray(X, float)
    if X.ndim != 2:
        raise ValueError(f"X must have shape (M, d), got {X.shape}")
    spec = DeepMLP(activation, depth, X.shape[-1], widths=width, sigma_W=sigma_W, sigma_b=sigma_b)
    return spec.sample(X, samples, seed=seed, chunk=chunk)
