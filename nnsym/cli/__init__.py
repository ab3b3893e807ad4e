"""Command-line interface ``nnsym``: one module per command.

- ``nnsym derive NAME|FILE.py:OBJECT --points n [--connected]`` derives a correlator of a network from
  :mod:`nnsym.zoo` or of a user's own (a ``Network`` in a Python file), prints it (sympy, LaTeX, a Python
  function, JSON) and, unless ``--no-validate`` is given, checks it against Monte Carlo with
  :func:`nnsym.validate`.
- ``nnsym validate NAME|FILE.py:OBJECT --points n [--expected FILE.py:EXPR]`` runs only the check, of
  nnsym's correlator or of a user's closed form, with exit code 1 when it fails: a CI gate.
- ``nnsym spectrum``, ``nnsym axioms`` (the Osterwalder-Schrader report) and ``nnsym kernel`` (NNGP and
  NTK of a deep network), each with ``--plot FILE``; ``nnsym list`` shows the zoo.

Every command has ``--help``; bad input is one line ``nnsym: error: ...`` with exit code 2.
A new command is one module with ``add_parser(subparsers)`` and ``run(args, out, err) -> int``,
listed in ``COMMANDS``.

>>> main(["derive", "cos-net", "--points", "2", "--d", "1", "--no-validate", "--no-pretty"])  # doctest: +ELLIPSIS
cos-net: full correlator G^(2), d = 1
...
0
"""

from __future__ import annotations

import argparse
import sys
from typing import Sequence

from . import axioms, derive, kernel, networks, spectrum, validate
from .networks import available_networks
from .options import InputError

__all__ = ["main", "build_parser", "available_networks", "COMMANDS"]

COMMANDS = {"derive": derive, "validate": validate, "spectrum": spectrum, "axioms": axioms, "kernel": kernel,
            "list": networks}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nnsym",
        description="Exact correlators of neural-network field theories.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for module in COMMANDS.values():
        module.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``nnsym`` command; returns the exit code (0 pass, 1 a failed check, 2 bad input)."""
    parser = build_parser()
    try:
        args = parser.parse_args(list(argv) if argv is not None else None)
    except SystemExit as exc:  # usage errors and --help
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else 2)
    out, err = sys.stdout, sys.stderr
    try:
        return COMMANDS[args.command].run(args, out, err)
    except (InputError, LookupError) as exc:
        print(f"nnsym: error: {exc.args[0] if exc.args else exc}", file=err)
        return 2
