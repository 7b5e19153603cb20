"""How entries read on the terminal: one line in a search, a block for ``show``."""

from __future__ import annotations

from d4py_registry.entry import Entry, Port

__all__ = ["describe_entry", "one_line"]


def one_line(entry: Entry) -> str:
    """``ns.Name@1.0  pe  (input: int) -> (output: str)  First line of the docstring.``"""
    inputs = ", ".join(_port(p) for p in entry.ports if p.direction == "input")
    outputs = ", ".join(_port(p) for p in entry.ports if p.direction == "output")
    summary = f"  {entry.summary()}" if entry.summary() else ""
    return f"{entry.ref}  {entry.kind}  ({inputs}) -> ({outputs}){summary}"


def _port(port: Port, grouping: bool = False) -> str:
    text = f"{port.name}: {port.type}" if port.type else port.name
    if grouping and port.grouping:
        text += f" ({port.grouping})"
    return text


def describe_entry(entry: Entry) -> str:
    lines = [f"{entry.ref} ({entry.kind})"]
    if entry.doc:
        lines += ["", *(f"  {line}" for line in entry.doc.splitlines()), ""]
    for direction in ("input", "output"):
        ports = [_port(p, grouping=True) for p in entry.ports if p.direction == direction]
        lines.append(f"{direction}s: {', '.join(ports) or 'none'}")
    lines += [
        f"ports from: {entry.ports_from}",
        f"module: {entry.module}",
        f"sha256: {entry.sha256}",
        f"imports: {', '.join(entry.imports) or 'none'}",
        f"author: {entry.author or 'unknown'}",
        f"licence: {entry.licence or 'unknown'}",
        f"added: {entry.added}",
    ]
    for pe_id, cls in entry.details.get("pes", {}).items():
        lines.append(f"PE {pe_id}: {cls}")
    lines += [f"connection: {c}" for c in entry.details.get("connections", [])]
    return "\n".join(lines)
