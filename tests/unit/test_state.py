"""The state file: the app's remembered choices survive restarts, damage never stops it."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from chat_tui.state import (
    HISTORY_ENTRY_MAX_CHARS,
    HISTORY_LIMIT,
    AppState,
    Choice,
    load_state,
    save_state,
    state_path,
)


def test_choices_and_history_round_trip(tmp_path: Path) -> None:
    path = state_path(tmp_path / "data")
    state = AppState(theme=Choice("nord", "textual-dark"), provider=Choice("other", "openai"))
    state = state.with_model("openai", "fake-model-2", "fake-model")
    state = state.with_prompt("first").with_prompt("second\nline").with_prompt("first")
    save_state(path, state)
    loaded, notice = load_state(path)
    assert notice is None
    assert loaded == state
    # A prompt sent again moves to the end instead of appearing twice.
    assert loaded.prompt_history == ("second\nline", "first")
    # Nothing but the file itself is left in the directory (no temp files).
    assert sorted(p.name for p in path.parent.iterdir()) == ["state.json"]


def test_missing_file_is_an_empty_state_without_notice(tmp_path: Path) -> None:
    assert load_state(tmp_path / "state.json") == (AppState(), None)


def test_a_choice_holds_only_while_the_configured_value_is_unchanged() -> None:
    choice = Choice("fake-model-2", baseline="fake-model")
    assert choice.applies("fake-model")
    assert not choice.applies("gpt-4o")  # config or --model changed since: it wins


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "damaged"),
        (b"{not json", "damaged"),
        (b"\xff\xfe\x00garbage", "damaged"),
        (b"[1, 2, 3]", "not a JSON object"),
        (b'"just a string"', "not a JSON object"),
    ],
)
def test_a_damaged_file_is_ignored_with_a_one_line_notice(
    tmp_path: Path, content: bytes, reason: str
) -> None:
    path = tmp_path / "state.json"
    path.write_bytes(content)
    state, notice = load_state(path)
    assert state == AppState()
    assert notice is not None and reason in notice and "\n" not in notice
    assert str(path) in notice
    # The next save replaces it with a good file.
    save_state(path, state.with_prompt("again"))
    assert load_state(path) == (AppState(prompt_history=("again",)), None)


def test_wrong_types_inside_are_dropped_not_trusted(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    path.write_text(
        json.dumps(
            {
                "theme": {"value": 3, "baseline": "x"},
                "provider": "openai",
                "models": {"openai": {"value": "m", "baseline": "b"}, "bad": [1], "x": None},
                "prompt_history": ["ok", 7, None, "  ", {"a": 1}, "fine\x1b[31m"],
            }
        ),
        encoding="utf-8",
    )
    state, notice = load_state(path)
    assert notice is None
    assert state.theme is None and state.provider is None
    assert dict(state.models) == {"openai": Choice("m", "b")}
    # Kept as typed data; the prompt widget shows text, never interprets escapes.
    assert state.prompt_history == ("ok", "fine\x1b[31m")


def test_history_is_bounded_in_entries_and_size(tmp_path: Path) -> None:
    state = AppState()
    for n in range(HISTORY_LIMIT + 50):
        state = state.with_prompt(f"prompt {n}")
    state = state.with_prompt("x" * (HISTORY_ENTRY_MAX_CHARS * 3))
    assert len(state.prompt_history) == HISTORY_LIMIT
    assert state.prompt_history[-1] == "x" * HISTORY_ENTRY_MAX_CHARS
    assert state.prompt_history[0] == "prompt 51"


def test_an_oversized_file_is_not_read(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    with path.open("wb") as handle:
        handle.truncate(17 * 1024 * 1024)  # sparse: no real disk used
    state, notice = load_state(path)
    assert state == AppState() and notice is not None and "too large" in notice


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_an_unreadable_file_is_a_notice(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    save_state(path, AppState().with_prompt("kept"))
    path.chmod(0)
    state, notice = load_state(path)
    assert state == AppState() and notice is not None and "cannot be read" in notice


def test_a_failed_save_leaves_the_old_file(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    save_state(path, AppState().with_prompt("old"))
    with pytest.raises(TypeError):
        save_state(path, AppState(prompt_history=(object(),)))  # type: ignore[arg-type]
    assert load_state(path)[0].prompt_history == ("old",)
