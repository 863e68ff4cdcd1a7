"""What the user chose inside the app, remembered across restarts.

Theme, active provider and the model per provider are picked in the app (palette,
F5, F4); they belong to the person, not to ``config.toml``, which the app never
rewrites (it may be hand-written, commented, or managed by a dotfiles repo). They
live in a small JSON file in the data dir instead, next to the prompt history.

A choice holds until the setting it overrode changes at its source: each entry
records the value config/env/flags gave when the choice was made (its *baseline*),
and is applied at start-up only while that value is still the same. So
``chat-tui --model other`` or an edited ``config.toml`` wins over an old pick, and
a pick made in the app wins over an unchanged config.

The file is small; it is written atomically (temp file + rename) by the caller's
worker thread, never on the event loop. A damaged file is ignored with a notice;
the app starts on its configured values and the next choice rewrites it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from chat_tui import locations
from chat_tui.domain.text import clean_line
from chat_tui.storage.atomic import write_atomically

#: Prompt history entries kept (oldest dropped first) and the longest entry stored.
HISTORY_LIMIT = 200
HISTORY_ENTRY_MAX_CHARS = 4_000
#: Refuse to read a state file bigger than this: it was not written by us.
MAX_STATE_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True)
class Choice:
    """A value picked in the app, and what the configuration said when it was picked."""

    value: str
    baseline: str

    def applies(self, configured: str) -> bool:
        """Whether the choice still holds: the configured value has not changed since."""
        return self.baseline == configured


@dataclass(frozen=True)
class AppState:
    """Everything remembered between runs."""

    theme: Choice | None = None
    provider: Choice | None = None
    models: Mapping[str, Choice] = field(default_factory=dict)
    prompt_history: tuple[str, ...] = ()

    def with_prompt(self, text: str) -> AppState:
        """The state with ``text`` appended to the prompt history (no repeats in a row)."""
        text = text[:HISTORY_ENTRY_MAX_CHARS]
        history = [h for h in self.prompt_history if h != text]
        history.append(text)
        return replace(self, prompt_history=tuple(history[-HISTORY_LIMIT:]))

    def with_model(self, provider: str, model: str, configured: str) -> AppState:
        models = dict(self.models)
        models[provider] = Choice(model, configured)
        return replace(self, models=models)


def state_path(data_dir: Path) -> Path:
    """The state file in ``data_dir`` (``chat_tui.locations`` decides where)."""
    return locations.state_file(data_dir)


def _choice(raw: Any) -> Choice | None:
    if (
        isinstance(raw, dict)
        and isinstance(raw.get("value"), str)
        and isinstance(raw.get("baseline"), str)
        and raw["value"]
    ):
        return Choice(raw["value"], raw["baseline"])
    return None


def load_state(path: Path) -> tuple[AppState, str | None]:
    """Read the state file.

    Returns:
        The state and, when the file was unreadable or damaged, a one-line notice
        (the state is then empty). A missing file is an empty state, no notice.
    """
    try:
        size = path.stat().st_size
        if size > MAX_STATE_BYTES:
            return AppState(), f"{clean_line(str(path))}: too large ({size} bytes); ignored"
        raw = path.read_bytes()
    except FileNotFoundError:
        return AppState(), None
    except OSError as error:
        reason = clean_line(error.strerror or type(error).__name__)
        return AppState(), f"{clean_line(str(path))}: cannot be read ({reason}); ignored"
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return AppState(), (
            f"{clean_line(str(path))}: damaged (not JSON); the app's remembered theme, "
            "provider, models and prompt history start afresh"
        )
    if not isinstance(data, dict):
        return AppState(), f"{clean_line(str(path))}: not a JSON object; ignored"
    raw_models = data.get("models")
    models: dict[str, Choice] = {}
    if isinstance(raw_models, dict):
        for name, raw_choice in raw_models.items():
            choice = _choice(raw_choice)
            if isinstance(name, str) and choice is not None:
                models[name] = choice
    raw_history = data.get("prompt_history")
    history: tuple[str, ...] = ()
    if isinstance(raw_history, list):
        history = tuple(
            h[:HISTORY_ENTRY_MAX_CHARS] for h in raw_history if isinstance(h, str) and h.strip()
        )[-HISTORY_LIMIT:]
    state = AppState(
        theme=_choice(data.get("theme")),
        provider=_choice(data.get("provider")),
        models=models,
        prompt_history=history,
    )
    return state, None


def _dump_choice(choice: Choice | None) -> dict[str, str] | None:
    return None if choice is None else {"value": choice.value, "baseline": choice.baseline}


def save_state(path: Path, state: AppState) -> None:
    """Write the state file atomically (call it from a worker thread).

    Raises:
        OSError: it could not be written; the previous file is untouched.
    """
    payload = {
        "version": 1,
        "theme": _dump_choice(state.theme),
        "provider": _dump_choice(state.provider),
        "models": {name: _dump_choice(choice) for name, choice in state.models.items()},
        "prompt_history": list(state.prompt_history),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, json.dumps(payload, ensure_ascii=False, indent=1).encode("utf-8"))


__all__ = ["AppState", "Choice", "load_state", "save_state", "state_path"]
