"""Pytest fixture for the fake Jina server (loaded by ``tests/conftest.py``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.fake_jina import FakeJina


@pytest.fixture
def fake_jina() -> Iterator[FakeJina]:
    """A started ``FakeJina`` on a free port, stopped on teardown."""
    server = FakeJina().start()
    try:
        yield server
    finally:
        server.stop()
