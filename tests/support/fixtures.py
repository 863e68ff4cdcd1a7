"""Pytest fixtures for the fake OpenAI-compatible server.

Loaded by ``tests/conftest.py`` through ``pytest_plugins``; any test can ask for
``fake_openai`` and gets a started server that is stopped on teardown.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.fake_openai import FakeOpenAI


@pytest.fixture
def fake_openai() -> Iterator[FakeOpenAI]:
    """A started ``FakeOpenAI`` on a free port, stopped (streams released) on teardown."""
    server = FakeOpenAI().start()
    try:
        yield server
    finally:
        server.stop()
