"""The core's own sentences come out in Chinese once the window chooses zh_CN.

Uses the shipped catalog (the compiled .mo in the package), so a sentence that lost its
translation, or a sentence built outside `_()`, shows up here as English.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from qwenvl_desktop.core import i18n
from qwenvl_desktop.core.api.error_parsing import error_from_response
from qwenvl_desktop.core.catalog import load_builtin
from qwenvl_desktop.core.conversation import Conversation
from qwenvl_desktop.core.documents import parse_page_range
from qwenvl_desktop.core.errors import DocumentError, explain
from qwenvl_desktop.core.export import export_html, export_markdown
from qwenvl_desktop.core.media_groups import MediaGroup

CATALOG = load_builtin()
# Words that stay as they are in Chinese text: product and protocol names.
_KEPT = {"API", "Key", "HTTP", "DashScope", "JSON", "URL", "Base", "PDF"}
_WORD = re.compile(r"[A-Za-z]{2,}")


@pytest.fixture
def chinese() -> Iterator[None]:
    assert i18n.use_language("zh_CN") == "zh_CN"
    yield
    i18n.use_language("en")


def _english_left(text: str, *quoted: str) -> list[str]:
    """English words of `text` once the quoted values (the provider's own words, names
    and ids, which are never translated) are taken out."""
    for value in sorted(quoted, key=len, reverse=True):
        text = text.replace(value, " ")
    return [w for w in _WORD.findall(text) if w not in _KEPT]


def test_an_http_401_from_dashscope_is_explained_in_chinese(chinese: None) -> None:
    provider = CATALOG.get("dashscope-cn")
    body = (b'{"error": {"message": "Incorrect API key provided.", '
            b'"type": "invalid_request_error", "code": "invalid_api_key"}}')
    err = error_from_response(401, {}, body, provider)
    sentence = explain(err)
    assert sentence.startswith("HTTP 401 invalid_api_key（来自 ")
    assert "Incorrect API key provided." in sentence       # the provider's words, as sent
    assert "地域" in sentence
    assert "API Key" in sentence
    assert _english_left(sentence, "Incorrect API key provided.", "invalid_api_key",
                         provider.endpoint_label) == []


def test_an_empty_error_body_is_worded_in_chinese(chinese: None) -> None:
    provider = CATALOG.get("ovh")
    sentence = explain(error_from_response(429, {"Retry-After": "20"}, b"", provider))
    assert "未提供详情" in sentence
    assert "限流" in sentence
    assert "20 秒" in sentence
    assert _english_left(sentence, "Too Many Requests", provider.endpoint_label) == []


def test_plural_sentences_come_out_in_chinese(chinese: None) -> None:
    one = MediaGroup(kind="video", name="clip.mp4", images=["a"], duration=4.0)
    five = MediaGroup(kind="video", name="clip.mp4", images=list("abcde"), duration=4.0)
    assert one.describe() == "clip.mp4 · 4.0 秒 · 1 帧"
    assert five.describe() == "clip.mp4 · 4.0 秒 · 5 帧"
    with pytest.raises(DocumentError) as caught:
        parse_page_range("3-9", 1, "report.pdf")
    # Raised in the chosen language: the exception's text is what the window shows.
    assert str(caught.value) == "report.pdf：该文档共 1 页，“3-9”超出了末页"
    assert _english_left(str(caught.value), "report.pdf") == []


def test_english_stays_the_default() -> None:
    assert i18n.current_language() == "en"
    one = MediaGroup(kind="video", name="clip.mp4", images=["a"], duration=4.0)
    assert one.describe() == "clip.mp4 · 4.0 s · 1 frame"


def test_an_export_follows_the_chosen_language(chinese: None, tmp_path: Path) -> None:
    conv = Conversation(title="", system_prompt="Answer briefly.")
    text = export_markdown(conv, tmp_path / "c.md").read_text(encoding="utf-8")
    assert text.startswith("# 对话\n")
    assert "导出自 Qwen-VL Desktop" in text
    assert "> **系统提示词**" in text
    assert "Answer briefly." in text                 # what the person wrote stays
    page = export_html(conv, tmp_path / "c.html").read_text(encoding="utf-8")
    assert '<html lang="zh-CN">' in page
    assert "系统提示词" in page
