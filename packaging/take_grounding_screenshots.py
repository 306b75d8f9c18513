"""Screenshots of "Locate…", the located boxes in the transcript and the viewer, and an
OCR table with its CSV links — the real window against the loopback server.

Run under Xvfb:

    xvfb-run -a -s "-screen 0 1600x1000x24" \
        .venv/bin/python packaging/take_grounding_screenshots.py --out DIR [--readme]

Writes locate-dialog.png, locate-inserted.png, transcript-located.png, viewer.png,
viewer-hover.png, viewer-toggled.png and ocr-table.png to DIR, and with --readme also
resources/screenshots/grounding.png. A throw-away home and an in-memory keyring.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from take_screenshots import OUT, dialog_screenshot, wait_for

# The dialog in `dialog_screenshot` is 1280×800: Retry at (790, 490)-(920, 530), Cancel at
# (640, 490)-(770, 530), the dialog at (330, 230)-(950, 560). On Qwen3-VL's 0-1000 grid:
ANSWER = """Here is what I found in the dialog:

```json
[
  {"bbox_2d": [258, 287, 742, 700], "label": "error dialog"},
  {"bbox_2d": [617, 612, 719, 662], "label": "button", "text": "Retry"},
  {"bbox_2d": [500, 612, 602, 662], "label": "button", "text": "Cancel"},
  {"point_2d": [324, 314], "label": "title"}
]
```

Press **Retry** once the folder is writable."""

OCR_ANSWER = """```html
<html><body><table border="1"><tr><th>Section</th><th>Status</th><th>Note</th></tr>
<tr><td>Q3 report section 1</td><td>exported</td><td></td></tr>
<tr><td>Q3 report section 2</td><td>failed</td><td>Permission denied, error 13</td></tr>
<tr><td>Q3 report section 3</td><td>pending</td><td>"waiting"</td></tr></table></body></html>
```"""


# The same dialog at 2560×1600 on Qwen2.5-VL 72B (DashScope: 1280 tokens of 28 px) is
# sent at 1260×784; the model answers in pixels of that image.
ABSOLUTE_ANSWER = """```json
[{"bbox_2d": [778, 480, 906, 519], "label": "Retry"},
 {"bbox_2d": [630, 480, 758, 519], "label": "Cancel"}]
```"""


def _doubled(data: bytes) -> bytes:
    import io

    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        big = image.resize((image.width * 2, image.height * 2))
    out = io.BytesIO()
    big.save(out, "PNG")
    return out.getvalue()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--readme", action="store_true",
                        help="also write resources/screenshots/grounding.png")
    args = parser.parse_args()
    os.environ["QWENVL_DESKTOP_HOME"] = tempfile.mkdtemp(prefix="qwenvl-shots-")

    import keyring

    from qwenvl_desktop.testing.memory_keyring import MemoryKeyring

    keyring.set_keyring(MemoryKeyring())

    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QWidget

    from qwenvl_desktop.core.settings import Settings
    from qwenvl_desktop.services import Services
    from qwenvl_desktop.testing.provider_server import DEFAULT_KEY, ProviderServer, Script
    from qwenvl_desktop.ui.app import create_application
    from qwenvl_desktop.ui.event_loop import AppEventLoop
    from qwenvl_desktop.ui.image_viewer import GroundingViewer
    from qwenvl_desktop.ui.locate_dialog import LocateDialog, insert_prompt
    from qwenvl_desktop.ui.main_window import MainWindow

    app = create_application([])
    app.setQuitOnLastWindowClosed(False)
    loop = AppEventLoop(app)
    asyncio.set_event_loop(loop)
    server = ProviderServer().start()
    args.out.mkdir(parents=True, exist_ok=True)

    def grab(widget: QWidget, name: str, also: Path | None = None) -> None:
        app.processEvents()
        frame = widget.frameGeometry()
        pixmap = widget.screen().grabWindow(0, frame.x(), frame.y(), frame.width(),
                                            frame.height())
        for path in filter(None, (args.out / name, also)):
            pixmap.save(str(path), "PNG")
            print(f"wrote {path} ({pixmap.width()}×{pixmap.height()})")

    async def scenario() -> None:
        settings = Settings()
        settings.set_base_url_override("dashscope-intl", server.base_url_for("dashscope"))
        settings.last_provider, settings.last_model = "dashscope-intl", "qwen3-vl-plus"
        settings.save()
        services = Services.create()
        services.keystore.set(services.catalog.get("dashscope-intl"), DEFAULT_KEY)
        window = MainWindow.build(services)
        window.resize(1480, 920)
        window.move(60, 40)
        window.show()
        await wait_for(window.isVisible)

        # 1. Locate…: the person types what to find; the prompt goes into the composer.
        window.composer.add_image_bytes(dialog_screenshot(), "export-error.png")
        await wait_for(lambda: len(window.composer.attachments()) == 1)
        provider, model = window.models.target()
        dialog = LocateDialog(model, window)
        dialog.show()
        dialog.move(window.x() + 420, window.y() + 300)
        QTest.keyClicks(dialog.what, "buttons, the error dialog and its title")
        await asyncio.sleep(0.3)
        grab(dialog, "locate-dialog.png")
        window.composer.set_text(insert_prompt(window.composer.text(), dialog.prompt()))
        dialog.accept()
        await asyncio.sleep(0.3)
        grab(window, "locate-inserted.png")

        # 2. The answer, with the ⌖ line and the overlay on the question's thumbnail.
        server.enqueue(Script(content=ANSWER, tokens_per_second=400))
        window.composer.submit()
        conv = window.current_conversation()
        assert conv is not None
        await wait_for(lambda: len(conv.messages) == 2
                       and conv.messages[-1].status != "streaming"
                       and window.transcript.streaming_message_id is None)
        await asyncio.sleep(0.4)
        grab(window, "transcript-located.png")

        # 3. The viewer, opened as the ⌖ link opens it.
        answer = conv.messages[-1]
        window.answer_tools.open_viewer(answer.id, "")
        await wait_for(lambda: window.findChild(GroundingViewer) is not None)
        viewer = window.findChild(GroundingViewer)
        assert viewer is not None
        viewer.resize(1300, 820)
        viewer.move(window.x() + 60, window.y() + 40)
        await asyncio.sleep(0.5)
        viewer.fit()
        await asyncio.sleep(0.3)
        grab(viewer, "viewer.png", OUT / "grounding.png" if args.readme else None)
        # Hover the Retry box: the mouse goes over it in the view.
        retry = next(d for d in viewer.visible_detections()
                     if dict(d.attributes).get("text") == "Retry")
        assert retry.bbox is not None
        point = viewer.view.mapFromScene((retry.bbox[0] + retry.bbox[2]) / 2, retry.bbox[1])
        QTest.mouseMove(viewer.view.viewport(), point)
        await asyncio.sleep(0.4)
        grab(viewer, "viewer-hover.png")
        print("highlighted:", viewer.highlighted(), "row:", viewer.current_row())
        viewer.set_label_visible("button", False)
        await asyncio.sleep(0.3)
        grab(viewer, "viewer-toggled.png")
        viewer.close()

        # 4. An OCR table rendered from its cells, with its CSV links.
        window.model_bar.set_selection("dashscope-intl", "qwen-vl-ocr")
        server.enqueue(Script(content=OCR_ANSWER, tokens_per_second=400))
        window.composer.set_text("Read the table as HTML")
        window.composer.add_image_bytes(dialog_screenshot(), "sections.png")
        await wait_for(lambda: len(window.composer.attachments()) == 1)
        window.composer.submit()
        await wait_for(lambda: len(conv.messages) == 4
                       and conv.messages[-1].status != "streaming"
                       and window.transcript.streaming_message_id is None)
        window.transcript.scroll_to_end()
        await asyncio.sleep(0.4)
        grab(window, "ocr-table.png")
        del provider

        # 5. Absolute pixels (Qwen2.5-VL) of a downsized image, mapped back.
        window.model_bar.set_selection("dashscope-intl", "qwen2.5-vl-72b-instruct")
        server.enqueue(Script(content=ABSOLUTE_ANSWER, tokens_per_second=400))
        window.composer.set_text("Locate the buttons")
        window.composer.add_image_bytes(_doubled(dialog_screenshot()), "dialog@2x.png")
        await wait_for(lambda: len(window.composer.attachments()) == 1)
        window.composer.submit()
        await wait_for(lambda: len(conv.messages) == 6
                       and conv.messages[-1].status != "streaming"
                       and window.transcript.streaming_message_id is None)
        window.answer_tools.open_viewer(conv.messages[-1].id, "")
        await wait_for(lambda: window.findChild(GroundingViewer) is not None)
        viewer = window.findChild(GroundingViewer)
        assert viewer is not None
        viewer.resize(1300, 820)
        viewer.move(window.x() + 60, window.y() + 40)
        await asyncio.sleep(0.5)
        viewer.fit()
        await asyncio.sleep(0.3)
        grab(viewer, "viewer-absolute.png")
        viewer.close()

        window.close()
        await wait_for(lambda: window.is_shut_down)

    try:
        loop.run_until_complete(scenario())
    finally:
        server.stop()
        loop.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
