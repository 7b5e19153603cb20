"""A topology folder: the Flux YAML, the resources every component runs in, and the jar that ships them.

``FOLDER/topology.yaml`` is the Flux topology; ``FOLDER/resources/`` holds
the workflow's files (the workflow modules loaded from files, and the
modules they imported from beside them), ``requirements.txt`` (the
distributions those files import, at the versions installed here, plus
d4py-core and d4py-storm) and the run's settings; ``FOLDER/topology.jar``
holds that folder under ``resources/``, where Storm's ShellProcess looks for
it and makes it the components' working directory.
"""

from __future__ import annotations

import ast
import re
import secrets
import shutil
import sys
import zipfile
from dataclasses import dataclass, replace
from importlib import metadata
from pathlib import Path
from typing import Any

import cloudpickle
import yaml

from d4py import GraphError
from d4py.backend import BatchOptions
from d4py.hosting import WorkerSettings, worker_settings
from d4py.loader import WORKFLOW_FILES
from d4py.plan import Plan
from d4py.runhooks import RunHooks
from d4py_storm.flux import flux_topology
from d4py_storm.topology import RunSettings, component_ids

__all__ = ["Built", "build_topology", "topology_name"]

WORKFLOW_FOLDER = "workflow"  # in resources/: the workflow's files, importable from there


@dataclass(frozen=True)
class Built:
    """What :func:`build_topology` wrote."""

    folder: Path
    topology: Path  # the Flux YAML
    jar: Path  # resources/ inside a jar, for storm jar
    name: str


def topology_name(hint: str) -> str:
    """A fresh topology name from ``hint`` (Storm refuses '/', '.', ':' and '\\' in names)."""
    stem = re.sub(r"[^A-Za-z0-9_-]+", "-", hint).strip("-") or "workflow"
    return f"d4py-{stem}-{secrets.token_hex(3)}"


def build_topology(
    plan: Plan,
    hooks: RunHooks,
    folder: Path,
    *,
    name: str,
    python: str,
    batch: BatchOptions,
    config: dict[str, Any],
    key: bytes,
    driver: str | None = None,
    keep_paths: bool = False,
) -> Built:
    """Write the topology of ``plan`` into ``folder``.

    ``python`` is the interpreter that runs the components on Storm's
    supervisors; ``key`` signs the run's batches; ``driver`` is the
    host:port the collector forwards to (None: it logs instead).
    ``keep_paths`` gives the components this process's ``sys.path`` too,
    for runs on this machine.
    """
    resources = folder / "resources"
    resources.mkdir(parents=True, exist_ok=True)
    files = _copy_workflow_files(resources / WORKFLOW_FOLDER)
    (resources / "requirements.txt").write_text(_requirements(resources / WORKFLOW_FOLDER, set(files)))
    core = _worker_settings(plan, hooks)
    # Resolved here: the components start in the resources folder, where '' and other relative paths mislead.
    paths = (WORKFLOW_FOLDER, *(str(Path(path).resolve()) for path in core.paths if keep_paths))
    worker = replace(core, paths=paths, workflow_files=files)
    RunSettings(name, worker, key, component_ids(plan), driver, batch).save(resources)
    document = flux_topology(plan, name, [python, "-m", "d4py_storm.component"], config)
    topology = folder / "topology.yaml"
    topology.write_text(yaml.safe_dump(document, sort_keys=False, width=120))
    jar = folder / "topology.jar"
    _write_jar(jar, resources)
    return Built(folder, topology, jar, name)


def _worker_settings(plan: Plan, hooks: RunHooks) -> WorkerSettings:
    """Core's worker settings; a PE that cannot travel to Storm's components is named."""
    try:
        return worker_settings(plan, hooks)
    except Exception as error:
        for pe_id, node in plan.nodes.items():
            try:
                cloudpickle.dumps(node.pe)
            except Exception as problem:
                raise GraphError(
                    f"PE '{pe_id}' cannot be pickled for Storm's components ({type(problem).__name__}: {problem}); "
                    "open files, connections and locks in preprocess() rather than __init__()"
                ) from error
        raise


def _copy_workflow_files(target: Path) -> dict[str, str]:
    """Copy the workflow files and the modules they imported from beside them; return the files' new names.

    Returns module name -> path relative to the resources folder, for the
    workflow files only: the modules beside them import by name, from
    ``target``, which components put on their path.
    """
    target.mkdir(exist_ok=True)
    files: dict[str, str] = {}
    folders = {Path(file).resolve().parent for file in WORKFLOW_FILES.values()}
    # Python's own library and installed packages may sit below a workflow's folder (a venv in the project).
    installed = {Path(prefix).resolve() for prefix in (sys.prefix, sys.base_prefix, sys.exec_prefix)}
    for name, file in WORKFLOW_FILES.items():
        shutil.copyfile(file, target / Path(file).name)
        files[name] = f"{WORKFLOW_FOLDER}/{Path(file).name}"
    for module in list(sys.modules.values()):
        loaded = getattr(module, "__file__", None)
        if not loaded or loaded in WORKFLOW_FILES.values() or "-packages" in loaded:
            continue
        path = Path(loaded).resolve()
        if installed & set(path.parents):
            continue
        for folder in folders:
            if folder in path.parents and path.suffix == ".py":
                copy = target / path.relative_to(folder)
                copy.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, copy)
    return files


def _requirements(folder: Path, local: set[str]) -> str:
    """requirements.txt: d4py's distributions, and those the workflow's files import, pinned as installed here."""
    imported: set[str] = set()
    for file in sorted(folder.rglob("*.py")):
        local.add(file.stem)
        for node in ast.walk(ast.parse(file.read_bytes())):
            if isinstance(node, ast.Import):
                imported.update(alias.name.partition(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                imported.add(node.module.partition(".")[0])
    distributions = metadata.packages_distributions()
    lines = [f"d4py-core=={metadata.version('d4py-core')}", f"d4py-storm=={metadata.version('d4py-storm')}"]
    missing = []
    for module in sorted(imported - local - set(sys.stdlib_module_names) - {"d4py", "d4py_storm", "dispel4py"}):
        found = distributions.get(module)
        if not found:
            missing.append(module)
        for distribution in sorted(set(found or [])):
            lines.append(f"{distribution}=={metadata.version(distribution)}")
    lines += [f"# imported by the workflow, not installed here: {module}" for module in missing]
    return "\n".join(dict.fromkeys(lines)) + "\n"


def _write_jar(jar: Path, resources: Path) -> None:
    with zipfile.ZipFile(jar, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\r\nCreated-By: d4py-storm\r\n\r\n")
        for path in sorted(resources.rglob("*")):
            if path.is_file():
                archive.write(path, f"resources/{path.relative_to(resources).as_posix()}")
