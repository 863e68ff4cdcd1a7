"""Settings precedence, key isolation between providers, one-line config errors, roles."""

from __future__ import annotations

from pathlib import Path

import pytest

from chat_tui.config import load_settings
from chat_tui.domain.models import Role
from chat_tui.domain.roles import BUILTIN_ROLES, load_roles, save_role
from chat_tui.errors import ConfigError


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_flags_beat_env_beat_file(tmp_path: Path) -> None:
    cfg = write(tmp_path / "config.toml", '[providers.openai]\nmodel = "from-file"\n')
    assert load_settings(config_file=cfg, env={}).provider.model == "from-file"
    assert (
        load_settings(config_file=cfg, env={"CHAT_TUI_MODEL": "from-env"}).provider.model
        == "from-env"
    )
    flagged = load_settings(config_file=cfg, env={"CHAT_TUI_MODEL": "from-env"}, model="from-flag")
    assert flagged.provider.model == "from-flag"
    assert (
        load_settings(config_file=cfg, env={}, base_url="http://127.0.0.1:1/v1/").provider.base_url
        == "http://127.0.0.1:1/v1"
    )


def test_api_key_from_env_beats_the_one_in_the_file(tmp_path: Path) -> None:
    cfg = write(tmp_path / "config.toml", '[providers.openai]\napi_key = "sk-file"\n')
    assert load_settings(config_file=cfg, env={}).provider.api_key == "sk-file"
    from_env = load_settings(config_file=cfg, env={"OPENAI_API_KEY": "sk-env"})
    assert from_env.provider.api_key == "sk-env"


def test_openai_key_never_goes_to_another_profile(tmp_path: Path) -> None:
    cfg = write(tmp_path / "config.toml", 'provider = "deepseek"\n')
    settings = load_settings(config_file=cfg, env={"OPENAI_API_KEY": "sk-openai-only"})
    assert settings.provider.name == "deepseek"
    assert settings.provider.api_key is None
    assert settings.providers["openai"].api_key == "sk-openai-only"
    assert "sk-openai-only" not in repr(settings)


def test_custom_profile_with_its_own_key_env(tmp_path: Path) -> None:
    cfg = write(
        tmp_path / "config.toml",
        'provider = "mine"\n[providers.mine]\nbase_url = "http://127.0.0.1:8000/v1"\n'
        'model = "m"\napi_key_env = "MINE_KEY"\n',
    )
    settings = load_settings(config_file=cfg, env={"MINE_KEY": "k-123"})
    assert settings.provider.api_key == "k-123" and settings.provider.is_local


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("[history]\ncontext_tokens = -5\n", "history.context_tokens"),
        ('[providers.openai]\ntimeout = "soon"\n', "providers.openai.timeout"),
        ("[retrieval]\nenabled = 3\n", "retrieval.enabled"),
        ('[retrieval]\nanalyzer = "icu"\n', "retrieval.analyzer"),
        ('provider = "nowhere"\n', "nowhere"),
        ("this is not toml", "not valid TOML"),
        ("[ingest]\nchunk_tokens = 100\nchunk_overlap = 200\n", "chunk_overlap"),
    ],
)
def test_bad_values_are_one_line_errors_naming_key_and_file(
    tmp_path: Path, text: str, needle: str
) -> None:
    cfg = write(tmp_path / "config.toml", text)
    with pytest.raises(ConfigError) as info:
        load_settings(config_file=cfg, env={})
    message = str(info.value)
    assert needle in message and str(cfg) in message and "\n" not in message


def test_builtin_roles_and_user_roles(tmp_path: Path) -> None:
    roles, problems = load_roles(tmp_path / "roles")
    assert [r.name for r in roles] == ["assistant", "teacher", "programmer"] and problems == []
    save_role(
        tmp_path / "roles",
        Role(name="poet", system_prompt='Write "verse".', description="Rhymes", temperature=0.9),
    )
    write(tmp_path / "roles" / "broken.toml", "name = 3\n")
    roles, problems = load_roles(tmp_path / "roles")
    poet = roles[-1]
    assert (
        poet.name == "poet" and poet.system_prompt == 'Write "verse".' and poet.temperature == 0.9
    )
    assert len(problems) == 1 and "broken.toml" in problems[0]
    assert len(BUILTIN_ROLES) == 3
