"""The one error hierarchy (``nnsym.errors``).

* Every public exception derives from ``NNSymError`` and from the builtin type it had before the
  hierarchy existed (so ``except ValueError`` in old code keeps working); every warning from
  ``NNSymWarning``.
* Each class is defined once: wherever a module of nnsym exposes one of these names, it is the
  object of ``nnsym.errors``; no other module defines a public exception or warning class.
* They survive pickling with their extra attributes (the Dask executor ships them back).
* No handler in nnsym swallows every exception: a bare ``except:``, ``except Exception`` or
  ``except BaseException`` is allowed only when it re-raises unconditionally -- its last
  statement is a ``raise`` (typically ``raise NoClosedForm(...) from exc``, adding context).
  Anything else names the exceptions it expects (``except nnsym.errors.SYMBOLIC_FAILURES:``
  where sympy may give up and a numeric route takes over), so that a bug still surfaces.
"""
from __future__ import annotations

import ast
import importlib
import pathlib
import pickle
import pkgutil

import pytest

import nnsym
import nnsym.errors as err

PACKAGE = pathlib.Path(nnsym.__file__).resolve().parent

BUILTIN_BASE = {
    "DivergentExpectation": ValueError,
    "NoClosedForm": NotImplementedError,
    "SpotCheckError": ArithmeticError,
    "TooExpensive": ValueError,
    "NotACosLayer": ValueError,
    "NoJointDensity": ValueError,
    "CollapsedSampleSize": ValueError,
    "FusedUnavailable": ImportError,
    "LatexError": RuntimeError,
    "CommandLineError": ValueError,
    "NumericWarning": UserWarning,
    "UnreliableErrorWarning": UserWarning,
    "CostWarning": UserWarning,
}


def _public_classes():
    return {name: getattr(err, name) for name in err.__all__ if isinstance(getattr(err, name), type)}


def _modules():
    yield nnsym
    for info in pkgutil.walk_packages(nnsym.__path__, "nnsym."):
        yield importlib.import_module(info.name)


def test_every_class_has_its_base_and_its_builtin_type():
    classes = _public_classes()
    assert set(BUILTIN_BASE) <= set(classes)
    for name, cls in classes.items():
        assert cls.__doc__, f"{name} needs a docstring saying when it is raised"
        if name in ("NNSymError", "NNSymWarning"):
            continue
        if issubclass(cls, Warning):
            assert issubclass(cls, err.NNSymWarning), name
        else:
            assert issubclass(cls, err.NNSymError), name
        assert issubclass(cls, BUILTIN_BASE[name]), f"{name} must stay a {BUILTIN_BASE[name].__name__}"
    assert issubclass(err.NNSymWarning, UserWarning) and issubclass(err.NNSymError, Exception)
    assert issubclass(err.UnreliableErrorWarning, err.NumericWarning)


def test_top_level_names():
    for name in ("NNSymError", "NNSymWarning", "NoClosedForm"):
        assert name in nnsym.__all__ and getattr(nnsym, name) is getattr(err, name)
    for name in ("DivergentExpectation", "SpotCheckError", "TooExpensive", "CostWarning", "NumericWarning",
                 "UnreliableErrorWarning"):
        assert getattr(nnsym, name) is getattr(err, name), name


def test_each_class_is_defined_once():
    classes = _public_classes()
    for module in _modules():
        for name, obj in vars(module).items():
            if name in classes:
                assert obj is classes[name], f"{module.__name__}.{name} is not nnsym.errors.{name}"
            elif (isinstance(obj, type) and issubclass(obj, BaseException) and obj.__module__ == module.__name__
                  and not name.startswith("_")):
                pytest.fail(f"{module.__name__}.{name}: public exception classes live in nnsym.errors")


def test_old_except_clauses_still_catch():
    with pytest.raises(ValueError, match="terms"):
        nnsym.zoo.cos_net(2).correlator(30)  # refused at once, from the cost estimate
    with pytest.raises(err.NNSymError):
        nnsym.Cauchy("b", 0, 1).moment(2)
    with pytest.raises(NotImplementedError):
        raise err.NoClosedForm("no closed form of the test")


def test_symbolic_failures_name_the_give_ups_and_not_everything():
    failures = err.SYMBOLIC_FAILURES
    assert Exception not in failures and BaseException not in failures
    for give_up in (TimeoutError("time_limit"), err.NoClosedForm("x"), err.DivergentExpectation("x"),
                    RecursionError("deep")):
        assert isinstance(give_up, failures)
    for bug in (NameError("x"), AttributeError("x"), KeyError("x"), AssertionError("x")):
        assert not isinstance(bug, failures)


def test_pickle_keeps_the_attributes():
    exc = pickle.loads(pickle.dumps(err.TooExpensive("too many terms", cost=12345)))
    assert type(exc) is err.TooExpensive and exc.cost == 12345 and str(exc) == "too many terms"
    w = pickle.loads(pickle.dumps(err.NumericWarning("by quadrature", error=1e-9)))
    assert type(w) is err.NumericWarning and w.error == 1e-9 and str(w) == "by quadrature"


# ----------------------------------------------------------------------------- no handler swallows everything
def _catches_everything(handler: ast.ExceptHandler) -> bool:
    if handler.type is None:
        return True
    kinds = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    return any(isinstance(k, ast.Name) and k.id in ("Exception", "BaseException") for k in kinds)


def broad_handlers_that_do_not_reraise(source: str) -> list[int]:
    """Line numbers of ``except:``/``except Exception``/``except BaseException`` handlers whose last
    statement is not a ``raise``."""
    return [h.lineno for h in ast.walk(ast.parse(source))
            if isinstance(h, ast.ExceptHandler) and _catches_everything(h) and not isinstance(h.body[-1], ast.Raise)]


def test_the_rule_itself():
    swallow = "try:\n    f()\nexcept Exception:\n    pass\n"
    wrap = "try:\n    f()\nexcept Exception as exc:\n    raise RuntimeError('context') from exc\n"
    specific = "try:\n    f()\nexcept (ValueError, NotImplementedError):\n    pass\n"
    bare = "try:\n    f()\nexcept:\n    g()\n"
    assert broad_handlers_that_do_not_reraise(swallow) == [3]
    assert broad_handlers_that_do_not_reraise(bare) == [3]
    assert broad_handlers_that_do_not_reraise(wrap) == []
    assert broad_handlers_that_do_not_reraise(specific) == []


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: str(p.relative_to(PACKAGE.parent)))
def test_no_handler_swallows_every_exception(path):
    lines = broad_handlers_that_do_not_reraise(path.read_text(encoding="utf-8"))
    assert not lines, (f"{path.relative_to(PACKAGE.parent)}: lines {lines} catch every exception without re-raising; "
                       "name the exceptions expected there (or re-raise with context)")
