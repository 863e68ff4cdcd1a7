"""Walking: what is skipped (silently), include/exclude globs, and a stable order."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from chat_tui.errors import ConfigError
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


# ---------------------------------------------------------------- only what was given


def walked(paths: list[Path], **options: object) -> tuple[set[str], dict[str, str]]:
    from chat_tui.ingest.walk import walk

    result = walk(paths, **options)  # type: ignore[arg-type]
    return {p.name for p in result.files}, {Path(s.path).name: s.reason for s in result.skipped}


def walk_skips(paths: list[Path]) -> list[str]:
    from chat_tui.ingest.walk import walk

    return [skip.path for skip in walk(paths).skipped]


def test_links_inside_are_followed_links_out_only_with_follow_links(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("shadow", encoding="utf-8")
    (outside / "folder").mkdir()
    (outside / "folder" / "deep.txt").write_text("deep", encoding="utf-8")
    root = tmp_path / "root"
    (root / "sub").mkdir(parents=True)
    (root / "sub" / "real.md").write_text("real", encoding="utf-8")
    (root / "inside.md").symlink_to(root / "sub" / "real.md")
    (root / "shadow.txt").symlink_to(outside / "secret.txt")
    (root / "outdir").symlink_to(outside / "folder", target_is_directory=True)

    files, skipped = walked([root])
    assert files == {"real.md"}  # the inside link names the same file: taken once
    assert "out of the given folders" in skipped["shadow.txt"]
    assert "out of the given folders" in skipped["outdir"]
    files, skipped = walked([root], follow_links=True)
    assert files == {"real.md", "secret.txt", "deep.txt"} and not skipped


def test_fifos_sockets_devices_loops_and_dangling_links_are_skipped_with_reasons(
    tmp_path: Path,
) -> None:
    import socket

    root = tmp_path / "r"
    root.mkdir()
    (root / "ok.md").write_text("ok", encoding="utf-8")
    os.mkfifo(root / "pipe.md")
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(root / "sock.md"))
    (root / "loop_a").symlink_to(root / "loop_b")
    (root / "loop_b").symlink_to(root / "loop_a")
    (root / "dangling.md").symlink_to(root / "nowhere.md")
    (root / "dirloop").symlink_to(root, target_is_directory=True)  # inside: walked once
    try:
        files, skipped = walked([root])
        assert files == {"ok.md"}
        assert skipped["pipe.md"] == "a FIFO" and skipped["sock.md"] == "a socket"
        assert skipped["loop_a"] == skipped["loop_b"] == "symlink loop"
        assert skipped["dangling.md"] == "dangling symlink"
        # Named on the command line: skipped too, and the FIFO is never opened (no block).
        files, skipped = walked([root / "pipe.md", Path("/dev/zero"), root / "loop_a"])
        assert not files
        assert len(walk_skips([root, root / "pipe.md"])) == len(walk_skips([root]))  # once
        assert skipped == {"pipe.md": "a FIFO", "zero": "a device file", "loop_a": "symlink loop"}
    finally:
        sock.close()


def test_two_hundred_deep_folders_are_walked(tmp_path: Path) -> None:
    folder = tmp_path
    for depth in range(200):
        folder = folder / f"d{depth}"
    folder.mkdir(parents=True)
    (folder / "bottom.md").write_text("x", encoding="utf-8")
    assert walked([tmp_path])[0] == {"bottom.md"}


def _sphinx_build(root: Path) -> None:
    for relative in (
        "index.html",
        "library/os.html",
        "genindex.html",
        "genindex-A.html",
        "py-modindex.html",
        "search.html",
        "searchindex.js",
        "_sources/index.rst.txt",
        "_sources/library/os.rst.txt",
        "_static/basic.css",
        "_static/jquery.min.js",
        "app.min.css",
        "app.js.map",
        "poetry.lock",
        "package-lock.json",
        "node_modules/lib/readme.md",
        "docs/_build/html/page.html",
    ):
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text("<p>x</p>", encoding="utf-8")


def test_generated_artefacts_are_skipped_by_default_and_counted(tmp_path: Path) -> None:
    from chat_tui.ingest.report import IngestReport, generated_summary
    from chat_tui.ingest.walk import walk

    _sphinx_build(tmp_path / "html")
    result = walk([tmp_path / "html"])
    found = {path.relative_to((tmp_path / "html").resolve()).as_posix() for path in result.files}
    assert found == {"index.html", "library/os.html"}
    assert not result.skipped  # counted, not listed one by one (and never failures)
    assert sum(result.generated.values()) == 13 and result.generated["genindex*.html"] == 2
    line = generated_summary(result.generated)
    assert line.startswith("skipped 9 generated files and 4 generated folders (genindex*.html")
    assert "\n" not in line and generated_summary({}) == ""
    report = IngestReport("kb", generated=tuple(result.generated.items()))
    assert report.exit_code == 0 and generated_summary(report.generated) == line


def test_default_exclusions_can_be_replaced_and_named_files_are_always_read(
    tmp_path: Path,
) -> None:
    from chat_tui.ingest.walk import walk

    root = tmp_path / "html"
    _sphinx_build(root)
    everything = walk([root], default_excludes=[])
    assert len(everything.files) == 17 and not everything.generated
    only_lock = walk([root], default_excludes=["*.lock"])
    assert len(only_lock.files) == 16 and only_lock.generated == {"*.lock": 1}
    named = walk([root / "searchindex.js", root / "_sources"])
    names = sorted(path.name for path in named.files)
    assert names == ["index.rst.txt", "os.rst.txt", "searchindex.js"]


def test_default_exclusions_come_from_the_config(tmp_path: Path) -> None:
    from chat_tui.config import DEFAULT_EXCLUDES, load_settings

    config = tmp_path / "config.toml"
    config.write_text("[ingest]\ndefault_excludes = ['*.lock']\n", encoding="utf-8")

    def excludes() -> tuple[str, ...]:
        return load_settings(config_file=config, env={}, data_dir=tmp_path).ingest.default_excludes

    assert excludes() == ("*.lock",)
    config.write_text("[ingest]\ndefault_excludes = '*.lock'\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="ingest.default_excludes must be a list of strings"):
        excludes()
    config.write_text("[ingest]\nchunk_tokens = 400\n", encoding="utf-8")
    assert excludes() == DEFAULT_EXCLUDES
