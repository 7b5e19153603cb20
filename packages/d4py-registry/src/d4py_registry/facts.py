"""What a module's source says about itself, read with ``ast`` (nothing runs).

Imports, author, licence and version come from the text so that they are
the same whoever reads them, and so that ports can be read from a PE whose
``__init__`` needs arguments (see :func:`declared_ports`).
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

__all__ = ["ModuleFacts", "declared_ports", "module_facts"]

_SPDX = re.compile(rb"SPDX-License-Identifier:\s*(\S+)")


@dataclass(frozen=True)
class ModuleFacts:
    imports: tuple[str, ...]  # top-level modules it imports, sorted
    author: str | None
    licence: str | None
    version: str | None


def module_facts(source: bytes) -> ModuleFacts:
    """Read imports, ``__author__``, ``__license__`` (or an SPDX line) and ``__version__``."""
    tree = ast.parse(source)
    imports: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imports.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            imports.add(node.module.split(".")[0])
    constants = _string_constants(tree)
    spdx = _SPDX.search(source)
    licence = constants.get("__license__") or constants.get("__licence__") or (spdx and spdx.group(1).decode())
    return ModuleFacts(
        tuple(sorted(imports)), constants.get("__author__"), licence or None, constants.get("__version__")
    )


def _string_constants(tree: ast.Module) -> dict[str, str]:
    found = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    found[target.id] = node.value.value
    return found


def declared_ports(source: bytes, class_name: str) -> list[tuple[str, str, str | None, str | None]]:
    """The ports a class's ``__init__`` declares with literal names: (direction, name, type, grouping) as written.

    Used only when the class cannot be instantiated without arguments: the
    type and grouping are the source text of the arguments, not evaluated.
    """
    tree = ast.parse(source)
    found: list[tuple[str, str, str | None, str | None]] = []
    for cls in tree.body:
        if isinstance(cls, ast.ClassDef) and cls.name == class_name:
            for node in ast.walk(cls):
                port = _port_call(node)
                if port:
                    found.append(port)
    return found


def _port_call(node: ast.AST) -> tuple[str, str, str | None, str | None] | None:
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
        return None
    method = node.func.attr
    if method not in ("_add_input", "_add_output") or not node.args:
        return None
    first = node.args[0]
    if not (isinstance(first, ast.Constant) and isinstance(first.value, str)):
        return None
    # _add_input(name, grouping, tuple_type) and _add_output(name, tuple_type), positionally or by keyword
    positional = ["grouping", "tuple_type"] if method == "_add_input" else ["tuple_type"]
    given = dict(zip(positional, node.args[1:], strict=False)) | {k.arg: k.value for k in node.keywords if k.arg}
    spelled = {key: ast.unparse(value) for key, value in given.items()}
    direction = "input" if method == "_add_input" else "output"
    return direction, first.value, spelled.get("tuple_type"), spelled.get("grouping")
