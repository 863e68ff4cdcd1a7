"""Retry-After: the seconds form, the HTTP-date form, and garbage, read by one parser."""

from __future__ import annotations

from email.utils import formatdate

import pytest

from chat_tui.domain.retry_after import parse_retry_after

NOW = 1_700_000_000.0  # 2023-11-14 22:13:20 UTC


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("120", 120.0), ("0", 0.0), ("0.25", 0.25), (" 7 ", 7.0), ("-5", 0.0)],
)
def test_the_seconds_form(value: str, seconds: float) -> None:
    assert parse_retry_after(value, now=NOW) == seconds


def test_the_http_date_form_is_a_wait_from_now() -> None:
    assert parse_retry_after(formatdate(NOW + 30, usegmt=True), now=NOW) == 30.0
    assert parse_retry_after("Tue, 14 Nov 2023 22:14:20 GMT", now=NOW) == 60.0
    assert parse_retry_after("Tue, 14 Nov 2023 22:14:20 -0000", now=NOW) == 60.0  # no zone: UTC
    assert parse_retry_after("Tue, 14 Nov 2023 23:14:20 +0100", now=NOW) == 60.0


def test_a_date_in_the_past_means_retry_now() -> None:
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=NOW) == 0.0


@pytest.mark.parametrize(
    "value", [None, "", "   ", "soon", "nan", "12 seconds", "Tue, 99 Foo 2023 25:61:00 GMT"]
)
def test_garbage_or_absence_gives_none(value: str | None) -> None:
    assert parse_retry_after(value, now=NOW) is None


def test_the_clock_defaults_to_now() -> None:
    wait = parse_retry_after(formatdate(usegmt=True))
    assert wait is not None and wait <= 1.0
