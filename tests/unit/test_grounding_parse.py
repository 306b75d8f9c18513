"""Reading boxes and points out of answers: every form Qwen writes, and every way it fails."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qwenvl_desktop.core.catalog import grounding_rule, load_builtin
from qwenvl_desktop.core.grounding import parse_answer, summary_text


def test_fenced_json_list_with_boxes_points_and_attributes() -> None:
    text = ('Found them:\n```json\n[\n  {"bbox_2d": [10, 20, 110, 220], "label": "cat", '
            '"color": "black"},\n  {"point_2d": [500, 400], "label": "ball"}\n]\n```\nDone.')
    parsed = parse_answer(text)
    assert [(d.label, d.bbox, d.point) for d in parsed.detections] == [
        ("cat", (10, 20, 110, 220), None), ("ball", None, (500, 400))]
    assert parsed.detections[0].attributes == (("color", "black"),)
    assert parsed.notes == []
    assert summary_text(parsed) == "1 box · 1 point"


def test_bare_single_object_and_bare_list() -> None:
    single = parse_answer('The button is at {"bbox_2d": [1, 2, 3, 4], "label": "Save"}.')
    assert [d.label for d in single.detections] == ["Save"]
    listed = parse_answer('[{"bbox_2d": [1, 2, 3, 4], "label": "a"}, '
                          '{"bbox_2d": [5, 6, 7, 8], "label": "b"}]')
    assert [d.label for d in listed.detections] == ["a", "b"]


def test_wrapped_and_per_image_groups() -> None:
    wrapped = parse_answer('{"objects": [{"bbox_2d": [1, 2, 3, 4], "label": "a"}]}')
    assert [d.label for d in wrapped.detections] == ["a"]
    grouped = parse_answer('{"image 1": [{"bbox_2d": [1, 2, 3, 4], "label": "a"}], '
                           '"image_2": [{"point_2d": [5, 6], "label": "b"}]}')
    assert [(d.label, d.image) for d in grouped.detections] == [("a", 0), ("b", 1)]


def test_images_named_in_prose_and_by_key() -> None:
    text = ('**Image 1:**\n```json\n[{"bbox_2d": [1, 2, 3, 4], "label": "a"}]\n```\n'
            '**Image 2:**\n```json\n[{"bbox_2d": [1, 2, 3, 4], "label": "b"}, '
            '{"bbox_2d": [1, 2, 3, 4], "label": "c", "image": 1}]\n```')
    parsed = parse_answer(text)
    # The prose names the image; an object's own "image" key (counted from 1) wins.
    assert [(d.label, d.image) for d in parsed.detections] == [("a", 0), ("b", 1), ("c", 0)]
    unnamed = parse_answer('[{"bbox_2d": [1, 2, 3, 4], "label": "a"}]')
    assert unnamed.detections[0].image is None


def test_image_sizes_in_prose_are_not_image_numbers() -> None:
    parsed = parse_answer('Image 2 is 1920 wide; the screenshot 1920x1080 shows '
                          '{"bbox_2d": [1, 2, 3, 4], "label": "a"}')
    assert parsed.detections[0].image == 1


def test_swapped_corners_are_put_in_order() -> None:
    parsed = parse_answer('{"bbox_2d": [300, 400, 100, 200], "label": "x"}')
    assert parsed.detections[0].bbox == (100, 200, 300, 400)


def test_trailing_commas_and_single_quotes_are_read() -> None:
    parsed = parse_answer('```json\n[{"bbox_2d": [1, 2, 3, 4], "label": "a",},\n]\n```\n'
                          "and {'bbox_2d': [5, 6, 7, 8], 'label': 'b'}")
    assert [d.label for d in parsed.detections] == ["a", "b"]


def test_non_numeric_and_wrong_length_values_are_skipped_with_notes() -> None:
    text = ('[{"bbox_2d": ["left", 2, 3, 4], "label": "words"},'
            ' {"bbox_2d": [1, 2, 3], "label": "three"},'
            ' {"point_2d": [1, null], "label": "nullish"},'
            ' {"bbox_2d": [1, true, 3, 4], "label": "boolean"},'
            ' {"bbox_2d": [10, 20, 30, 40], "label": "good"},'
            ' {"bbox_2d": ["5", "6", "7.5", "8"], "label": "numeric strings"}]')
    parsed = parse_answer(text)
    assert [d.label for d in parsed.detections] == ["good", "numeric strings"]
    assert parsed.detections[1].bbox == (5, 6, 7.5, 8)
    assert len(parsed.notes) == 4
    assert any("'words'" in n and "four numbers" in n for n in parsed.notes)
    assert any("'nullish'" in n and "two numbers" in n for n in parsed.notes)


def test_entry_that_is_not_json_gets_a_note() -> None:
    parsed = parse_answer('{"bbox_2d": [1, 2, 3, 4], label: cat} and '
                          '{"bbox_2d": [5, 6, 7, 8], "label": "dog"}')
    assert [d.label for d in parsed.detections] == ["dog"]
    assert any("not valid JSON" in n for n in parsed.notes)


@pytest.mark.parametrize("cut", range(1, 80))
def test_streaming_prefixes_never_fail_and_only_grow(cut: int) -> None:
    full = ('```json\n[{"bbox_2d": [10, 20, 30, 40], "label": "a"}, '
            '{"point_2d": [5, 6], "label": "b"}]\n```')
    prefix = full[:cut * len(full) // 80]
    partial = parse_answer(prefix, complete=False)
    assert partial.notes == []               # an unfinished answer is not "wrong"
    labels = [d.label for d in partial.detections]
    assert labels in ([], ["a"], ["a", "b"])
    if '"a"}' in prefix:
        assert labels[:1] == ["a"]


def test_answer_that_ends_mid_entry_gets_a_note_once_complete() -> None:
    text = '[{"bbox_2d": [1, 2, 3, 4], "label": "a"}, {"bbox_2d": [5, 6'
    assert [d.label for d in parse_answer(text, complete=False).detections] == ["a"]
    parsed = parse_answer(text)
    assert [d.label for d in parsed.detections] == ["a"]
    assert any("middle of an entry" in n for n in parsed.notes)


def test_qwen2_tags_with_and_without_refs_and_several_boxes() -> None:
    text = ('<|object_ref_start|>the man<|object_ref_end|><|box_start|>(123,235),(324,546)'
            '<|box_end|> and <|object_ref_start|>apples<|object_ref_end|><|box_start|>'
            '(475,318),(492,337),(620,279),(631,301)<|box_end|> and '
            '<|box_start|>(9, 8), (1, 2)<|box_end|>')
    parsed = parse_answer(text)
    assert [(d.label, d.bbox) for d in parsed.detections] == [
        ("the man", (123, 235, 324, 546)), ("apples", (475, 318, 492, 337)),
        ("apples", (620, 279, 631, 301)), ("", (1, 2, 9, 8))]


def test_qwen_vl_ref_box_tags_and_a_broken_one() -> None:
    parsed = parse_answer('<ref>dog</ref><box>(10,20),(30,40)</box> <box>(1,2)</box>')
    assert [(d.label, d.bbox) for d in parsed.detections] == [("dog", (10, 20, 30, 40))]
    assert any("two corner points" in n for n in parsed.notes)


def test_text_without_markers_is_not_parsed() -> None:
    parsed = parse_answer('Plain answer with [brackets] and {"json": true}.')
    assert parsed.detections == []
    assert parsed.notes == []


def test_ocr_spotting_labels_come_from_text_content() -> None:
    parsed = parse_answer('[{"bbox_2d": [1, 2, 3, 4], "text_content": "Total: 42"}]')
    assert parsed.detections[0].label == ""
    assert parsed.detections[0].display_label == "Total: 42"


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.sampled_from(list('{}[]",:0123456789 .-abx_2dboxpint\n`<|>()')),
               max_size=120))
def test_arbitrary_text_never_raises(text: str) -> None:
    parsed = parse_answer("bbox_2d point_2d <box> " + text)
    for detection in parsed.detections:
        if detection.bbox is not None:
            x1, y1, x2, y2 = detection.bbox
            assert x1 <= x2
            assert y1 <= y2


# --- conventions per model ---------------------------------------------------------------

@pytest.mark.parametrize(("model_id", "expected"), [
    ("qwen2.5-vl-72b-instruct", "absolute"),
    ("Qwen/Qwen2.5-VL-7B-Instruct", "absolute"),
    ("qwen2p5-vl-32b-instruct", "absolute"),
    ("qvq-max", "absolute"),
    ("qwen2-vl-7b-instruct", "relative-1000"),
    ("qwen3-vl-plus", "relative-1000"),
    ("alibaba/qwen3-vl-32b-thinking", "relative-1000"),
    ("qwen3.5-vl-plus", "relative-1000"),
    ("qwen-vl-max", "relative-1000"),
    ("some-unknown-model", "relative-1000"),
])
def test_family_rule(model_id: str, expected: str) -> None:
    assert grounding_rule(model_id) == expected


def test_every_catalog_model_has_a_convention() -> None:
    catalog = load_builtin()
    for provider in catalog.builtin():
        for model in provider.models:
            assert model.grounding in ("absolute", "relative-1000"), model.id
    assert catalog.get("ovh").model("Qwen2.5-VL-72B-Instruct").grounding == "absolute"
    assert catalog.get("dashscope-intl").model("qwen3-vl-plus").grounding == "relative-1000"
