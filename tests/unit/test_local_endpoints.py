"""Which endpoints are this machine: a keyless local server gets no setup screen and no key.

The first-run setup screen and the key check both ask ``missing_key_message``; a local
server (``is_local``) needs no key and is never handed the hosted provider's. Odd and
hostile spellings must land on the right side: a look-alike of ``localhost`` is remote.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from chat_tui.config import ProviderSettings, load_settings, missing_key_message


@pytest.mark.parametrize(
    "url",
    [
        "http://[::1]:11434",
        "http://[::1]:11434/v1",
        "http://[::1]/v1",
        "http://[0:0:0:0:0:0:0:1]:8000/v1",
        "http://[::1%25lo]:8000/v1",  # a zone id
        "http://[::ffff:127.0.0.1]:8000/v1",  # IPv4-mapped loopback
        "http://127.0.0.1:11434",
        "http://127.255.255.254/v1",
        "http://localhost:11434/v1",
        "http://LOCALHOST:11434/v1",
        "http://localhost.:11434/v1",  # fully qualified, root dot
        "http://ollama.localhost:11434/v1",  # RFC 6761: always loopback
        "http://0.0.0.0:8000/v1",
        "http://[::]:8000/v1",
        "http://user:secret@[::1]:11434/v1",
        "  http://[::1]:11434/v1  ",
    ],
)
def test_this_machine_needs_no_key_and_gets_no_setup_screen(url: str) -> None:
    provider = ProviderSettings(name="p", base_url=url, model="m")
    assert provider.is_local and not provider.needs_key
    assert missing_key_message(provider) is None


@pytest.mark.parametrize(
    ("url", "needs_key"),
    [
        ("https://localhost.evil.com/v1", True),
        ("https://localhost.example.com./v1", True),
        ("https://127.0.0.1.nip.io/v1", True),
        ("http://localhost:11434@evil.com/v1", True),  # userinfo, the host is evil.com
        ("http://evil.com/?u=http://localhost", True),
        ("http://evil.com#@localhost", True),
        ("http://[::ffff:8.8.8.8]/v1", True),  # mapped, but public
        ("http://127.1:11434/v1", True),  # a shorthand we do not guess at
        ("http://2130706433/v1", False),  # decimal 127.0.0.1: a single-label name here
        ("http://192.168.1.20:8000/v1", False),  # the LAN: self-hosted, but not this machine
        ("http://[fe80::1%25eth0]:8000/v1", False),
        ("http://[::1:11434/v1", False),  # unclosed bracket: no host at all
        ("not a url", False),
        ("", False),
    ],
)
def test_look_alikes_and_broken_urls_are_not_this_machine(url: str, needs_key: bool) -> None:
    provider = ProviderSettings(name="p", base_url=url, model="m")
    assert not provider.is_local
    assert provider.needs_key is needs_key


def test_base_url_flag_to_an_ipv6_loopback_server_drops_the_hosted_key(tmp_path: Path) -> None:
    settings = load_settings(
        config_file=tmp_path / "missing.toml",
        env={"OPENAI_API_KEY": "sk-hosted-key-1234"},
        base_url="http://[::1]:11434/v1/",
    )
    assert settings.provider.base_url == "http://[::1]:11434/v1"
    assert settings.provider.is_local and settings.provider.api_key is None
    assert missing_key_message(settings.provider) is None
