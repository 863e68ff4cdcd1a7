"""Roles: system-prompt personas, three built in and any number from the config dir.

A user role is a TOML file in ``<config dir>/roles/`` with ``name``,
``description``, ``system_prompt`` and optional ``model``, ``temperature`` and
``knowledge_base``. A user file whose name matches a built-in role replaces it.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

from chat_tui.domain.models import Role
from chat_tui.domain.text import clean_line
from chat_tui.domain.toml_files import read_toml, reject_unknown
from chat_tui.errors import ConfigError

ROLE_KEYS = ("name", "description", "system_prompt", "model", "temperature", "knowledge_base")
"""The keys a role file may have."""

BUILTIN_ROLES: tuple[Role, ...] = (
    Role(
        name="assistant",
        description="Friendly and professional help with everyday questions",
        system_prompt=(
            "You are a friendly, professional assistant. Answer everyday questions clearly and "
            "accurately, keep answers as short as the question allows, and say so when you are "
            "not sure. Use Markdown when it helps readability."
        ),
        builtin=True,
    ),
    Role(
        name="teacher",
        description="Patient explanations of complex ideas, step by step",
        system_prompt=(
            "You are a patient teacher. Explain complex ideas step by step, starting from what "
            "the learner already knows, with simple examples and analogies. Check understanding "
            "by summarising the key points at the end, and invite follow-up questions."
        ),
        builtin=True,
    ),
    Role(
        name="programmer",
        description="Technical answers with working code",
        system_prompt=(
            "You are an expert programmer. Give technically precise answers with complete, "
            "working code in fenced Markdown blocks tagged with their language. Prefer idiomatic, "
            "tested approaches, point out edge cases and pitfalls, and keep prose brief."
        ),
        builtin=True,
    ),
)

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.-]{0,63}$")


def role_file(roles_dir: Path, name: str) -> Path:
    """Where a user role called ``name`` is stored."""
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-").lower() or "role"
    return roles_dir / f"{slug}.toml"


def load_role_file(path: Path) -> Role:
    """Parse one role file.

    Raises:
        ConfigError: the file is unreadable or a field is missing or of the wrong type.
    """
    data = read_toml(path, missing_ok=False)
    reject_unknown(data, ROLE_KEYS, path=path)
    where = clean_line(path)
    name = data.get("name") or path.stem
    prompt = data.get("system_prompt")
    if not isinstance(name, str) or not _NAME.match(name):
        raise ConfigError(f"{where}: name must be 1-64 letters, digits, spaces, '_', '.' or '-'")
    if not isinstance(prompt, str) or not prompt.strip():
        raise ConfigError(f"{where}: system_prompt must be a non-empty string")
    temperature = data.get("temperature")
    if temperature is not None and (
        isinstance(temperature, bool)
        or not isinstance(temperature, int | float)
        or not math.isfinite(temperature)
        or not 0 <= temperature <= 2
    ):
        shown = clean_line(repr(temperature))[:80]
        raise ConfigError(f"{where}: temperature must be a number from 0 to 2, got {shown}")
    for key in ("description", "model", "knowledge_base"):
        if key in data and not isinstance(data[key], str):
            shown = clean_line(repr(data[key]))[:80]
            raise ConfigError(f"{where}: {key} must be a string, got {shown}")
    return Role(
        name=name,
        system_prompt=prompt.strip(),
        description=data.get("description", ""),
        model=data.get("model") or None,
        temperature=float(temperature) if temperature is not None else None,
        knowledge_base=data.get("knowledge_base") or None,
    )


def load_roles(roles_dir: Path) -> tuple[list[Role], list[str]]:
    """Built-in roles followed by the user's, plus one-line problems found.

    A broken role file does not stop the app: it is reported and skipped.
    """
    roles: dict[str, Role] = {role.name: role for role in BUILTIN_ROLES}
    problems: list[str] = []
    if roles_dir.is_dir():
        for path in sorted(roles_dir.glob("*.toml")):
            try:
                role = load_role_file(path)
            except ConfigError as error:
                problems.append(str(error))
                continue
            roles[role.name] = role
    return list(roles.values()), problems


def validate_role(role: Role, where: str = "role") -> None:
    """Raise ConfigError when a role could not be loaded back."""
    if not _NAME.match(role.name):
        raise ConfigError(f"{where}: name must be 1-64 letters, digits, spaces, '_', '.' or '-'")
    if not role.system_prompt.strip():
        raise ConfigError(f"{where}: system_prompt must be a non-empty string")
