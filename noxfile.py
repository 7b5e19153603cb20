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
    "d4py-monitor": ["d4py-multi", "d4py-mpi[mpich]"],  # runs recorded on each backend
}

nox.options.sessions = ["lint", "typecheck", "tests"]
nox.options.error_on_missing_interpreters = True


def _install(session: nox.Session, package: str) -> None:
    session.install("-e", f"packages/{CORE}[test]")
    if package != CORE:
        session.install("-e", f"packages/{package}[test]")
    for companion in TEST_COMPANIONS.get(package, []):
        session.install("-e", f"packages/{companion}")


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
    """Run one package's tests with only core and that package installed."""
    _install(session, package)
    session.run("pytest", f"packages/{package}/tests", *session.posargs)
