"""The multi-line prompt: Enter sends, ctrl+j inserts a newline, Up/Down recall.

Send and new line take their keys from ``ACTIONS`` (``prompt.send``,
``prompt.newline``), rebindable in ``[keymap]`` like every other action.

It behaves like a shell prompt: Up on the first line and Down on the last walk the
prompts sent before (the App loads them from the state file, so they survive a
restart); a draft being typed is kept while walking and comes back at the end.

Newline keys: ctrl+j arrives as its own byte (LF) in every terminal. shift+enter and
alt+enter only reach the app as themselves where the terminal reports modifiers on
Enter (kitty's keyboard protocol: ``CSI 13;2u`` / ``CSI 13;3u``). An ESC-prefix
terminal sends ``ESC CR`` for alt+enter, which Textual 8.2.8 delivers as a plain
``enter`` (same key, same character), so there it sends; xterm and VTE send a bare CR
for shift+enter.
"""

from __future__ import annotations

from collections.abc import Sequence

from textual import events
from textual.widgets import TextArea

from chat_tui.services.attachments import pasted_image_path
from chat_tui.tui.commands import ESC_DIGIT_KEYS, keys_of
from chat_tui.tui.messages import ImagePathPasted, PromptSubmitted


def key_set(keys: str) -> frozenset[str]:
    """The key names of a comma-separated ``keys`` entry."""
    return frozenset(k.strip() for k in keys.split(",") if k.strip())


SEND_KEYS = key_set(keys_of("prompt.send"))
NEWLINE_KEYS = key_set(keys_of("prompt.newline"))
PROMPT_KEYS_HINT = "ctrl+o select messages"
#: Characters an ESC-prefix terminal's alt+1..9 arrives as (see ``commands.py``).
ROLE_CHARACTER_KEYS = frozenset(ESC_DIGIT_KEYS.values())


class PromptHistory:
    """The walk through earlier prompts; plain data, so it is easy to test."""

    def __init__(self, entries: Sequence[str] = ()) -> None:
        self.entries: list[str] = list(entries)
        self._index: int | None = None  # None: editing the draft, not walking
        self._draft = ""

    def add(self, text: str) -> None:
        if text in self.entries:
            self.entries.remove(text)
        self.entries.append(text)
        self._index = None

    def older(self, current: str) -> str | None:
        """The entry before the one shown (None when there is none)."""
        if not self.entries:
            return None
        if self._index is None:
            self._draft = current
            self._index = len(self.entries)
        if self._index == 0:
            return None
        self._index -= 1
        return self.entries[self._index]

    def newer(self) -> str | None:
        """The entry after the one shown, then the draft; None when not walking."""
        if self._index is None:
            return None
        self._index += 1
        if self._index >= len(self.entries):
            self._index = None
            return self._draft
        return self.entries[self._index]

    def reset(self) -> None:
        self._index = None


class PromptInput(TextArea):
    """A TextArea that posts ``PromptSubmitted`` on Enter."""

    DEFAULT_CSS = """
    PromptInput {
        height: auto;
        min-height: 3;
        max-height: 10;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(
            id=id,
            soft_wrap=True,
            show_line_numbers=False,
            tab_behavior="focus",
            compact=False,
            placeholder="Ask anything…  (Enter sends, ctrl+j new line, F1 help)",
        )
        self.sent = PromptHistory()
        #: Set by the App from the ``[keymap]`` entries ``prompt.send`` / ``prompt.newline``.
        self.send_keys = SEND_KEYS
        self.newline_keys = NEWLINE_KEYS

    def check_consume_key(self, key: str, character: str | None = None) -> bool:
        """Leave alt+N-as-a-character to the App's role bindings.

        Textual drops app bindings for printable keys while a TextArea has focus; the
        App's ``check_action`` hands the character back when there is no role N, and
        then it is typed here as usual.
        """
        if key in ROLE_CHARACTER_KEYS:
            return False
        return super().check_consume_key(key, character)

    def on_focus(self) -> None:
        # Where to go from here; the App replaces it with the chat's keys after ctrl+o.
        self.border_subtitle = PROMPT_KEYS_HINT

    def on_key(self, event: events.Key) -> None:
        """Send and new line, with the keys of ``ACTIONS``.

        A public handler: it runs before TextArea's own key handling, and
        ``prevent_default`` keeps that from inserting the key as well.
        """
        if event.key in self.send_keys:
            event.stop()
            event.prevent_default()
            text = self.text
            if text.strip():
                self.sent.add(text)
                self.post_message(PromptSubmitted(text))
                self.clear()
            return
        if event.key in self.newline_keys:
            event.stop()
            event.prevent_default()
            self.insert("\n")

    def on_paste(self, event: events.Paste) -> None:
        """A paste that is one image file's path (a file dropped on the terminal) attaches it.

        A public handler, so it runs before TextArea's own paste; anything else is
        pasted as text as usual.
        """
        path = pasted_image_path(event.text)
        if path is not None:
            event.stop()
            event.prevent_default()
            self.post_message(ImagePathPasted(path))

    def _show_entry(self, text: str, *, at_end: bool) -> None:
        self.text = text
        self.move_cursor(self.document.end if at_end else (0, len(self.document[0])))

    def action_cursor_up(self, select: bool = False) -> None:
        if not select and self.selection.is_empty and self.cursor_at_first_line:
            entry = self.sent.older(self.text)
            if entry is not None:
                self._show_entry(entry, at_end=False)
            return
        super().action_cursor_up(select)

    def action_cursor_down(self, select: bool = False) -> None:
        if not select and self.selection.is_empty and self.cursor_at_last_line:
            entry = self.sent.newer()
            if entry is not None:
                self._show_entry(entry, at_end=True)
            return
        super().action_cursor_down(select)
