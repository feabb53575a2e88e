"""Shared pytest setup: the Docker and cluster fixtures live in their own plugin modules."""

import sys
from pathlib import Path

# The plugin modules import their helpers (docker_env, ...) as top-level modules.
sys.path.insert(0, str(Path(__file__).resolve().parent))

pytest_plugins = ["conftest_docker", "conftest_cluster", "conftest_tools"]
