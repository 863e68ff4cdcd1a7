"""Chunking: structure followed, sizes within budget, line ranges true, overlap present."""

from __future__ import annotations

import re

import pytest

from chat_tui.domain.tokens import estimate_tokens
from chat_tui.ingest.chunking import chunk_document, chunk_id
from chat_tui.ingest.loaders import LoadedDocument
from chat_tui.retrieval.types import Chunk
from tests.support.corpus import CHINESE_MARKDOWN, ENGLISH_MARKDOWN, FACTS, PYTHON_SOURCE

SOURCE = "/docs/example"


def chunks_of(
    kind: str, text: str, *, tokens: int = 120, overlap: int = 20, language: str = ""
) -> list[Chunk]:
    document = LoadedDocument(kind=kind, text=text, language=language)
    return chunk_document(
        document, source=SOURCE, file_hash="h", chunk_tokens=tokens, overlap=overlap
    )


def assert_lines_true(chunks: list[Chunk], text: str) -> None:
    """Each chunk lies within its claimed lines, starting on the first and ending on the last."""
    lines = text.split("\n")
    for chunk in chunks:
        assert chunk.line_start is not None and chunk.line_end is not None
        span = "\n".join(lines[chunk.line_start - 1 : chunk.line_end])
        assert chunk.text in span, (chunk.line_start, chunk.line_end, chunk.text[:40])
        assert chunk.text.split("\n")[0] in lines[chunk.line_start - 1]
        assert chunk.text.split("\n")[-1] in lines[chunk.line_end - 1]


def long_markdown() -> str:
    prose = " ".join(f"Sentence number {n} talks about rivers and stones." for n in range(60))
    fence = "```python\n" + "\n".join(f"value_{n} = {n}" for n in range(12)) + "\n```"
    return (
        "Preface text.\n\n# Alpha\n\nAlpha intro.\n\n## Beta\n\n"
        f"{prose}\n\n{fence}\n\nAfter the fence.\n\n"
        f"## Gamma\n\nGamma body. {FACTS['english_md']}\n\n"
        "# Delta\n\nDelta body.\n"
    )


def test_markdown_heading_paths() -> None:
    chunks = chunks_of("markdown", ENGLISH_MARKDOWN)
    by_fact = {fact: c.heading for c in chunks for fact in FACTS.values() if fact in c.text}
    assert by_fact[FACTS["english_md"]] == "Field Guide > Festivals"
    assert by_fact[FACTS["english_md_2"]] == "Field Guide > Nature"
    assert by_fact[FACTS["english_md_3"]] == "Field Guide > Coast"
    # "### Music / The bands play until dawn." is a fragment under 40 characters: it rides
    # with the section before it rather than standing alone.
    music = next(c for c in chunks if "bands play" in c.text)
    assert music.heading == "Field Guide > Festivals"
    assert "### Music" in music.text
    assert all(len(c.text.strip()) >= 40 for c in chunks)
    assert_lines_true(chunks, ENGLISH_MARKDOWN)


def test_markdown_line_ranges_sizes_and_sections_in_a_long_document() -> None:
    text = long_markdown()
    chunks = chunks_of("markdown", text, tokens=100, overlap=20)
    assert_lines_true(chunks, text)
    assert all(estimate_tokens(c.text) <= 100 for c in chunks)
    assert [c.index for c in chunks] == list(range(len(chunks)))
    headings = [c.heading for c in chunks]
    assert chunks[0].text.startswith("Preface text.")  # a fragment merged forwards
    assert headings.count("Alpha > Beta") >= 5
    assert chunks[-1].text.endswith("# Delta\n\nDelta body.")  # a fragment merged backwards
    assert next(c for c in chunks if FACTS["english_md"] in c.text).heading == "Alpha > Gamma"


def test_code_fence_is_never_split_when_it_fits() -> None:
    chunks = chunks_of("markdown", long_markdown(), tokens=100, overlap=20)
    with_fence = [c for c in chunks if "```" in c.text]
    assert all(c.text.count("```") % 2 == 0 for c in chunks)
    assert any("value_0 = 0" in c.text and "value_11 = 11" in c.text for c in with_fence)


def test_a_fence_bigger_than_the_budget_is_split_by_lines() -> None:
    body = "\n".join(f"line_{n} = 'some value that takes space'" for n in range(80))
    text = f"# Code\n\n```python\n{body}\n```\n"
    chunks = chunks_of("markdown", text, tokens=100, overlap=10)
    assert len(chunks) > 3
    assert all(estimate_tokens(c.text) <= 100 for c in chunks)
    assert_lines_true(chunks, text)
    # Cuts fall at line ends.
    for chunk in chunks:
        assert chunk.text.rstrip().endswith(("'", "```", "python"))


def test_consecutive_chunks_of_a_section_overlap() -> None:
    chunks = [
        c
        for c in chunks_of("markdown", long_markdown(), tokens=100, overlap=20)
        if c.heading == "Alpha > Beta"
    ]
    assert len(chunks) >= 3
    for before, after in zip(chunks, chunks[1:], strict=False):
        if "```" in after.text.split("\n")[0]:
            continue  # a fence is atomic: no overlap cut into it
        head = after.text[:30]
        assert head in before.text, (before.text[-60:], head)
        assert estimate_tokens(head) <= 20


def test_no_overlap_across_sections() -> None:
    chunks = chunks_of("markdown", ENGLISH_MARKDOWN, tokens=120, overlap=30)
    for before, after in zip(chunks, chunks[1:], strict=False):
        if before.heading != after.heading:
            assert after.text[:20] not in before.text


def test_chinese_sentences_split_at_chinese_sentence_ends() -> None:
    sentences = [f"第{n}句话讲的是城市里的图书馆和公园{'。！？'[n % 3]}" for n in range(40)]
    text = "# 城市\n\n" + "".join(sentences) + "\n"
    chunks = chunks_of("markdown", text, tokens=60, overlap=0)
    assert len(chunks) > 5
    assert all(estimate_tokens(c.text) <= 60 for c in chunks)
    for chunk in chunks:
        assert chunk.text[-1] in "。！？", chunk.text
        assert chunk.heading == "城市"
    joined = "".join(c.text for c in chunks).replace("# 城市\n\n", "")
    assert joined == "".join(sentences)


def test_chinese_overlap_repeats_the_end_of_the_previous_chunk() -> None:
    text = "".join(f"第{n}句话讲的是城市里的图书馆。" for n in range(40))
    chunks = chunks_of("text", text, tokens=60, overlap=15)
    assert len(chunks) > 3
    for before, after in zip(chunks, chunks[1:], strict=False):
        assert after.text[:5] in before.text[-20:]
        assert estimate_tokens(after.text) <= 60


def test_cyrillic_overlap_repeats_the_end_of_the_previous_chunk() -> None:
    """The overlap cut prices a Cyrillic letter as the estimate does (half a token)."""
    sentence = "Предложение номер {} рассказывает о городской библиотеке. "
    text = "".join(sentence.format(n) for n in range(40))
    chunks = chunks_of("text", text, tokens=60, overlap=20)
    assert len(chunks) > 3
    for before, after in zip(chunks, chunks[1:], strict=False):
        head = after.text[: after.text.index(".")]  # the repeated tail of a sentence
        assert before.text.endswith(head + "."), (before.text, after.text)
        assert estimate_tokens(after.text) <= 60


def test_chinese_markdown_from_the_corpus() -> None:
    chunks = chunks_of("markdown", CHINESE_MARKDOWN)
    assert [c.heading for c in chunks] == ["城市指南 > 北京", "城市指南 > 上海"]
    assert FACTS["chinese_md"] in chunks[0].text and FACTS["chinese_md_2"] in chunks[1].text
    assert_lines_true(chunks, CHINESE_MARKDOWN)


def test_english_sentences_split_when_a_paragraph_is_too_big() -> None:
    text = " ".join(f"Statement {n} is true! Is statement {n} false? No." for n in range(40))
    chunks = chunks_of("text", text, tokens=50, overlap=0)
    assert all(estimate_tokens(c.text) <= 50 for c in chunks)
    assert all(re.search(r"[.!?]$", c.text) for c in chunks)


def test_a_huge_line_without_breaks_is_cut_to_size() -> None:
    text = "x" * 5000
    chunks = chunks_of("text", text, tokens=100, overlap=10)
    assert all(estimate_tokens(c.text) <= 100 for c in chunks)
    assert "".join(c.text for c in chunks).count("x") >= 5000


def test_python_chunks_start_at_top_level_definitions() -> None:
    source = (
        PYTHON_SOURCE
        + "\n\n"
        + "\n\n".join(
            f"def helper_{n}(value):\n    '''Helper {n}.'''\n    return value * {n} + {n}\n"
            for n in range(12)
        )
    )
    chunks = chunks_of("code", source, tokens=80, overlap=10, language="python")
    assert_lines_true(chunks, source)
    assert all(estimate_tokens(c.text) <= 80 for c in chunks)
    for chunk in chunks[1:]:
        first = chunk.text.split("\n")[0]
        assert re.match(r"(def |class |@)", first), first
    satellite = next(c for c in chunks if "class Satellite" in c.text)
    assert "class Satellite" in satellite.heading
    assert "def describe" in satellite.text  # the method stays with its class
    decorated = next(c for c in chunks if "def escape_velocity" in c.text)
    assert "@staticmethod\ndef escape_velocity" in decorated.text


def test_a_big_python_function_is_split_by_lines_and_overlaps() -> None:
    body = "\n".join(f"    total += compute_value({n}, factor={n * 3})" for n in range(80))
    source = (
        f"import os\n\n\ndef big():\n    total = 0\n{body}\n    return total\n\n\n"
        "def small():\n    return 1\n"
    )
    chunks = chunks_of("code", source, tokens=100, overlap=20, language="python")
    big = [c for c in chunks if c.heading == "def big"]
    assert len(big) >= 4
    assert big[0].text.startswith("def big():")
    for before, after in zip(big, big[1:], strict=False):
        assert after.text.split("\n")[0] in before.text  # overlap by whole lines
    assert chunks[-1].text.startswith("def small")
    assert_lines_true(chunks, source)


def test_other_languages_split_at_column_zero_definitions() -> None:
    functions = "\n\n".join(
        f"// Adds {n}.\nexport function add{n}(x) {{\n  const y = x + {n};\n  return y * 2;\n}}"
        for n in range(15)
    )
    source = f"import {{ a }} from './a';\n\n{functions}\n"
    chunks = chunks_of("code", source, tokens=60, overlap=0, language="javascript")
    assert_lines_true(chunks, source)
    for chunk in chunks[1:]:
        assert chunk.text.startswith("// Adds"), chunk.text[:30]
        assert chunk.text.count("{") == chunk.text.count("}")
    assert "function add0" in chunks[0].heading or "function add0" in chunks[1].heading


def test_rst_headings_and_literal_blocks() -> None:
    text = (
        "=====\nGuide\n=====\n\nIntro.\n\nInstall\n-------\n\nRun this::\n\n    pip install thing\n"
        "    thing --help\n\nUsage\n-----\n\nCall it.\n"
    )
    chunks = chunks_of("rst", text, tokens=200)
    headings = [c.heading for c in chunks]
    # "Guide / Intro." and "Usage / Call it." are fragments: they join the Install chunk.
    assert headings == ["Guide > Install"]
    install = chunks[0]
    assert install.text.startswith("=====\nGuide") and install.text.endswith("Call it.")
    assert "pip install thing\n    thing --help" in install.text
    assert_lines_true(chunks, text)


def test_pages_keep_page_numbers_and_no_lines() -> None:
    document = LoadedDocument(
        kind="pages", pages=("First page text.", "", "Third page text."), has_lines=False
    )
    chunks = chunk_document(document, source=SOURCE, file_hash="h")
    assert [(c.page, c.text) for c in chunks] == [(1, "First page text."), (3, "Third page text.")]
    assert all(c.line_start is None for c in chunks)


def test_lines_documents_cut_between_rows() -> None:
    text = "name,city\n" + "\n".join(f"person{n},city{n}" for n in range(200)) + "\n"
    chunks = chunks_of("lines", text, tokens=50, overlap=0)
    assert_lines_true(chunks, text)
    assert all(
        re.fullmatch(r"[\w,\n]+", c.text) and c.text.split("\n")[-1].count(",") == 1 for c in chunks
    )


def test_ids_are_stable_and_distinct() -> None:
    first = chunks_of("markdown", ENGLISH_MARKDOWN)
    second = chunks_of("markdown", ENGLISH_MARKDOWN)
    assert [c.id for c in first] == [c.id for c in second]
    assert len({c.id for c in first}) == len(first)
    assert first[0].id == chunk_id(SOURCE, 0, first[0].text)
    assert chunk_id("/a", 0, "t") != chunk_id("/b", 0, "t")
    assert all(c.source == SOURCE and c.file_hash == "h" for c in first)


@pytest.mark.parametrize("budget", [40, 75, 200, 500])
def test_every_chunk_fits_any_budget(budget: int) -> None:
    text = long_markdown() + "\n" + CHINESE_MARKDOWN * 5
    chunks = chunks_of("markdown", text, tokens=budget, overlap=budget // 5)
    assert all(estimate_tokens(c.text) <= budget for c in chunks)
    assert_lines_true(chunks, text)
