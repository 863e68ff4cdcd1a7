"""Which files an ingest looks at.

Walking a project folder must not drag in ``.git`` objects, virtual environments, caches,
whatever the project's ``.gitignore`` files exclude, or generated artefacts (``DEFAULT_EXCLUDES``
in the config: Sphinx's ``_sources`` and ``searchindex.js``, minified bundles, lock files,
``node_modules``...; those are counted, not listed, and the list can be replaced); the user can
narrow further with ``--include`` / ``--exclude`` globs (gitwildmatch syntax: ``*.md`` matches
at any depth, ``docs/**/*.txt`` is anchored at the walked folder). The order is deterministic
(sorted by name at each level) so two runs over the same tree do the same work.

Only what was given is read: a symbolic link is followed only when its target lies inside
one of the roots named on the command line (``follow_links`` lifts that), and FIFOs,
sockets, device files, link loops and dangling links are skipped with a reason, also
when named directly. Types are checked with ``lstat``/``stat`` only, which never opens
(so a FIFO never blocks and ``/dev/zero`` is never read); the loader checks again on the
open descriptor in case the file was swapped in between.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pathspec

from chat_tui.config import DEFAULT_EXCLUDES
from chat_tui.ingest.report import SkippedFile, file_type_name

#: Folder names that never hold documents worth indexing (``node_modules`` and
#: ``__pycache__`` are in ``DEFAULT_EXCLUDES`` instead, so a user can take them back).
SKIPPED_DIR_NAMES = frozenset({".git", ".venv", "venv", ".hg", ".svn", ".tox", ".nox"})


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


@dataclass
class WalkResult:
    """What a walk found: files to ingest and entries skipped with a reason.

    Attributes:
        files: the files to ingest.
        skipped: entries skipped with a reason (listed to the user one by one).
        generated: entries skipped by a default exclusion, counted per glob (shown in one
            line, see ``report.generated_summary``): ``{"searchindex.js": 1, "_sources/": 1}``.
    """

    files: list[Path]
    skipped: list[SkippedFile]
    generated: dict[str, int] = field(default_factory=dict)


def _inside(path: Path, roots: Sequence[Path]) -> bool:
    return any(path == root or path.is_relative_to(root) for root in roots)


class _Walker:
    """One walk over the given paths (see ``walk``)."""

    def __init__(
        self,
        roots: Sequence[Path],
        include: pathspec.GitIgnoreSpec | None,
        exclude: pathspec.GitIgnoreSpec | None,
        follow_links: bool,
        default_excludes: Sequence[str],
    ) -> None:
        self.roots = roots
        self.include = include
        self.exclude = exclude
        self.default_globs = [glob for glob in default_excludes if glob.strip()]
        self.defaults = _compile(self.default_globs)
        self.follow_links = follow_links
        self.seen: set[Path] = set()
        self.visited_dirs: set[tuple[int, int]] = set()
        self.skipped_paths: set[str] = set()
        self.result = WalkResult([], [])

    def skip(self, path: Path, reason: str) -> None:
        if str(path) not in self.skipped_paths:  # named twice (a folder and itself): once
            self.skipped_paths.add(str(path))
            self.result.skipped.append(SkippedFile(str(path), reason))

    def generated(self, relative: str) -> bool:
        """Whether a default exclusion matches ``relative``; counted under its glob if so."""
        if self.defaults is None:
            return False
        verdict = self.defaults.check_file(relative)
        if not verdict.include or verdict.index is None:
            return False  # no glob matched, or a ``!glob`` took it back
        glob = self.default_globs[verdict.index]
        self.result.generated[glob] = self.result.generated.get(glob, 0) + 1
        return True

    def add(self, path: Path) -> None:
        if path not in self.seen:
            self.seen.add(path)
            self.result.files.append(path)

    def target(self, link: Path) -> tuple[Path, os.stat_result] | None:
        """The resolved target of a link that may be followed, or None (skip recorded)."""
        try:
            resolved = link.resolve(strict=True)
            info = resolved.stat()
        except RuntimeError:
            self.skip(link, "symlink loop")
            return None
        except FileNotFoundError:
            self.skip(link, "dangling symlink")
            return None
        except OSError as error:
            if error.errno == 40:  # ELOOP
                self.skip(link, "symlink loop")
            else:
                self.skip(link, f"unreadable link ({error.strerror or error})")
            return None
        if not self.follow_links and not _inside(resolved, self.roots):
            self.skip(link, "symlink out of the given folders (use --follow-links to follow)")
            return None
        return resolved, info

    def given(self, given: Path) -> None:
        """A path named on the command line: a file, a folder or a link to one."""
        path = Path(os.path.abspath(given.expanduser()))
        try:
            info = path.stat()  # a link the user named is followed: they asked for it
        except RuntimeError:
            self.skip(path, "symlink loop")
            return
        except FileNotFoundError:
            if path.is_symlink():
                self.skip(path, "dangling symlink")
            return
        except OSError as error:
            reason = "symlink loop" if error.errno == 40 else (error.strerror or str(error))
            self.skip(path, reason)
            return
        resolved = path.resolve()
        if stat.S_ISDIR(info.st_mode):
            self.folder(resolved)
        elif stat.S_ISREG(info.st_mode):
            self.add(resolved)
        else:
            self.skip(path, file_type_name(info.st_mode))

    def folder(self, root: Path) -> None:
        base_ignores = _ancestor_gitignores(root)
        # Each stack entry: (folder as reached, the ignore files in force inside it).
        stack: list[tuple[Path, list[_IgnoreFile]]] = [(root, base_ignores)]
        while stack:
            folder, inherited = stack.pop()
            try:
                info = folder.stat()
            except OSError:
                continue
            if (info.st_dev, info.st_ino) in self.visited_dirs:
                continue  # reached twice (a link to a folder already walked)
            self.visited_dirs.add((info.st_dev, info.st_ino))
            own = _read_gitignore(folder)
            ignores = [*inherited, own] if own is not None else inherited
            try:
                entries = sorted(os.scandir(folder), key=lambda entry: entry.name)
            except OSError:
                continue
            subfolders: list[Path] = []
            for entry in entries:
                if entry.name.startswith("."):
                    continue
                found = self.entry(root, Path(entry.path), entry, ignores)
                if found is not None:
                    subfolders.append(found)
            # Files of a folder come first, then its subfolders in name order.
            stack.extend((sub, ignores) for sub in reversed(subfolders))

    def entry(
        self, root: Path, path: Path, entry: os.DirEntry[str], ignores: Sequence[_IgnoreFile]
    ) -> Path | None:
        """Handle one folder entry; returns it when it is a folder to walk."""
        relative = path.relative_to(root).as_posix()
        try:
            info = entry.stat(follow_symlinks=False)
        except OSError:
            return None
        mode = info.st_mode
        resolved = path
        if stat.S_ISLNK(mode):
            followed = self.target(path)
            if followed is None:
                return None
            resolved, target_info = followed
            mode = target_info.st_mode
        if stat.S_ISDIR(mode):
            if (
                entry.name in SKIPPED_DIR_NAMES
                or _is_virtualenv(path)
                or _ignored(path, True, ignores)
                or (self.exclude is not None and self.exclude.match_file(relative + "/"))
                or self.generated(relative + "/")
            ):
                return None
            return path
        if _ignored(path, False, ignores):
            return None
        if self.exclude is not None and self.exclude.match_file(relative):
            return None
        if self.include is not None and not self.include.match_file(relative):
            return None
        if self.generated(relative):
            return None
        if not stat.S_ISREG(mode):
            self.skip(path, file_type_name(mode))
            return None
        self.add(resolved if resolved is not path else path.resolve())
        return None


def walk(
    paths: Sequence[Path],
    *,
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    follow_links: bool = False,
    default_excludes: Sequence[str] = DEFAULT_EXCLUDES,
) -> WalkResult:
    """The files to ingest under ``paths``, and what was skipped on the way (with reasons).

    Folders are walked recursively, skipping hidden entries, ``.git``, virtual environments
    (``.venv``, ``venv``, any folder holding ``pyvenv.cfg``) and whatever ``.gitignore``
    files (nested ones included, and those above the folder up to its git work tree's top)
    exclude: those silently; and what ``default_excludes`` matches (generated artefacts:
    counted in ``WalkResult.generated``). A path naming a file is taken as is (the user
    asked for it, even if a default exclusion matches it), if it is a regular file; a
    folder named is walked even if its own name matches (globs apply below it). Links inside the
    walked folders are followed; links out of them only with ``follow_links``. Non-regular
    files, loops and dangling links are skipped with a reason.

    Args:
        paths: files and folders, in the order given.
        include: globs a walked file must match (any of them), relative to its walked folder.
        exclude: globs that drop walked files and folders.
        follow_links: follow symbolic links whose target is outside the given paths.
        default_excludes: globs of generated artefacts skipped in walked folders (the
            config's ``ingest.default_excludes``; empty: none).

    Returns:
        The files (absolute, resolved, without duplicates) in a deterministic order (given
        order, then name order inside folders), the skipped entries and the counts of
        generated ones.
    """
    roots = []
    for given in paths:
        try:
            roots.append(Path(given).expanduser().resolve())
        except (OSError, RuntimeError):
            continue
    walker = _Walker(roots, _compile(include), _compile(exclude), follow_links, default_excludes)
    for given in paths:
        walker.given(Path(given))
    return walker.result


def walk_paths(
    paths: Sequence[Path],
    *,
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    follow_links: bool = False,
) -> list[Path]:
    """The files ``walk`` finds (without the skipped entries)."""
    return walk(paths, include=include, exclude=exclude, follow_links=follow_links).files


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
