"""The attacks run against the same real stack as the end-to-end tests (one per session)."""

from tests.e2e.conftest import chat, fresh_demo_data, stack  # noqa: F401 (pytest fixtures)
