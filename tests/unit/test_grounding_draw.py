"""Boxes land on the right pixels: both conventions, a resized image and one sent as it was.

Each test draws a known target into a known image, writes the answer a model of that
family would give for it (in the model's own coordinates), runs the real pipeline —
`prepare_image` as the app sends it, the conversation, `answer_grounding`, Pillow
drawing — and samples pixels of the result.
"""

from __future__ import annotations

import io
import json

import pytest
from PIL import Image

from qwenvl_desktop.core.catalog import Model, Provider, load_builtin
from qwenvl_desktop.core.conversation import Conversation, Message, Provenance, StoredImage
from qwenvl_desktop.core.grounding import (
    PALETTE,
    Frame,
    annotate,
    annotated_stored_png,
    answer_grounding,
    frame_for,
    place,
)
from qwenvl_desktop.core.grounding.draw import line_width
from qwenvl_desktop.core.grounding.parse import parse_answer
from qwenvl_desktop.core.images import prepare_image
from qwenvl_desktop.core.tokens import target_size

WHITE = (255, 255, 255)
RED = PALETTE[0]


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    return tuple(int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))  # type: ignore[return-value]


def _scene(size: tuple[int, int], target: tuple[int, int, int, int]) -> bytes:
    """A white PNG with a grey target rectangle (the thing the model "found")."""
    image = Image.new("RGB", size, WHITE)
    image.paste((128, 128, 128), target)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def _setup(provider_id: str, model_id: str, size: tuple[int, int],
           answer: str) -> tuple[Conversation, Message, Provider, Model, bytes]:
    catalog = load_builtin()
    provider = catalog.get(provider_id)
    model = provider.model(model_id)
    data = _scene(size, (0, 0, 1, 1))
    prepared = prepare_image(data, name="scene.png", model=model, provider=provider)
    conv = Conversation()
    sha = conv.add_image(prepared.to_stored())
    conv.append(Message(role="user", text="where?", images=[sha]))
    reply = conv.append(Message(role="assistant", text=answer, provenance=Provenance(
        provider=provider.id, model=model.id)))
    return conv, reply, provider, model, data


def _box_answer(box: tuple[float, float, float, float], label: str = "target") -> str:
    return "```json\n" + json.dumps([{"bbox_2d": [round(v) for v in box], "label": label}]) \
        + "\n```"


def _assert_outline(image: Image.Image, box: tuple[int, int, int, int], colour: str,
                    tolerance: int = 2) -> None:
    """The outline runs along `box` (within `tolerance` px) and nowhere near its middle."""
    x1, y1, x2, y2 = box
    rgb = _rgb(colour)
    width = line_width(image.size)
    mid_x, mid_y = (x1 + x2) // 2, (y1 + y2) // 2
    for edge_point in ((x1, mid_y), (x2 - 1, mid_y), (mid_x, y2 - 1)):
        near = [image.getpixel((edge_point[0] + dx, edge_point[1] + dy))
                for dx in range(-tolerance, tolerance + 1)
                for dy in range(-tolerance, tolerance + 1)]
        assert rgb in near, f"no outline near {edge_point}"
    # Just outside the outline, and at the centre, the image is untouched.
    outside = (x1 - width - tolerance - 2, mid_y)
    assert image.getpixel(outside) != rgb
    assert image.getpixel((mid_x, mid_y)) != rgb


def test_relative_1000_on_an_image_sent_as_it_was() -> None:
    # Qwen3-VL Plus, 640×480: no resize. Target at 25 %-75 % of each side.
    answer = _box_answer((250, 250, 750, 750))
    conv, reply, *_ , data = _setup("dashscope-intl", "qwen3-vl-plus", (640, 480), answer)
    grounding = answer_grounding(conv, reply, load_builtin())
    assert grounding is not None
    assert grounding.convention == "relative-1000"
    assert grounding.images[0].width == 640          # sent as it was
    (detection,) = grounding.detections_for(0)
    assert detection.bbox == pytest.approx((160, 120, 480, 360))
    drawn = annotate(Image.open(io.BytesIO(data)), [detection])
    _assert_outline(drawn, (160, 120, 480, 360), RED)


def test_relative_1000_on_a_resized_image_lands_on_the_original() -> None:
    # 3000×2000 on Qwen3-VL Plus is sent at 1952×1312; the grid is the same on both.
    answer = _box_answer((300, 300, 700, 700))
    conv, reply, _p, model, data = _setup("dashscope-intl", "qwen3-vl-plus", (3000, 2000),
                                          answer)
    grounding = answer_grounding(conv, reply, load_builtin())
    assert grounding is not None
    stored = grounding.images[0]
    assert (stored.width, stored.height) == target_size(3000, 2000, model) != (3000, 2000)
    (detection,) = grounding.detections_for(0)
    assert detection.bbox == pytest.approx((900, 600, 2100, 1400))
    _assert_outline(annotate(Image.open(io.BytesIO(data)), [detection]),
                    (900, 600, 2100, 1400), RED)


def test_absolute_on_a_resized_image_maps_through_the_size_the_model_saw() -> None:
    # Qwen2.5-VL on DashScope (1280 tokens, 28-px patches): 3000×2000 is sent at 1204×812.
    # The model writes pixels of that 1204×812 image; the box must land on the original.
    target = (900, 600, 2100, 1400)
    seen = (1204, 812)
    in_model = tuple(v * seen[i % 2] / (3000, 2000)[i % 2] for i, v in enumerate(target))
    answer = _box_answer(in_model)  # type: ignore[arg-type]
    conv, reply, _p, _m, data = _setup("dashscope-intl", "qwen2.5-vl-7b-instruct",
                                       (3000, 2000), answer)
    grounding = answer_grounding(conv, reply, load_builtin())
    assert grounding is not None
    assert grounding.convention == "absolute"
    assert grounding.frames[0].model_input == seen
    (detection,) = grounding.detections_for(0)
    assert detection.bbox == pytest.approx(target, abs=3)
    drawn = annotate(Image.open(io.BytesIO(data)), [detection])
    _assert_outline(drawn, target, RED)
    # What a client that ignores the resize would draw: 2.5× too far up and left.
    naive = place(parse_answer(answer), Frame((3000, 2000), (3000, 2000)), "absolute")
    assert naive[0].bbox is not None
    assert naive[0].bbox[0] < 400


def test_absolute_on_an_image_sent_as_it_was_uses_the_servers_rounding() -> None:
    # OVH's Qwen2.5-VL: 1000×700 is sent as it is, and the server rounds it to 1008×700.
    conv, reply, *_ = _setup("ovh", "Qwen2.5-VL-72B-Instruct", (1000, 700),
                             _box_answer((504, 350, 1008, 700)))
    grounding = answer_grounding(conv, reply, load_builtin())
    assert grounding is not None
    assert (grounding.images[0].width, grounding.images[0].height) == (1000, 700)
    assert grounding.frames[0].model_input == (1008, 700)
    (detection,) = grounding.detections_for(0)
    assert detection.bbox == pytest.approx((500, 350, 1000, 700))


def test_points_are_drawn_as_markers_at_their_pixel() -> None:
    conv, reply, *_ , data = _setup(
        "dashscope-intl", "qwen3-vl-plus", (800, 600),
        '[{"point_2d": [500, 500], "label": "centre"}, '
        '{"bbox_2d": [100, 100, 200, 200], "label": "corner"}]')
    grounding = answer_grounding(conv, reply, load_builtin())
    assert grounding is not None
    detections = grounding.detections_for(0)
    assert detections[0].point == pytest.approx((400, 300))
    drawn = annotate(Image.open(io.BytesIO(data)), detections)
    assert drawn.getpixel((400, 300)) == _rgb(PALETTE[0])    # the disc's centre
    assert drawn.getpixel((400, 340)) == WHITE               # well outside the marker
    _assert_outline(drawn, (80, 60, 160, 120), PALETTE[1])   # second label, second colour


def test_annotated_stored_png_is_in_the_sent_pixels() -> None:
    conv, reply, *_ = _setup("dashscope-intl", "qwen3-vl-plus", (3000, 2000),
                             _box_answer((250, 250, 750, 750)))
    grounding = answer_grounding(conv, reply, load_builtin())
    assert grounding is not None
    png = annotated_stored_png(grounding, 0)
    assert png is not None
    image = Image.open(io.BytesIO(png)).convert("RGB")
    assert image.size == (1952, 1312)
    _assert_outline(image, (488, 328, 1464, 984), RED)


def test_off_image_values_are_skipped_with_a_note_and_slips_are_clamped() -> None:
    conv, reply, *_ = _setup(
        "dashscope-intl", "qwen3-vl-plus", (640, 480),
        '[{"bbox_2d": [900, 900, 1004, 1003], "label": "edge"},'
        ' {"bbox_2d": [100, 100, 1500, 300], "label": "far"},'
        ' {"point_2d": [-50, 10], "label": "negative"}]')
    grounding = answer_grounding(conv, reply, load_builtin())
    assert grounding is not None
    detections = grounding.detections_for(0)
    assert [d.label for d in detections] == ["edge"]
    assert detections[0].bbox == pytest.approx((576, 432, 640, 480))
    notes = grounding.all_notes()
    assert any("'far'" in n and "outside the image" in n for n in notes)
    assert any("'negative'" in n for n in notes)


def test_link_images_fetched_by_the_provider_use_the_original_size() -> None:
    catalog = load_builtin()
    model = catalog.get("dashscope-intl").model("qwen2.5-vl-7b-instruct")
    image = StoredImage(sha256="x", mime="image/png", data=b"", width=1204, height=812,
                        original_width=3000, original_height=2000,
                        source_url="https://example.com/a.png")
    by_link = frame_for(image, model, by_url=True)
    assert by_link.model_input == target_size(3000, 2000, model)
    assert frame_for(image, model, by_url=False).model_input == (1204, 812)


def test_which_turn_and_which_image() -> None:
    catalog = load_builtin()
    conv = Conversation()
    first = conv.add_image(StoredImage("a", "image/png", b"", 100, 100, original_width=100,
                                       original_height=100))
    second = conv.add_image(StoredImage("b", "image/png", b"", 200, 100,
                                        original_width=200, original_height=100))
    conv.append(Message(role="user", text="two images", images=[first, second]))
    conv.append(Message(role="assistant", text="ok"))
    conv.append(Message(role="user", text="and now locate"))      # a follow-up, no image
    prov = Provenance(provider="dashscope-intl", model="qwen3-vl-plus")
    answer = conv.append(Message(
        role="assistant", provenance=prov,
        text='Image 2: {"bbox_2d": [0, 0, 500, 500], "label": "a"} '
             '{"bbox_2d": [0, 0, 1000, 1000], "label": "b", "image": "image 1"} '))
    loose = conv.append(Message(role="user", text="again"))
    del loose
    unnamed = conv.append(Message(role="assistant", provenance=prov,
                                  text='{"bbox_2d": [0, 0, 500, 500], "label": "c"}'))
    grounding = answer_grounding(conv, answer, catalog)
    assert grounding is not None
    assert len(grounding.images) == 2
    assert [d.label for d in grounding.detections_for(1)] == ["a"]
    assert grounding.detections_for(1)[0].bbox == pytest.approx((0, 0, 100, 50))
    assert [d.label for d in grounding.detections_for(0)] == ["b"]
    assert grounding.unassigned() == 0
    other = answer_grounding(conv, unnamed, catalog)
    assert other is not None
    assert other.unassigned() == 1
    assert [d.label for d in other.detections_for(0)] == ["c"]          # default: image 1
    assert other.detections_for(1, unassigned_to=1)[0].label == "c"     # the person's choice
    assert other.detections_for(0, unassigned_to=None) == []


def test_answers_without_detections_or_images_have_no_grounding() -> None:
    conv = Conversation()
    conv.append(Message(role="user", text="hi"))
    reply = conv.append(Message(role="assistant",
                                text='{"bbox_2d": [1, 2, 3, 4], "label": "x"}'))
    assert answer_grounding(conv, reply) is None             # no image to put it on
    plain = conv.append(Message(role="assistant", text="No boxes here."))
    assert answer_grounding(conv, plain) is None
