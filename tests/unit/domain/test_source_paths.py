"""Source paths under answers: the shared folder once, each file relative to it."""

from __future__ import annotations

from chat_tui.domain.source_paths import shorten_sources, with_tilde

HOME = "/home/ana"


def test_shared_folder_is_named_once_with_tilde() -> None:
    folder, shown = shorten_sources(
        ["/home/ana/handbook/ops/team.md", "/home/ana/handbook/runbook.pdf"], HOME
    )
    assert folder == "~/handbook"
    assert shown == ["ops/team.md", "runbook.pdf"]


def test_one_source_shows_its_name_under_its_folder() -> None:
    assert shorten_sources(["/srv/docs/a b/guide.md"], HOME) == ("/srv/docs/a b", ["guide.md"])


def test_nothing_shared_but_root_keeps_paths_with_tilde() -> None:
    folder, shown = shorten_sources(["/home/ana/x.md", "/etc/y.conf"], HOME)
    assert folder == "" and shown == ["~/x.md", "/etc/y.conf"]


def test_relative_or_odd_sources_are_left_alone() -> None:
    assert shorten_sources(["notes.md", "/abs/x.md"], HOME) == ("", ["notes.md", "/abs/x.md"])
    assert shorten_sources([], HOME) == ("", [])
    # A home that is only a prefix of another user's folder is not replaced.
    assert with_tilde("/home/anabel/x.md", HOME) == "/home/anabel/x.md"
    assert with_tilde("/home/ana", HOME + "/") == "~"
