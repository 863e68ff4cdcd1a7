"""Retrieval before every request, through the real App, Milvus Lite, fake Jina and fake model."""

from __future__ import annotations

import asyncio
import os
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from chat_tui.config import Settings
from chat_tui.domain.models import MessageStatus
from chat_tui.ingest.pipeline import ingest_paths
from chat_tui.retrieval.milvus_server import stop_local_server
from chat_tui.services.bootstrap import open_services
from chat_tui.tui.widgets.chat_view import AnswerView
from tests.conftest import make_settings
from tests.support.fake_openai import Reply
from tests.tui.conftest import make_app, send, until

HANDBOOK = """# Team handbook

## On-call

The on-call rotation changes every Tuesday at 09:00 and the capybara team runs it.
Pages go to the primary first, then the secondary after ten minutes.

## Holidays

Everyone gets twenty-eight days of leave; carry-over is capped at five days.
"""

CHINESE = """# 产品手册

## 退货政策

购买后三十天内可以无理由退货。退货时请保留原包装！

## 保修

所有设备提供两年保修。电池保修一年。
"""


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    root = tmp_path / "docs"
    root.mkdir()
    (root / "handbook.md").write_text(HANDBOOK, encoding="utf-8")
    (root / "产品手册.md").write_text(CHINESE, encoding="utf-8")
    return root


@pytest.fixture
def kb_home(isolated_home: Path) -> Iterator[Path]:
    yield isolated_home
    stop_local_server(isolated_home / "xdg-data" / "chat-tui" / "knowledge")


def settings_with(fake_openai, home: Path, **env: str) -> Settings:  # type: ignore[no-untyped-def]
    return make_settings(fake_openai.url, home=home, **env)


def sent_user_content(fake_openai, index: int = 0) -> str:  # type: ignore[no-untyped-def]
    return fake_openai.requests[index]["messages"][-1]["content"]


async def test_bm25_only_passages_reach_the_model_and_sources_show(
    fake_openai, kb_home: Path, docs: Path
) -> None:
    settings = settings_with(fake_openai, kb_home)
    report = await ingest_paths([docs], settings=settings)
    assert report.exit_code == 0 and not report.dense
    services = open_services(settings)
    fake_openai.script(Reply(content="Tuesdays at 09:00."))
    app = make_app(services, check_setup=False)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await send(pilot, "When does the on-call rotation change?")
            sent = sent_user_content(fake_openai)
            assert "every Tuesday at 09:00" in sent
            assert "not instructions" in sent.lower() or "not as instructions" in sent.lower()
            assert sent.endswith("When does the on-call rotation change?")
            answer = services.repository.messages(app.chat_screen.session.id)[-1]
            assert answer.status is MessageStatus.COMPLETE
            assert answer.citations and answer.citations[0].source.endswith("handbook.md")
            assert "On-call" in answer.citations[0].heading
            sources = app.query(AnswerView).last().query_one(".sources")
            assert "handbook.md" in str(sources.render())
            note = str(app.query(AnswerView).last().query_one(".retrieval-note").render())
            assert re.search(r"\d+ passages? from 1 file", note), note
            # The stored user turn is the question alone, not the context block.
            assert (
                services.repository.messages(app.chat_screen.session.id)[0].content
                == "When does the on-call rotation change?"
            )
    finally:
        services.close()
        await services.chat.aclose()

    # Sources come back with the session.
    again = open_services(settings)
    app = make_app(again, check_setup=False)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            # The history is mounted after the first frame: wait for it, not one pause.
            await until(
                pilot,
                lambda: bool(app.query(AnswerView)) and bool(app.query(".answer .sources")),
                "the stored answer and its sources",
            )
            sources = app.query(AnswerView).last().query_one(".sources")
            assert "handbook.md" in str(sources.render())
    finally:
        again.close()


async def test_hybrid_with_jina_finds_the_chinese_passage(
    fake_openai, fake_jina, kb_home: Path, docs: Path
) -> None:
    settings = settings_with(
        fake_openai, kb_home, JINA_API_KEY=fake_jina.api_key, JINA_BASE_URL=fake_jina.url
    )
    report = await ingest_paths([docs], settings=settings)
    assert report.dense and report.embedded > 0
    services = open_services(settings)
    app = make_app(services, check_setup=False)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await send(pilot, "退货政策是什么？")
            sent = sent_user_content(fake_openai)
            assert "三十天内可以无理由退货" in sent
            queries = [r for r in fake_jina.requests if r.get("task") == "retrieval.query"]
            assert queries and queries[-1]["input"] in (
                ["退货政策是什么？"],
                [{"text": "退货政策是什么？"}],
            )
            citations = services.repository.messages(app.chat_screen.session.id)[-1].citations
            assert citations[0].source.endswith("产品手册.md")
    finally:
        services.close()
        await services.chat.aclose()


async def test_broken_embedder_still_answers_with_a_visible_notice(
    fake_openai, fake_jina, kb_home: Path, docs: Path
) -> None:
    settings = settings_with(fake_openai, kb_home)
    await ingest_paths([docs], settings=settings)
    broken = settings_with(
        fake_openai, kb_home, JINA_API_KEY="jina-wrong-key", JINA_BASE_URL=fake_jina.url
    )
    services = open_services(broken)
    fake_openai.script(Reply(content="still answering"))
    app = make_app(services, check_setup=False)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await send(pilot, "When does the on-call rotation change?")
            answer = services.repository.messages(app.chat_screen.session.id)[-1]
            assert answer.content == "still answering"
            # BM25 still found the passage; the failure is said, not hidden.
            assert "every Tuesday" in sent_user_content(fake_openai)
            note = str(app.query(AnswerView).last().query_one(".retrieval-note").render())
            assert "jina-wrong-key" not in note
            assert "401" in note or "key" in note.lower()
    finally:
        services.close()
        await services.chat.aclose()


async def test_unreachable_milvus_still_answers_without_context(fake_openai, kb_home: Path) -> None:
    settings = settings_with(fake_openai, kb_home, CHAT_TUI_MILVUS_URI="http://127.0.0.1:9")
    services = open_services(settings)
    fake_openai.script(Reply(content="no context needed"))
    app = make_app(services, check_setup=False)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await send(pilot, "anything in my documents?")
            answer = services.repository.messages(app.chat_screen.session.id)[-1]
            assert answer.status is MessageStatus.COMPLETE and answer.content == "no context needed"
            assert "<context" not in sent_user_content(fake_openai)
            note = str(app.query(AnswerView).last().query_one(".retrieval-note").render())
            assert "answering without it" in note
    finally:
        services.close()
        await services.chat.aclose()


async def test_toggle_turns_retrieval_off_for_the_session(
    fake_openai, kb_home: Path, docs: Path
) -> None:
    settings = settings_with(fake_openai, kb_home)
    await ingest_paths([docs], settings=settings)
    services = open_services(settings)
    app = make_app(services, check_setup=False)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.press("ctrl+b")
            await pilot.pause()
            assert app.chat_screen.session.retrieval_enabled is False
            assert "off" in app.chat_screen.status.retrieval
            await send(pilot, "When does the on-call rotation change?")
            assert "Tuesday" not in sent_user_content(fake_openai)
            assert (
                services.repository.get_session(app.chat_screen.session.id).retrieval_enabled
                is False
            )
    finally:
        services.close()
        await services.chat.aclose()


async def test_tui_and_ingest_share_the_knowledge_base_at_once(
    fake_openai, kb_home: Path, docs: Path, tmp_path: Path
) -> None:
    settings = settings_with(fake_openai, kb_home)
    await ingest_paths([docs / "handbook.md"], settings=settings)
    services = open_services(settings)
    app = make_app(services, check_setup=False)
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "parking.md").write_text(
        "# Parking\n\nVisitor parking is on level minus two, bay forty-two.\n", encoding="utf-8"
    )
    for number in range(80):  # enough work that the ingest is still going while we chat
        (extra / f"note{number:02d}.md").write_text(
            f"# Note {number}\n\n" + "Ordinary words about rivers and hills. " * 40,
            encoding="utf-8",
        )
    env = {
        **os.environ,
        "XDG_DATA_HOME": str(kb_home / "xdg-data"),
        "XDG_CONFIG_HOME": str(kb_home / "xdg-config"),
    }
    env.pop("JINA_API_KEY", None)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            # A separate process ingests into the knowledge base the app has open...
            ingest = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "chat_tui",
                "ingest",
                str(extra),
                env=env,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
            )
            # ...while the app goes on answering from it.
            await send(pilot, "When does the on-call rotation change?")
            assert "Tuesday" in sent_user_content(fake_openai, 0)
            output, _ = await asyncio.wait_for(ingest.communicate(), timeout=180)
            assert ingest.returncode == 0, output.decode(errors="replace")
            # What the other process stored is found by the running app.
            await send(pilot, "Where is visitor parking?")
            assert "bay forty-two" in sent_user_content(fake_openai, 1)
    finally:
        services.close()
        await services.chat.aclose()
