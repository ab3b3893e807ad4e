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
from ..numeric.kernels import compile_kernel
from ..numeric.quadrature import PANEL_NODES, PANEL_NODES_CHECK, gauss1_kinked, gauss2_kinked
from ..sampling.sampler import NetworkSampler

__all__ = ["DeepKernel", "deep_kernels", "ntk", "empirical_ntk", "ntk_predict", "gp_posterior", "sample_deep_mlp"]


class _LayerMoments:
    r"""The two Gaussian pair moments one hidden layer's activation :math:`f` feeds the recursions:
    :math:`E[f(u)f(v)]` and :math:`E[f'(u)f'(v)]`, :math:`(u,v)\sim\mathcal N(0, [[k_{11},k_{12}],[k_{12},k_{22}]])`,
    in closed form when the engine has one (else None)."""

    def __init__(self, f, u, k):
        k11, k12, k22 = k
        self.f = f
        self.fz = sp.sympify(f(u))
        self.fpz = sp.diff(self.fz, u)
        # f' with a Dirac delta (sign, Heaviside, a jump): E[f'(u)^2] = oo, the NTK does not exist
        self.ntk_divergent = self.fpz.has(sp.DiracDelta)
        self.P = pair_expectation(f, k11, k12, k22)
        self.Pd = None if self.ntk_divergent else pair_expectation(sp.Lambda(u, self.fpz), k11, k12, k22)


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
    when the recursion composes in closed form (``.symbolic`` is True); ``.evaluate_nngp``
    and ``.evaluate_ntk`` work in both cases (numeric recursion otherwise, with a
    :class:`~nnsym.numeric.kernels.NumericWarning` whose ``.error`` bounds the error). Closed forms: the
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
            diag = lambda kk: m.P.subs({k11: kk, k22: kk, k12: kk})
            sub = {k11: K11, k12: K12, k22: K22}
            P = m.P.xreplace(sub)
            K12_next = spec.kernel_step(l, P)
            if ntk:
                T12 = spec.ntk_step(l, K12_next, T12, m.Pd.xreplace(sub))
            K12 = K12_next
            K11, K22 = spec.kernel_step(l, diag(K11)), spec.kernel_step(l, diag(K22))
        return K12, (T12 if ntk else None)

    # ------------------------------------------------------------------ numeric recursion
    def _numeric(self, X, values, which, with_error: bool = False):
        """The recursion with kink-split Gauss-Legendre panels (:func:`nnsym.numeric.quadrature.gauss2_kinked`),
        run with 10 and 7 nodes per panel; the difference is the stated error."""
        if which == "ntk":
            self._refuse_divergent_ntk()
        X = np.asarray(X, dtype=float)
        if X.ndim < 2 or X.shape[-2] != 2:
            raise ValueError(f"points must have shape (..., 2, d), got {X.shape}")
        vals = {**values}
        if not self.dim.is_Integer:
            vals[self.dim.name] = X.shape[-1]
        elif X.shape[-1] != int(self.dim):
            raise ValueError(f"points must have shape (..., 2, {self.dim}), got {X.shape}")
        u = self._u
        mods = [{"Heaviside": lambda x, h0=0.5: np.heaviside(x, h0)}, "scipy", "numpy"]
        numeric = {}  # per distinct activation: f, f', their kinks as floats
        for m in self._distinct:
            extra = (m.fz.free_symbols | m.fpz.free_symbols) - {u}
            if extra:
                raise ValueError(f"the activation {m.fz} has free symbols {sorted(map(str, extra))}: "
                                 "give it numbers (the numeric recursion needs a numeric activation)")
            numeric[id(m)] = (sp.lambdify([u], m.fz, modules=mods), sp.lambdify([u], m.fpz, modules=mods),
                              _float_kinks(m.fz, u), _float_kinks(m.fpz, u))
        layers = [numeric[id(m)] for m in self._layers]
        batch = X.shape[:-2]
        Xf = X.reshape(-1, 2, X.shape[-1])
        runs = [self._recursion_numeric(Xf, layers, vals, which, n) for n in (PANEL_NODES, PANEL_NODES_CHECK)]
        out = runs[0].reshape(batch)
        err = float(np.max(np.abs(runs[0] - runs[1]))) if runs[0].size else 0.0
        err = max(err, 1e-12 * float(np.max(np.abs(runs[0]))) if runs[0].size else 0.0)
        return (out, err) if with_error else out

    def _recursion_numeric(self, Xf, layers, vals, which, n):
        spec = self.spec
        D = Xf.shape[-1]
        x1, x2 = Xf[:, 0, :], Xf[:, 1, :]
        K11 = spec.input_kernel(np.sum(x1 * x1, -1), D, vals)
        K22 = spec.input_kernel(np.sum(x2 * x2, -1), D, vals)
        K12 = spec.input_kernel(np.sum(x1 * x2, -1), D, vals)
        T12 = K12.copy()

        def pair(fun, kinks, a, c, b):  # E[fun(u) fun(v)], cov [[a, c], [c, b]]
            sa, sb = np.sqrt(a), np.sqrt(b)
            with np.errstate(divide="ignore", invalid="ignore"):
                rho = np.clip(np.where(sa * sb > 0, c / (sa * sb), 0.0), -1.0, 1.0)
            L = np.zeros(a.shape + (2, 2))
            L[:, 0, 0] = sa
            L[:, 1, 0] = sb * rho
            L[:, 1, 1] = sb * np.sqrt(1 - rho**2)
            return gauss2_kinked(lambda p, q: fun(p) * fun(q), np.zeros(a.shape + (2,)), L, [kinks, kinks], n)

        for l, (f, fp, kf, kfp) in enumerate(layers, start=1):
            def square(kk):  # E[f(u)^2], u ~ N(0, kk)
                return gauss1_kinked(lambda z: f(z) ** 2, np.zeros_like(kk), np.sqrt(kk), kf, n)

            P = pair(f, kf, K11, K12, K22)
            K12_next = spec.kernel_step(l, P, vals)
            if which == "ntk":
                T12 = spec.ntk_step(l, K12_next, T12, pair(fp, kfp, K11, K12, K22), vals)
            K12 = K12_next
            K11, K22 = spec.kernel_step(l, square(K11), vals), spec.kernel_step(l, square(K22), vals)
        return K12 if which == "nngp" else T12

    def _evaluate_numeric(self, X, values, which):
        out, err = self._numeric(X, values, which, with_error=True)
        warnings.warn(NumericWarning(f"DeepKernel: the {which.upper()} of {self._activation_text} by numerical "
                                     f"quadrature (kink-split panels; estimated abs. error {err:.1e})", error=err),
                      stacklevel=3)
        return out

    def evaluate_nngp(self, X, **values) -> np.ndarray:
        """:math:`K^{(L+1)}` at point pairs ``X`` of shape (..., 2, d)."""
        return self.nngp.evaluate(X, **values) if self._nngp_closed else self._evaluate_numeric(X, values, "nngp")

    def evaluate_ntk(self, X, **values) -> np.ndarray:
        r""":math:`\Theta^{(L+1)}` at point pairs ``X`` of shape (..., 2, d)."""
        self._refuse_divergent_ntk()
        return self.ntk.evaluate(X, **values) if self.symbolic else self._evaluate_numeric(X, values, "ntk")


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
def _gram(kernel, A, B, values):
    A, B = np.asarray(A, float), np.asarray(B, float)
    pairs = np.stack(np.broadcast_arrays(A[:, None, :], B[None, :, :]), axis=-2)  # (|A|, |B|, 2, d)
    ev = kernel.evaluate if hasattr(kernel, "evaluate") else kernel
    return np.asarray(ev(pairs, **values), dtype=float)


def ntk_predict(theta, X_train, y_train, X_test, phi0_train=None, phi0_test=None, **values) -> np.ndarray:
    r"""Frozen-NTK solution of gradient descent with MSE loss (Leung, eq. 2.51):
    :math:`\phi_\infty(x) = \phi_0(x) + \Theta(x,X)\,\Theta(X,X)^{-1}(y - \phi_0(X))`.

    ``theta``: a two-point kernel (a Correlator such as :func:`ntk`'s, or a callable on (..., 2, d));
    ``phi0_*``: the network at initialisation (default 0: the mean prediction)."""
    X_train, X_test = np.asarray(X_train, float), np.asarray(X_test, float)
    y = np.asarray(y_train, float)
    if X_train.ndim != 2 or X_test.ndim != 2 or X_train.shape[1] != X_test.shape[1] or len(y) != len(X_train):
        raise ValueError("X_train (n, d), y_train (n,), X_test (m, d) with the same d are required")
    p0tr = np.zeros(len(X_train)) if phi0_train is None else np.asarray(phi0_train, float)
    p0te = np.zeros(len(X_test)) if phi0_test is None else np.asarray(phi0_test, float)
    T = _gram(theta, X_train, X_train, values)
    Tt = _gram(theta, X_test, X_train, values)
    return p0te + Tt @ np.linalg.solve(T, y - p0tr)


def gp_posterior(kernel, X_train, y_train, X_test, noise: float = 0.0, **values):
    r"""NNGP posterior mean :math:`K(x,X)(K+\sigma_n^2)^{-1}y` and variance
    :math:`K(x,x) - K(x,X)(K+\sigma_n^2)^{-1}K(X,x)` at ``X_test``; returns (mean, var)."""
    if noise < 0:
        raise ValueError(f"noise variance must be >= 0, got {noise}")
    X_train, X_test = np.asarray(X_train, float), np.asarray(X_test, float)
    y = np.asarray(y_train, float)
    K = _gram(kernel, X_train, X_train, values) + noise * np.eye(len(X_train))
    Ks = _gram(kernel, X_test, X_train, values)
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
