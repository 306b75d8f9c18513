"""Conversations: messages, their images and where every answer came from.

A conversation owns an image store keyed by the SHA-256 of the bytes that were sent,
so an image that appears in several turns (or is re-sent on every turn of a long
chat) is held and saved once. Messages refer to images by that hash.
"""

from __future__ import annotations

import base64
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Literal

from .api.types import ChatMessage, ChatParams, ImagePart, Role, Usage, VideoPart
from .media_groups import MediaGroup

MessageStatus = Literal["complete", "streaming", "stopped", "interrupted", "error"]


def new_id() -> str:
    return uuid.uuid4().hex


@dataclass
class StoredImage:
    """An image exactly as it was sent (after resizing and encoding)."""

    sha256: str
    mime: str
    data: bytes
    width: int
    height: int
    original_name: str = ""
    original_width: int = 0
    original_height: int = 0
    original_bytes: int = 0
    # The http(s) URL the image came from, if any. Providers that fetch URLs are sent
    # the URL; the bytes are still kept so that saved conversations are self-contained.
    source_url: str = ""

    def wire_url(self, *, prefer_url: bool = False) -> str:
        """What goes in `image_url.url`: the source URL, or the bytes as a data URI."""
        if self.source_url and (prefer_url or not self.data):
            return self.source_url
        return f"data:{self.mime};base64,{base64.b64encode(self.data).decode('ascii')}"

    def wire_part(self, *, prefer_url: bool = False) -> ImagePart:
        """The image on the wire, with the size it was prepared at."""
        return ImagePart(self.wire_url(prefer_url=prefer_url), self.width, self.height)


@dataclass
class Provenance:
    """Where an answer came from and what it cost."""

    provider: str
    model: str
    region: str = ""
    base_url: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    usage: Usage | None = None
    finish_reason: str = ""
    first_token_s: float | None = None
    total_s: float | None = None
    retries: int = 0


@dataclass
class Message:
    role: Role
    text: str = ""
    images: list[str] = field(default_factory=list)      # sha256 keys into Conversation.images
    reasoning: str = ""
    id: str = field(default_factory=new_id)
    created: float = field(default_factory=time.time)
    status: MessageStatus = "complete"
    error: str = ""                                      # the explained error, never a key
    provenance: Provenance | None = None
    # Token estimate per image as computed when it was attached (for display).
    image_tokens: dict[str, int] = field(default_factory=dict)
    # Documents and video clips: which of `images` are one file's pages or frames.
    media: list[MediaGroup] = field(default_factory=list)


@dataclass
class Conversation:
    title: str = "New conversation"
    messages: list[Message] = field(default_factory=list)
    images: dict[str, StoredImage] = field(default_factory=dict)
    system_prompt: str = ""
    provider_id: str = ""
    model_id: str = ""
    params: ChatParams = field(default_factory=ChatParams)
    id: str = field(default_factory=new_id)
    created: float = field(default_factory=time.time)
    updated: float = field(default_factory=time.time)

    # --- editing --------------------------------------------------------------------

    def add_image(self, image: StoredImage) -> str:
        self.images.setdefault(image.sha256, image)
        return image.sha256

    def append(self, message: Message) -> Message:
        self.messages.append(message)
        self.touch()
        return message

    def truncate_after(self, message_id: str, *, keep: bool) -> None:
        """Drop every message after `message_id` (and it too unless `keep`)."""
        for index, message in enumerate(self.messages):
            if message.id == message_id:
                self.messages = self.messages[: index + 1 if keep else index]
                break
        self.prune_images()
        self.touch()

    def remove(self, message_id: str) -> None:
        self.messages = [m for m in self.messages if m.id != message_id]
        self.prune_images()
        self.touch()

    def prune_images(self) -> None:
        """Forget images no message refers to any more."""
        used = {h for m in self.messages for h in m.images}
        self.images = {h: img for h, img in self.images.items() if h in used}

    def touch(self) -> None:
        self.updated = time.time()

    def message(self, message_id: str) -> Message:
        for message in self.messages:
            if message.id == message_id:
                return message
        raise KeyError(message_id)

    # --- sending --------------------------------------------------------------------

    def to_wire(self, *, drop_old_images: bool = False, prefer_urls: bool = False,
                system_prompt: str | None = None) -> list[ChatMessage]:
        """The history as it is sent: full by default, or with images only on the last
        user turn that has any (the person's choice; the estimate shows the difference).

        Failed or empty assistant turns are left out: resending an error would confuse
        the model. A stopped answer is kept: the person saw it and may refer to it.
        """
        prompt = self.system_prompt if system_prompt is None else system_prompt
        wire: list[ChatMessage] = []
        if prompt.strip():
            wire.append(ChatMessage(role="system", text=prompt))
        last_with_images = -1
        if drop_old_images:
            for index, message in enumerate(self.messages):
                if message.role == "user" and message.images:
                    last_with_images = index
        for index, message in enumerate(self.messages):
            if message.role == "assistant" and (message.status == "error" or not message.text):
                continue
            images: tuple[ImagePart, ...] = ()
            videos: tuple[VideoPart, ...] = ()
            if message.images and (not drop_old_images or index == last_with_images):
                images, videos = self._wire_visuals(message, prefer_urls)
            wire.append(ChatMessage(role=message.role, text=message.text, images=images,
                                    videos=videos))
        return wire

    def _wire_visuals(self, message: Message, prefer_urls: bool
                      ) -> tuple[tuple[ImagePart, ...], tuple[VideoPart, ...]]:
        """A message's images, then its documents' pages (a page that looks like another
        is stored once but sent in its place), then its clips as videos.

        An image without bytes (a file that named only an address) is never sent:
        fetching that address would be done on the person's behalf.
        """
        def sendable(sha: str) -> bool:
            return sha in self.images and bool(self.images[sha].data)

        clips = [g for g in message.media if g.kind == "video"]
        documents = [g for g in message.media if g.kind == "document"]
        grouped = {h for g in message.media for h in g.images}
        hashes = [h for h in message.images if h not in grouped]
        hashes += [h for g in documents for h in g.images]
        images = tuple(self.images[h].wire_part(prefer_url=prefer_urls)
                       for h in hashes if sendable(h))
        videos = tuple(
            VideoPart(frames=tuple(self.images[h].wire_url() for h in g.images),
                      timestamps=tuple(g.timestamps))
            for g in clips if g.images and all(sendable(h) for h in g.images))
        return images, videos

    def image_turns(self) -> list[list[StoredImage]]:
        """The images of each user turn that has any, oldest first (what history resends)."""
        turns = [[self.images[h] for h in m.images if h in self.images and self.images[h].data]
                 for m in self.messages if m.role == "user" and m.images]
        return [turn for turn in turns if turn]

    def auto_title(self) -> str:
        """A title from the first user message, for conversations still untitled."""
        for message in self.messages:
            if message.role == "user" and message.text.strip():
                line = message.text.strip().splitlines()[0]
                return line[:60] + ("…" if len(line) > 60 else "")
        return "Image question" if any(m.images for m in self.messages) else self.title
