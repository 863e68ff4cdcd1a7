"""F4 and F5: the model picker lists the server's models, and a switch changes the one copy
of the settings, so every reader sees the new model and provider.

Before, the App, the services object and the chat service each held a Settings; only
the chat service's followed a switch, so the App's readers (knowledge-base listing,
warm-up, the setup check) kept the start-up provider.
"""

from __future__ import annotations

from textual.widgets import OptionList

from chat_tui.config import missing_key_message
from chat_tui.state import load_state, state_path
from chat_tui.tui.screens.dialogs import PickerScreen
from tests.support.fake_openai import Reply
from tests.tui.conftest import answers, make_app, send, status_text, until


async def test_after_f4_and_f5_every_reader_sees_the_new_model_and_provider(
    services, fake_openai
) -> None:  # type: ignore[no-untyped-def]
    fake_openai.models = ["fake-model", "fake-model-2"]
    app = make_app(services, check_setup=False)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.chat_screen
        await until(pilot, lambda: screen.session is not None, "a session open")
        assert screen.status.model == "fake-model (openai)"

        # F4: the server's second model.
        await pilot.press("f4")
        await until(pilot, lambda: isinstance(app.screen, PickerScreen), "model picker")
        await pilot.press("-", "2", "enter")
        await until(pilot, lambda: services.settings.provider.model == "fake-model-2", "model")
        assert services.chat.settings is services.settings
        assert services.settings.providers["openai"].model == "fake-model-2"
        assert screen.status.model == "fake-model-2 (openai)"

        # F5: another provider profile.
        await pilot.press("f5")
        await until(pilot, lambda: isinstance(app.screen, PickerScreen), "provider picker")
        await pilot.press(*"deepseek", "enter")
        await until(pilot, lambda: services.settings.provider.name == "deepseek", "provider")
        await until(pilot, lambda: not isinstance(app.screen, PickerScreen), "picker closed")
        settings = services.settings
        assert services.chat.settings is settings
        assert settings.provider.model == "deepseek-chat"
        # The model chosen for openai stays with its profile, for every reader too.
        assert settings.providers["openai"].model == "fake-model-2"
        assert screen.status.model == "deepseek-chat (deepseek)"
        # The setup check reads the same copy: deepseek has no key in the tests.
        assert missing_key_message(services.settings.provider) is not None

        # The pickers show the switch: F5 highlights the new profile.
        await pilot.press("f5")
        await until(pilot, lambda: isinstance(app.screen, PickerScreen), "provider picker")
        options = app.screen.query_one("#picker-options", OptionList)
        assert options.highlighted_option is not None
        assert options.highlighted_option.id == "deepseek"
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, PickerScreen), "picker closed")
        await app.workers.wait_for_complete()

    # The state keeper remembered both choices from the same copy.
    state, _notice = load_state(state_path(services.settings.data_dir))
    assert state.provider is not None and state.provider.value == "deepseek"
    assert state.models["openai"].value == "fake-model-2"
    assert fake_openai.requests == []


async def test_model_picker_lists_server_models_and_the_choice_is_used(
    services, fake_openai
) -> None:
    fake_openai.models = ["fake-model", "fake-model-2", "big-model"]
    fake_openai.script(Reply(content="from the new model"))
    app = make_app(services, check_setup=False)
    async with app.run_test(size=(120, 40)) as pilot:
        assert "fake-model (openai)" in app.chat_screen.status.model
        await pilot.press("f4")
        await until(pilot, lambda: isinstance(app.screen, PickerScreen), "model picker")
        options = app.screen.query_one("#picker-options")
        ids = [options.get_option_at_index(i).id for i in range(options.option_count)]
        assert sorted(ids) == ["big-model", "fake-model", "fake-model-2"]
        assert options.highlighted_option.id == "fake-model"  # the current one
        assert fake_openai.model_list_requests == 1
        await pilot.press("-", "2", "enter")
        await until(pilot, lambda: not isinstance(app.screen, PickerScreen), "picker closed")
        await until(
            pilot, lambda: services.chat.settings.provider.model == "fake-model-2", "model chosen"
        )
        assert app.chat_screen.status.model == "fake-model-2 (openai)"
        await send(pilot, "which model?")
        assert fake_openai.requests[-1]["model"] == "fake-model-2"
        stored = services.repository.messages(app.chat_screen.session.id)[-1]
        assert stored.model == "fake-model-2" and stored.content == "from the new model"
        assert status_text(answers(app)[-1]).startswith("fake-model-2")
