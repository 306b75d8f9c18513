"""Conversations for the storage, library and export tests: every field set, images shared."""

from __future__ import annotations

import hashlib
import random

from qwenvl_desktop.core.api.types import ChatParams, Usage
from qwenvl_desktop.core.conversation import Conversation, Message, Provenance, StoredImage

# Shaped like a real key: `redact` must catch it wherever a careless caller puts it.
FAKE_KEY = "sk-SAMPLEKEY-4b1d9e2f-do-not-write-0123456789"


def image(seed: int, size: int = 3000, *, name: str = "") -> StoredImage:
    """An image record with `size` pseudo-random bytes (storage never decodes them)."""
    data = random.Random(seed).randbytes(size)
    return StoredImage(
        sha256=hashlib.sha256(data).hexdigest(), mime="image/png", data=data,
        width=640 + seed, height=480, original_name=name or f"shot-{seed}.png",
        original_width=3840, original_height=2160, original_bytes=size * 7,
        source_url=f"https://example.com/{seed}.png" if seed % 2 else "",
    )


def sample_conversation() -> Conversation:
    """A conversation that uses every field the file format stores."""
    a, b = image(1), image(2, name="diagram «v2».png")
    conv = Conversation(
        title="Dialog review — 日本語 ✓",
        system_prompt="You are terse.\nAnswer in English.",
        provider_id="dashscope-intl", model_id="qwen3-vl-plus",
        params=ChatParams(temperature=0.7, top_p=0.9, top_k=20, max_tokens=2048,
                          presence_penalty=0.5, frequency_penalty=0.25,
                          repetition_penalty=1.05, seed=42, stop=("END", "###"),
                          thinking=False, thinking_budget=4096, high_resolution=True),
        created=1_700_000_000.25, updated=1_700_000_900.5, id="c0ffee00sample",
    )
    conv.add_image(a)
    conv.add_image(b)
    prov = Provenance(
        provider="dashscope-intl", model="qwen3-vl-plus", region="intl",
        base_url="https://dashscope-intl.aliyuncs.com/compatible-mode/v1",
        params={"temperature": 0.7, "stop": ["END"], "extra": {"enable_thinking": False}},
        usage=Usage(prompt_tokens=1204, completion_tokens=388, total_tokens=1592,
                    reasoning_tokens=120),
        finish_reason="stop", first_token_s=0.82, total_s=6.4, retries=1,
    )
    for index, message in enumerate([
        Message(role="user", text="What is wrong in this dialog?", images=[a.sha256, b.sha256],
                image_tokens={a.sha256: 1280, b.sha256: 342}, created=1_700_000_001.0),
        Message(role="assistant", text="The **OK** button is disabled.\n\n```python\nx = 1\n```",
                reasoning="Look at the buttons first.", created=1_700_000_007.0,
                provenance=prov),
        Message(role="user", text="And here?", images=[a.sha256], image_tokens={a.sha256: 1280},
                created=1_700_000_100.0),
        Message(role="assistant", text="Partly visible", status="stopped",
                created=1_700_000_101.0,
                provenance=Provenance(provider="dashscope-intl", model="qwen3-vl-plus")),
        Message(role="user", text="Once more", images=[a.sha256], created=1_700_000_200.0),
        Message(role="assistant", text="", status="error", created=1_700_000_201.0,
                error="HTTP 429: rate limited — wait a moment and retry."),
        Message(role="assistant", text="It was cut", status="interrupted",
                created=1_700_000_300.0),
    ]):
        message.id = f"m{index:03d}"
        conv.append(message)
    conv.updated = 1_700_000_900.5
    return conv
