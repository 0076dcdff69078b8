"""Fixtures shared by every test directory.

Helpers for external services live in ``tests/helpers`` and are registered here as plugins, so any test
module can ask for their fixtures by name.
"""

pytest_plugins = ["tests.helpers.s3server", "tests.helpers.postgres"]
