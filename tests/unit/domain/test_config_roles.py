"""Settings precedence, key isolation between providers, one-line config errors, roles."""

from __future__ import annotations

from pathlib import Path

import pytest

from chat_tui.config import load_settings
from chat_tui.domain.models import Role
from chat_tui.domain.roles import BUILTIN_ROLES, load_roles
from chat_tui.errors import ConfigError
from chat_tui.services.roles import add_role


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
    add_role(
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


@pytest.mark.parametrize(
    ("text", "needles"),
    [
        ("[providers.openai]\ntimeout = nan\n", ["providers.openai.timeout", "finite", "nan"]),
        ("[providers.openai]\ntimeout = inf\n", ["providers.openai.timeout", "finite", "inf"]),
        ("[embedding]\ntimeout = -inf\n", ["embedding.timeout", "finite"]),
        ("[history]\nretention_days = nan\n", ["history.retention_days", "finite"]),
        ("[providers.openai]\ntemperature = 9.5\n", ["providers.openai.temperature", "<= 2"]),
        ("[providers.openai]\nmax_retries = 1000\n", ["providers.openai.max_retries", "<= 20"]),
        ("[retrieval]\ntop_k = 0\n", ["retrieval.top_k", ">= 1"]),
        ("[retreival]\ntop_k = 3\n", ["unknown table [retreival]", "did you mean [retrieval]"]),
        (
            '[providers.openai]\nmodle = "gpt"\n',
            ["providers.openai.modle", "providers.openai.model"],
        ),
        ('[embedding]\nmodle = "x"\n', ["unknown key embedding.modle", "embedding.model"]),
        ('provder = "openai"\n', ["unknown key provder", "did you mean provider"]),
        ("zzz_unrelated = 1\n", ["unknown key zzz_unrelated"]),
        ("[history]\ncontext_tokens = 1.5\n", ["history.context_tokens", "whole number"]),
        ("theme = 3\n", ["theme", "a string"]),
        ("[providers]\nopenai = 3\n", ["providers.openai", "a table"]),
        ('provider = "opnai"\n', ["'opnai'", "did you mean 'openai'"]),
        ("[retrieval\ntop_k = 3\n", ["not valid TOML", "line 1"]),
        ('["a\\u001b]0;t"]\nk = 1\n', ["unknown table [a\\x1b]0;t]"]),
    ],
)
def test_every_config_problem_is_one_line_naming_key_and_file(
    tmp_path: Path, text: str, needles: list[str]
) -> None:
    cfg = write(tmp_path / "config.toml", text)
    with pytest.raises(ConfigError) as info:
        load_settings(config_file=cfg, env={})
    message = str(info.value)
    for needle in needles:
        assert needle in message, message
    assert str(cfg) in message and "\n" not in message and "\x1b" not in message


def test_invalid_utf8_is_one_line_with_the_line_number(tmp_path: Path) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_bytes(b'theme = "textual-dark"\n# caf\xe9 latin-1 comment\n')
    with pytest.raises(ConfigError) as info:
        load_settings(config_file=cfg, env={})
    message = str(info.value)
    assert message == f"{cfg}: not valid UTF-8 (byte 0xe9 on line 2); save the file as UTF-8"


def test_a_config_that_is_a_directory_is_one_line(tmp_path: Path) -> None:
    cfg = tmp_path / "config.toml"
    cfg.mkdir()
    with pytest.raises(ConfigError) as info:
        load_settings(config_file=cfg, env={})
    assert str(cfg) in str(info.value) and "cannot read" in str(info.value)


def test_every_key_the_readme_documents_is_accepted(tmp_path: Path) -> None:
    cfg = write(
        tmp_path / "config.toml",
        'provider = "mine"\ntheme = "nord"\ndefault_role = "teacher"\n'
        '[providers.mine]\nbase_url = "http://[::1]:11434/v1"\nmodel = "m"\napi_key_env = "K"\n'
        'api_key = ""\ncontext_window = 4096\nanswer_tokens = 64\ntimeout = 5\nmax_retries = 0\n'
        "temperature = 0.5\n"
        "[history]\ncontext_tokens = 100\nretention_days = 30\n"
        '[embedding]\nprovider = "jina"\nbase_url = "https://api.jina.ai/v1"\nmodel = "m"\n'
        "dimensions = 8\nbatch_size = 2\nconcurrency = 1\ntimeout = 3\nmax_retries = 1\n"
        'rerank = true\nrerank_model = "r"\napi_key = ""\n'
        '[milvus]\nuri = ""\ntoken = ""\ncollection_prefix = "p"\n'
        '[retrieval]\nenabled = true\nknowledge_base = "kb"\ntop_k = 3\ncandidates = 9\n'
        'timeout = 2\nanalyzer = "standard"\n'
        "[ingest]\nchunk_tokens = 100\nchunk_overlap = 10\nmax_file_mb = 1\n"
        '[keymap]\n"session.new" = "ctrl+t"\n',
    )
    settings = load_settings(config_file=cfg, env={})
    assert settings.provider.name == "mine" and settings.provider.is_local
    assert settings.provider.api_key_env == "K" and settings.provider.config_file == cfg


@pytest.mark.parametrize(
    ("url", "local", "needs_key"),
    [
        ("http://[::1]:11434/v1", True, False),
        ("http://127.0.0.1:8080/v1", True, False),
        ("http://127.0.0.2:8080/v1", True, False),
        ("http://localhost:11434/v1", True, False),
        ("http://0.0.0.0:8000/v1", True, False),
        ("http://192.168.1.20:8000/v1", False, False),
        ("http://10.0.0.5/v1", False, False),
        ("http://gpu-box:8000/v1", False, False),
        ("http://llm.lan/v1", False, False),
        ("https://api.openai.com/v1", False, True),
        ("https://api.deepseek.com/v1", False, True),
        ("https://8.8.8.8/v1", False, True),
        ("https://localhost.evil.com/v1", False, True),
        ("https://127.0.0.1.nip.io/v1", False, True),
    ],
)
def test_which_endpoints_are_local_and_which_need_a_key(
    url: str, local: bool, needs_key: bool
) -> None:
    from chat_tui.config import ProviderSettings

    provider = ProviderSettings(name="p", base_url=url, model="m")
    assert (provider.is_local, provider.needs_key) == (local, needs_key)


def test_missing_key_message_names_variable_key_and_file(tmp_path: Path) -> None:
    from chat_tui.config import missing_key_message, require_key
    from chat_tui.errors import MissingKeyError

    cfg = write(
        tmp_path / "config.toml", '[providers.corp]\nbase_url = "https://llm.corp.example/v1"\n'
    )
    settings = load_settings(config_file=cfg, env={}, provider="corp")
    message = missing_key_message(settings.provider)
    assert message is not None and "\n" not in message
    assert "providers.corp.api_key_env" in message and str(cfg) in message
    with pytest.raises(MissingKeyError):
        require_key(settings.provider)
    hosted = load_settings(config_file=cfg, env={}).provider
    assert "OPENAI_API_KEY" in (missing_key_message(hosted) or "")
    keyed = load_settings(config_file=cfg, env={"OPENAI_API_KEY": "sk-x"}).provider
    assert missing_key_message(keyed) is None


@pytest.mark.parametrize(
    ("body", "needles"),
    [
        (
            'name = "r"\nsystem_prompt = "p"\ntemperatur = 0.5\n',
            ["unknown key temperatur", "temperature"],
        ),
        ('name = "r"\nsystem_prompt = "p"\ntemperature = nan\n', ["temperature", "nan"]),
        ('name = "r"\nsystem_prompt = "p"\ntemperature = inf\n', ["temperature", "inf"]),
        ('name = "r"\nsystem_prompt = "p"\ntemperature = 5\n', ["temperature", "0 to 2"]),
        ('name = "r"\nsystem_promt = "p"\n', ["unknown key system_promt", "system_prompt"]),
        ("name = [\n", ["not valid TOML"]),
        ('name = "r"\nsystem_prompt = "p"\nmodel = 3\n', ["model must be a string"]),
    ],
)
def test_role_file_problems_are_one_line(tmp_path: Path, body: str, needles: list[str]) -> None:
    path = write(tmp_path / "roles" / "r.toml", body)
    roles, problems = load_roles(tmp_path / "roles")
    assert [r.name for r in roles] == ["assistant", "teacher", "programmer"]
    assert len(problems) == 1 and str(path) in problems[0] and "\n" not in problems[0]
    for needle in needles:
        assert needle in problems[0], problems[0]


def test_role_file_with_invalid_utf8_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "roles" / "r.toml"
    path.parent.mkdir()
    path.write_bytes(b'name = "r"\nsystem_prompt = "caf\xe9"\n')
    _, problems = load_roles(tmp_path / "roles")
    assert problems == [f"{path}: not valid UTF-8 (byte 0xe9 on line 2); save the file as UTF-8"]
