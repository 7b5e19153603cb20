"""The ``storm`` command: found, then used to submit a built topology through Flux and to kill it.

Storm's binary distribution does not ship Flux, so the submission asks the
``storm`` command to fetch Flux's two artifacts (``--artifacts``) at the
cluster's version, and runs Flux's main class on the topology YAML::

    storm jar topology.jar org.apache.storm.flux.Flux topology.yaml \\
        --artifacts org.apache.storm:flux-core:V,org.apache.storm:flux-wrappers:V [-c nimbus.seeds=[...]]
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

from d4py import BackendUnavailable, RunFailed

__all__ = ["FLUX_MAIN", "StormCluster", "find_storm", "submit_command"]

FLUX_MAIN = "org.apache.storm.flux.Flux"
_VERSION = re.compile(r"Storm\s+(\d+\.\d+\.\d+\S*)")


def find_storm(given: str | None = None) -> str:
    """The storm command: ``given``, else ``$STORM_HOME/bin/storm``, else ``storm`` on PATH."""
    if given:
        found = shutil.which(given)
        if found is None:
            raise BackendUnavailable(f"-o storm={given}: no such program")
        return found
    home = os.environ.get("STORM_HOME")
    if home and os.access(Path(home, "bin", "storm"), os.X_OK):
        return str(Path(home, "bin", "storm"))
    found = shutil.which("storm")
    if found is None:
        raise BackendUnavailable(
            "no storm command: install Apache Storm 2.x and put its bin/ on PATH or set STORM_HOME, "
            "or give -o storm=PATH (to try a workflow on this machine without Storm: -o emulate=true)"
        )
    return found


def cluster_settings(nimbus: str | None) -> list[str]:
    """The storm command's ``-c`` settings that point it at ``nimbus`` (host or host:port)."""
    if not nimbus:
        return []
    host, _, port = nimbus.partition(":")
    settings = ["-c", f'nimbus.seeds=["{host}"]']
    return settings + (["-c", f"nimbus.thrift.port={port}"] if port else [])


def submit_command(storm: str, jar: Path, topology: Path, flux_version: str, nimbus: str | None) -> list[str]:
    """The command line that submits a built topology through Flux."""
    artifacts = ",".join(f"org.apache.storm:{name}:{flux_version}" for name in ("flux-core", "flux-wrappers"))
    return [storm, "jar", str(jar), FLUX_MAIN, str(topology), "--artifacts", artifacts, *cluster_settings(nimbus)]


class StormCluster:
    """A topology on a real Storm cluster: submitted with ``storm jar``, ended with ``storm kill``."""

    def __init__(self, storm: str, jar: Path, topology: Path, name: str, nimbus: str | None, flux: str | None):
        self.storm, self.jar, self.topology, self.name, self.nimbus = storm, jar, topology, name, nimbus
        self.flux_version = flux or cluster_version(storm, nimbus)
        self.submitted = False

    def start(self) -> None:
        command = submit_command(self.storm, self.jar, self.topology, self.flux_version, self.nimbus)
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0:
            tail = (done.stderr or done.stdout).strip().splitlines()[-5:]
            raise RunFailed(f"storm jar could not submit topology {self.name}: " + " | ".join(tail))
        self.submitted = True

    def problem(self) -> str | None:
        """Nothing to watch from here: tasks report their own failures (a worker that dies is a known gap)."""
        return None

    def kill(self) -> None:
        if self.submitted:
            command = [self.storm, "kill", self.name, "-w", "0", *cluster_settings(self.nimbus)]
            subprocess.run(command, capture_output=True, text=True)


def cluster_version(storm: str, nimbus: str | None) -> str:
    """Storm's version, from ``storm version``, for the Flux artifacts to match it."""
    done = subprocess.run([storm, "version", *cluster_settings(nimbus)], capture_output=True, text=True)
    found = _VERSION.search(done.stdout)
    if found is None:
        raise RunFailed(f"cannot tell Storm's version from `{storm} version`; give it with -o flux_version=X.Y.Z")
    return found.group(1)
