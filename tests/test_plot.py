"""nnsym.plot: the figures are written, are not blank, and show the numbers they claim to show.

Each figure keeps its numbers on ``fig.nnsym_data``; here they are checked against the objects
drawn on the axes (line and error-bar data) and against nnsym computed independently of the plot
(``Correlator.evaluate``, ``monte_carlo`` with the same seed, the spectrum, the kernels, the report).
Monte Carlo points must agree with the exact line within 5 standard errors.
"""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import sympy as sp

import nnsym as ns

pytest.importorskip("matplotlib")

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.image as mpimg  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402

import nnsym.plot as nplot  # noqa: E402

COS = dict(sigma_a=1.0, sigma_b=1.0)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def assert_not_blank(png) -> None:
    """A decent fraction of non-white pixels, and more than two distinct colours."""
    img = mpimg.imread(png)
    assert img.ndim == 3 and img.shape[0] > 300 and img.shape[1] > 400
    rgb = img[..., :3]
    ink = np.mean(rgb.min(axis=-1) < 0.9)
    assert ink > 0.01, f"{png}: only {ink:.1%} of the pixels are not white"
    colours = np.unique((rgb.reshape(-1, 3) * 255).round().astype(np.uint8), axis=0)
    assert len(colours) > 2


def written(fig_paths, stem) -> None:
    """save(fig, stem) wrote stem.png and stem.pdf (a PDF file, not empty)."""
    png, pdf = stem.with_name(stem.name + ".png"), stem.with_name(stem.name + ".pdf")
    assert png.is_file() and pdf.is_file()
    assert pdf.read_bytes()[:5] == b"%PDF-"
    assert_not_blank(png)


def legend_texts(ax) -> list[str]:
    return [t.get_text() for t in ax.get_legend().get_texts()]


def errorbar_data(ax):
    """(x, y, yerr low, yerr high) of the first error-bar container of ``ax``."""
    cont = ax.containers[0]
    x, y = cont.lines[0].get_data()
    segs = cont.lines[2][0].get_segments()
    lo = np.array([y[i] - min(s[0][1], s[1][1]) for i, s in enumerate(segs)])
    hi = np.array([max(s[0][1], s[1][1]) - y[i] for i, s in enumerate(segs)])
    return np.asarray(x), np.asarray(y), lo, hi


# ----------------------------------------------------------------------------- save
def test_save_suffixes(tmp_path):
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])
    both = nplot.save(fig, tmp_path / "sub" / "dir" / "fig")  # parents created
    assert both == [tmp_path / "sub" / "dir" / "fig.png", tmp_path / "sub" / "dir" / "fig.pdf"]
    assert all(p.is_file() and p.stat().st_size > 0 for p in both)
    for suffix in (".png", ".pdf", ".svg"):
        out = nplot.save(fig, str(tmp_path / f"one{suffix}"))
        assert out == [tmp_path / f"one{suffix}"] and out[0].is_file()
    assert not (tmp_path / "one.png.pdf").exists()
    assert mpimg.imread(tmp_path / "one.png").shape[:2] == (int(4.8 * 150), int(6.4 * 150))  # 150 dpi
    with pytest.raises(ValueError, match=r"\.jpg"):
        nplot.save(fig, tmp_path / "fig.jpg")
    with pytest.raises(TypeError, match="Figure"):
        nplot.save("not a figure", tmp_path / "x.png")


def test_pdf_is_reproducible(tmp_path):
    fig, ax = plt.subplots()
    ax.plot([0, 1], [1, 0])
    a, = nplot.save(fig, tmp_path / "a.pdf")
    b, = nplot.save(fig, tmp_path / "b.pdf")
    assert a.read_bytes() == b.read_bytes()


# ----------------------------------------------------------------------------- exact vs Monte Carlo
def test_monte_carlo_vs_exact_two_point(tmp_path):
    net = ns.zoo.cos_net(1)
    vals = dict(COS, N=10)
    fig = nplot.monte_carlo_vs_exact(net, 2, samples=20_000, seed=3, path=tmp_path / "g2", name="cos-net", **vals)
    written(fig, tmp_path / "g2")
    ax = fig.axes[0]
    data = fig.nnsym_data
    G = net.correlator(2)
    # the solid line: G^(2)(0, t) on the fine grid (x_1 = 0, x_2 = t e_1)
    t, y = ax.lines[0].get_data()
    X = np.stack([np.zeros_like(t), t], axis=-1)[..., None]
    np.testing.assert_allclose(y, G.evaluate(X, **vals), rtol=0, atol=1e-12)
    np.testing.assert_allclose(y, 0.5 * np.exp(-t**2 / 2), rtol=1e-12)  # docs/conventions.md, cos-net G^(2)
    assert np.array_equal(t, data["t"]) and np.array_equal(y, data["exact"])
    assert t.min() == 0 and t.max() == 3 and len(t) >= 100
    # the points: the Monte Carlo estimate itself, for the same seed
    est = ns.monte_carlo(net, 2, data["points"], samples=20_000, seed=3, **vals)
    x_mc, y_mc, lo, hi = errorbar_data(ax)
    assert 8 <= len(x_mc) <= 12
    np.testing.assert_array_equal(y_mc, est.mean)
    np.testing.assert_allclose(lo, est.stderr, rtol=1e-9)
    np.testing.assert_allclose(hi, est.stderr, rtol=1e-9)
    np.testing.assert_array_equal(data["points"][:, 1, 0], x_mc)
    assert np.max(np.abs((est.mean - G.evaluate(data["points"], **vals)) / est.stderr)) < 5
    assert np.max(np.abs(data["z"])) < 5
    assert ax.get_xlabel() == "$|x_1 - x_2|$" and ax.get_ylabel() == "$G^{(2)}$"
    assert legend_texts(ax) == ["exact", "Monte Carlo (20,000 neurons, seed 3)"]
    assert ax.get_title().startswith("cos-net") and "N = 10" in ax.get_title()


def test_monte_carlo_vs_exact_connected_line_and_ax(tmp_path):
    """G_c^(4) along a line of your own, drawn into an existing axes, by the network estimator."""
    net = ns.zoo.cos_net(2)
    vals = dict(COS, N=3)

    def line(t):
        return np.array([[0.0, 0.0], [t, 0.0], [0.0, t], [t, t]])

    fig0, (ax0, ax1) = plt.subplots(1, 2)
    ts = np.linspace(0.0, 2.0, 8)
    fig = nplot.monte_carlo_vs_exact(net, 4, line=line, ts=ts, connected=True, samples=20_000, seed=1,
                                     method="network", ax=ax1, path=tmp_path / "g4c.png", **vals)
    assert fig is fig0 and ax1.nnsym_data is fig.nnsym_data and not ax0.lines
    assert_not_blank(tmp_path / "g4c.png")
    G = net.correlator(4, connected=True)
    t, y = ax1.lines[0].get_data()
    np.testing.assert_allclose(y, G.evaluate(np.array([line(s) for s in t]), **vals), rtol=0, atol=1e-12)
    est = ns.monte_carlo(net, 4, np.array([line(s) for s in ts]), connected=True, samples=20_000, seed=1,
                         method="network", **vals)
    assert est.method == "network"
    np.testing.assert_array_equal(errorbar_data(ax1)[1], est.mean)
    assert np.max(np.abs(fig.nnsym_data["z"])) < 5
    assert ax1.get_xlabel() == "$t$" and ax1.get_ylabel() == "$G^{(4)}_c$"
    assert legend_texts(ax1)[1] == "Monte Carlo (20,000 networks, seed 1)"


def test_monte_carlo_vs_exact_default_line_n4():
    fig = nplot.monte_carlo_vs_exact(ns.zoo.gauss_net(1), 4, ts=[0.3, 0.6], samples=10_000, sigma_a=1.0,
                                     sigma_b=0.5, sigma_c=0.3, N=10)
    X = fig.nnsym_data["points"]
    np.testing.assert_allclose(X[1, :, 0], [0.0, 0.2, 0.4, 0.6])  # x_k = (k-1)/(n-1) t e_1, t = 0.6
    assert fig.axes[0].get_xlabel() == "$t = |x_1 - x_4|$"


def test_monte_carlo_vs_exact_bad_input():
    with pytest.raises(ValueError, match="fixed d"):
        nplot.monte_carlo_vs_exact(ns.zoo.cos_net(), 2, samples=1000, **COS, N=10)
    with pytest.raises(TypeError, match="Network"):
        nplot.monte_carlo_vs_exact("cos-net", 2)
    with pytest.raises(ValueError, match=r"shape \(2, 1\)"):
        nplot.monte_carlo_vs_exact(ns.zoo.cos_net(1), 2, line=lambda t: np.zeros((3, 1)), samples=1000,
                                   **COS, N=10)
    with pytest.raises(TypeError, match="sigma_q"):  # a misspelt value is refused by nnsym, not ignored
        nplot.monte_carlo_vs_exact(ns.zoo.cos_net(1), 2, samples=1000, sigma_a=1.0, sigma_q=1.0, N=10)


# ----------------------------------------------------------------------------- width scaling
def test_width_scaling(tmp_path):
    net = ns.zoo.cos_net(1)
    widths = (2, 6, 20)
    fig = nplot.width_scaling(net, widths=widths, samples=20_000, seed=2, path=tmp_path / "width", **COS)
    written(fig, tmp_path / "width")
    ax = fig.axes[0]
    data = fig.nnsym_data
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    assert ax.get_xlabel() == "$N$" and ax.get_ylabel() == "$|G^{(4)}_c|$"
    X = data["points"]
    assert X.shape == (4, 1)
    G = net.correlator(4, connected=True)
    N, y = ax.lines[0].get_data()
    assert list(N) == list(range(2, 21))
    exact = np.array([G.evaluate(X[None], **COS, N=int(n))[0] for n in N])
    np.testing.assert_allclose(y, np.abs(exact), rtol=0, atol=1e-12)
    np.testing.assert_allclose(exact * N, exact[0] * N[0], rtol=1e-12)  # i.i.d. neurons: G_c^(4) = c/N
    (ref_line,) = [line for line in ax.lines if line.get_label() == r"$\propto 1/N$"]
    ref_N, ref = ref_line.get_data()
    np.testing.assert_allclose(ref * ref_N, ref[0] * ref_N[0], rtol=1e-12)  # the dashed 1/N reference
    x_mc, y_mc, _, hi = errorbar_data(ax)
    assert list(x_mc) == list(widths)
    seeds = np.random.SeedSequence(2).spawn(len(widths))  # independent draws at each width
    for k, w in enumerate(widths):
        est = ns.monte_carlo(net, 4, X[None], connected=True, samples=20_000, seed=seeds[k], **COS, N=w)
        assert y_mc[k] == abs(est.mean[0]) and data["mean"][k] == est.mean[0]
        np.testing.assert_allclose(hi[k], est.stderr[0], rtol=1e-9)
        assert abs(est.mean[0] - G.evaluate(X[None], **COS, N=w)[0]) < 5 * est.stderr[0]
    assert len({round(float(m) * w, 12) for m, w in zip(data["mean"], widths)}) == len(widths)  # not one draw rescaled
    assert set(legend_texts(ax)) == {"exact", "Monte Carlo (20,000 neurons, seed 2)", r"$\propto 1/N$"}


def test_width_scaling_bad_input():
    with pytest.raises(ValueError, match="do not pass N"):
        nplot.width_scaling(ns.zoo.cos_net(1), samples=1000, N=10, **COS)
    x = ns.Input("x", 1)
    fixed = ns.Network(sp.cos(ns.Normal("b", 0, 1) * x), readout=ns.Normal("a", 0, 1), width=8, input=x)
    with pytest.raises(ValueError, match="width is a symbol"):
        nplot.width_scaling(fixed, samples=1000)
    with pytest.raises(ValueError, match=r"shape \(4, 2\)"):
        nplot.width_scaling(ns.zoo.cos_net(2), np.zeros((3, 2)), samples=1000, **COS)
    with pytest.raises(ValueError, match="positive integers"):
        nplot.width_scaling(ns.zoo.cos_net(1), widths=(2, 3.5), samples=1000, **COS)


# ----------------------------------------------------------------------------- power spectrum
def test_power_spectrum_cauchy(tmp_path):
    S = ns.zoo.cauchy_net().power_spectrum()
    fig = nplot.power_spectrum(S, path=tmp_path / "cauchy", sigma_a=1.5, m=0.5)
    written(fig, tmp_path / "cauchy")
    ax = fig.axes[0]
    k, G = ax.lines[0].get_data()
    np.testing.assert_allclose(G, 1.5**2 * 0.5 / (k**2 + 0.25), rtol=1e-12)  # sigma_a^2 m/(p^2 + m^2)
    np.testing.assert_array_equal(G, S.evaluate(k[:, None], sigma_a=1.5, m=0.5))
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    assert ax.get_xlabel() == "$|p|$" and ax.get_ylabel() == "$G(p)$"
    assert fig.nnsym_data["cutoff"] is None and len(ax.lines) == 1
    assert k.min() == pytest.approx(0.005) and k.max() == pytest.approx(50.0)  # |p| from m/100 to 100 m


def test_power_spectrum_cutoff(tmp_path):
    """The free scalar with a hard cutoff (d = 3): G = 0 beyond Lambda, so a linear G axis and the cutoff line."""
    S = ns.power_spectrum(ns.zoo.free_scalar(3))
    vals = dict(sigma_a=1.0, m=1.0, Lambda=2.0)
    fig = nplot.power_spectrum(S, path=tmp_path / "free.png", **vals)
    assert_not_blank(tmp_path / "free.png")
    ax = fig.axes[0]
    k, G = ax.lines[0].get_data()
    assert k.min() == pytest.approx(0.02) and k.max() == pytest.approx(4.0)
    inside = k < 2.0
    np.testing.assert_allclose(G[inside], 3 * np.pi**2 / (8 * (1 + k[inside] ** 2)), rtol=1e-12)
    assert np.all(G[k > 2.0] == 0)
    assert ax.get_yscale() == "linear"
    assert fig.nnsym_data["cutoff"] == 2.0
    xs, _ = ax.lines[1].get_data()
    assert list(xs) == [2.0, 2.0] and ax.lines[1].get_linestyle() == "--"
    assert r"cutoff $\Lambda$" in legend_texts(ax)
    # an explicit cutoff wins; False draws none
    fig2 = nplot.power_spectrum(S, ks=[0.5, 1.0, 3.0], cutoff=1.5, **vals)
    assert fig2.nnsym_data["cutoff"] == 1.5
    assert len(nplot.power_spectrum(S, ks=[0.5, 1.0], cutoff=False, **vals).axes[0].lines) == 1


def test_power_spectrum_bad_input():
    with pytest.raises(TypeError, match="PowerSpectrum"):
        nplot.power_spectrum(ns.zoo.cos_net(1).correlator(2))
    with pytest.raises(ValueError, match="non-negative"):
        nplot.power_spectrum(ns.zoo.cauchy_net().power_spectrum(), ks=[-1.0, 1.0], sigma_a=1.0, m=1.0)


# ----------------------------------------------------------------------------- kernels
def test_kernels_vs_angle(tmp_path):
    K = ns.deep_kernels(lambda z: sp.Max(0, z), depth=2, d=3)
    vals = dict(sigma_W=1.2, sigma_b=0.3)
    fig = nplot.kernels_vs_angle(K, radius=1.5, path=tmp_path / "relu", **vals)
    written(fig, tmp_path / "relu")
    ax = fig.axes[0]
    data = fig.nnsym_data
    th, k_line = ax.lines[0].get_data()
    _, t_line = ax.lines[1].get_data()
    assert th[0] == 0 and th[-1] == pytest.approx(np.pi)
    X = np.zeros((len(th), 2, 3))
    X[:, 0, 0] = 1.5
    X[:, 1, 0], X[:, 1, 1] = 1.5 * np.cos(th), 1.5 * np.sin(th)
    np.testing.assert_allclose(k_line, K.evaluate_nngp(X, **vals), rtol=0, atol=1e-12)
    np.testing.assert_allclose(t_line, K.evaluate_ntk(X, **vals), rtol=0, atol=1e-12)
    np.testing.assert_array_equal(data["points"], X)
    assert np.all(np.diff(k_line) < 0)  # the kernel falls off with the angle
    assert legend_texts(ax) == [r"NNGP $K(\theta)$", r"NTK $\Theta(\theta)$"]
    assert ax.get_xlabel() == r"$\theta$"


def test_kernels_vs_angle_one_layer_formula():
    """Depth 1, ReLU, no bias, d = 2: the arc-cosine kernel sigma_W^4 r^2 (sin t + (pi - t) cos t)/(4 pi)."""
    K = ns.deep_kernels(lambda z: sp.Max(0, z), depth=1, d=2)
    th = np.linspace(0, np.pi, 7)
    data = nplot.kernels_vs_angle(K, angles=th, sigma_W=1.0, sigma_b=0.0).nnsym_data
    np.testing.assert_allclose(data["nngp"], (np.sin(th) + (np.pi - th) * np.cos(th)) / (4 * np.pi), atol=1e-12)


def test_kernels_vs_angle_symbolic_d():
    """A kernel in general d is drawn in d = 2 unless told (d=...); the kernel reads d from the points."""
    K = ns.deep_kernels(sp.erf, depth=1, d=sp.Symbol("d"))
    for D in (None, 3):
        data = nplot.kernels_vs_angle(K, angles=[0.0, 1.0], d=D, sigma_W=1.0, sigma_b=0.5).nnsym_data
        assert data["points"].shape == (2, 2, D or 2)
        np.testing.assert_array_equal(data["nngp"], K.evaluate_nngp(data["points"], sigma_W=1.0, sigma_b=0.5))
    with pytest.raises(ValueError, match="d = 3"):
        nplot.kernels_vs_angle(ns.deep_kernels(sp.erf, depth=1, d=2), d=3, sigma_W=1.0, sigma_b=0.5)


def test_kernels_vs_angle_bad_input():
    with pytest.raises(ValueError, match="d >= 2"):
        nplot.kernels_vs_angle(ns.deep_kernels(lambda z: sp.Max(0, z), depth=1, d=1), sigma_W=1.0, sigma_b=0.1)
    with pytest.raises(TypeError, match="DeepKernel"):
        nplot.kernels_vs_angle(ns.zoo.relu_net(2))


# ----------------------------------------------------------------------------- z-scores
@pytest.fixture(scope="module")
def cos_report():
    X = np.random.default_rng(5).uniform(-1.5, 1.5, size=(30, 2, 1))
    return ns.validate(ns.zoo.cos_net(1), 2, X, samples=20_000, seed=0, **COS, N=10)


def test_z_histogram(tmp_path, cos_report):
    rep = cos_report
    fig = nplot.z_histogram(rep, path=tmp_path / "z")
    written(fig, tmp_path / "z")
    ax = fig.axes[0]
    data = fig.nnsym_data
    np.testing.assert_array_equal(data["z"], rep.z)
    heights = np.array([p.get_height() for p in ax.patches])
    widths = np.array([p.get_width() for p in ax.patches])
    assert np.sum(heights * widths) == pytest.approx(1.0)  # density=True
    assert sum(heights > 0) >= 3
    np.testing.assert_array_equal(heights, data["counts"])
    g, pdf = ax.lines[1].get_data()
    np.testing.assert_allclose(pdf, np.exp(-g**2 / 2) / np.sqrt(2 * np.pi))
    verticals = sorted(line.get_xdata()[0] for line in ax.lines[2:])
    np.testing.assert_allclose(verticals, [-rep.threshold, rep.threshold])
    assert rep.passed and ax.get_title().startswith("PASS")
    assert f"{np.max(np.abs(rep.z)):.2f}" in ax.get_title()


def test_z_histogram_fail(cos_report):
    net = ns.zoo.cos_net(1)
    x1, x2 = net.correlator(2).points
    wrong = sp.Symbol("sigma_a", positive=True) ** 2 / 2 * sp.exp(-(x1 - x2) ** 2)  # the wrong length
    rep = ns.validate(net, 2, cos_report.points, samples=20_000, seed=0, expected=wrong, **COS, N=10)
    assert not rep.passed
    fig = nplot.z_histogram(rep, bins=8)
    assert fig.axes[0].get_title().startswith("FAIL")
    assert len(fig.axes[0].patches) == 8
    lo, hi = fig.axes[0].get_xlim()
    assert lo <= np.min(rep.z) and hi >= np.max(rep.z)  # every z is in view
    with pytest.raises(TypeError, match="ValidationReport"):
        nplot.z_histogram(rep.z)


# ----------------------------------------------------------------------------- the optional dependency
def test_matplotlib_is_optional(monkeypatch):
    code = ("import sys, nnsym; a = 'matplotlib' in sys.modules; "
            "import nnsym.plot; print(a, 'matplotlib' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]  # neither import nnsym nor import nnsym.plot imports matplotlib
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r'pip install "nnsym\[plot\]"'):
        nplot.monte_carlo_vs_exact(ns.zoo.cos_net(1), 2, ts=[0.0], samples=100_000_000, **COS, N=10)
