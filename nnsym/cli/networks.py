"""The networks the CLI works on: the zoo (``nnsym list``) and a user's ``FILE.py:OBJECT``."""

from __future__ import annotations

import argparse
import inspect
from typing import Any, Callable

__all__ = ["available_networks", "load_network", "load_file_object", "takes_dimension", "add_parser", "run"]


def _zoo_module():
    import importlib

    return importlib.import_module("nnsym.model.zoo")


def takes_dimension(obj: Any) -> bool:
    """Whether a builder takes the input dimension ``d`` (``cos_net(d)``) rather than fixing it (``cauchy_net()``)."""
    try:
        inspect.signature(obj).bind(2)
        return True
    except (TypeError, ValueError):
        return False


def _is_builder(obj: Any) -> bool:
    """A zoo network builder: a callable taking the input dimension ``d``, or none for a fixed dimension."""
    if not callable(obj) or isinstance(obj, type):
        return False
    try:
        sig = inspect.signature(obj)
    except (TypeError, ValueError):
        return False
    ret = sig.return_annotation
    if not takes_dimension(obj):
        try:
            sig.bind()
        except TypeError:
            return False
        if ret is inspect.Signature.empty:  # a fixed-dimension builder says it returns a Network
            return False
    if ret is not inspect.Signature.empty:
        return "Network" in (ret if isinstance(ret, str) else getattr(ret, "__name__", str(ret)))
    return True


def available_networks() -> list[str]:
    """Names (dash spelling) of the network builders in :mod:`nnsym.zoo`."""
    zoo = _zoo_module()
    names = getattr(zoo, "__all__", None)
    if names is None:
        names = [name for name, obj in vars(zoo).items()
                 if getattr(obj, "__module__", None) == zoo.__name__]
    return sorted(name.replace("_", "-") for name in names
                  if not name.startswith("_") and _is_builder(getattr(zoo, name, None)))


def lookup_builder(name: str) -> Callable:
    zoo = _zoo_module()
    attr = name.strip().replace("-", "_")
    builder = getattr(zoo, attr, None) if not attr.startswith("_") else None
    if builder is None or not _is_builder(builder):
        raise LookupError(
            f"unknown network {name!r}; available networks: "
            + (", ".join(available_networks()) or "(none)"))
    return builder


def load_file_object(spec: str):
    """``FILE.py:NAME`` -> the object NAME defined in the Python file FILE.py (run as a module)."""
    import importlib.util
    from pathlib import Path

    path, _, attr = spec.rpartition(":")
    file = Path(path)
    if not file.is_file():
        raise LookupError(f"no such file {path!r} (in {spec!r}; the form is FILE.py:NAME)")
    module_spec = importlib.util.spec_from_file_location(f"nnsym_user_{file.stem}", file)
    if module_spec is None or module_spec.loader is None:
        raise LookupError(f"cannot load {path!r} as Python")
    module = importlib.util.module_from_spec(module_spec)
    try:
        module_spec.loader.exec_module(module)
    except Exception as exc:  # noqa: BLE001 -- any error in the user's file is reported as one line
        raise LookupError(f"running {path!r} failed: {type(exc).__name__}: {exc}") from exc
    if not hasattr(module, attr):
        names = sorted(k for k in vars(module) if not k.startswith("_"))
        raise LookupError(f"{path!r} defines no {attr!r}; it defines: {', '.join(names) or '(nothing)'}")
    return getattr(module, attr)


def load_network(spec: str, d):
    """A zoo name (``cos-net``) or ``FILE.py:OBJECT`` (a Network, or a function returning one, taking the
    dimension d or nothing) -> (network, dimension). ``d``: the --d option (None: symbolic if possible)."""
    import sympy as sp

    from ..model.network import Network

    general = sp.Symbol("d", positive=True, integer=True)  # a general dimension when --d is not given
    if ":" in spec and spec.rpartition(":")[0].endswith(".py"):
        obj = load_file_object(spec)
        if not isinstance(obj, Network):
            if not callable(obj):
                raise LookupError(f"{spec!r} is a {type(obj).__name__}, not an nnsym.Network or a function "
                                  "returning one")
            obj = obj(general if d is None else d) if takes_dimension(obj) else obj()
            if not isinstance(obj, Network):
                raise LookupError(f"{spec!r} returned a {type(obj).__name__}, not an nnsym.Network")
        net = obj
    else:
        builder = lookup_builder(spec)
        if takes_dimension(builder):
            return builder(general if d is None else d), (general if d is None else d)
        net = builder()
    if d is not None and net.dim.is_Integer and int(net.dim) != d:
        raise LookupError(f"{spec} is defined in d = {net.dim} only, got --d {d}")
    return net, (net.dim if net.dim.is_Integer or d is None else d)


def add_parser(sub) -> argparse.ArgumentParser:
    """``nnsym list``."""
    return sub.add_parser("list", help="list the zoo networks",
                          description="List the networks available in nnsym.zoo (the names NAME that derive, "
                                      "validate, spectrum and axioms take).")


def run(args, out, err) -> int:
    for name in available_networks():
        print(name, file=out)
    return 0
