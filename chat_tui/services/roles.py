"""Saving a user role so that a bad value never costs the user a good role file.

``chat-tui roles add`` replaces ``<config dir>/roles/<name>.toml``. Any text can
arrive on the command line (control characters, lone surrogates from undecodable
bytes, quotes and backslashes), and TOML forbids some of it raw. So the file is
escaped here, staged next to the target, read back with the role loader's own
rules (:func:`chat_tui.domain.roles.load_role_file`), and only then renamed over
the old file, fsynced like the history files: a rejected role leaves the old file
exactly as it was, and a crash leaves the old or the new file, never half of one.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from chat_tui.domain.models import Role
from chat_tui.domain.roles import load_role_file, role_file, validate_role
from chat_tui.domain.text import clean_line
from chat_tui.errors import ConfigError
from chat_tui.storage.atomic import TEMP_MARKER, fsync_directory, storage_error

#: Characters TOML has a short escape for; other controls become ``\\uXXXX``.
_SHORT_ESCAPES = {"\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}


def toml_string(value: str, *, key: str, multiline: bool = False) -> str:
    """``value`` as a TOML basic string that reads back as exactly ``value``.

    Args:
        value: the text.
        key: the role key it is for, named in the error.
        multiline: write a ``\"\"\"`` string keeping newlines as they are (for prompts).

    Raises:
        ConfigError: ``value`` holds a lone surrogate (bytes that were not valid
            text on the command line), which no TOML file can hold.
    """
    out: list[str] = []
    for char in value:
        code = ord(char)
        if char == "\\":
            out.append("\\\\")
        elif char == '"':
            out.append('\\"')  # every quote escaped: no run of three can close the string
        elif char == "\n" and multiline:
            out.append(char)
        elif char in _SHORT_ESCAPES:
            out.append(_SHORT_ESCAPES[char])
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\u{code:04X}")
        elif 0xD800 <= code <= 0xDFFF:
            raise ConfigError(f"{key} is not valid text (it holds bytes that are not UTF-8)")
        else:
            out.append(char)
    body = "".join(out)
    # TOML drops a newline right after the opening quotes: ours, so the text keeps its own.
    return f'"""\n{body}"""' if multiline else f'"{body}"'


def role_toml(role: Role) -> str:
    """The role file's text for ``role`` (escaped; see :func:`toml_string`)."""
    lines = [
        f"name = {toml_string(role.name, key='name')}",
        f"description = {toml_string(role.description, key='description')}",
    ]
    if role.model:
        lines.append(f"model = {toml_string(role.model, key='model')}")
    if role.temperature is not None:
        lines.append(f"temperature = {role.temperature!r}")
    if role.knowledge_base:
        lines.append(f"knowledge_base = {toml_string(role.knowledge_base, key='knowledge_base')}")
    lines.append(
        f"system_prompt = {toml_string(role.system_prompt, key='system_prompt', multiline=True)}"
    )
    return "\n".join(lines) + "\n"


def add_role(roles_dir: Path, role: Role) -> Path:
    """Write ``role`` as a user role file, replacing one of the same name; return its path.

    Raises:
        ConfigError: the role is invalid or would not load back; nothing was changed.
        StorageError: the roles folder cannot be written; nothing was changed.
    """
    where = f"role {clean_line(role.name)!r}"
    try:
        validate_role(role, where=where)
    except ConfigError as error:
        raise ConfigError(f"{error}; nothing was saved") from None
    try:
        payload = role_toml(role).encode("utf-8")
    except ConfigError as error:
        raise ConfigError(f"{where}: {error}; nothing was saved") from None
    path = role_file(roles_dir, role.name)
    staged = path.with_name(f".{path.name}{TEMP_MARKER}{os.getpid()}-{threading.get_ident()}")
    try:
        roles_dir.mkdir(parents=True, exist_ok=True)
        _write_synced(staged, payload)
    except OSError as error:
        _discard(staged)
        raise storage_error("save the role file", path, error) from None
    try:
        load_role_file(staged)  # the loader's rules, so what lands in place loads
        os.replace(staged, path)
    except ConfigError as error:
        _discard(staged)
        # The loader names the staged file; the user knows only the real one.
        raise ConfigError(
            str(error).replace(clean_line(staged), clean_line(path)) + "; nothing was saved"
        ) from None
    except OSError as error:
        _discard(staged)
        raise storage_error("save the role file", path, error) from None
    fsync_directory(roles_dir)
    return path


def _write_synced(path: Path, payload: bytes) -> None:
    # 0o644 (less the umask), as before: a role is not a secret.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o644)
    try:
        view = memoryview(payload)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    finally:
        os.close(fd)


def _discard(path: Path) -> None:
    try:
        path.unlink(missing_ok=True)
    except OSError:
        pass  # the folder itself is unusable: there is nothing to clean up
