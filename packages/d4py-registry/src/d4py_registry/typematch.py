"""Whether a declared port type takes another, decided on the spelled types alone.

The registry answers ``--accepts`` and ``--produces`` from stored text, since
evaluating a type's spelling would run stored code. The rules follow
``d4py.contracts`` where a spelling allows: equal types, ``Any``/``object``
taking everything, unions, ``int`` into ``float``, and a bare generic
(``tuple``) taking its parametrised forms (``tuple[str, int]``). Undeclared
ports match no type: they take anything, and listing them all would drown
the answer.
"""

from __future__ import annotations

__all__ = ["assignable"]

_ANYTHING = {"Any", "object"}


def assignable(given: str | None, declared: str | None) -> bool:
    """Whether items of type ``given`` fit a port declared ``declared``."""
    if given is None or declared is None:
        return False
    given, declared = _normal(given), _normal(declared)
    if declared in _ANYTHING or given == declared:
        return True
    given_members, declared_members = _members(given), _members(declared)
    if len(given_members) > 1:
        return all(assignable(member, declared) for member in given_members)
    if len(declared_members) > 1:
        return any(assignable(given, member) for member in declared_members)
    if (given, declared) == ("int", "float"):
        return True  # the numeric tower, as d4py's contracts allow
    return "[" not in declared and given.split("[", 1)[0] == declared


def _normal(spelled: str) -> str:
    spelled = spelled.replace("typing.", "").replace(" ", "")
    if spelled.startswith("Optional[") and spelled.endswith("]"):
        return f"{spelled[9:-1]}|None"
    if spelled.startswith("Union[") and spelled.endswith("]"):
        return "|".join(_split(spelled[6:-1], ","))
    return spelled


def _members(spelled: str) -> list[str]:
    return _split(spelled, "|")


def _split(spelled: str, separator: str) -> list[str]:
    """Split at ``separator`` outside brackets."""
    parts, depth, start = [], 0, 0
    for index, char in enumerate(spelled):
        if char in "[(":
            depth += 1
        elif char in "])":
            depth -= 1
        elif char == separator and depth == 0:
            parts.append(spelled[start:index])
            start = index + 1
    parts.append(spelled[start:])
    return parts
