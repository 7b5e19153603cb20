"""Test, lint and typecheck sessions; one test session per package under packages/.

Each test session installs d4py-core plus that one package, so an undeclared
dependency fails there instead of hiding behind another package's. A library
package's session adds the backends its tests compare (TEST_COMPANIONS).
"""

from __future__ import annotations

from pathlib import Path

import nox

ROOT = Path(__file__).parent
PACKAGES = sorted(p.name for p in (ROOT / "packages").iterdir() if (p / "pyproject.toml").is_file())
CORE = "d4py-core"
# Backends a package's tests run on besides `simple`; test companions, not dependencies.
TEST_COMPANIONS = {
    "d4py-seismo": ["d4py-multi", "d4py-mpi[mpich]", "d4py-spark"],
    "d4py-registry": ["d4py-multi"],  # a loaded PE must run where workers import it by name
    "d4py-monitor": ["d4py-multi", "d4py-mpi[mpich]", "d4py-spark", "d4py-storm", "d4py-redis"],  # each backend
}
# Commands a package's tests run from a virtualenv of their own, named to them by an environment
# variable: cwltool pins its own prov, so it never shares the package's environment.
TEST_TOOLS = {"d4py-registry": {"D4PY_TEST_CWLTOOL": ("cwltool", "cwltool")}}

nox.options.sessions = ["lint", "typecheck", "tests"]
nox.options.error_on_missing_interpreters = True


def _install(session: nox.Session, package: str) -> None:
    session.install("-e", f"packages/{CORE}[test]")
    if package != CORE:
        session.install("-e", f"packages/{package}[test]")
    for companion in TEST_COMPANIONS.get(package, []):
        session.install("-e", f"packages/{companion}")


def _install_tools(session: nox.Session, package: str) -> None:
    for variable, (requirement, command) in TEST_TOOLS.get(package, {}).items():
        folder = Path(session.cache_dir) / f"tool-{requirement}"
        executable = folder / "bin" / command
        if not executable.is_file():
            session.run("python", "-m", "venv", "--clear", str(folder))
            session.run(str(folder / "bin" / "pip"), "install", "--quiet", requirement, external=True)
        session.env[variable] = str(executable)


@nox.session
def lint(session: nox.Session) -> None:
    """Ruff: lint rules and formatting."""
    session.install("ruff==0.17.6")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy --strict on every package's src/."""
    session.install("mypy")
    for package in PACKAGES:
        _install(session, package)
    session.run("mypy", *(f"packages/{p}/src" for p in PACKAGES))


@nox.session
@nox.parametrize("package", PACKAGES)
def tests(session: nox.Session, package: str) -> None:
    """Run one package's tests with only core and that package installed (and the commands they run)."""
    _install(session, package)
    _install_tools(session, package)
    session.run("pytest", f"packages/{package}/tests", *session.posargs)
