"""First run with no key and no server: how to connect a model.

Everything that needs no model (sessions, history, roles) keeps working behind it.
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static

SETUP_TEXT = """No model is configured yet. Pick one way:

  • OpenAI, or another hosted OpenAI-compatible API: set
    OPENAI_API_KEY (and OPENAI_BASE_URL for another provider),
    then restart chat-tui.
  • A local server, no key needed, e.g. Ollama:
      chat-tui --base-url http://127.0.0.1:11434/v1 -m llama3.2
    (vLLM listens on port 8000, llama.cpp's server on 8080.)
  • Or write it in {config}:
      provider = "deepseek"    # or openai, qwen, ollama, your own
      [providers.deepseek]
      api_key_env = "DEEPSEEK_API_KEY"

Sessions, history and roles work without a model. Esc closes this."""


class SetupScreen(ModalScreen[str | None]):
    """Explains how to connect a model; offers a detected local Ollama."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Close", show=False)]

    def __init__(self, config_path: str, ollama_detected: bool) -> None:
        super().__init__(classes="dialog-screen", id="setup")
        self.config_path = config_path
        self.ollama_detected = ollama_detected

    def compose(self) -> ComposeResult:
        # It scrolls on a small terminal (80x24 cannot show it all), its buttons docked
        # and focused first, as when it did not scroll (the wheel scrolls it).
        dialog = VerticalScroll(classes="dialog setup")
        dialog.can_focus = False
        with dialog:
            yield Label(Content.styled("Connect a model", "bold"), classes="dialog-title")
            yield Static(Content(SETUP_TEXT.format(config=self.config_path)))
            with Horizontal(classes="dialog-buttons"):
                if self.ollama_detected:
                    yield Button(
                        "Use local Ollama (127.0.0.1:11434)", variant="primary", id="use-ollama"
                    )
                yield Button("Continue without a model", id="close")

    @on(Button.Pressed, "#use-ollama")
    def _use_ollama(self) -> None:
        self.dismiss("ollama")

    @on(Button.Pressed, "#close")
    def _close(self) -> None:
        self.dismiss(None)
