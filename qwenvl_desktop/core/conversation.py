"""Conversations: messages, their images and where every answer came from.

A conversation owns an image store keyed by the SHA-256 of the bytes that were sent,
so an image that appears in several turns (or is re-sent on every turn of a long
chat) is held and saved once. Messages refer to images by that hash. The messages form
a tree of branches (message_tree.py): retrying or editing never removes a turn.

Images are immutable, and each one's base64 text is computed once and then shared by
the request, the autosave and the exports (20 × 1 MB images: ~30 ms of encoding that
would otherwise be paid again on every send and every save).
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import re
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from .api.types import ChatMessage, ChatParams, ImagePart, Role, Usage, VideoPart
from .i18n import _
from .media_groups import MediaGroup
from .message_tree import MessageTree, RemovedBranch

__all__ = ["Conversation", "Message", "MessageStatus", "Provenance", "RemovedBranch",
           "StoredImage", "left_out_of_history", "new_id"]

MessageStatus = Literal["complete", "streaming", "stopped", "interrupted", "error"]


def new_id() -> str:
    return uuid.uuid4().hex


@dataclass(frozen=True)
class StoredImage:
    """An image exactly as it was sent (after resizing and encoding). Immutable: a
    snapshot of a conversation shares its images instead of copying them."""

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

    def encoded(self) -> bytes:
        """The bytes as base64 (ASCII), encoded once and kept: the request, the autosave
        and the exports all use this one copy. Any thread may ask; at worst two threads
        encode the same bytes at the same moment, with the same result."""
        cached: bytes | None = self.__dict__.get("_base64")
        if cached is None:
            cached = _encode_in_slices(self.data)
            self.__dict__["_base64"] = cached      # frozen: not through __setattr__
        return cached

    def base64(self) -> str:
        return self.encoded().decode("ascii")

    def evolve(self, **changes: Any) -> StoredImage:
        """A copy with `changes` (images are immutable), keeping the encodings already
        made when the bytes and the type stay the same."""
        twin = dataclasses.replace(self, **changes)
        if "data" not in changes:
            for key in ("_base64", "_data_uri") if "mime" not in changes else ("_base64",):
                if key in self.__dict__:
                    twin.__dict__[key] = self.__dict__[key]
        return twin

    def with_base64(self, text: str) -> StoredImage:
        """This image, told its base64 text (as read from a file) so it is not encoded
        again; text that is not this image's standard encoding is ignored."""
        if _is_canonical_base64(text, self.data):
            self.__dict__["_base64"] = text.encode("ascii")
        return self

    def data_uri(self) -> str:
        """`data:<mime>;base64,…`, made once and kept (every request with this image in
        its history sends it). The MIME type comes from files too: anything but a plain
        `type/subtype` is sent as application/octet-stream, so the URI never needs JSON
        escaping (see `ImagePart.verbatim`)."""
        cached: str | None = self.__dict__.get("_data_uri")
        if cached is None:
            mime = self.mime if _PLAIN_MIME.fullmatch(self.mime) else "application/octet-stream"
            cached = f"data:{mime};base64,{self.base64()}"
            self.__dict__["_data_uri"] = cached
        return cached

    def wire_url(self, *, prefer_url: bool = False) -> str:
        """What goes in `image_url.url`: the source URL, or the bytes as a data URI."""
        if self.source_url and (prefer_url or not self.data):
            return self.source_url
        return self.data_uri()

    def wire_part(self, *, prefer_url: bool = False) -> ImagePart:
        """The image for a request, with the size it was prepared at; only our own data
        URI goes in verbatim (a source URL comes from outside — a file may hold anything
        there)."""
        if self.source_url and (prefer_url or not self.data):
            return ImagePart(self.source_url, self.width, self.height)
        return ImagePart(self.data_uri(), self.width, self.height, verbatim=True)


_PLAIN_MIME = re.compile(r"[A-Za-z0-9][A-Za-z0-9.+-]*/[A-Za-z0-9][A-Za-z0-9.+-]*")

# base64 is computed in slices of this many bytes (a multiple of 3): one C call holds
# the interpreter lock, and 1 MB at once took 13-20 ms on a loaded 2-core machine — a
# stall of the window while a background thread encodes.
_BASE64_SLICE = 3 * 16_384


def _encode_in_slices(data: bytes) -> bytes:
    view = memoryview(data)
    return b"".join(base64.b64encode(view[start:start + _BASE64_SLICE])
                    for start in range(0, len(data), _BASE64_SLICE))


def _is_canonical_base64(text: str, data: bytes) -> bool:
    """True when `text` is exactly `base64.b64encode(data)` (checked cheaply: the length
    and the last quantum, the only place where another valid spelling could differ)."""
    if len(text) != 4 * ((len(data) + 2) // 3) or not text.isascii():
        return False
    tail = len(data) - (len(data) - 1) // 3 * 3 if data else 0
    last = binascii.b2a_base64(data[len(data) - tail:], newline=False).decode("ascii") \
        if data else ""
    return text.endswith(last)


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
    """One message of a conversation.

    Changed in place only while it streams (`status == "streaming"`): once finished
    it is left as it is — a correction is a new message on a new branch — so that
    snapshots for autosave can share finished messages instead of copying them.
    """

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

    def copy(self) -> Message:
        """A copy whose lists and dicts are its own (strings and usage are immutable)."""
        # Not copy.copy / dataclasses.replace: a snapshot copies every message of a
        # conversation, and those took 5-10 µs each (10 ms for 1,000 messages).
        twin = Message.__new__(Message)
        fields = twin.__dict__
        fields.update(self.__dict__)
        fields["images"] = self.images.copy()
        fields["image_tokens"] = self.image_tokens.copy()
        fields["media"] = self.media.copy()
        prov = self.provenance
        if prov is not None:
            prov_twin = Provenance.__new__(Provenance)
            prov_twin.__dict__.update(prov.__dict__)
            prov_twin.params = prov.params.copy()
            fields["provenance"] = prov_twin
        return twin


def left_out_of_history(message: Message) -> bool:
    """An answer the history sent to the model leaves out: a failed or empty one
    (resending an error would confuse the model). Its question is then unanswered, and
    the next question follows it directly (see api/turn_order.py)."""
    return message.role == "assistant" and (message.status == "error" or not message.text)


class Conversation(MessageTree):
    """A conversation: settings, images, and its messages as a tree of branches.

    `messages` is the visible path (see message_tree.py): what is shown, sent and
    exported. Add messages with `append` (or `add` under a given parent); never assign
    to `messages` or change it in place.
    """

    def __init__(self, title: str = "New conversation", messages: Iterable[Message] = (),
                 images: dict[str, StoredImage] | None = None, system_prompt: str = "",
                 provider_id: str = "", model_id: str = "", params: ChatParams | None = None,
                 id: str | None = None, created: float | None = None,
                 updated: float | None = None) -> None:
        super().__init__()
        self.title = title
        self.images: dict[str, StoredImage] = dict(images or {})
        self.system_prompt = system_prompt
        self.provider_id = provider_id
        self.model_id = model_id
        self.params = params if params is not None else ChatParams()
        self.id = id or new_id()
        self.created = time.time() if created is None else created
        for message in messages:          # a straight line of turns, oldest first
            self.append(message)
        self.updated = time.time() if updated is None else updated
        #: Set by the loader when addresses in the file carried credentials it removed
        #: (so opening the file can say so). Not saved, not compared.
        self.credentials_removed_on_load = False

    def __eq__(self, other: object) -> bool:
        """Equal when everything a file would hold is equal (every branch included)."""
        if not isinstance(other, Conversation):
            return NotImplemented
        return (self._fields() == other._fields()
                and self.all_messages() == other.all_messages()
                and self._parent == other._parent
                and self.chosen_children() == other.chosen_children())

    __hash__ = None  # type: ignore[assignment]  # mutable, compared by value

    def _fields(self) -> tuple[Any, ...]:
        return (self.id, self.title, self.created, self.updated, self.system_prompt,
                self.provider_id, self.model_id, self.params, self.images)

    def __repr__(self) -> str:
        return (f"Conversation(id={self.id!r}, title={self.title!r}, "
                f"{len(self.messages)} shown of {len(self._nodes)} messages)")

    # --- editing --------------------------------------------------------------------

    def add_image(self, image: StoredImage) -> str:
        self.images.setdefault(image.sha256, image)
        return image.sha256

    def remove(self, message_id: str) -> RemovedBranch:
        """Delete a message and everything that followed it (every branch below it).

        The images only they showed leave with them; `restore` puts all of it back.
        """
        removed = self.remove_branch(message_id)
        used = self._used_images()
        removed.images = {h: img for h, img in self.images.items() if h not in used}
        for sha in removed.images:
            del self.images[sha]
        return removed

    def restore(self, removed: RemovedBranch) -> None:
        """Undo `remove`: the messages, their branches and their images come back."""
        self.restore_branch(removed)
        for sha, image in removed.images.items():
            self.images.setdefault(sha, image)

    def prune_images(self) -> None:
        """Forget images no message of any branch refers to any more."""
        used = self._used_images()
        self.images = {h: img for h, img in self.images.items() if h in used}

    def _used_images(self) -> set[str]:
        return {h for m in self._nodes.values() for h in m.images}

    def touch(self) -> None:
        self.updated = time.time()

    def _changed(self) -> None:
        self.touch()

    def snapshot(self) -> Conversation:
        """A copy to hand to another thread (autosave) while this one goes on changing.

        Cheap — a fraction of a millisecond for 1,000 messages: images are immutable
        and shared, and so are finished messages (only a message that is streaming is
        changed in place, see `Message`); the tree's dicts and the streaming answer are
        copied. Copying every message cost 2-10 ms per 1,000.
        """
        copy = Conversation.__new__(Conversation)
        copy.__dict__.update(self.__dict__)
        copy.images = dict(self.images)
        copy.params = dataclasses.replace(self.params)
        nodes = dict(self._nodes)
        for message_id, message in nodes.items():
            if message.status == "streaming":
                nodes[message_id] = message.copy()
        self._copy_tree_into(copy, nodes)
        return copy

    # --- sending --------------------------------------------------------------------

    def to_wire(self, *, drop_old_images: bool = False, prefer_urls: bool = False,
                system_prompt: str | None = None, upto: str | None = None) -> list[ChatMessage]:
        """The history as it is sent — the visible path, or the path down to `upto` —
        full by default, or with images only on the last user turn that has any (the
        person's choice; the estimate shows the difference).

        Failed or empty assistant turns are left out: resending an error would confuse
        the model. A stopped answer is kept: the person saw it and may refer to it.
        """
        prompt = self.system_prompt if system_prompt is None else system_prompt
        history = self.messages if upto is None else self.path_to(upto)
        wire: list[ChatMessage] = []
        if prompt.strip():
            wire.append(ChatMessage(role="system", text=prompt))
        last_with_images = -1
        if drop_old_images:
            for index, message in enumerate(history):
                if message.role == "user" and message.images:
                    last_with_images = index
        for index, message in enumerate(history):
            if left_out_of_history(message):
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
            # Frames with bytes are always our own data URIs (`sendable`): verbatim.
            VideoPart(frames=tuple(self.images[h].data_uri() for h in g.images),
                      timestamps=tuple(g.timestamps), verbatim=True)
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
        return _("Image question") if any(m.images for m in self.messages) else self.title
