"""Remembers the app's choices (theme, provider, model per provider, prompt history).

A plain helper the App holds, so the App gains one attribute, not a mixin: it loads
``chat_tui.state`` off the event loop at start-up, applies the choices that still
hold, and saves after each new choice in a worker thread, one save at a time.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import TYPE_CHECKING

from chat_tui.state import AppState, Choice, load_state, save_state, state_path

if TYPE_CHECKING:
    from textual.app import App
    from textual.theme import Theme

    from chat_tui.config import Settings
    from chat_tui.services.chat import ChatService


class StateKeeper:
    """Loads, applies and saves :class:`~chat_tui.state.AppState` for one App."""

    def __init__(self, app: App[None], chat: ChatService, configured: Settings) -> None:
        """Args:
        app: the App whose theme is kept.
        chat: the service whose provider and model are kept.
        configured: the settings as config, env and flags gave them (the baselines).
        """
        self.app = app
        self.chat = chat
        self.configured = configured
        self.path = state_path(configured.data_dir)
        self.state = AppState()
        self._save_lock = asyncio.Lock()
        self._loaded = False

    async def load(self) -> str | None:
        """Read the file and apply what still holds; returns a notice if it was damaged."""
        self.state, notice = await asyncio.to_thread(load_state, self.path)
        configured = self.configured
        theme = self.state.theme
        if (
            theme is not None
            and theme.applies(configured.theme)
            and theme.value in self.app.available_themes
        ):
            self.app.theme = theme.value
        provider = self.state.provider
        if (
            provider is not None
            and provider.applies(configured.provider.name)
            and provider.value in configured.providers
            and provider.value != self.chat.settings.provider.name
        ):
            self.chat.use_provider(provider.value)
        self.apply_model()
        self.app.theme_changed_signal.subscribe(self.app, self._theme_changed)
        self._loaded = True
        return notice

    def apply_model(self) -> None:
        """Use the model remembered for the active provider, if it still holds."""
        name = self.chat.settings.provider.name
        choice = self.state.models.get(name)
        configured = self.configured.providers.get(name)
        if choice is None or configured is None or not choice.applies(configured.model):
            return
        if choice.value != self.chat.settings.provider.model:
            self.chat.use_model(choice.value)

    # -- choices made in the app

    def _theme_changed(self, theme: Theme) -> None:
        if not self._loaded:
            return
        current = self.state.theme
        if current is not None and current.value == theme.name:
            return
        self.state = replace(self.state, theme=Choice(theme.name, self.configured.theme))
        self.save()

    def provider_chosen(self, name: str) -> None:
        """The user switched provider: remember it and use its remembered model."""
        self.state = replace(self.state, provider=Choice(name, self.configured.provider.name))
        self.apply_model()
        self.save()

    def model_chosen(self, model: str) -> None:
        name = self.chat.settings.provider.name
        configured = self.configured.providers.get(name)
        baseline = configured.model if configured is not None else ""
        self.state = self.state.with_model(name, model, baseline)
        self.save()

    def prompt_sent(self, text: str) -> None:
        self.state = self.state.with_prompt(text)
        self.save()

    # -- saving

    def save(self) -> None:
        """Write the current state in a worker thread (latest state wins)."""
        self.app.run_worker(self._save(), group="state", exit_on_error=False)

    async def _save(self) -> None:
        async with self._save_lock:
            snapshot = self.state
            try:
                await asyncio.to_thread(save_state, self.path, snapshot)
            except OSError as error:
                self.app.notify(
                    f"Could not remember your choices in {self.path}: "
                    f"{error.strerror or type(error).__name__}",
                    severity="warning",
                )


__all__ = ["StateKeeper"]
