"""How full the next request is, and what a session has cost so far: the status line's gauge.

A user who chats for an hour meets the model's window without warning: the oldest
turns silently stop being sent and the model "forgets". The gauge says it before it
happens: the tokens the next request will carry (system prompt and the history that
fits, by the same estimate and trimming the request uses) against the budget, a
level that turns to a warning as it fills and to "trimmed" once earlier turns no
longer fit, and the session's totals as the server reported them, with a cost when
the provider profile gives prices.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from chat_tui.domain.models import Message

#: From this share of the budget on, the gauge warns.
FILLING_SHARE = 0.75


class GaugeLevel(StrEnum):
    """How close the next request is to the budget."""

    OK = "ok"
    FILLING = "filling"
    TRIMMED = "trimmed"
    """Earlier turns no longer fit: the next request leaves them out."""


@dataclass(frozen=True)
class SessionUsage:
    """A session's token totals (as the server reported them) and their cost."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost: float | None = None

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True)
class ContextGauge:
    """The next request against the budget, and the session's totals.

    Attributes:
        tokens: the estimated tokens of the next request before the question and
            retrieved passages are added (system prompt plus the history that fits).
        budget: the tokens a request may carry (the window less room for the answer,
            or the configured budget).
        dropped: earlier messages that no longer fit and will not be sent.
        usage: the session's totals.
    """

    tokens: int
    budget: int
    dropped: int = 0
    usage: SessionUsage = SessionUsage()

    @property
    def share(self) -> float:
        return self.tokens / self.budget if self.budget > 0 else 0.0

    @property
    def level(self) -> GaugeLevel:
        if self.dropped:
            return GaugeLevel.TRIMMED
        return GaugeLevel.FILLING if self.share >= FILLING_SHARE else GaugeLevel.OK

    def label(self, *, compact: bool = False) -> str:
        """``"ctx 3.1k/127k (2%) · 12.4k tok · $0.031"``; compact: ``"ctx 2%"``.

        A trimmed context says so: ``"ctx full: 6 earlier not sent"``.
        """
        percent = f"{min(999, round(self.share * 100))}%"
        if compact:
            return f"ctx full -{self.dropped}" if self.dropped else f"ctx {percent}"
        if self.dropped:
            context = f"ctx full: {self.dropped} earlier not sent"
        else:
            context = f"ctx {format_tokens(self.tokens)}/{format_tokens(self.budget)} ({percent})"
        parts = [context]
        if self.usage.total_tokens:
            parts.append(f"{format_tokens(self.usage.total_tokens)} tok")
        if self.usage.cost is not None:
            parts.append(format_cost(self.usage.cost))
        return " · ".join(parts)


def format_tokens(count: int) -> str:
    """``950``, ``3.1k``, ``128k``, ``1.2M``: a token count that fits a status line."""
    if count < 1_000:
        return str(count)
    if count < 10_000:
        return f"{count / 1_000:.1f}k"
    if count < 1_000_000:
        return f"{round(count / 1_000)}k"
    return f"{count / 1_000_000:.1f}M"


def format_cost(cost: float) -> str:
    """``$0.031``, ``$1.24``: enough digits to see a cent move."""
    return f"${cost:.3f}" if cost < 1 else f"${cost:.2f}"


def session_usage(
    messages: Sequence[Message],
    *,
    input_price: float | None = None,
    output_price: float | None = None,
) -> SessionUsage:
    """The totals of ``messages``' reported usage; prices are per million tokens.

    The cost is given only when both prices are: half a price would be a wrong figure.
    """
    prompt = sum(m.usage.prompt_tokens for m in messages if m.usage)
    completion = sum(m.usage.completion_tokens for m in messages if m.usage)
    cost = None
    if input_price is not None and output_price is not None:
        cost = (prompt * input_price + completion * output_price) / 1_000_000
    return SessionUsage(prompt_tokens=prompt, completion_tokens=completion, cost=cost)
