"""The help screen (F1): every binding with its current keys and its id."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import DataTable, Label, Static

from chat_tui.tui.commands import ACTIONS

#: Below this width the help table leaves out the binding-id column.
NARROW_HELP = 110
NARROW_KEYS_WIDTH = 22
KEYS_WIDTH = 28
ID_WIDTH = 20
#: The help dialog's width on a wide screen (app.tcss ``.dialog.help``).
HELP_WIDTH = 124


def help_rows(keymap: Mapping[str, str]) -> list[tuple[str, str, str]]:
    """(keys, description, binding id) of every action, with ``keymap``'s rebindings.

    The same rows, in the same order, as the README's table (``readme_table``).
    """
    where = {"app": "", "prompt": " (prompt)", "chat": " (chat, after ctrl+o)"}
    rows: list[tuple[str, str, str]] = []
    for action in ACTIONS:
        if action.id.startswith("role.") and action.id[-1].isdigit():
            if action.id == "role.1":
                role_keys = [keymap.get(f"role.{n}", f"alt+{n}") for n in range(1, 10)]
                rows.append(
                    (
                        f"{role_keys[0]} … {role_keys[-1]}",
                        "Jump to role N (in role-picker order)",
                        "role.1 … role.9",
                    )
                )
            continue
        binding_id = action.id if action.bound else "(prompt)"
        rows.append(
            (keymap.get(action.id, action.keys), action.help + where[action.context], binding_id)
        )
    rows.append(("ctrl+p", "Command palette: every action by name", "(palette)"))
    return rows


def format_keys(keys: str) -> str:
    return ", ".join(key.strip() for key in keys.split(","))


class HelpScreen(ModalScreen[None]):
    """Lists the bindings as the keymap has them now."""

    BINDINGS = [Binding("escape,f1,q", "dismiss(None)", "Close", show=False)]

    def __init__(self, rows: Sequence[tuple[str, str, str]]) -> None:
        """Args: rows: (keys, description, binding id) triples."""
        super().__init__(classes="dialog-screen")
        self.rows = list(rows)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog help"):
            yield Label(Content.styled("chat-tui keys", "bold"), classes="dialog-title")
            table: DataTable[str] = DataTable(
                cursor_type="row", zebra_stripes=True, id="help-table"
            )
            yield table
            yield Static(
                Content(
                    'Rebind keys in config.toml [keymap], e.g. "session.new" = "f7".  '
                    "Every action is in the palette (ctrl+p).  Esc closes."
                ),
                classes="dialog-hint",
            )

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        # Columns get fixed widths and rows wrap, so no description is cut at any width.
        # Below NARROW_HELP the binding ids go (they are in the README and palette).
        width = self.app.size.width
        narrow = width < NARROW_HELP
        dialog = width if narrow else min(HELP_WIDTH, int(width * 0.98)) - 6
        keys_width = NARROW_KEYS_WIDTH if narrow else KEYS_WIDTH
        id_width = 0 if narrow else ID_WIDTH
        # Two cells of padding per column and the scrollbar.
        action_width = max(20, dialog - keys_width - id_width - (4 if narrow else 6) - 4)
        table.add_column("Keys", width=keys_width)
        table.add_column("Action", width=action_width)
        if not narrow:
            table.add_column("Binding id", width=id_width)
        for keys, description, binding_id in self.rows:
            cells = [format_keys(keys), description] + ([] if narrow else [binding_id])
            table.add_row(*cells, height=None)
        table.focus()
