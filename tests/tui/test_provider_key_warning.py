"""F5 to a profile whose key is unset warns at once (the same rule the client enforces)."""

from __future__ import annotations

from typing import Any

from chat_tui.tui.app import make_app


async def test_picking_a_hosted_profile_without_its_key_warns(services, fake_openai) -> None:  # type: ignore[no-untyped-def]
    app = make_app(services, check_setup=False)
    shown: list[tuple[str, str]] = []
    notify = app.notify

    def recording_notify(message: str, **kwargs: Any) -> None:
        shown.append((message, str(kwargs.get("severity", "information"))))
        notify(message, **kwargs)

    app.notify = recording_notify  # type: ignore[method-assign]
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        # Built in, hosted, DEEPSEEK_API_KEY unset.
        await app.chat_screen.switch_provider("deepseek")
        await pilot.pause()
        warnings = [m for m, severity in shown if severity == "warning"]
        assert len(warnings) == 1, shown
        assert "DEEPSEEK_API_KEY" in warnings[0] and "providers.deepseek.api_key_env" in warnings[0]
        assert str(services.settings.config_file) in warnings[0]
        shown.clear()
        # The test profile: the local fake server, with a key.
        await app.chat_screen.switch_provider("openai")
        await pilot.pause()
        assert [s for _, s in shown] == ["information"], shown
    assert fake_openai.requests == []
