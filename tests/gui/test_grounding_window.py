"""Located things and tables in the real window, against the loopback server.

A person attaches an image, uses Locate…, sends; the answer (scripted on the server)
holds boxes and points. The transcript shows the ⌖ line and draws the boxes on the
question's thumbnail; the viewer opens from the line, hover highlights, labels toggle,
and the saved image has the boxes on the right pixels. Tables copy and save as CSV.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from PIL import Image
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QGuiApplication, QImage, QMouseEvent, QTextDocument
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot
from scripted_dialogs import ScriptedDialogs
from window_harness import (
    conversation,
    provider_server_fixture,
    send,
    server_fixture,
    wait_answer,
    window_fixture,
)

from qwenvl_desktop.core.grounding import PALETTE
from qwenvl_desktop.testing.provider_server import ProviderServer, Script
from qwenvl_desktop.ui.answer_tools import table_mime
from qwenvl_desktop.ui.image_viewer import GroundingViewer
from qwenvl_desktop.ui.locate_dialog import LocateDialog
from qwenvl_desktop.ui.main_window import MainWindow

__all__ = ["provider_server_fixture", "server_fixture", "window_fixture"]

pytestmark = pytest.mark.gui

WHITE = (255, 255, 255)
ANSWER = ('Found:\n```json\n[{"bbox_2d": [250, 250, 750, 750], "label": "box", "text": "A"},\n'
          ' {"point_2d": [100, 100], "label": "dot"},\n'
          ' {"bbox_2d": [0, 0, 100, "x"], "label": "broken"}]\n```')
TABLE = ('| Name | Note |\n|---|---|\n| Smith, John | say "hi" |\n| Doe |  |\n\n'
         '<table><tr><td>a, b</td><td></td></tr></table>')


def _rgb(colour: str) -> tuple[int, int, int]:
    return tuple(int(colour[i:i + 2], 16) for i in (1, 3, 5))  # type: ignore[return-value]


def _png(size: tuple[int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, WHITE).save(buffer, "PNG")
    return buffer.getvalue()


def _ask_with_image(qtbot: QtBot, window: MainWindow, server: ProviderServer,
                    answer: str, size: tuple[int, int] = (400, 300)) -> None:
    window.composer.add_image_bytes(_png(size), "scene.png")
    server.enqueue(Script(content=answer))
    send(qtbot, window, "Locate the box")
    wait_answer(qtbot, window)


def _move_mouse(widget: QWidget, position: QPoint) -> None:
    """A real mouse-move event (QTest's moves the cursor, which offscreen never reports)."""
    local = QPointF(position)
    event = QMouseEvent(QEvent.Type.MouseMove, local, QPointF(widget.mapToGlobal(position)),
                        Qt.MouseButton.NoButton, Qt.MouseButton.NoButton,
                        Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, event)


def _viewer(qtbot: QtBot, window: MainWindow) -> GroundingViewer:
    qtbot.waitUntil(lambda: window.findChild(GroundingViewer) is not None, timeout=5000)
    viewer = window.findChild(GroundingViewer)
    assert viewer is not None
    qtbot.waitExposed(viewer)
    return viewer


def test_answer_line_thumbnail_overlay_and_viewer(qtbot: QtBot, window: MainWindow,
                                                  server: ProviderServer,
                                                  tmp_path: Path) -> None:
    _ask_with_image(qtbot, window, server, ANSWER)
    conv = conversation(window)
    question, answer = conv.messages
    html = window.transcript.toHtml()
    assert "2 boxes" not in window.transcript.toPlainText()       # the broken one is out
    assert "1 box · 1 point" in window.transcript.toPlainText()
    assert "1 entry could not be read" in window.transcript.toPlainText()
    # The question's thumbnail is the annotated one, linking to the viewer.
    sha = question.images[0]
    assert f"athumb:{answer.id}:{sha}" in html
    thumb = window.transcript.loadResource(
        int(QTextDocument.ResourceType.ImageResource.value), f"athumb:{answer.id}:{sha}")
    assert isinstance(thumb, QImage)
    assert not thumb.isNull()
    ratio = thumb.devicePixelRatio()
    # The box's left edge sits at 25 % of the thumbnail's width, its middle is untouched.
    left = round(thumb.width() * 0.25)
    middle_y = round(thumb.height() * 0.5)
    edge = {thumb.pixelColor(left + dx, middle_y).name() for dx in range(-2, 3)}
    assert PALETTE[0] in edge
    assert thumb.pixelColor(thumb.width() // 2, middle_y).name() == "#ffffff"
    assert ratio > 0

    # The ⌖ line opens the viewer.
    window.transcript.anchorClicked.emit(QUrl(f"grounding:{answer.id}"))
    viewer = _viewer(qtbot, window)
    assert viewer.found.count() == 2
    assert "box (text: A)" in viewer.found.item(0).text()
    assert "'broken'" in viewer.notes.text()
    assert "0–1000 grid" in viewer.convention.text()

    # Hovering the box in the view highlights its row.
    box = next(d for d in viewer.visible_detections() if d.bbox is not None)
    assert box.bbox is not None
    target = viewer.view.mapFromScene((box.bbox[0] + box.bbox[2]) / 2, box.bbox[1])
    _move_mouse(viewer.view.viewport(), QPoint(target.x(), target.y() + 1))
    qtbot.waitUntil(lambda: viewer.highlighted() == box.index, timeout=3000)
    assert viewer.current_row() == box.index
    # Hovering a row highlights its item.
    viewer.found.itemEntered.emit(viewer.found.item(1))
    assert viewer.highlighted() == 1

    # Saved image: the box's outline at the right pixels; the toggled-off label absent.
    viewer.set_label_visible("dot", False)
    assert viewer.labels.item(1).checkState().name == "Unchecked"
    out = tmp_path / "annotated.png"
    viewer.save_to(out)
    with Image.open(out) as image:
        drawn = image.convert("RGB")
    assert drawn.size == (400, 300)
    assert any(drawn.getpixel((100 + dx, 150)) == _rgb(PALETTE[0]) for dx in range(-2, 3))
    assert drawn.getpixel((40, 30)) == WHITE               # the hidden point is not drawn
    assert "Saved" in viewer.result_note.text()

    viewer.copy_image()
    clip = QGuiApplication.clipboard().image()
    assert (clip.width(), clip.height()) == (400, 300)
    viewer.close()


def test_clicking_the_annotated_thumbnail_opens_the_viewer_on_that_image(
        qtbot: QtBot, window: MainWindow, server: ProviderServer) -> None:
    _ask_with_image(qtbot, window, server, ANSWER)
    question, answer = conversation(window).messages
    window.transcript.anchorClicked.emit(QUrl(f"grounding:{answer.id}:{question.images[0]}"))
    viewer = _viewer(qtbot, window)
    assert viewer.image_index == 0
    viewer.close()


def test_several_images_and_entries_that_name_none(qtbot: QtBot, window: MainWindow,
                                                   server: ProviderServer) -> None:
    window.composer.add_image_bytes(_png((400, 300)), "one.png")
    window.composer.add_image_bytes(_png((300, 300)), "two.png")
    server.enqueue(Script(content='Image 2: {"bbox_2d": [0, 0, 500, 500], "label": "a"}\n'
                                  'Also [{"point_2d": [10, 10], "label": "b", "image": 1}]\n'
                                  'and {"bbox_2d": [1, 1, 9, 9], "label": "c", "image": 7}'))
    send(qtbot, window, "Locate")
    answer = wait_answer(qtbot, window)
    window.transcript.anchorClicked.emit(QUrl(f"grounding:{answer.id}"))
    viewer = _viewer(qtbot, window)
    assert viewer.image_choice.isVisibleTo(viewer)
    assert viewer.unassigned_choice.isVisibleTo(viewer)       # "c" names no real image
    rows = lambda: [viewer.found.item(i).text().split(" ")[0]  # noqa: E731
                    for i in range(viewer.found.count())]
    assert rows() == ["b", "c"]                                # image 1 + the unassigned
    viewer.choose_image(1)
    assert rows() == ["a"]
    viewer.unassigned_choice.setCurrentIndex(1)                # send "c" to image 2
    assert rows() == ["a", "c"]
    viewer.close()


def test_locate_inserts_the_family_prompt_editable_before_sending(
        qtbot: QtBot, window: MainWindow, server: ProviderServer,
        monkeypatch: pytest.MonkeyPatch) -> None:
    def fake_exec(dialog: LocateDialog) -> int:
        qtbot.keyClicks(dialog.what, "the Save button")
        assert "Report bbox coordinates in JSON format" in dialog.preview.toPlainText()
        return int(LocateDialog.DialogCode.Accepted.value)

    monkeypatch.setattr(LocateDialog, "exec", fake_exec)
    window.composer.set_text("Please help.")
    qtbot.mouseClick(window.composer.locate_button, Qt.MouseButton.LeftButton)
    text = window.composer.text()
    assert text.startswith("Please help.\nLocate every instance")
    assert '"the Save button"' in text
    assert server.requests == []                               # nothing sent yet


def test_locate_offers_points_only_where_the_family_has_them(qtbot: QtBot,
                                                            window: MainWindow) -> None:
    catalog = window.services.catalog if window.services else None
    assert catalog is not None
    qwen2 = LocateDialog(catalog.get("dashscope-cn").model("qwen2-vl-7b-instruct"), window)
    qtbot.addWidget(qwen2)
    qtbot.keyClicks(qwen2.what, "dog")
    assert not qwen2.points.isEnabled()
    assert "<|object_ref_start|>dog<|object_ref_end|>" in qwen2.preview.toPlainText()
    qwen3 = LocateDialog(catalog.get("dashscope-intl").model("qwen3-vl-plus"), window)
    qtbot.addWidget(qwen3)
    qtbot.keyClicks(qwen3.what, "dog")
    qwen3.points.setChecked(True)
    assert '"point_2d"' in qwen3.preview.toPlainText()


def test_table_links_copy_csv_and_tsv_and_save(qtbot: QtBot, window: MainWindow,
                                               server: ProviderServer, tmp_path: Path) -> None:
    server.enqueue(Script(content=TABLE))
    send(qtbot, window, "Read the table")
    answer = wait_answer(qtbot, window)
    html = window.transcript.toHtml()
    assert f"copy-table:{answer.id}:0" in html
    assert f"save-table:{answer.id}:1" in html
    window.transcript.anchorClicked.emit(QUrl(f"copy-table:{answer.id}:0"))
    mime = QGuiApplication.clipboard().mimeData()
    expected = [["Name", "Note"], ["Smith, John", 'say "hi"'], ["Doe", ""]]
    assert list(csv.reader(io.StringIO(mime.text(), newline=""))) == expected
    tsv = bytes(mime.data("text/tab-separated-values").data()).decode("utf-8")
    assert list(csv.reader(io.StringIO(tsv, newline=""), delimiter="\t")) == expected

    target = tmp_path / "second"                               # no suffix: .csv is added
    window.file_dialogs.ask = ScriptedDialogs([str(target)])
    window.transcript.anchorClicked.emit(QUrl(f"save-table:{answer.id}:1"))
    target = target.with_suffix(".csv")
    assert target.is_file()
    content = target.read_bytes()
    assert content.startswith(b"\xef\xbb\xbf")                 # a BOM for spreadsheets
    assert list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline=""))) == [
        ["a, b", ""]]


def test_table_mime_has_every_format() -> None:
    from qwenvl_desktop.core.tables import find_tables

    (table,) = find_tables("| a | b |\n|---|---|\n| 1, 2 | |\n")
    mime = table_mime(table)
    assert mime.text() == 'a,b\r\n"1, 2",\r\n'
    assert mime.hasFormat("text/csv")
    assert bytes(mime.data("text/tab-separated-values").data()) == b"a\tb\r\n1, 2\t\r\n"


def test_table_links_are_numbered_right_when_a_long_answer_streams_in_pieces(
        qtbot: QtBot) -> None:
    from qwenvl_desktop.core.conversation import Conversation, Message, Provenance
    from qwenvl_desktop.ui.transcript import Transcript

    view = Transcript()
    qtbot.addWidget(view)
    view.resize(700, 400)
    view.show()
    filler = "\n\n".join(f"Paragraph {i} " + "words " * 30 for i in range(30))
    text = (f"| a | b |\n|---|---|\n| first | 1 |\n\n{filler}\n\n"
            "<table><tr><td>second</td><td>2</td></tr></table>\n\nEnd.")
    assert len(text) > 4096        # finished in place, keeping the streamed pieces
    conv = Conversation()
    conv.append(Message(role="user", text="tables"))
    answer = conv.append(Message(role="assistant", status="streaming",
                                 provenance=Provenance("dashscope-intl", "qwen3-vl-plus")))
    view.show_conversation(conv, streaming=answer)
    # Three deliveries, each shown before the next: the tables settle in separate renders.
    cut1, cut2 = text.index("Paragraph 3 "), text.index("Paragraph 29 ")
    for part, marker in ((text[:cut1], "Paragraph 2 "), (text[cut1:cut2], "Paragraph 28 "),
                         (text[cut2:], "End.")):
        view.add_content(answer.id, part)
        qtbot.waitUntil(lambda m=marker: m in view.toPlainText(), timeout=5000)
    answer.text, answer.status = text, "complete"
    view.finish_answer(answer)
    copied: list[tuple[str, str, int]] = []
    view.table_requested.connect(lambda *args: copied.append(args))
    html = view.toHtml()
    for index in (0, 1):
        assert f"copy-table:{answer.id}:{index}" in html
        view.anchorClicked.emit(QUrl(f"copy-table:{answer.id}:{index}"))
    assert copied == [("copy-table", answer.id, 0), ("copy-table", answer.id, 1)]
    assert "second" in view.toPlainText()
    assert "<table>" not in view.toPlainText()       # drawn from cells, not shown as text
