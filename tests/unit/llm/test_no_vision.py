"""A model that cannot read images: each server's wording becomes one line, kind no_vision."""

from __future__ import annotations

import pytest

from chat_tui.errors import ProviderError
from tests.support.fake_openai import Reply
from tests.unit.llm.conftest import collect


@pytest.mark.parametrize(
    ("status", "said"),
    [
        (400, "Invalid content type. image_url is only supported by certain models."),  # OpenAI
        (400, "At most 0 image(s) may be provided in one request."),  # vLLM
        (500, "image input is not supported - hint: you may need to provide the mmproj"),
        (400, "Model does not support images. Please use a model that does."),  # LM Studio
    ],
)
async def test_no_vision_refusals_name_the_model_in_one_line(
    fake_openai, make_client, status: int, said: str
) -> None:
    fake_openai.script(Reply(status=status, error_message=said))
    with pytest.raises(ProviderError) as caught:
        await collect(make_client(max_retries=2))
    error = caught.value
    assert error.kind == "no_vision" and not error.retryable
    assert "'fake-model' cannot read images" in str(error) and "\n" not in str(error)
    assert len(fake_openai.requests) == 1  # a 500 of this kind is not retried either


async def test_other_bad_requests_stay_bad_requests(fake_openai, make_client) -> None:
    fake_openai.script(Reply(status=400, error_message="temperature must be below 2"))
    with pytest.raises(ProviderError) as caught:
        await collect(make_client())
    assert caught.value.kind == "bad_request"
