"""Images in a turn, end to end through the chat service and ``chat-tui ask --image``.

Real parts only: TinyDB history in a temp dir, the blob store under the data dir,
the fake OpenAI server on 127.0.0.1 recording what it was sent.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from chat_tui.cli import app
from chat_tui.domain.models import MessageStatus
from chat_tui.domain.prompt import build_messages
from chat_tui.services.bootstrap import AppServices, open_services
from tests.conftest import make_settings
from tests.support.fake_openai import FakeOpenAI, Reply
from tests.support.images import png_bytes, write_png


def _parts(request: dict[str, Any], index: int = -1) -> Any:
    return request["messages"][index]["content"]


@pytest.fixture
def services(fake_openai: FakeOpenAI, isolated_home: Path) -> Iterator[AppServices]:
    opened = open_services(make_settings(fake_openai.url, home=isolated_home), context=None)
    yield opened
    opened.close()


async def _ignore(_event: object) -> None:
    return None


async def test_an_attached_image_is_sent_as_a_data_url_part_and_stored_once(
    services: AppServices, fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    picture = write_png(tmp_path / "pics" / "red square.png")
    attachment = await services.chat.attachments.attach(picture)
    session = services.repository.create_session("assistant")
    fake_openai.script(Reply(content="A red square."))
    answer = await services.chat.send(
        session.id, "What is this?", _ignore, attachments=[attachment]
    )
    await services.chat.aclose()
    assert answer.status is MessageStatus.COMPLETE
    expected = "data:image/png;base64," + base64.b64encode(picture.read_bytes()).decode()
    assert _parts(fake_openai.requests[0]) == [
        {"type": "text", "text": "What is this?"},
        {"type": "image_url", "image_url": {"url": expected}},
    ]
    stored = services.repository.messages(session.id)[0]
    assert stored.attachments == (attachment,)
    blobs = [p for p in services.settings.attachments_dir.rglob("*") if p.is_file()]
    assert [p.name for p in blobs] == [attachment.digest]


async def test_history_whose_image_file_is_gone_still_loads_and_sends_a_note(
    services: AppServices, fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    attachment = await services.chat.attachments.attach(write_png(tmp_path / "cat.png"))
    session = services.repository.create_session("assistant")
    fake_openai.script(Reply(content="A cat."), Reply(content="Still a cat."))
    await services.chat.send(session.id, "Describe it", _ignore, attachments=[attachment])
    services.chat.attachments.blobs.path_for(attachment.digest).unlink()
    history = services.repository.messages(session.id)
    assert history[0].attachments == (attachment,)  # the record stays; only the file went
    answer = await services.chat.send(session.id, "And now?", _ignore)
    await services.chat.aclose()
    assert answer.status is MessageStatus.COMPLETE
    earlier = _parts(fake_openai.requests[1], 1)
    assert earlier == "Describe it\n\n[Attached image not available any more: cat.png]"


async def test_a_model_without_vision_gives_one_line_and_the_turn_is_kept(
    services: AppServices, fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    fake_openai.text_only_models = {"fake-model"}
    attachment = await services.chat.attachments.attach(write_png(tmp_path / "cat.png"))
    session = services.repository.create_session("assistant")
    answer = await services.chat.send(session.id, "What?", _ignore, attachments=[attachment])
    await services.chat.aclose()
    assert answer.status is MessageStatus.FAILED and answer.error_kind == "no_vision"
    assert answer.error is not None and "\n" not in answer.error
    assert "cannot read images" in answer.error and "not a multimodal model" in answer.error
    assert len(fake_openai.requests) == 1  # not retried: the same request fails the same way
    assert services.repository.messages(session.id)[0].attachments == (attachment,)


def test_images_count_against_the_budget_so_old_image_turns_drop_first() -> None:
    from chat_tui.domain.attachments import Attachment
    from chat_tui.domain.models import Message

    image = Attachment("cd" * 32, "a.png", "image/png", 10)
    history = [
        Message(session_id="s", role="user", content="old", attachments=(image,)),
        Message(session_id="s", role="assistant", content="ok"),
        Message(session_id="s", role="user", content="new"),
    ]
    sent = build_messages(
        "sys", history, budget=600, count_tokens=lambda t: len(t.split()), images=lambda a: "u"
    )
    assert [m["content"] for m in sent] == ["sys", "new"]
    roomy = build_messages(
        "sys", history, budget=5_000, count_tokens=lambda t: len(t.split()), images=lambda a: "u"
    )
    assert roomy[1]["content"][1] == {"type": "image_url", "image_url": {"url": "u"}}


# ----------------------------------------------------------------------------- CLI


@pytest.fixture
def cli_env(fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch) -> FakeOpenAI:
    monkeypatch.setenv("OPENAI_BASE_URL", fake_openai.url)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-cli-test-000000")
    return fake_openai


def test_ask_with_images_sends_each_as_an_image_part(cli_env: FakeOpenAI, tmp_path: Path) -> None:
    first = write_png(tmp_path / "one.png", rgb=(1, 2, 3))
    second = tmp_path / "two.png"
    second.write_bytes(png_bytes(rgb=(9, 9, 9)))
    cli_env.script(Reply(content="Two squares."))
    result = CliRunner().invoke(
        app, ["ask", "--no-kb", "--image", str(first), "--image", str(second), "Compare", "them"]
    )
    assert result.exit_code == 0, result.output
    assert "Two squares." in result.output
    parts = _parts(cli_env.requests[0])
    assert parts[0] == {"type": "text", "text": "Compare them"}
    urls = [p["image_url"]["url"] for p in parts[1:]]
    assert urls == [
        "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode()
        for path in (first, second)
    ]
    session_id = CliRunner().invoke(app, ["sessions", "list"]).output.split()[0]
    shown = CliRunner().invoke(app, ["sessions", "show", session_id]).output
    assert "[image: one.png · " in shown and "[image: two.png · " in shown


def test_ask_with_a_bad_image_fails_in_one_line_before_anything_is_sent(
    cli_env: FakeOpenAI, tmp_path: Path
) -> None:
    notes = tmp_path / "notes\x1b[31m.png"
    notes.write_text("not an image", encoding="utf-8")
    runner = CliRunner()
    for path, reason in ((notes, "not a PNG"), (tmp_path / "missing.png", "no such file")):
        result = runner.invoke(app, ["ask", "--no-kb", "--image", str(path), "what?"])
        assert result.exit_code == 1, result.output
        lines = [line for line in result.output.splitlines() if line.strip()]
        assert len(lines) == 1 and reason in lines[0] and "\x1b" not in lines[0], lines
    assert cli_env.requests == []
    assert runner.invoke(app, ["sessions", "list"]).output.strip() in ("", "No sessions.")


def test_ask_with_an_image_for_a_model_without_vision_is_one_line_exit_1(
    cli_env: FakeOpenAI, tmp_path: Path
) -> None:
    cli_env.text_only_models = {"fake-model"}
    picture = write_png(tmp_path / "one.png")
    result = CliRunner().invoke(
        app, ["--model", "fake-model", "ask", "--no-kb", "--image", str(picture), "what?"]
    )
    assert result.exit_code == 1, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "cannot read images (no vision support)" in lines[0], lines


async def test_a_regenerated_answer_sees_the_image_again_and_an_edit_starts_without_it(
    services: AppServices, fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    """Branches and images together: a sibling answer is asked with the same question,
    image included; an edited version of the question is a new message with its own
    (here no) images, and the old version keeps its image."""
    picture = write_png(tmp_path / "chart.png")
    attachment = await services.chat.attachments.attach(picture)
    session = services.repository.create_session("assistant")
    fake_openai.script(Reply(content="first"), Reply(content="second"), Reply(content="third"))
    await services.chat.send(session.id, "Read this chart", _ignore, attachments=[attachment])
    await services.chat.regenerate(session.id, _ignore)
    question = services.repository.messages(session.id)[0]
    await services.chat.send(session.id, "Just guess", _ignore, edit_of=question.id)
    await services.chat.aclose()
    first, again, edited = (_parts(r) for r in fake_openai.requests)
    assert first == again
    assert [part["type"] for part in again] == ["text", "image_url"]
    assert edited == "Just guess"
    stored = services.repository.messages(session.id)
    assert stored[0].attachments == (attachment,)
    versions = [m for m in stored if m.role == "user"]
    assert [m.content for m in versions] == ["Read this chart", "Just guess"]
    assert versions[1].attachments == () and versions[1].parent_id == versions[0].parent_id
