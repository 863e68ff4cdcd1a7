"""The chat-tui Textual application.

The App is small on purpose: it holds the services, applies the theme and the keymap,
remembers the user's choices, owns the app-wide keys (help, quit) and the palette, and
shows the :class:`~chat_tui.tui.screens.chat.ChatScreen`, which owns the chat itself.
It never talks to HTTP or files directly.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any, ClassVar

from textual.app import App, SystemCommand
from textual.binding import BindingType
from textual.notifications import SeverityLevel
from textual.screen import Screen

from chat_tui.domain.text import clean_line
from chat_tui.services.bootstrap import AppServices
from chat_tui.tui.commands import ACTIONS, app_bindings, palette_commands
from chat_tui.tui.screens.chat import ChatScreen
from chat_tui.tui.state_keeper import StateKeeper


class ChatApp(App[None]):
    """chat-tui: sessions sidebar, streamed chat pane, prompt, status line."""

    CSS_PATH = "app.tcss"
    TITLE = "chat-tui"
    BINDINGS: ClassVar[list[BindingType]] = [*app_bindings()]
    ENABLE_COMMAND_PALETTE = True
    #: Below 96 columns the sidebar hides itself so the chat keeps 60+ columns.
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (96, "-wide")]

    def __init__(self, services: AppServices, *, check_setup: bool = True) -> None:
        super().__init__()
        self.services = services
        settings = services.settings
        self.theme = settings.theme if settings.theme in self.available_themes else "textual-dark"
        self.state_keeper = StateKeeper(self, services.chat, settings)
        self.chat_screen = ChatScreen(services, self.state_keeper, check_setup=check_setup)
        #: The ``[keymap]`` in force (binding id -> keys); help lists keys from it.
        self.keymap: dict[str, str] = {}

    def get_default_screen(self) -> Screen[Any]:
        return self.chat_screen

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = False,
    ) -> None:
        """Notifications carry server, file and model text: never parse it as markup, and
        pass it through the one sanitizer (controls made visible, lines kept)."""
        super().notify(
            clean_line(message, keep_newlines=True),
            title=clean_line(title),
            severity=severity,
            timeout=timeout,
            markup=markup,
        )

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """While a dialog is open, only its own keys, help and quit act.

        Without this, the App's other bindings (Textual's ctrl+c) would act under a
        modal. The chat screen's actions check for themselves (``ChatScreen.check_action``).
        """
        if self.screen.is_modal and action not in {"quit", "help", "command_palette"}:
            return False
        return True

    async def on_mount(self) -> None:
        """Apply the remembered choices, the theme and the keymap, then let the chat start."""
        try:
            state_notice = await self.state_keeper.load()
            if state_notice:
                self.notify(state_notice, severity="warning", timeout=10)
            settings = self.services.settings
            if settings.theme not in self.available_themes:
                self.notify(
                    f"{settings.config_file}: theme {settings.theme!r} is not a Textual "
                    "theme; using textual-dark",
                    severity="warning",
                    markup=False,
                )
            if settings.keymap:
                known = {a.id for a in ACTIONS}
                unknown = sorted(set(settings.keymap) - known)
                if unknown:
                    self.notify(
                        f"{settings.config_file}: unknown binding id(s) in [keymap]: "
                        f"{', '.join(unknown)}",
                        severity="warning",
                    )
                self.keymap = dict(settings.keymap)
                self.set_keymap(self.keymap)
        finally:
            self.chat_screen.choices_applied.set()

    def action_help(self) -> None:
        # Imported here: its DataTable is not needed for the first frame.
        from chat_tui.tui.screens.help import HelpScreen, help_rows

        self.push_screen(HelpScreen(help_rows(self.keymap)))

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        chat = self.chat_screen
        yield from palette_commands(
            self.services.roles,
            self.services.settings.providers,
            chat.run_action,
            chat.switch_provider,
        )

    async def action_quit(self) -> None:
        self.chat_screen.stop_turn()
        await self.services.chat.aclose()
        self.exit()


def make_app(services: AppServices, *, check_setup: bool = True) -> ChatApp:
    """Build the App; the CLI and the tests both call this."""
    return ChatApp(services, check_setup=check_setup)


def css_path() -> Path:
    return Path(__file__).with_name("app.tcss")


__all__ = ["ChatApp", "make_app"]
