"""Reproducible installs: requirements.lock pins every Python package with its sha256, the Makefile
installs exactly it, and this environment (the one the suite runs in) is exactly it."""
from __future__ import annotations

import re
import tomllib
from importlib import metadata

from packaging.markers import Marker
from packaging.requirements import Requirement

from tests.conftest import ROOT

PIN = re.compile(r"^([A-Za-z0-9._-]+)==([^\s;\\]+)\s*(?:;\s*([^\\]+?))?\s*\\?$")


def _name(text: str) -> str:
    return re.sub(r"[-_.]+", "-", text).lower()


def _locked() -> dict[str, tuple[str, str | None]]:
    pins = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        found = PIN.match(line)
        if found:
            pins[_name(found.group(1))] = (found.group(2), found.group(3))
    return pins


def test_every_dependency_of_pyproject_is_pinned_with_hashes():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = [Requirement(r) for r in project["dependencies"] + project["optional-dependencies"]["test"]]
    locked = _locked()
    assert [str(r) for r in wanted if _name(r.name) not in locked] == []
    for requirement in wanted:
        assert requirement.specifier.contains(locked[_name(requirement.name)][0]), requirement
    text = (ROOT / "requirements.lock").read_text()
    assert text.count("--hash=sha256:") >= len(locked)


def test_this_environment_is_exactly_the_lock():
    locked = {name: version for name, (version, marker) in _locked().items()
              if marker is None or Marker(marker).evaluate()}
    installed = {_name(d.metadata["Name"]): d.version for d in metadata.distributions()}
    installed = {name: version for name, version in installed.items()
                 if name not in {"safeguarding-cases", "pip", "setuptools", "wheel"}}
    assert installed == locked


def test_the_makefile_installs_the_lock_and_nothing_else():
    makefile = (ROOT / "Makefile").read_text()
    assert "pip install --quiet --require-hashes --no-deps -r $(LOCK)" in makefile
    assert "pip install --quiet --no-deps -e ." in makefile
