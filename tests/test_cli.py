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
    assert "positive integer" in captured.err


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
        (["validate", f"{f}:net", "--points", "2", "--values", "M=3"], "unexpected keyword argument(s) 'M'"),
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
    assert capsys.readouterr().out.strip() == G.latex()
    target = tmp_path / "g2.txt"
    assert cli.main(["derive", "cos-net", "--points", "2", "--d", "1", "--output", str(target)]) == 0
    assert target.read_text().strip() == str(G.expr) and "written to" in capsys.readouterr().out
    assert cli.main(["derive", "cos-net", "--points", "2", "--output", str(tmp_path / "no" / "g.txt")]) == 2
    assert "cannot write" in capsys.readouterr().err


def test_progress_bars_and_quiet(monkeypatch, capsys):
    """Without --quiet, work still running after PROGRESS_DELAY seconds shows a tqdm bar on stderr (the
    delay is set to 0 here so that the short run shows it); --quiet shows none."""
    pytest.importorskip("tqdm")
    monkeypatch.setattr(cli, "PROGRESS_DELAY", 0.0)
    argv = ["derive", "cos-net", "--points", "2", "--d", "1", "--samples", "40000"]
    assert cli.main(argv) == 0
    assert "draws" in capsys.readouterr().err
    assert cli.main([*argv, "--quiet"]) == 0
    assert "draws" not in capsys.readouterr().err
    assert cli.main(["validate", "cos-net", "--points", "2", "--d", "1", "--samples", "40000", "--quiet"]) == 0
    assert capsys.readouterr().err == ""
