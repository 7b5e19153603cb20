"""Type contracts: declared port types checked before a run and, opt-in, per item.

A port type is either a Python type or typing form (``int``, ``tuple[str, int]``,
``dict``, ``Any``) or, as in dispel4py 1.x, a list of field names
(``['word', 'count']``) describing the items as tuples of that length.
Undeclared ports accept anything.
"""

from __future__ import annotations

import types
import typing
from typing import Any

from d4py._exceptions import TypeContractError
from d4py.groupings import Grouping

__all__ = ["check_assignable", "check_key_fits", "check_item", "is_checkable", "type_name"]


def _is_field_list(declared: Any) -> bool:
    return isinstance(declared, (list, tuple)) and all(isinstance(f, str) for f in declared)


def _base(tp: Any) -> Any:
    return typing.get_origin(tp) or tp


def _union_members(tp: Any) -> tuple[Any, ...] | None:
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        return typing.get_args(tp)
    return None


def _assignable(out: Any, inp: Any) -> bool:
    """Whether every item of type ``out`` is acceptable as ``inp``; lenient where unsure."""
    if out is None or inp is None or out is Any or inp is Any or out == inp:
        return True
    if _is_field_list(out) or _is_field_list(inp):
        if _is_field_list(out) and _is_field_list(inp):
            return len(out) == len(inp)
        return True
    out_members = _union_members(out)
    if out_members is not None:
        return all(_assignable(member, inp) for member in out_members)
    in_members = _union_members(inp)
    if in_members is not None:
        return any(_assignable(out, member) for member in in_members)
    out_base, in_base = _base(out), _base(inp)
    if not (isinstance(out_base, type) and isinstance(in_base, type)):
        return True
    if in_base is float and out_base is int:
        return True  # the numeric tower, as type checkers allow
    if not issubclass(out_base, in_base):
        return False
    out_args, in_args = typing.get_args(out), typing.get_args(inp)
    if out_args and in_args and len(out_args) == len(in_args) and Ellipsis not in in_args:
        return all(_assignable(o, i) for o, i in zip(out_args, in_args, strict=True))
    return True


def type_name(tp: Any) -> str:
    """How a declared type reads in messages and listings: ``int``, ``tuple[str, int]``, ``['word', 'count']``."""
    if _is_field_list(tp):
        return repr(list(tp))
    return getattr(tp, "__name__", None) if isinstance(tp, type) else str(tp).replace("typing.", "")  # type: ignore[return-value]


def check_assignable(out: Any, inp: Any, source: str, target: str) -> None:
    """Raise when items declared ``out`` at ``source`` cannot enter ``target`` declared ``inp``."""
    if not _assignable(out, inp):
        raise TypeContractError(
            f"type mismatch: {source} produces {type_name(out)} but {target} expects {type_name(inp)}"
        )


def check_key_fits(grouping: Grouping, declared: Any, where: str) -> None:
    """Raise when a group_by by fields cannot apply to items declared ``declared``."""
    if grouping.kind != "group_by" or grouping.key_function is not None or declared in (None, Any):
        return
    problem = _key_problem(grouping.fields, declared)
    if problem:
        raise TypeContractError(f"{where} groups by {list(grouping.fields)} but {problem}")


def _key_problem(fields: tuple[int | str, ...], declared: Any) -> str | None:
    if _is_field_list(declared):
        bad = [f for f in fields if isinstance(f, int) and not -len(declared) <= f < len(declared)]
        if bad:
            return f"its items have {len(declared)} fields {list(declared)}"
        return None
    base = _base(declared)
    if not isinstance(base, type):
        return None
    if issubclass(base, dict) or base is typing.Mapping:
        return None
    if issubclass(base, (str, bytes)) or not hasattr(base, "__getitem__"):
        return f"its items are declared {type_name(declared)}, which cannot be indexed by field"
    if any(isinstance(f, str) for f in fields):
        return f"its items are declared {type_name(declared)}, which has no named fields"
    args = typing.get_args(declared)
    if base is tuple and args and Ellipsis not in args:
        bad = [f for f in fields if isinstance(f, int) and not -len(args) <= f < len(args)]
        if bad:
            return f"its items are declared {type_name(declared)}, with {len(args)} fields"
    return None


def is_checkable(declared: Any) -> bool:
    """Whether items can be checked against ``declared`` one by one."""
    if declared is None or declared is Any:
        return False
    if _is_field_list(declared):
        return False  # dispel4py field lists describe items; 1.x never enforced them
    members = _union_members(declared)
    if members is not None:
        return all(is_checkable(m) or m is type(None) for m in members)
    return isinstance(_base(declared), type)


def check_item(item: Any, declared: Any) -> bool:
    """Whether ``item`` fits ``declared`` (shallow: container contents are not inspected)."""
    members = _union_members(declared)
    if members is not None:
        return any(check_item(item, m) for m in members)
    base = _base(declared)
    if base is float and isinstance(item, int) and not isinstance(item, bool):
        return True
    return isinstance(item, base)
