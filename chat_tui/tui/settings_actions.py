"""The app's actions that change where answers come from: provider, model, knowledge base.

A mixin of :class:`~chat_tui.tui.app.ChatApp`, kept apart so the App module stays about
sessions, roles and turns. What it needs from the App is declared
at the top of the class.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from textual import work
from textual.app import App

from chat_tui.config import missing_key_message
from chat_tui.domain.text import clean_line
from chat_tui.errors import ChatTuiError
from chat_tui.tui.screens.dialogs import PickerScreen

if TYPE_CHECKING:
    from chat_tui.config import Settings
    from chat_tui.domain.models import Session
    from chat_tui.services.bootstrap import AppServices
    from chat_tui.tui.state_keeper import StateKeeper


class SettingsActions(App[None]):
    """Provider, model and knowledge-base actions (bindings F5, F4, ctrl+b, F3, F6)."""

    services: AppServices
    settings: Settings
    session: Session | None
    state_keeper: StateKeeper

    def refresh_status(self) -> None:
        raise NotImplementedError  # the App's

    def _guard_streaming(self) -> bool:
        raise NotImplementedError  # the App's

    # ------------------------------------------------------------------ provider

    async def switch_provider(self, name: str) -> None:
        if self._guard_streaming():
            return
        try:
            self.services.chat.use_provider(name)
        except ChatTuiError as error:
            self.notify(str(error), severity="error")
            return
        self.state_keeper.provider_chosen(name)
        self.refresh_status()
        provider = self.services.chat.settings.provider
        problem = missing_key_message(provider)
        if problem is not None:
            # Warn now, not when the first request fails: nothing will be sent without it.
            self.notify(problem, title=f"Provider: {name}", severity="warning", timeout=12)
            return
        host = provider.base_url.split("//", 1)[-1].split("@")[-1]  # never show user:token@
        self.notify(f"Provider: {name} ({clean_line(host)})", timeout=3)

    @work(group="dialog", exit_on_error=False)
    async def action_pick_provider(self) -> None:
        settings = self.services.chat.settings
        items = [(name, f"{p.base_url}  {p.model}") for name, p in settings.providers.items()]
        choice = await self.push_screen_wait(
            PickerScreen("Provider profile", items, settings.provider.name)
        )
        if choice:
            await self.switch_provider(choice)

    @work(group="dialog", exit_on_error=False)
    async def action_pick_model(self) -> None:
        chat = self.services.chat
        try:
            models = await chat.list_models()
        except ChatTuiError as error:
            self.notify(str(error), severity="error")
            return
        if not models:
            self.notify(
                "This server does not list its models; "
                "set the model with --model or in config.toml."
            )
            return
        choice = await self.push_screen_wait(
            PickerScreen(
                f"Model ({chat.settings.provider.name})",
                [(m, "") for m in models],
                chat.settings.provider.model,
            )
        )
        if choice and not self._guard_streaming():
            chat.use_model(choice)
            self.state_keeper.model_chosen(choice)
            self.refresh_status()

    # ------------------------------------------------------------------ knowledge base

    @work(group="session-settings", exit_on_error=False)
    async def action_toggle_retrieval(self) -> None:
        if self.session is None:
            return
        try:
            self.session = await self.services.sessions.set_retrieval(
                self.session, not self.session.retrieval_enabled
            )
        except ChatTuiError as error:
            self.notify(str(error), severity="error")
            return
        self.refresh_status()
        state = "on" if self.session.retrieval_enabled else "off"
        self.notify(f"Knowledge base {state} for this session.", timeout=2)

    def action_search_knowledge(self) -> None:
        from chat_tui.tui.screens.kb_search import KnowledgeSearchScreen

        kb = self.services.chat.knowledge_base_for(self.session) if self.session else "default"
        self.push_screen(KnowledgeSearchScreen(self.services, kb))

    @work(group="dialog", exit_on_error=False)
    async def action_pick_knowledge_base(self) -> None:
        if self.session is None:
            return
        from chat_tui.services.knowledge import list_knowledge_bases

        try:
            names = await asyncio.to_thread(list_knowledge_bases, self.settings)
        except ChatTuiError as error:
            self.notify(str(error), severity="error")
            return
        current = self.services.chat.knowledge_base_for(self.session)
        names = sorted(set(names) | {current})
        choice = await self.push_screen_wait(
            PickerScreen("Knowledge base for this session", [(n, "") for n in names], current)
        )
        if choice and self.session is not None:
            try:
                self.session = await self.services.sessions.set_knowledge_base(self.session, choice)
            except ChatTuiError as error:
                self.notify(str(error), severity="error")
                return
            self.refresh_status()


__all__ = ["SettingsActions"]
