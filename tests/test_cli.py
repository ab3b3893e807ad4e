"""Tests of the command-line interface ``nnsym`` / ``python -m nnsym``."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from nnsym import cli

REPO = Path(__file__).resolve().parents[1]


def _env():
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def test_derive_cos_net_two_point_prints_latex(capsys):
    code = cli.main(["derive", "cos-net", "--points", "2", "--no-validate"])
    out = capsys.readouterr().out
    assert code == 0
    assert r"\sigma_{a}" in out
    assert "LaTeX" in out
    assert "derived in" in out
    assert "Validation" not in out


def test_python_m_nnsym_validates_connected_four_point():
    proc = subprocess.run(
        [sys.executable, "-m", "nnsym", "derive", "cos-net", "--points", "4", "--connected"],
        cwd=REPO, env=_env(), capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "PASS" in proc.stdout, proc.stdout + proc.stderr
    assert "FAIL" not in proc.stdout


def test_unknown_network_is_a_clear_error(capsys):
    code = cli.main(["derive", "no-such-net", "--points", "2", "--no-validate"])
    captured = capsys.readouterr()
    assert code != 0
    assert "unknown network" in captured.err
    assert "no-such-net" in captured.err
    assert "cos-net" in captured.err and "gauss-net" in captured.err


@pytest.mark.parametrize("points", ["0", "-3"])
def test_nonpositive_points_is_a_clear_error(capsys, points):
    code = cli.main(["derive", "cos-net", "--points", points, "--no-validate"])
    captured = capsys.readouterr()
    assert code != 0
    assert "--points" in captured.err
    assert "the number of points must be a positive integer, got" in captured.err


def test_list_shows_zoo_networks(capsys):
    assert cli.main(["list"]) == 0
    names = capsys.readouterr().out.split()
    assert names == ["cauchy-net", "cos-net", "erf-net", "free-scalar", "gauss-net", "relu-net"]  # no helpers


@pytest.mark.parametrize("name, extra", [("free-scalar", ["--d", "2"]), ("cauchy-net", []), ("relu-net", ["--d", "1"]),
                                         ("erf-net", ["--d", "1"])])
def test_every_zoo_network_validates_with_its_default_values(capsys, name, extra):
    """The defaults cover every hyper-parameter (free-scalar's m and Lambda, erf-net's sigma_W); the
    fixed-dimension cauchy-net is built without a d."""
    code = cli.main(["derive", name, "--points", "2", "--samples", "40000", *extra])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "verdict: PASS" in out


def test_fixed_dimension_network_refuses_another_d(capsys):
    assert cli.main(["derive", "cauchy-net", "--points", "2", "--d", "2", "--no-validate"]) == 2
    assert "cauchy-net is defined in d = 1 only, got --d 2" in capsys.readouterr().err


def test_bad_value_option_is_rejected(capsys):
    code = cli.main(["derive", "cos-net", "--points", "2", "--value", "sigma_a"])
    assert code != 0
    assert "NAME=FLOAT" in capsys.readouterr().err


def test_value_override_reaches_the_check(capsys):
    code = cli.main(["derive", "cos-net", "--points", "2", "--d", "1",
                     "--value", "sigma_a=2.0", "--samples", "40000"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "sigma_a=2" in out
    assert "PASS" in out


def test_new_zoo_builders_are_found_generically_and_validated(monkeypatch, capsys):
    import sympy as sp

    import nnsym

    def laplace_net(d) -> nnsym.Network:  # a zoo entry the CLI has never heard of
        N = sp.Symbol("N", positive=True, integer=True)
        x = nnsym.Input("x", d)
        a = nnsym.Uniform("a", -sp.sqrt(3 / N), sp.sqrt(3 / N))
        b = nnsym.Laplace("b", 0, sp.Rational(1, 2), shape=d)
        c = nnsym.Uniform("c", -sp.pi, sp.pi)
        return nnsym.Network(sp.cos(b.dot(x) + c), readout=a, width=N, input=x)

    monkeypatch.setattr(nnsym.zoo, "laplace_net", laplace_net, raising=False)
    monkeypatch.setattr(nnsym.zoo, "__all__", [*nnsym.zoo.__all__, "laplace_net"])
    assert "laplace-net" in cli.available_networks()
    code = cli.main(["derive", "laplace-net", "--points", "4", "--connected", "--d", "2", "--samples", "100000"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "verdict: PASS" in out


def test_validation_table_and_verdict(capsys):
    code = cli.main(["derive", "gauss-net", "--points", "2", "--d", "2", "--samples", "50000"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "exact" in out and "MC mean" in out and " z" in out
    assert "verdict: PASS" in out


USER_FILE = '''
import sympy as sp
import nnsym as ns

N = sp.Symbol("N", positive=True, integer=True)
x = ns.Input("x", 1)
net = ns.Network(sp.cos(ns.Normal("b", 0, 1) * x + ns.Uniform("c", -sp.pi, sp.pi)),
                 readout=ns.Normal("a", 0, 1 / N), width=N, input=x)
RIGHT = "exp(-(x_1 - x_2)**2/2)/2"     # N E[a^2] E[cos(b x_1 + c) cos(b x_2 + c)], by hand
WRONG = "exp(-(x_1 - x_2)**2)/2"
NOT_A_NETWORK = 3
'''


def test_a_users_network_and_formula_from_a_file(tmp_path, capsys):
    """A Network in the user's own file derives and validates; `validate --expected` exits 0 on the
    right closed form and 1 on a wrong one, with the table and without a traceback."""
    f = tmp_path / "mynet.py"
    f.write_text(USER_FILE)
    spec = f"{f}:net"
    assert cli.main(["derive", spec, "--points", "2", "--samples", "40000"]) == 0
    assert "verdict: PASS" in capsys.readouterr().out
    assert cli.main(["validate", spec, "--points", "2", "--expected", f"{f}:RIGHT", "--samples", "50000"]) == 0
    assert "expected formula vs Monte Carlo" in capsys.readouterr().out
    assert cli.main(["validate", spec, "--points", "2", "--expected", f"{f}:WRONG", "--samples", "50000"]) == 1
    captured = capsys.readouterr()
    assert "verdict: FAIL" in captured.out and "Traceback" not in captured.out + captured.err


def test_validate_bad_input_is_one_line_and_exit_code_2(tmp_path, capsys):
    f = tmp_path / "mynet.py"
    f.write_text(USER_FILE)
    cases = [
        (["validate", f"{f}:nett", "--points", "2"], "defines no 'nett'; it defines: N, NOT_A_NETWORK, RIGHT"),
        (["validate", f"{f}:NOT_A_NETWORK", "--points", "2"], "is a int, not an nnsym.Network"),
        (["validate", f"{tmp_path}/missing.py:net", "--points", "2"], "no such file"),
        (["validate", f"{f}:net", "--points", "2", "--values", "M=3"], "unknown parameter 'M'; the network's"),
        (["validate", f"{f}:net", "--points", "2", "--expected", f"{f}:NOT_A_NETWORK"], "not a sympy expression"),
    ]
    for argv, message in cases:
        assert cli.main(argv) == 2, argv
        err = capsys.readouterr().err
        assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert cli.main(["validate", f"{f}:net", "--points", "2", "--alpha", "2"]) == 2
    assert "probability in (0, 1)" in capsys.readouterr().err


def test_format_and_output(tmp_path, capsys):
    """--format writes the result alone: sympy (str), latex, json (checked against the Correlator);
    --output writes it to a file; an unwritable path is one line and exit code 2."""
    import json

    import sympy as sp

    import nnsym

    G = nnsym.zoo.cos_net(1).correlator(2)
    assert cli.main(["derive", "cos-net", "--points", "2", "--d", "1", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["points"] == ["x_1", "x_2"] and data["exact"] is True and data["latex"] == G.latex()
    assert sp.simplify(sp.sympify(data["expr"], locals={s.name: s for s in G.expr.free_symbols}) - G.expr) == 0
    assert cli.main(["derive", "cos-net", "--points", "2", "--d", "1", "--format", "latex"]) == 0
    assert capsys.readouterr().out.strip() == G.latex(style="align", label="eq:cos-net-G2")
    target = tmp_path / "g2.txt"
    assert cli.main(["derive", "cos-net", "--points", "2", "--d", "1", "--output", str(target)]) == 0
    assert target.read_text().strip() == str(G.expr) and "written to" in capsys.readouterr().out
    assert cli.main(["derive", "cos-net", "--points", "2", "--output", str(tmp_path / "no" / "g.txt")]) == 2
    assert "cannot write" in capsys.readouterr().err


def test_progress_bars_and_quiet(monkeypatch, capsys):
    """Without --quiet, work still running after PROGRESS_DELAY seconds shows a tqdm bar on stderr (the
    delay is set to 0 here so that the short run shows it); --quiet shows none."""
    pytest.importorskip("tqdm")
    monkeypatch.setattr("nnsym.cli.options.PROGRESS_DELAY", 0.0)
    argv = ["derive", "cos-net", "--points", "2", "--d", "1", "--samples", "40000"]
    assert cli.main(argv) == 0
    assert "draws" in capsys.readouterr().err
    assert cli.main([*argv, "--quiet"]) == 0
    assert "draws" not in capsys.readouterr().err
    assert cli.main(["validate", "cos-net", "--points", "2", "--d", "1", "--samples", "40000", "--quiet"]) == 0
    assert capsys.readouterr().err == ""


# ----------------------------------------------------------------------------- derive --format python
@pytest.mark.parametrize("argv, n, d", [
    (["derive", "cos-net", "--points", "4", "--connected"], 4, 3),
    (["derive", "cauchy-net", "--points", "2"], 2, 1),
    (["derive", "relu-net", "--points", "2", "--d", "2"], 2, 2),
])
def test_format_python_is_a_numpy_function_equal_to_the_kernel(argv, n, d, capsys):
    import numpy as np

    import nnsym

    assert cli.main([*argv, "--format", "python"]) == 0
    src = capsys.readouterr().out
    assert "import numpy" in src and "def G" in src
    space: dict = {}
    exec(compile(src, "<nnsym derive --format python>", "exec"), space)
    (fn,) = [v for k, v in space.items() if k.startswith("G") and callable(v)]
    net = getattr(nnsym.zoo, argv[1].replace("-", "_"))
    net = net() if argv[1] == "cauchy-net" else net(d if "--d" in argv else sp_d())
    corr = net.correlator(n, connected="--connected" in argv)
    X = np.random.default_rng(1).normal(size=(6, n, d))
    values = {h.name: 0.9 for h in corr.free_parameters if h.name != "d"}
    values.update({"N": 7} if "N" in values else {})
    args = [X[:, k, 0] if d == 1 else X[:, k, :] for k in range(n)]
    np.testing.assert_allclose(fn(*args, **values), corr.evaluate(X, **values), rtol=1e-12, atol=1e-15)


def sp_d():
    import sympy as sp

    return sp.Symbol("d", positive=True, integer=True)


def test_format_python_refuses_a_numeric_result(tmp_path, capsys):
    f = tmp_path / "numnet.py"
    f.write_text("import sympy as sp, nnsym as ns\n"
                 "x = ns.Input('x', 1)\n"
                 "b = ns.Normal('b', 0, 1)\n"
                 "net = ns.Network(neuron=sp.cos(b * x) * sp.exp(-b**4) , readout=ns.Normal('a', 0, 1), width=3, "
                 "input=x)\n")
    code = cli.main(["derive", f"{f}:net", "--points", "2", "--format", "python"])
    err = capsys.readouterr().err
    if code == 0:  # nnsym found a closed form: nothing to refuse
        pytest.skip("closed form found")
    assert code == 2 and "--format python" in err and "Traceback" not in err


# ----------------------------------------------------------------------------- spectrum, axioms, kernel
def test_spectrum_table_is_the_cauchy_law(capsys):
    # the Cauchy net's spectrum is sigma_a^2 m / (p^2 + m^2) (docs/conventions.md, Example 2)
    assert cli.main(["spectrum", "cauchy-net", "--values", "m=2", "sigma_a=1.5"]) == 0
    out = capsys.readouterr().out
    rows = [line.split() for line in out.splitlines() if line.strip() and line.split()[0].replace(".", "").isdigit()]
    assert len(rows) == 6
    for k, g in ((float(a), float(b)) for a, b in rows):
        assert abs(g - 1.5**2 * 2 / (k**2 + 4)) < 1e-6 * (1 + g)


def test_spectrum_of_a_network_without_one_is_one_line(capsys):
    assert cli.main(["spectrum", "relu-net", "--d", "2"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("nnsym: error: no power spectrum of relu-net") and len(err.strip().splitlines()) == 1


def test_axioms_exit_code_follows_the_verdict(capsys):
    assert cli.main(["axioms", "cauchy-net", "--width", "infinite"]) == 0
    out = capsys.readouterr().out
    assert "reflection positivity" in out and "all five axioms: hold" in out
    assert cli.main(["axioms", "cauchy-net", "--width", "finite"]) == 1  # E4 fails at finite N
    assert "cluster decomposition: FAILS" in capsys.readouterr().out


def test_kernel_table_is_the_arc_cosine_kernel(capsys):
    import numpy as np

    # depth 1 ReLU: K = C_b + C_W/(2 pi) sqrt(K11 K22) (sin t + (pi - t) cos t), t = angle of the layer-1 kernel
    assert cli.main(["kernel", "relu", "--depth", "1", "--d", "3", "--values", "sigma_W=1.3", "sigma_b=0.4"]) == 0
    out = capsys.readouterr().out
    rows = [list(map(float, line.split())) for line in out.splitlines()
            if len(line.split()) == 3 and line.split()[0].replace(".", "").isdigit()]
    assert len(rows) == 5
    cw, cb = 1.3**2, 0.4**2
    for th_pi, K, _ in rows:
        k11 = cb + cw / 3
        k12 = cb + cw / 3 * np.cos(np.pi * th_pi)
        t = np.arccos(k12 / k11)
        assert abs(K - (cb + cw / (2 * np.pi) * k11 * (np.sin(t) + (np.pi - t) * np.cos(t)))) < 1e-6


def test_kernel_reads_an_expression_and_refuses_other_symbols(capsys):
    assert cli.main(["kernel", "Max(0, z)**2", "--depth", "1"]) == 0
    assert "closed form" in capsys.readouterr().out
    assert cli.main(["kernel", "Max(0, z - q)"]) == 2
    err = capsys.readouterr().err
    assert "may depend only on z" in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("command", ["derive", "validate", "spectrum", "axioms", "kernel", "list"])
def test_every_command_has_help(command, capsys):
    assert cli.main([command, "--help"]) == 0
    assert "usage: nnsym " + command in capsys.readouterr().out


# ----------------------------------------------------------------------------- --plot
def _non_blank_png(path):
    import matplotlib.image as mpimg
    import numpy as np

    img = mpimg.imread(path)[..., :3]
    return float(np.mean(np.any(img < 0.95, axis=-1))) > 0.01 and len(np.unique(img.reshape(-1, 3), axis=0)) > 5


@pytest.mark.parametrize("argv", [
    ["spectrum", "free-scalar", "--d", "3"],
    ["kernel", "erf", "--depth", "2"],
    ["validate", "cos-net", "--points", "2", "--d", "1", "--samples", "20000"],
    ["axioms", "cauchy-net", "--width", "infinite"],
])
def test_plot_option_writes_a_picture(argv, tmp_path, capsys):
    pytest.importorskip("matplotlib")
    path = tmp_path / "fig.png"
    assert cli.main([*argv, "--plot", str(path)]) == 0
    assert f"plot written to {path}" in capsys.readouterr().out
    assert path.is_file() and _non_blank_png(path)
    stem = tmp_path / "both"
    assert cli.main([*argv, "--plot", str(stem)]) == 0
    assert (tmp_path / "both.png").is_file() and (tmp_path / "both.pdf").stat().st_size > 1000


def test_latex_label_of_a_users_network_is_its_object_name(tmp_path, capsys):
    f = tmp_path / "mynet.py"
    f.write_text(USER_FILE)
    assert cli.main(["derive", f"{f}:net", "--points", "2", "--format", "latex"]) == 0
    out = capsys.readouterr().out
    assert r"\label{eq:net-G2}" in out and r"\begin{align}" in out
