"""Small modal dialogs: confirm, text input, and a generic filterable picker."""

from __future__ import annotations

from collections.abc import Sequence

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from chat_tui.domain.text import clean_line


class ConfirmScreen(ModalScreen[bool]):
    """Yes / no for something that cannot be undone.

    y confirms and n or Esc cancels, wherever the focus is; Enter presses the focused
    button, which is Cancel when the dialog opens (a stray Enter must not delete), and
    left/right or Tab move between the buttons. The hint under the question says so.
    """

    #: Focused as the dialog opens. (Focusing it from ``on_mount`` was deferred: a
    #: left/right pressed before it landed moved to Delete, and then the deferred
    #: focus moved back to Cancel under a hint that still said Delete.)
    AUTO_FOCUS = "#no"

    BINDINGS = [
        Binding("escape,n", "dismiss(False)", "Cancel", show=False),
        Binding("y", "dismiss(True)", "Yes", show=False),
        Binding("left,right", "switch_button", "Other button", show=False),
    ]

    def __init__(self, question: str, confirm_label: str = "Yes") -> None:
        super().__init__(classes="dialog-screen")
        self.question = question
        self.confirm_label = confirm_label

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(Content(clean_line(self.question)), classes="dialog-title")
            yield Static(self._hint("Cancel"), classes="dialog-hint", id="confirm-hint")
            with Horizontal(classes="dialog-buttons"):
                yield Button(self.confirm_label, variant="error", id="yes")
                yield Button("Cancel", id="no")

    def _hint(self, focused: str) -> Content:
        return Content.assemble(
            Content.styled("y", "bold"),
            Content(f" {self.confirm_label}   "),
            Content.styled("n", "bold"),
            Content(" / "),
            Content.styled("Esc", "bold"),
            Content(" Cancel   "),
            Content.styled("Enter", "bold"),
            Content(f" presses {focused}"),
        )

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        if isinstance(event.widget, Button):
            label = self.confirm_label if event.widget.id == "yes" else "Cancel"
            self.query_one("#confirm-hint", Static).update(self._hint(label))

    def action_switch_button(self) -> None:
        focused = self.focused
        target = "#no" if isinstance(focused, Button) and focused.id == "yes" else "#yes"
        self.query_one(target, Button).focus()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")


class TextPromptScreen(ModalScreen[str | None]):
    """Ask for one line of text (rename a session)."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel", show=False)]

    def __init__(self, title: str, value: str = "") -> None:
        super().__init__(classes="dialog-screen")
        self.title_text = title
        self.value = value

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(Content(clean_line(self.title_text)), classes="dialog-title")
            yield Input(self.value, id="text-input", select_on_focus=True)

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        value = event.value.strip()
        self.dismiss(value or None)


class PickerScreen(ModalScreen[str | None]):
    """Choose one of several named items; type to filter, Enter to choose."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel", show=False)]

    def __init__(
        self,
        title: str,
        items: Sequence[tuple[str, str]],
        current: str | None = None,
        *,
        id: str | None = None,
    ) -> None:
        """Args:
        title: the dialog title.
        items: (value, description) pairs.
        current: the value highlighted first.
        """
        super().__init__(classes="dialog-screen", id=id)
        self.title_text = title
        self.items = list(items)
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog picker"):
            yield Label(Content(clean_line(self.title_text)), classes="dialog-title")
            yield Input(placeholder="type to filter", id="picker-filter")
            yield OptionList(id="picker-options")

    def on_mount(self) -> None:
        self._fill("")

    def _fill(self, text: str) -> None:
        options = self.query_one("#picker-options", OptionList)
        needle = text.lower()
        matches = [
            (number, value, description)
            for number, (value, description) in enumerate(self.items, start=1)
            if needle in value.lower() or needle in description.lower()
        ]
        options.set_options(
            Option(
                Content.assemble(
                    Content.styled(f"{number}. ", "dim") if number <= 9 else Content("   "),
                    Content.styled(clean_line(value), "bold"),  # model ids come from a server
                    Content("  "),
                    Content.styled(clean_line(description), "dim"),
                ),
                id=value,
            )
            for number, value, description in matches
        )
        if matches:
            ids = [value for _, value, _ in matches]
            options.highlighted = ids.index(self.current) if self.current in ids else 0

    @on(Input.Changed, "#picker-filter")
    def _filter(self, event: Input.Changed) -> None:
        self._fill(event.value)

    @on(Input.Submitted, "#picker-filter")
    def _choose_highlighted(self) -> None:
        option = self.query_one("#picker-options", OptionList).highlighted_option
        if option is not None:
            self.dismiss(option.id)

    def on_key(self, event: object) -> None:
        from textual import events

        if isinstance(event, events.Key) and event.key in {"up", "down"}:
            options = self.query_one("#picker-options", OptionList)
            if event.key == "up":
                options.action_cursor_up()
            else:
                options.action_cursor_down()
            event.stop()

    @on(OptionList.OptionSelected, "#picker-options")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)
