"""``chat-tui doctor``: the checks of :mod:`chat_tui.services.doctor`, one line each.

Why a module of its own: the checks are a service returning values; this prints them
as they finish (a slow server shows which check is waiting) and sets the exit status:
1 when any check failed. Registered onto the typer app by :mod:`chat_tui.cli`.
"""

from __future__ import annotations

import asyncio
import logging

import typer

from chat_tui import cli_support as cli
from chat_tui.domain.text import clean_line

MARKS = {"ok": "ok", "note": "note", "fail": "FAIL"}


def register_doctor(app: typer.Typer) -> None:
    """Attach ``doctor`` to the root command group."""

    @app.command()
    def doctor() -> None:
        """Check the config, provider, embedder, Milvus, data dir and log; exit 1 if any fails.

        Keys are never printed, only whether they are present.
        """
        from chat_tui.services.doctor import Check, run_checks
        from chat_tui.tui.commands import ACTIONS  # the ids a [keymap] may name

        # Library warnings (pymilvus, grpc) would print beside the results without this;
        # every problem the checks find is in their own lines.
        logging.getLogger().addHandler(logging.NullHandler())

        def show(check: Check) -> None:
            typer.echo(f"{MARKS[check.status]:<5} {check.name:<9} {clean_line(check.detail)}")

        options = cli.OPTIONS
        checks = asyncio.run(
            run_checks(
                options.config,
                provider=options.provider,
                model=options.model,
                base_url=options.base_url,
                binding_ids={action.id for action in ACTIONS},
                report=show,
            )
        )
        if not all(check.ok for check in checks):
            raise typer.Exit(1)


__all__ = ["register_doctor"]
