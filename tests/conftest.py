from pathlib import Path

import pytest
from helpers import copy_project


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return copy_project(tmp_path / "show")


@pytest.fixture
def episode_toml(project: Path) -> Path:
    return project / "episodes" / "001-welcome" / "episode.toml"
