"""The settings dataclasses are the schema: defaults and bounds come from the fields alone."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import pytest

from chat_tui.config import (
    BUILTIN_PROVIDERS,
    EmbeddingSettings,
    HistorySettings,
    IngestSettings,
    MilvusSettings,
    ProviderSettings,
    RetrievalSettings,
    load_settings,
)
from chat_tui.errors import ConfigError


def test_an_empty_file_gives_the_dataclass_defaults(tmp_path: Path) -> None:
    settings = load_settings(config_file=tmp_path / "config.toml", env={})
    assert settings.history == HistorySettings()
    assert settings.embedding == EmbeddingSettings()
    assert settings.milvus == MilvusSettings()
    assert settings.retrieval == RetrievalSettings()
    assert settings.ingest == IngestSettings()
    assert (settings.theme, settings.default_role) == ("textual-dark", "assistant")
    for name, builtin in BUILTIN_PROVIDERS.items():
        profile = settings.providers[name]
        assert (profile.base_url, profile.api_key_env, profile.model, profile.context_window) == (
            builtin.base_url,
            builtin.api_key_env,
            builtin.model,
            builtin.context_window,
        )
        assert profile.answer_tokens == ProviderSettings.answer_tokens
        assert profile.timeout == ProviderSettings.timeout


@pytest.mark.parametrize(
    ("table", "cls"),
    [
        ("history", HistorySettings),
        ("embedding", EmbeddingSettings),
        ("milvus", MilvusSettings),
        ("retrieval", RetrievalSettings),
        ("ingest", IngestSettings),
    ],
)
def test_every_field_is_a_key_and_a_wrong_type_names_it(
    tmp_path: Path, table: str, cls: type
) -> None:
    for spec in fields(cls):
        cfg = tmp_path / "config.toml"
        cfg.write_text(f"[{table}]\n{spec.name} = {{ odd = 1 }}\n", encoding="utf-8")
        with pytest.raises(ConfigError) as info:
            load_settings(config_file=cfg, env={})
        assert f"{table}.{spec.name} must be" in str(info.value), spec.name


def test_a_bad_file_value_is_reported_even_when_env_overrides_it(tmp_path: Path) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_text("[providers.openai]\napi_key = 42\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_settings(config_file=cfg, env={"OPENAI_API_KEY": "sk-from-the-shell-123"})
    assert "providers.openai.api_key must be a string, got 42" in str(info.value)
