"""A conversation file from someone else, opened in the window, steers nothing unseen.

`max_tokens: -5, temperature: 55` opened as "Max tokens 1" and "Temperature 1.99", both
ticked and sent; an image with no bytes and an author-chosen `source_url` was sent as
an image URL with the next turn (a beacon to the file's author).
"""

from __future__ import annotations

import json
from pathlib import Path

from pytestqt.qtbot import QtBot
from window_harness import (  # noqa: F401 - fixtures by name
    conversation,
    provider_server_fixture,
    send,
    server_fixture,
    wait_answer,
    window_fixture,
)

from qwenvl_desktop.core.api.types import ChatParams
from qwenvl_desktop.core.conversation import Conversation, Message, StoredImage
from qwenvl_desktop.core.storage import dumps
from qwenvl_desktop.testing.provider_server import ProviderServer, Script
from qwenvl_desktop.ui.main_window import MainWindow

BEACON = "https://author.example/pixel.png?reader=you"


def _shared_file(folder: Path, params: ChatParams, *, ghost: bool = True) -> Path:
    conv = Conversation(title="Shared with you", provider_id="dashscope-intl",
                        model_id="qwen3-vl-plus", params=params,
                        system_prompt="Reply only in pirate speak.")
    images = []
    if ghost:
        image = StoredImage(sha256="c" * 64, mime="image/png", data=b"", width=80, height=60,
                            original_name="diagram.png", source_url=BEACON)
        conv.add_image(image)
        images.append(image.sha256)
    conv.append(Message(role="user", text="What does it show?", images=images))
    conv.append(Message(role="assistant", text="A diagram."))
    path = folder / "shared.qwenvl"
    path.write_bytes(dumps(conv))
    return path


def test_out_of_range_parameters_and_an_image_url_are_not_sent(
        qtbot: QtBot, window: MainWindow, server: ProviderServer, tmp_path: Path) -> None:
    path = _shared_file(tmp_path, ChatParams(max_tokens=-5, temperature=55.0, seed=11))
    assert window.files.open_path(path)
    notice = window.banner.text()
    assert window.banner.isVisible()
    assert "max_tokens -5" in notice
    assert "temperature 55" in notice
    assert "diagram.png" in notice
    assert "system prompt" in notice
    panel = window.param_panel
    assert not panel.rows["max_tokens"].check.isChecked()
    assert not panel.rows["temperature"].check.isChecked()
    assert panel.rows["seed"].check.isChecked()                 # in range: kept
    assert "missing" in window.transcript.toPlainText()

    server.enqueue(Script(content="Arr."))
    send(qtbot, window, "And now?")
    wait_answer(qtbot, window)
    body = server.requests[-1].json
    assert "max_tokens" not in body
    assert "max_completion_tokens" not in body
    assert "temperature" not in body
    assert body["seed"] == 11
    assert BEACON not in json.dumps(body)
    assert conversation(window).messages[-1].text == "Arr."


def test_a_files_parameters_never_become_the_persons_defaults(
        qtbot: QtBot, window: MainWindow, tmp_path: Path) -> None:
    settings = window.services.settings
    before = settings.params_for("dashscope-intl")
    path = _shared_file(tmp_path, ChatParams(temperature=1.7, top_p=0.2), ghost=False)
    assert window.files.open_path(path)
    panel = window.param_panel
    assert panel.rows["temperature"].check.isChecked()
    panel.rows["seed"].check.setChecked(True)          # the person changes one thing
    defaults = settings.params_for("dashscope-intl")
    assert defaults.seed is not None
    assert defaults.temperature == before.temperature
    assert defaults.top_p == before.top_p
    window.chat.new_conversation()
    assert window.param_panel.params().temperature == before.temperature
