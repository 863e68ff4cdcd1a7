"""Choosing where answers come from: provider, model, knowledge base (F5, F4, ctrl+b, F3, F6).

A plain helper the chat screen holds (composition, not a mixin): the screen's actions
start a worker and call it. What it needs from the screen is the small
:class:`SourcesHost` protocol, so it depends on neither the screen nor the App.
"""

from __future__ import annotations

import asyncio
from typing import Protocol

from chat_tui.config import missing_key_message
from chat_tui.domain.text import clean_line
from chat_tui.errors import ChatTuiError
from chat_tui.tui.host import ActionHost
from chat_tui.tui.screens.dialogs import PickerScreen
from chat_tui.tui.state_keeper import StateKeeper


class SourcesHost(ActionHost, Protocol):
    """What the choices need from the screen that shows them."""

    state_keeper: StateKeeper


class AnswerSources:
    """Provider, model and knowledge-base choices of one chat screen.

    Every choice goes to the one owner of the settings (``services``) and is
    remembered by the state keeper; the screen's status line is then redrawn.
    """

    def __init__(self, host: SourcesHost) -> None:
        self.host = host

    # ------------------------------------------------------------------ provider

    async def switch_provider(self, name: str) -> None:
        host = self.host
        if host.guard_streaming():
            return
        try:
            host.services.use_provider(name)
        except ChatTuiError as error:
            host.notify(str(error), severity="error")
            return
        host.state_keeper.provider_chosen(name)
        host.refresh_status()
        provider = host.services.settings.provider
        problem = missing_key_message(provider)
        if problem is not None:
            # Warn now, not when the first request fails: nothing will be sent without it.
            host.notify(problem, title=f"Provider: {name}", severity="warning", timeout=12)
            return
        hostname = provider.base_url.split("//", 1)[-1].split("@")[-1]  # never show user:token@
        host.notify(f"Provider: {name} ({clean_line(hostname)})", timeout=3)

    async def pick_provider(self) -> None:
        settings = self.host.services.settings
        items = [(name, f"{p.base_url}  {p.model}") for name, p in settings.providers.items()]
        choice = await self.host.app.push_screen_wait(
            PickerScreen("Provider profile", items, settings.provider.name)
        )
        if choice:
            await self.switch_provider(choice)

    async def pick_model(self) -> None:
        host = self.host
        services = host.services
        try:
            models = await services.chat.list_models()
        except ChatTuiError as error:
            host.notify(str(error), severity="error")
            return
        if not models:
            host.notify(
                "This server does not list its models; "
                "set the model with --model or in config.toml."
            )
            return
        provider = services.settings.provider
        choice = await host.app.push_screen_wait(
            PickerScreen(f"Model ({provider.name})", [(m, "") for m in models], provider.model)
        )
        if choice and not host.guard_streaming():
            services.use_model(choice)
            host.state_keeper.model_chosen(choice)
            host.refresh_status()

    # ------------------------------------------------------------------ knowledge base

    async def toggle_retrieval(self) -> None:
        host = self.host
        if host.session is None:
            return
        try:
            host.session = await host.services.sessions.set_retrieval(
                host.session, not host.session.retrieval_enabled
            )
        except ChatTuiError as error:
            host.notify(str(error), severity="error")
            return
        host.refresh_status()
        state = "on" if host.session.retrieval_enabled else "off"
        host.notify(f"Knowledge base {state} for this session.", timeout=2)

    def search_knowledge(self) -> None:
        from chat_tui.tui.screens.kb_search import KnowledgeSearchScreen

        host = self.host
        services = host.services
        kb = services.chat.knowledge_base_for(host.session) if host.session else "default"
        host.app.push_screen(KnowledgeSearchScreen(services, kb))

    async def pick_knowledge_base(self) -> None:
        host = self.host
        if host.session is None:
            return
        from chat_tui.services.knowledge import list_knowledge_bases

        try:
            names = await asyncio.to_thread(list_knowledge_bases, host.services.settings)
        except ChatTuiError as error:
            host.notify(str(error), severity="error")
            return
        current = host.services.chat.knowledge_base_for(host.session)
        names = sorted(set(names) | {current})
        choice = await host.app.push_screen_wait(
            PickerScreen("Knowledge base for this session", [(n, "") for n in names], current)
        )
        if choice and host.session is not None:
            try:
                host.session = await host.services.sessions.set_knowledge_base(host.session, choice)
            except ChatTuiError as error:
                host.notify(str(error), severity="error")
                return
            host.refresh_status()


__all__ = ["AnswerSources", "SourcesHost"]
