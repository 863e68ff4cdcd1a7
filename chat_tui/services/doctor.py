"""``chat-tui doctor``: every part chat-tui depends on, checked, one result each.

Why a module of its own: when something does not work the user needs to know which
part is at fault (the config file, the model server, its key, the embedder, Milvus,
the disk) without reading a log. Each check here talks to the real thing (a
``/v1/models`` request, one probe embedding, a throw-away BM25 collection, a write
probe) and returns a :class:`Check` value; the CLI (:mod:`chat_tui.cli_doctor`) only
prints them. A key is never part of a result: only "present" or "missing", and every
error text passes the secret scrubber.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import Callable, Collection
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

from chat_tui import locations
from chat_tui.config import Settings, load_settings, missing_key_message
from chat_tui.domain.plurals import counted
from chat_tui.domain.text import clean_line
from chat_tui.errors import ChatTuiError

Status = Literal["ok", "note", "fail"]
"""``note``: worth knowing, not wrong (no embedding key: BM25 only). ``fail``: broken."""

#: Less free space than this on the data dir's disk fails the check (a save can fail).
LOW_DISK_BYTES = 200 * 1024 * 1024
#: Seconds a network check waits at most.
PROBE_TIMEOUT = 10.0
PROBE_TEXT = "chat-tui doctor probe"


@dataclass(frozen=True)
class Check:
    """One checked part: its name, how it is, and one line saying so."""

    name: str
    status: Status
    detail: str

    @property
    def ok(self) -> bool:
        return self.status != "fail"


def _scrubbed(text: object, settings: Settings | None) -> str:
    from chat_tui.llm.redaction import scrub

    secrets = settings.secrets() if settings is not None else []
    return clean_line(scrub(" ".join(str(text).split()), secrets))


# ---------------------------------------------------------------------------- config


def check_config(
    config_file: Path | None = None,
    *,
    provider: str | None = None,
    model: str | None = None,
    base_url: str | None = None,
    binding_ids: Collection[str] = (),
) -> tuple[Check, Settings | None]:
    """The config file loads (and the roles with it); the settings when it does.

    Args:
        binding_ids: the key binding ids a ``[keymap]`` may name (the TUI's); an
            unknown one is a note, as the TUI shows it. Empty: not checked.
    """
    from chat_tui.domain.roles import load_roles

    path = config_file or locations.config_file()
    try:
        settings = load_settings(
            config_file=path, provider=provider, model=model, base_url=base_url
        )
    except ChatTuiError as error:
        return Check("config", "fail", clean_line(error)), None
    where = clean_line(path) if path.is_file() else f"{clean_line(path)} (none: built-in defaults)"
    _, problems = load_roles(settings.roles_dir)
    if problems:
        extra = f" (+{len(problems) - 1} more)" if len(problems) > 1 else ""
        return Check("config", "fail", f"{where}; role file: {clean_line(problems[0])}{extra}"), (
            settings
        )
    unknown = sorted(set(settings.keymap) - set(binding_ids)) if binding_ids else []
    if unknown:
        names = clean_line(", ".join(unknown))
        return Check("config", "note", f"{where}; unknown binding id(s) in [keymap]: {names}"), (
            settings
        )
    return Check("config", "ok", where), settings


# ---------------------------------------------------------------------------- provider


async def check_provider(settings: Settings) -> Check:
    """The active provider: its key (present or missing, never shown) and ``/v1/models``."""
    from chat_tui.llm.client import ChatClient

    profile = settings.provider
    label = clean_line(f"{profile.name} at {profile.base_url}, model {profile.model}")
    problem = missing_key_message(profile)
    if problem is not None:
        return Check("provider", "fail", f"{label}: key missing ({problem})")
    if profile.has_key:
        key = "key present"
    else:
        key = "no key needed (this machine)" if profile.is_local else "no key needed"
    probe = replace(profile, timeout=min(profile.timeout, PROBE_TIMEOUT), max_retries=0)
    client = ChatClient(probe, secrets=settings.secrets())
    try:
        models = await client.list_models()
    except ChatTuiError as error:
        return Check("provider", "fail", f"{label}; {key}; /models: {_scrubbed(error, settings)}")
    finally:
        await client.aclose()
    if not models:
        return Check("provider", "ok", f"{label}; {key}; reached (no /models list)")
    listed = counted(len(models), "model")
    if profile.model not in models:
        return Check(
            "provider",
            "note",
            f"{label}; {key}; reached /models ({listed}), but {clean_line(profile.model)!r} "
            "is not among them",
        )
    return Check("provider", "ok", f"{label}; {key}; reached /models ({listed}, the model listed)")


# ---------------------------------------------------------------------------- embedder


async def check_embedder(settings: Settings) -> Check:
    """The embedder: off, no key (BM25 only), or one probe embedding and its size."""
    from chat_tui.retrieval.openai_embed import make_embedder

    embedding = settings.embedding
    if embedding.provider == "none":
        return Check("embedder", "note", "off (embedding.provider = 'none'): keyword search only")
    label = clean_line(f"{embedding.provider} at {embedding.base_url}, model {embedding.model}")
    if not embedding.enabled:
        return Check(
            "embedder", "note", f"{label}: key missing (JINA_API_KEY): keyword search (BM25) only"
        )
    key = "key present" if embedding.api_key else "no key"
    probe = replace(embedding, timeout=min(embedding.timeout, PROBE_TIMEOUT), max_retries=0)
    embedder = make_embedder(probe)
    if embedder is None:  # pragma: no cover - enabled settings always make one
        return Check("embedder", "note", f"{label}: off")
    try:
        vector = await embedder.embed_query(PROBE_TEXT)
    except ChatTuiError as error:
        return Check("embedder", "fail", f"{label}; {key}; probe: {_scrubbed(error, settings)}")
    finally:
        await embedder.aclose()
    return Check("embedder", "ok", f"{label}; {key}; probe embedding: {len(vector)} dimensions")


# ---------------------------------------------------------------------------- milvus


def _milvus_version(client: Any, local: bool) -> str:
    """The server's version; Milvus Lite answers no version request, so its package's."""
    if local:
        from importlib.metadata import PackageNotFoundError, version

        try:
            return f"Milvus Lite {version('milvus-lite')}"
        except PackageNotFoundError:  # pragma: no cover - pymilvus brings it
            return "Milvus Lite (version unknown)"
    try:
        return f"Milvus {client.get_server_version()}"
    except Exception:  # noqa: BLE001 - an answer without a version is still an answer
        return "Milvus (version unknown)"


def check_milvus(settings: Settings) -> Check:
    """Milvus answers (the local Lite server starts), its version, and BM25 works.

    BM25 is tried for real: a throw-away collection with the configured analyzer is
    created and dropped again. Blocking: run it in a thread.
    """
    from chat_tui.retrieval.milvus_connection import MilvusConnection
    from chat_tui.retrieval.milvus_schema import create_chunks_collection, read_schema, scrub_uri

    local = not settings.milvus.uri
    where = clean_line("local" if local else scrub_uri(settings.milvus.uri))
    connection = MilvusConnection(settings, "(doctor)", reload=lambda: None)
    probe = f"{settings.milvus.collection_prefix}_doctor_{os.getpid()}"
    try:
        try:
            client = connection.client()
        except Exception as error:  # noqa: BLE001 - pymilvus raises many kinds
            return Check("milvus", "fail", f"{where}: {_scrubbed(error, settings)}")
        version = _milvus_version(client, local)
        try:
            create_chunks_collection(client, probe, None, settings.retrieval.analyzer)
            _, analyzer, _ = read_schema(client, probe)
        except Exception as error:  # noqa: BLE001
            return Check(
                "milvus",
                "fail",
                f"{version} ({where}); BM25 not available: {_scrubbed(error, settings)}",
            )
        finally:
            try:
                if client.has_collection(probe):
                    client.drop_collection(probe)
            except Exception:  # noqa: BLE001 - the check's answer stands
                pass
    finally:
        connection.close()
    return Check(
        "milvus",
        "ok",
        f"{version} ({where}); BM25 available ({clean_line(analyzer)} analyzer)",
    )


# ---------------------------------------------------------------------------- data dir


def _existing_parent(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def check_data_dir(settings: Settings) -> Check:
    """The data dir: writable, how many sessions, files moved aside, free disk (read-only
    but for a write probe, which is removed again)."""
    from chat_tui.storage.atomic import CORRUPT_MARKER, is_temp_name
    from chat_tui.storage.schema import SESSIONS_DIR

    data_dir = settings.data_dir
    where = clean_line(data_dir)
    free = shutil.disk_usage(_existing_parent(data_dir)).free
    space = f"{free / 1024**3:.1f} GiB free"
    if not data_dir.exists():
        status: Status = "fail" if free < LOW_DISK_BYTES else "ok"
        return Check("data dir", status, f"{where}: not created yet (first run); {space}")
    probe = data_dir / f".doctor-probe-{os.getpid()}"
    try:
        probe.write_bytes(b"ok")
        probe.unlink()
    except OSError as error:
        reason = error.strerror or type(error).__name__
        return Check("data dir", "fail", f"{where}: cannot write ({clean_line(reason)}); {space}")
    history = settings.history_dir
    sessions_dir = history / SESSIONS_DIR
    names = [p.name for p in sessions_dir.iterdir()] if sessions_dir.is_dir() else []
    names += [p.name for p in history.iterdir()] if history.is_dir() else []
    sessions = sum(
        1
        for name in names
        if name.endswith(".json") and not is_temp_name(name) and CORRUPT_MARKER not in name
    ) - (1 if (history / "index.json").exists() else 0)
    moved = sum(1 for name in names if CORRUPT_MARKER in name)
    parts = [counted(max(sessions, 0), "session")]
    status = "ok"
    if moved:
        parts.append(f"{counted(moved, 'damaged file')} moved aside in {clean_line(history)}")
        status = "note"
    if free < LOW_DISK_BYTES:
        parts.append(f"only {free // 1024**2} MiB free")
        status = "fail"
    else:
        parts.append(space)
    return Check("data dir", status, f"{where}: {'; '.join(parts)}")


def check_log_file(settings: Settings | None) -> Check:
    """Where the log is written, and how big it is."""
    path = settings.log_file if settings is not None else locations.log_file()
    where = clean_line(path)
    if not path.exists():
        return Check("log file", "ok", f"{where} (not written yet)")
    return Check("log file", "ok", f"{where} ({path.stat().st_size / 1024:.0f} KiB)")


# ---------------------------------------------------------------------------- all


async def run_checks(
    config_file: Path | None = None,
    *,
    provider: str | None = None,
    model: str | None = None,
    base_url: str | None = None,
    binding_ids: Collection[str] = (),
    report: Callable[[Check], None] | None = None,
) -> list[Check]:
    """Every check in order; ``report`` hears each as it is done (a slow one shows).

    With a config that does not load, the checks that need it are skipped (as failed:
    they could not be done) and the data dir and log are the default ones.
    """
    checks: list[Check] = []

    def done(check: Check) -> None:
        checks.append(check)
        if report is not None:
            report(check)

    config, settings = check_config(
        config_file, provider=provider, model=model, base_url=base_url, binding_ids=binding_ids
    )
    done(config)
    if settings is None:
        for name in ("provider", "embedder", "data dir", "milvus"):
            done(Check(name, "fail", "not checked: the config must load first"))
        done(check_log_file(None))
        return checks
    done(await check_provider(settings))
    done(await check_embedder(settings))
    # The data dir before Milvus, whose local server would create it.
    done(await asyncio.to_thread(check_data_dir, settings))
    done(await asyncio.to_thread(check_milvus, settings))
    done(check_log_file(settings))
    return checks


__all__ = [
    "Check",
    "Status",
    "check_config",
    "check_data_dir",
    "check_embedder",
    "check_log_file",
    "check_milvus",
    "check_provider",
    "run_checks",
]
