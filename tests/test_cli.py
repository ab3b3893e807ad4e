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
