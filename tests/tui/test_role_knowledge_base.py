"""A role file's ``knowledge_base`` routes retrieval, through the real App and Milvus Lite."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from chat_tui.ingest.pipeline import ingest_paths
from chat_tui.retrieval.milvus_server import stop_local_server
from chat_tui.services.bootstrap import open_services
from chat_tui.tui.widgets.chat_view import AnswerView
from tests.conftest import make_settings
from tests.support.fake_openai import Reply
from tests.tui.conftest import make_app, send, until
from tests.tui.test_retrieval import HANDBOOK

ROLE_TOML = """\
name = "librarian"
description = "Answers from the team handbook"
knowledge_base = "other"
system_prompt = "You answer from the team handbook."
"""


@pytest.fixture
def kb_home(isolated_home: Path) -> Iterator[Path]:
    yield isolated_home
    stop_local_server(isolated_home / "xdg-data" / "chat-tui" / "knowledge")


async def test_role_with_its_own_knowledge_base_retrieves_from_it(
    fake_openai, kb_home: Path, tmp_path: Path
) -> None:
    settings = make_settings(fake_openai.url, home=kb_home)
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "handbook.md").write_text(HANDBOOK, encoding="utf-8")
    report = await ingest_paths([docs], settings=settings, knowledge_base="other")
    assert report.exit_code == 0
    settings.roles_dir.mkdir(parents=True, exist_ok=True)
    (settings.roles_dir / "librarian.toml").write_text(ROLE_TOML, encoding="utf-8")

    services = open_services(settings)
    assert services.notices == []
    fake_openai.script(Reply(content="Tuesdays."), Reply(content="No idea."))
    app = make_app(services, check_setup=False)
    question = "When does the on-call rotation change?"
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            assert app.chat_screen.roles[3] == "librarian"
            assert app.chat_screen.status.retrieval == "KB: default"
            await pilot.press("alt+4")
            await until(pilot, lambda: app.chat_screen.role_name == "librarian", "librarian role")
            assert app.chat_screen.status.retrieval == "KB: other"
            await send(pilot, question)
            sent = fake_openai.requests[0]["messages"]
            assert sent[0]["content"] == "You answer from the team handbook."
            assert "every Tuesday at 09:00" in sent[-1]["content"]
            answer = services.repository.messages(app.chat_screen.session.id)[-1]
            assert answer.citations and answer.citations[0].source.endswith("handbook.md")
            note = str(app.query(AnswerView).last().query_one(".retrieval-note").render())
            assert "1 file" in note
            # The session stored no KB of its own: the role's choice applied.
            assert services.repository.get_session(app.chat_screen.session.id).knowledge_base in (
                None,
                "",
            )

            # The built-in role searches the default knowledge base, which has none of it.
            await pilot.press("alt+1")
            await until(pilot, lambda: app.chat_screen.role_name == "assistant", "assistant role")
            assert app.chat_screen.status.retrieval == "KB: default"
            await send(pilot, question)
            assert "every Tuesday" not in fake_openai.requests[1]["messages"][-1]["content"]
            assert not services.repository.messages(app.chat_screen.session.id)[-1].citations
    finally:
        services.close()
        await services.chat.aclose()
