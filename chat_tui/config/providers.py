"""Provider profiles: the OpenAI-compatible endpoints chat-tui talks to, and their keys.

Which endpoint needs a key is decided here once (the chat client checks it before
any request, the first-run setup screen and the provider picker ask it too), and
each profile only ever receives its own key: ``OPENAI_API_KEY`` is never sent to
DeepSeek's endpoint, nor a hosted key to a server on this machine. Keys are kept out
of ``repr`` so they cannot leak into logs or tracebacks.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from chat_tui import locations
from chat_tui.config.schema import bounded
from chat_tui.domain.text import clean_line
from chat_tui.errors import MissingKeyError

DEFAULT_PROVIDER = "openai"


@dataclass(frozen=True)
class BuiltinProvider:
    """A provider chat-tui knows without configuration; ``[providers.<name>]`` overrides it.

    The field names are :class:`ProviderSettings`' own: they are that profile's defaults.
    """

    base_url: str
    api_key_env: str | None
    """The environment variable holding the key (None: a local server needs none)."""
    model: str
    context_window: int


#: Built-in provider profiles, by name.
BUILTIN_PROVIDERS: dict[str, BuiltinProvider] = {
    "openai": BuiltinProvider(
        base_url="https://api.openai.com/v1",
        api_key_env="OPENAI_API_KEY",
        model="gpt-4o-mini",
        context_window=128_000,
    ),
    "deepseek": BuiltinProvider(
        base_url="https://api.deepseek.com/v1",
        api_key_env="DEEPSEEK_API_KEY",
        model="deepseek-chat",
        context_window=64_000,
    ),
    "qwen": BuiltinProvider(
        base_url="https://dashscope.aliyuncs.com/compatible-mode/v1",
        api_key_env="DASHSCOPE_API_KEY",
        model="qwen-plus",
        context_window=128_000,
    ),
    "ollama": BuiltinProvider(
        base_url="http://127.0.0.1:11434/v1",
        api_key_env=None,
        model="llama3.2",
        context_window=8_192,
    ),
}


@dataclass(frozen=True)
class ProviderSettings:
    """One OpenAI-compatible endpoint profile."""

    name: str
    base_url: str
    model: str
    api_key: str | None = field(default=None, repr=False)
    context_window: int = bounded(8_192, 256)
    answer_tokens: int = bounded(1_024, 16)
    timeout: float = bounded(60.0, 0.1, 86_400.0)
    max_retries: int = bounded(2, 0, 20)
    temperature: float | None = bounded(None, 0.0, 2.0)
    input_price: float | None = bounded(None, 0.0)
    """Price per million prompt tokens (any currency; the status line shows ``$``)."""
    output_price: float | None = bounded(None, 0.0)
    """Price per million completion tokens; with ``input_price``, the session's cost shows."""
    api_key_env: str | None = None
    """The environment variable the key is read from (None: only ``api_key`` in the file)."""
    config_file: Path | None = field(default=None, repr=False, compare=False)
    """The file this profile came from, so errors can say where to fix it."""

    @property
    def has_key(self) -> bool:
        return bool(self.api_key)

    @property
    def host(self) -> str:
        """The endpoint's host name or address, lower-case ("" when the URL has none)."""
        return url_host(self.base_url)

    @property
    def is_local(self) -> bool:
        """The endpoint is on this machine (Ollama, vLLM, llama.cpp): it needs no key."""
        return is_this_machine(self.host)

    @property
    def needs_key(self) -> bool:
        """Whether requests to this endpoint need an API key.

        Loopback, private-network and link-local addresses, single-label host names and
        ``.local`` / ``.lan`` / ``.internal`` names are taken to be self-hosted servers
        that run without one; anything else is a hosted service.
        """
        host = self.host
        if not host or self.is_local:
            return False
        address = ip_address_of(host)
        if address is None:
            name = host.rstrip(".")
            self_hosted = "." not in name or name.rsplit(".", 1)[-1] in {"local", "lan", "internal"}
            return not self_hosted
        return not (address.is_private or address.is_link_local)


def url_host(url: str) -> str:
    """``url``'s host as ``urllib.parse`` reads it: lower-case, IPv6 without brackets.

    "" when the URL has no host or cannot be parsed (an unclosed ``[``, a bad IPv6
    literal): such an endpoint is not local and is never sent a key by mistake.
    """
    try:
        return (urlsplit(url.strip()).hostname or "").lower()
    except ValueError:
        return ""


def ip_address_of(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """``host`` as an IP address (an IPv4-mapped IPv6 one as its IPv4), or None for a name.

    Only the canonical forms count: ``127.1`` or ``0x7f000001`` are names here, so an
    odd spelling is never taken for this machine.
    """
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1 (and is_private says
        # True for every mapped address on Python 3.11, public ones included)
    return address


def is_this_machine(host: str) -> bool:
    """Whether a URL host (as :func:`url_host` gives it) always means this machine.

    ``localhost`` and ``*.localhost`` (RFC 6761, with or without the trailing root
    dot), 127.0.0.0/8, ``::1`` (with or without a zone), their IPv4-mapped forms, and
    the unspecified ``0.0.0.0`` / ``::``, which connect to this machine. A look-alike
    such as ``localhost.example.com`` or ``127.0.0.1.nip.io`` is not.
    """
    name = host.lower().removesuffix(".")
    if name == "localhost" or name.endswith(".localhost"):
        return True
    address = ip_address_of(host)
    return address is not None and (address.is_loopback or address.is_unspecified)


def key_env_of(provider: ProviderSettings) -> str | None:
    """The environment variable holding ``provider``'s key (its own, else the built-in's)."""
    if provider.api_key_env:
        return provider.api_key_env
    builtin = BUILTIN_PROVIDERS.get(provider.name)
    return builtin.api_key_env if builtin else None


def missing_key_message(provider: ProviderSettings) -> str | None:
    """The one-line problem when ``provider`` needs a key and has none, else None.

    The one rule for "no key, no hosted call": the chat client checks it before any
    request, and the TUI's provider picker warns with it.
    """
    if provider.has_key or not provider.needs_key:
        return None
    where = str(provider.config_file or locations.config_file())
    name = provider.name
    key_env = key_env_of(provider)
    if key_env:
        how = (
            f"export {key_env}, or set providers.{name}.api_key_env (another "
            f"variable) or providers.{name}.api_key in {where}"
        )
    else:
        how = (
            f"set providers.{name}.api_key_env (the variable holding the key) "
            f"or providers.{name}.api_key in {where}"
        )
    return clean_line(f"No API key for provider {name!r} ({provider.host}): {how}.")


def require_key(provider: ProviderSettings) -> None:
    """Raise ``MissingKeyError`` when ``provider`` needs a key and none is set."""
    problem = missing_key_message(provider)
    if problem is not None:
        raise MissingKeyError(problem)
