"""Which files an ingest looks at.

Walking a project folder must not drag in ``.git`` objects, ``node_modules``, virtual
environments, caches or whatever the project's ``.gitignore`` files exclude; the user can
narrow further with ``--include`` / ``--exclude`` globs (gitwildmatch syntax: ``*.md`` matches
at any depth, ``docs/**/*.txt`` is anchored at the walked folder). The order is deterministic
(sorted by name at each level) so two runs over the same tree do the same work.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pathspec

#: Folder names that never hold documents worth indexing.
SKIPPED_DIR_NAMES = frozenset(
    {".git", "node_modules", "__pycache__", ".venv", "venv", ".hg", ".svn", ".tox", ".nox"}
)


@dataclass(frozen=True)
class _IgnoreFile:
    """One ``.gitignore``: its folder and its compiled patterns."""

    base: Path
    spec: pathspec.GitIgnoreSpec

    def verdict(self, path: Path, is_dir: bool) -> bool | None:
        """True: ignored, False: re-included by a ``!`` pattern, None: no pattern spoke."""
        try:
            relative = path.relative_to(self.base).as_posix()
        except ValueError:
            return None
        if is_dir:
            relative += "/"
        return self.spec.check_file(relative).include


def _read_gitignore(folder: Path) -> _IgnoreFile | None:
    path = folder / ".gitignore"
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    return _IgnoreFile(folder, pathspec.GitIgnoreSpec.from_lines(lines))


def _ancestor_gitignores(root: Path) -> list[_IgnoreFile]:
    """``.gitignore`` files above ``root`` up to its git work tree's top (if it is in one)."""
    chain: list[Path] = []
    for parent in root.parents:
        chain.append(parent)
        if (parent / ".git").exists():
            break
    else:
        return []
    found = [_read_gitignore(folder) for folder in reversed(chain)]
    return [ignore for ignore in found if ignore is not None]


def _ignored(path: Path, is_dir: bool, ignores: Sequence[_IgnoreFile]) -> bool:
    # The deepest .gitignore with an opinion wins, as in git.
    for ignore in reversed(ignores):
        verdict = ignore.verdict(path, is_dir)
        if verdict is not None:
            return verdict
    return False


def _is_virtualenv(folder: Path) -> bool:
    return (folder / "pyvenv.cfg").is_file()


def _compile(globs: Sequence[str]) -> pathspec.GitIgnoreSpec | None:
    cleaned = [glob for glob in globs if glob.strip()]
    return pathspec.GitIgnoreSpec.from_lines(cleaned) if cleaned else None


def _walk_folder(
    root: Path,
    include: pathspec.GitIgnoreSpec | None,
    exclude: pathspec.GitIgnoreSpec | None,
) -> Iterator[Path]:
    base_ignores = _ancestor_gitignores(root)
    # Each stack entry: (folder, the ignore files in force inside it).
    stack: list[tuple[Path, list[_IgnoreFile]]] = [(root, base_ignores)]
    while stack:
        folder, inherited = stack.pop()
        own = _read_gitignore(folder)
        ignores = [*inherited, own] if own is not None else inherited
        try:
            entries = sorted(os.scandir(folder), key=lambda entry: entry.name)
        except OSError:
            continue
        subfolders: list[Path] = []
        for entry in entries:
            path = Path(entry.path)
            relative = path.relative_to(root).as_posix()
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
                is_file = entry.is_file()
            except OSError:
                continue
            if entry.name.startswith("."):
                continue
            if is_dir:
                if (
                    entry.name in SKIPPED_DIR_NAMES
                    or _is_virtualenv(path)
                    or _ignored(path, True, ignores)
                    or (exclude is not None and exclude.match_file(relative + "/"))
                ):
                    continue
                subfolders.append(path)
            elif is_file:
                if _ignored(path, False, ignores):
                    continue
                if exclude is not None and exclude.match_file(relative):
                    continue
                if include is not None and not include.match_file(relative):
                    continue
                yield path
        # Files of a folder come first, then its subfolders in name order.
        stack.extend((sub, ignores) for sub in reversed(subfolders))


def walk_paths(
    paths: Sequence[Path],
    *,
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
) -> list[Path]:
    """The files to ingest under ``paths``, absolute and resolved, without duplicates.

    Folders are walked recursively, skipping hidden entries, ``.git``, ``node_modules``,
    ``__pycache__``, virtual environments (``.venv``, ``venv``, any folder holding
    ``pyvenv.cfg``) and whatever ``.gitignore`` files (nested ones included, and those above
    the folder up to its git work tree's top) exclude. A path naming a file is taken as is:
    the user asked for it.

    Args:
        paths: files and folders, in the order given.
        include: globs a walked file must match (any of them), relative to its walked folder.
        exclude: globs that drop walked files and folders.

    Returns:
        The files in a deterministic order (given order, then name order inside folders).
    """
    include_spec = _compile(include)
    exclude_spec = _compile(exclude)
    seen: set[Path] = set()
    found: list[Path] = []
    for given in paths:
        root = Path(given).expanduser().resolve()
        if root.is_dir():
            candidates: Iterator[Path] = _walk_folder(root, include_spec, exclude_spec)
        elif root.exists():
            candidates = iter([root])
        else:
            continue
        for path in candidates:
            resolved = path.resolve()
            if resolved not in seen:
                seen.add(resolved)
                found.append(resolved)
    return found


def is_under(source: str, roots: Sequence[Path]) -> bool:
    """Whether the stored ``source`` path lies in (or is) one of ``roots`` (resolved paths)."""
    for root in roots:
        root_text = str(root)
        if source == root_text or source.startswith(root_text.rstrip(os.sep) + os.sep):
            return True
    return False


def is_gone(source: str) -> bool:
    """Whether a stored file no longer exists (an unreadable one is not gone)."""
    try:
        return not stat.S_ISREG(os.stat(source).st_mode)
    except (FileNotFoundError, NotADirectoryError):
        return True
    except OSError:
        return False
