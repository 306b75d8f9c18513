"""The size the model saw, on every provider path the app has.

Absolute coordinates are only as right as that size. These tests run the real sending
pipeline (`prepare_image`) for every built-in provider and model and check that the
image the app sends is one the server's `smart_resize` leaves alone — so the size
recorded with the image is the size the model saw — or, where the app sends the image
as it was (less than a patch off the grid), that the recorded frame is the server's
rounding of it. Link images on providers that fetch links are framed on the original.
"""

from __future__ import annotations

import io
import random

import pytest
from PIL import Image

from qwenvl_desktop.core.catalog import load_builtin
from qwenvl_desktop.core.grounding import frame_for
from qwenvl_desktop.core.images import prepare_image
from qwenvl_desktop.core.tokens import target_size


def _distinct_paths() -> list[tuple[str, str]]:
    """One (provider, model) per distinct sending path: limits, patch size and caps."""
    seen: dict[tuple[int, ...], tuple[str, str]] = {}
    for provider in load_builtin().builtin():
        for model in provider.models:
            key = (provider.max_body_bytes, provider.max_image_bytes, model.patch_factor,
                   model.image_token_cap, model.min_image_tokens)
            seen.setdefault(key, (provider.id, model.id))
    return list(seen.values())


PAIRS = _distinct_paths()


def _flat(size: tuple[int, int]) -> bytes:
    image = Image.new("RGB", size, (240, 240, 240))
    image.paste((20, 90, 160), (size[0] // 4, size[1] // 4, size[0] // 2, size[1] // 2))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


@pytest.mark.parametrize(("provider_id", "model_id"), PAIRS)
@pytest.mark.parametrize("size", [(3000, 2000), (1000, 700), (333, 1201)], ids=str)
def test_sent_image_is_what_the_model_sees(provider_id: str, model_id: str,
                                           size: tuple[int, int]) -> None:
    provider = load_builtin().get(provider_id)
    model = provider.model(model_id)
    prepared = prepare_image(_flat(size), name="x.png", model=model, provider=provider)
    sent = (prepared.width, prepared.height)
    frame = frame_for(prepared.to_stored(), model)
    assert frame.size == size
    assert frame.model_input == target_size(*sent, model)
    if sent != size:
        # Resized by the app: already on the patch grid and within the cap, so the
        # server leaves it as it is — the model sees exactly the bytes we sent.
        assert frame.model_input == sent
    else:
        # Sent as it was: the server only rounds it, by less than one patch.
        assert all(abs(a - b) < model.patch_factor for a, b in zip(frame.model_input, sent,
                                                                     strict=True))
    # And it is what the model would see of the original: no second resize anywhere.
    assert frame.model_input == target_size(*size, model)


def test_body_limit_shrinks_stay_on_the_patch_grid() -> None:
    # OVH takes at most 2 MB per request: a noisy photo is shrunk to fit. The shrink
    # must land on the grid, or the server would resize once more behind our back.
    provider = load_builtin().get("ovh")
    model = provider.model("Qwen2.5-VL-72B-Instruct")
    rng = random.Random(7)
    image = Image.frombytes("RGB", (2200, 1650), rng.randbytes(2200 * 1650 * 3))
    out = io.BytesIO()
    image.save(out, "PNG")
    prepared = prepare_image(out.getvalue(), name="noise.png", model=model, provider=provider)
    sent = (prepared.width, prepared.height)
    assert sent != (2200, 1650)                       # it did have to shrink
    frame = frame_for(prepared.to_stored(), model)
    assert frame.model_input == sent
    assert sent[0] % model.patch_factor == 0
    assert sent[1] % model.patch_factor == 0
