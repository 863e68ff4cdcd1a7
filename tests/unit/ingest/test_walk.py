"""Walking: what is skipped (silently), include/exclude globs, and a stable order."""

from __future__ import annotations

from pathlib import Path

from chat_tui.ingest.walk import is_under, walk_paths
from tests.support.corpus import INGESTED, SILENTLY_IGNORED, SKIPPED_WITH_REASON, make_corpus


def test_corpus_walk_skips_vcs_dependencies_venvs_hidden_and_gitignored(tmp_path: Path) -> None:
    files = make_corpus(tmp_path / "c")
    found = set(walk_paths([tmp_path / "c"]))
    for name in (*INGESTED, *SKIPPED_WITH_REASON):
        assert files[name].resolve() in found, name
    for name in SILENTLY_IGNORED:
        assert files[name].resolve() not in found, name
    assert not any(path.name == ".gitignore" for path in found)


def test_order_is_deterministic_files_before_subfolders(tmp_path: Path) -> None:
    for relative in ("b.md", "a.md", "sub/z.md", "sub/a.md", "aaa/x.md"):
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text("x", encoding="utf-8")
    found = [path.relative_to(tmp_path.resolve()).as_posix() for path in walk_paths([tmp_path])]
    assert found == ["a.md", "b.md", "aaa/x.md", "sub/a.md", "sub/z.md"]
    assert walk_paths([tmp_path]) == walk_paths([tmp_path])


def test_nested_gitignore_can_reinclude_and_parent_gitignore_applies(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / ".gitignore").write_text("*.log\nsecret*\n", encoding="utf-8")
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / ".gitignore").write_text("!keep.log\n", encoding="utf-8")
    for name in ("a.log", "keep.log", "secret.md", "open.md"):
        (docs / name).write_text("x", encoding="utf-8")
    # Walking only docs/ still honours the work tree's top-level .gitignore.
    found = sorted(path.name for path in walk_paths([docs]))
    assert found == ["keep.log", "open.md"]


def test_include_and_exclude_globs(tmp_path: Path) -> None:
    for relative in ("a.md", "b.txt", "notes/c.md", "notes/old/d.md", "src/e.py"):
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text("x", encoding="utf-8")
    names = lambda found: sorted(p.relative_to(tmp_path.resolve()).as_posix() for p in found)  # noqa: E731
    assert names(walk_paths([tmp_path], include=["*.md"])) == [
        "a.md",
        "notes/c.md",
        "notes/old/d.md",
    ]
    assert names(walk_paths([tmp_path], include=["*.md"], exclude=["notes/old/"])) == [
        "a.md",
        "notes/c.md",
    ]
    assert names(walk_paths([tmp_path], exclude=["*.md", "src"])) == ["b.txt"]


def test_named_file_is_taken_even_when_hidden_and_duplicates_collapse(tmp_path: Path) -> None:
    hidden = tmp_path / ".notes.md"
    hidden.write_text("x", encoding="utf-8")
    visible = tmp_path / "v.md"
    visible.write_text("x", encoding="utf-8")
    assert walk_paths([hidden]) == [hidden.resolve()]
    assert walk_paths([tmp_path, visible, tmp_path / "." / "v.md"]) == [visible.resolve()]
    assert walk_paths([tmp_path / "missing"]) == []


def test_is_under_matches_whole_path_components(tmp_path: Path) -> None:
    root = tmp_path / "docs"
    assert is_under(str(root / "a.md"), [root])
    assert is_under(str(root), [root])
    assert not is_under(str(tmp_path / "docs2" / "a.md"), [root])
