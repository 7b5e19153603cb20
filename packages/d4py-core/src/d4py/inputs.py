"""Run input: how the roots of a graph are driven (``-i``, ``-d``, ``-f``)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from d4py._exceptions import InputError
from d4py.pe import ConsumerPE, GenericPE, IterativePE

__all__ = ["RunInput", "load_input_file", "parse_input_json", "resolve_inputs", "run_input_from"]

RunInput = None | int | Mapping[Any, Any]


def parse_input_json(text: str, source: str = "-d") -> Any:
    """Parse run input given as JSON, naming ``source`` when it is malformed."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise InputError(f"{source}: invalid JSON ({error.msg} at line {error.lineno} column {error.colno})") from None


def load_input_file(path: str | Path) -> Any:
    """Read run input from a JSON file."""
    try:
        text = Path(path).read_text()
    except OSError as error:
        raise InputError(f"-f {path}: cannot read the input file ({error.strerror})") from None
    return parse_input_json(text, source=f"-f {path}")


def run_input_from(iterations: int | None, data: str | None, file: str | Path | None) -> Any:
    """The run input that the options ``-i``, ``-d`` and ``-f`` give; at most one may be set."""
    given = [name for name, value in (("-i", iterations), ("-d", data), ("-f", file)) if value is not None]
    if len(given) > 1:
        raise InputError(f"give at most one of -i, -d and -f (got {' and '.join(given)})")
    if data is not None:
        return parse_input_json(data)
    if file is not None:
        return load_input_file(file)
    return iterations


def resolve_inputs(
    spec: RunInput, roots: list[GenericPE], others: Sequence[GenericPE] = ()
) -> dict[str, list[dict[str, Any]]]:
    """Turn a run input into the list of ``inputs`` dicts each root is called with.

    ``spec`` is None (each root once), a number of iterations for every root,
    or a mapping from a root's id, name or object to a number of iterations or
    a list of inputs. A list element that is not a dict is the item for the
    PE's only input port. Roots the mapping leaves out run once if they
    declare no inputs, and get nothing otherwise.
    """
    resolved: dict[str, list[dict[str, Any]]]
    if spec is None or _is_count(spec):
        count = 1 if spec is None else _count(spec, "-i")
        resolved = {pe.id: [{} for _ in range(count)] for pe in roots}
    elif not isinstance(spec, Mapping):
        raise InputError("run input must be a number of iterations or a JSON object mapping PE names to inputs")
    else:
        resolved = {pe.id: ([] if pe.inputconnections else [{}]) for pe in roots}
        for key, value in spec.items():
            pe = _find_root(key, roots, others)
            resolved[pe.id] = _items(pe, value)
    for pe in roots:
        _check_fed(pe, resolved[pe.id])
    return resolved


def _check_fed(pe: GenericPE, inputs: list[dict[str, Any]]) -> None:
    """Refuse a run that calls an iterative or consumer root without the one item its ``process`` reads."""
    port = getattr(pe, "INPUT_NAME", None)
    stock = type(pe).process in (IterativePE.process, ConsumerPE.process)
    if stock and port in pe.inputconnections and any(port not in given for given in inputs):
        raise InputError(
            f"PE '{pe.id}' is a root that reads its input {port!r} on every call, but the run gives it none: "
            f"give its items with -d '{{\"{pe.name}\": [...]}}' or -f FILE"
        )


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _count(value: Any, where: str) -> int:
    if not _is_count(value) or value < 0:
        raise InputError(f"{where}: the number of iterations must be a whole number of 0 or more, not {value!r}")
    return int(value)


def _find_root(key: Any, roots: list[GenericPE], others: Sequence[GenericPE]) -> GenericPE:
    if isinstance(key, GenericPE):
        for pe in roots:
            if pe is key:
                return pe
        raise InputError(f"input given for PE '{key.id}', which is not a root of the graph")
    by_id = [pe for pe in roots if pe.id == key]
    matches = by_id or [pe for pe in roots if pe.name == key]
    if len(matches) == 1:
        return matches[0]
    if matches:
        ids = ", ".join(pe.id for pe in matches)
        raise InputError(f"input name {key!r} matches several roots ({ids}); use one of those ids")
    inner = [pe for pe in others if key in (pe.id, pe.name)]
    if inner:
        raise InputError(
            f"input given for PE '{inner[0].id}', which is not a root: its inputs are connected, "
            "so it receives items from upstream; give run input to a root"
        )
    valid = ", ".join(sorted({pe.name for pe in roots} | {pe.id for pe in roots}))
    raise InputError(f"input given for unknown PE {key!r}; the roots of this graph are: {valid}")


def _items(pe: GenericPE, value: Any) -> list[dict[str, Any]]:
    if _is_count(value) or isinstance(value, bool):
        return [{} for _ in range(_count(value, f"input for PE '{pe.id}'"))]
    if not isinstance(value, Sequence) or isinstance(value, (str, bytes)):
        raise InputError(f"input for PE '{pe.id}' must be a number of iterations or a list, not {value!r}")
    ports = list(pe.inputconnections)
    items = []
    for element in value:
        if isinstance(element, Mapping):
            unknown = [k for k in element if ports and k not in ports]
            if unknown:
                raise InputError(
                    f"input for PE '{pe.id}' names unknown port {unknown[0]!r}; its inputs are: "
                    + ", ".join(repr(p) for p in ports)
                )
            items.append(dict(element))
        elif len(ports) == 1:
            items.append({ports[0]: element})
        else:
            raise InputError(
                f"input for PE '{pe.id}' must be a list of dicts mapping its input ports to items, not {element!r}"
            )
    return items
