"""`ask --annotate` and `ask --json` detections, as a subprocess against the loopback server.

The server streams a scripted answer with boxes and points, written the way each model
family writes them; the test checks the numbers in the JSON and samples the pixels of
the annotated file against where the target really is in the original image.
"""

from __future__ import annotations

import json
from pathlib import Path

from PIL import Image

from qwenvl_desktop.core.catalog import load_builtin
from qwenvl_desktop.core.grounding import PALETTE
from qwenvl_desktop.core.tokens import target_size
from qwenvl_desktop.testing.provider_server import ProviderServer, Script

from .test_cli import home, run, server

__all__ = ["home", "server"]   # fixtures used by name below

def _rgb(colour: str) -> tuple[int, ...]:
    return tuple(int(colour[i:i + 2], 16) for i in (1, 3, 5))


RED = _rgb(PALETTE[0])        # the first label's colour
BLUE = _rgb(PALETTE[1])       # the second's
SIZE = (3000, 2000)
TARGET = (900, 600, 2100, 1400)


def _scene(path: Path) -> Path:
    image = Image.new("RGB", SIZE, (255, 255, 255))
    image.paste((90, 90, 90), TARGET)
    image.save(path, "PNG")
    return path


def _open(path: Path) -> Image.Image:
    with Image.open(path) as image:
        return image.convert("RGB")


def _on_outline(image: Image.Image, x: int, y: int) -> bool:
    return any(image.getpixel((x + dx, y + dy)) == RED for dx in range(-3, 4)
               for dy in range(-3, 4))


def test_json_detections_and_annotate_in_original_pixels_relative_grid(
    home: Path, server: ProviderServer, tmp_path: Path
) -> None:
    answer = ('Found it.\n```json\n[{"bbox_2d": [300, 300, 700, 700], "label": "target"},\n'
              ' {"point_2d": [500, 500], "label": "middle"},\n'
              ' {"bbox_2d": [10, 10, 20], "label": "broken"}]\n```')
    server.enqueue(Script(content=answer))
    out = tmp_path / "annotated.png"
    result = run(home, "ask", "--json", "-i", str(_scene(tmp_path / "scene.png")),
                 "--annotate", str(out), "Locate the grey box")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["detections"] == [
        {"image": 0, "label": "target", "bbox": list(TARGET), "point": None, "attributes": {}},
        {"image": 0, "label": "middle", "bbox": None, "point": [1500, 1000], "attributes": {}},
    ]
    assert "'broken'" in result.stderr           # the skipped entry is reported
    drawn = _open(out)
    assert drawn.size == SIZE                    # the original's size, not the sent one
    assert _on_outline(drawn, TARGET[0], 1000)
    assert _on_outline(drawn, 1500, TARGET[1])
    assert drawn.getpixel((1500, 1000)) == BLUE  # the point's marker, second label
    assert drawn.getpixel((1200, 800)) == (90, 90, 90)   # inside the box: untouched
    assert drawn.getpixel((TARGET[0] - 12, 1000)) == (255, 255, 255)


def test_absolute_pixels_of_a_resized_image_land_on_the_original(
    home: Path, server: ProviderServer, tmp_path: Path
) -> None:
    # Qwen2.5-VL on DashScope: the model saw the image at 1204×812 and answers in those
    # pixels. The annotated original must show the box where the target really is.
    model = load_builtin().get("dashscope-intl").model("qwen2.5-vl-72b-instruct")
    seen = target_size(*SIZE, model)
    assert seen == (1204, 812)
    in_model = [round(v * seen[i % 2] / SIZE[i % 2]) for i, v in enumerate(TARGET)]
    server.enqueue(Script(content=f'{{"bbox_2d": {in_model}, "label": "target"}}'))
    out = tmp_path / "annotated.png"
    result = run(home, "ask", "--json", "-m", "qwen2.5-vl-72b-instruct", "-i",
                 str(_scene(tmp_path / "scene.png")), "--annotate", str(out), "Where?")
    assert result.returncode == 0, result.stderr
    (detection,) = json.loads(result.stdout)["detections"]
    for got, want in zip(detection["bbox"], TARGET, strict=True):
        assert abs(got - want) <= 3
    sent = server.requests[-1].json["messages"][-1]["content"]
    assert any(part.get("type") == "image_url" for part in sent)
    drawn = _open(out)
    assert _on_outline(drawn, TARGET[0], 1000)
    assert _on_outline(drawn, TARGET[2] - 1, 1000)
    assert not _on_outline(drawn, round(in_model[0]), 1000)   # not where a naive client draws


def test_annotate_without_detections_writes_the_plain_image_and_says_so(
    home: Path, server: ProviderServer, tmp_path: Path
) -> None:
    server.enqueue(Script(content="I see no such thing."))
    out = tmp_path / "plain.png"
    result = run(home, "ask", "-i", str(_scene(tmp_path / "scene.png")), "--annotate",
                 str(out), "Where is the cat?")
    assert result.returncode == 0, result.stderr
    assert "no boxes or points" in result.stderr
    assert _open(out).size == SIZE


def test_annotate_needs_an_image(home: Path) -> None:
    result = run(home, "ask", "--annotate", "x.png", "Where?")
    assert result.returncode == 2
    assert "--annotate needs an image" in result.stderr


def test_json_has_empty_detections_for_plain_answers(home: Path, server: ProviderServer) -> None:
    server.enqueue(Script(content="Just text."))
    result = run(home, "ask", "--json", "Hello")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["detections"] == []


def test_annotate_a_follow_up_draws_on_the_image_as_it_was_sent(
    home: Path, server: ProviderServer, tmp_path: Path
) -> None:
    chat = tmp_path / "chat.qwenvl"
    server.enqueue(Script(content="A grey box on white."))
    first = run(home, "ask", "--save", str(chat), "-i", str(_scene(tmp_path / "scene.png")),
                "What is this?")
    assert first.returncode == 0, first.stderr
    # The follow-up has no image: its boxes belong to the last image asked about.
    server.enqueue(Script(content='{"bbox_2d": [300, 300, 700, 700], "label": "target"}'))
    out = tmp_path / "follow-up.png"
    result = run(home, "ask", "--continue", str(chat), "--annotate", str(out), "--json",
                 "Where is the box?")
    assert result.returncode == 0, result.stderr
    assert "as it was sent" in result.stderr
    (detection,) = json.loads(result.stdout)["detections"]
    assert detection["bbox"] == list(TARGET)               # still in original pixels
    drawn = _open(out)
    sent = drawn.size
    assert sent != SIZE                                     # the stored, resized copy
    assert _on_outline(drawn, round(TARGET[0] * sent[0] / SIZE[0]), sent[1] // 2)


def test_unwritable_annotate_path_is_explained_after_the_answer(
    home: Path, server: ProviderServer, tmp_path: Path
) -> None:
    server.enqueue(Script(content='{"point_2d": [500, 500], "label": "p"}'))
    out = tmp_path / "no such folder" / "out.png"
    result = run(home, "ask", "--json", "-i", str(_scene(tmp_path / "s.png")), "--annotate",
                 str(out), "Where?")
    assert result.returncode != 0
    assert json.loads(result.stdout)["detections"][0]["point"] == [1500, 1000]
    assert "no such folder" in result.stderr
    assert "Traceback" not in result.stderr
