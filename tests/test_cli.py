"""Tests of the command-line interface ``nnsym`` / ``python -m nnsym``."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
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
    assert "cos-net" in names and "gauss-net" in names


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


class _Scaled:
    """A deliberately wrong correlator: the real one times a factor."""

    def __init__(self, corr, factor):
        self.corr, self.factor = corr, factor

    def evaluate(self, X, **values):
        return self.factor * np.asarray(self.corr.evaluate(X, **values), dtype=float)


@pytest.mark.parametrize("connected", [False, True])
def test_monte_carlo_check_accepts_right_and_rejects_wrong(connected):
    import nnsym

    net = nnsym.zoo.cos_net(2)
    n = 2 if not connected else 4
    corr = net.correlator(n, connected=connected)
    X = np.random.default_rng(0).uniform(-1, 1, size=(5, n, 2))
    values = dict(cli.DEFAULT_VALUES)
    good = cli._monte_carlo_check(net, corr, n, connected, X, values, 200_000, 0)
    assert good.passed, (good.exact, good.mean, good.stderr)
    bad = cli._monte_carlo_check(net, _Scaled(corr, 1.25), n, connected, X, values, 200_000, 0)
    assert not bad.passed, (bad.exact, bad.mean, bad.stderr)


def test_new_zoo_builders_are_found_generically_and_bare_networks_skip_validation(
        monkeypatch, capsys):
    import nnsym

    def bare_net(d) -> "Network":  # a zoo entry the CLI has never heard of
        real = nnsym.zoo.cos_net(d)

        class Bare:  # no neuron / readout / input: nothing to simulate
            def correlator(self, n, connected=False):
                return real.correlator(n, connected=connected)

        return Bare()

    monkeypatch.setattr(nnsym.zoo, "bare_net", bare_net, raising=False)
    if hasattr(nnsym.zoo, "__all__"):
        monkeypatch.setattr(nnsym.zoo, "__all__", [*nnsym.zoo.__all__, "bare_net"])
    assert "bare-net" in cli.available_networks()
    code = cli.main(["derive", "bare-net", "--points", "2"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "validation skipped" in out


def test_shared_parameters_are_not_simulated():
    import sympy as sp
    import nnsym as ns

    N = sp.Symbol("N", positive=True, integer=True)
    x = ns.Input("x", 1)
    a, b, c = ns.Normal("a", 0, 1 / N), ns.Normal("b", 0, 1), ns.Uniform("c", -sp.pi, sp.pi)
    net = ns.Network(sp.cos(b * x + c), readout=a, width=N, input=x, shared=(b,))
    X = np.zeros((5, 2, 1))
    with pytest.raises(cli.ValidationSkipped, match="shared"):
        cli._monte_carlo_check(net, None, 2, False, X, {"N": 10.0}, 1000, 0,
                               exact=np.zeros(5))
