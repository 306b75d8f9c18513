"""The values that cross the API boundary: what we send and the events we get back.

A chat stream, whatever the provider's dialect (SSE, newline-delimited JSON, one
blocking JSON answer), is turned into the same small set of typed events, so the
window, the terminal command and the tests all consume one shape.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal

Role = Literal["system", "user", "assistant"]


# --- what we send ------------------------------------------------------------------

@dataclass(frozen=True)
class ImagePart:
    """One image as it goes on the wire: a `data:` URI or an http(s) URL."""

    url: str
    width: int = 0
    height: int = 0
    """The size the app prepared it at (0 = unknown): what the model should see."""
    verbatim: bool = False
    """The url is a `data:` URI this app encoded (a checked MIME type and base64: nothing
    in it needs JSON escaping), so the request body takes it as it is — the JSON encoder
    would spend ~20 ms per megabyte holding the interpreter lock (a window stall)."""


@dataclass(frozen=True)
class VideoPart:
    """One video clip as sampled frames (`data:` URIs), each with its time in seconds."""

    frames: tuple[str, ...]
    timestamps: tuple[float, ...]
    verbatim: bool = False
    """The frames are `data:` URIs this app encoded (see `ImagePart.verbatim`)."""


@dataclass(frozen=True)
class ChatMessage:
    """One message as it goes on the wire (images first, then text, as Qwen prefers)."""

    role: Role
    text: str = ""
    images: tuple[ImagePart, ...] = ()
    videos: tuple[VideoPart, ...] = ()


@dataclass
class ChatParams:
    """Request parameters chosen by the person; `None` means "provider default".

    Only the ones the chosen provider/model accepts are sent (see `request.py`).
    """

    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None
    max_tokens: int | None = None
    presence_penalty: float | None = None
    frequency_penalty: float | None = None
    repetition_penalty: float | None = None
    seed: int | None = None
    stop: tuple[str, ...] = ()
    thinking: bool | None = None            # enable_thinking on hybrid models
    thinking_budget: int | None = None
    high_resolution: bool = False           # vl_high_resolution_images

    def to_dict(self) -> dict[str, Any]:
        # Keep every value the person set: 0, 0.0 and False are real choices
        # (`v in (None, False)` would drop them, since 0 == False in Python).
        data = asdict(self)
        data["stop"] = list(self.stop)
        return {k: v for k, v in data.items()
                if v is not None and v != [] and not (k == "high_resolution" and v is False)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ChatParams:
        """Build from saved data, ignoring unknown keys (files from newer versions)."""
        names = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in names}
        if "stop" in values:
            values["stop"] = tuple(str(s) for s in values["stop"] or ())
        return cls(**values)


# --- what comes back ---------------------------------------------------------------

@dataclass(frozen=True)
class ReasoningDelta:
    """A piece of the model's reasoning (`reasoning_content` or `reasoning`)."""

    text: str


@dataclass(frozen=True)
class ContentDelta:
    """A piece of the answer itself."""

    text: str


@dataclass(frozen=True)
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    reasoning_tokens: int = 0


@dataclass(frozen=True)
class Finish:
    """The provider said the answer is complete (`stop`, `length`, `content_filter`...)."""

    reason: str


@dataclass(frozen=True)
class Retrying:
    """Nothing has streamed yet and the request is about to be sent again."""

    attempt: int
    delay: float
    reason: str


StreamEvent = ReasoningDelta | ContentDelta | Usage | Finish | Retrying


@dataclass
class ChatResult:
    """Everything one answer produced, gathered from its events (CLI `--json`, storage)."""

    usage: Usage | None = None
    finish_reason: str = ""
    model: str = ""
    first_token_s: float | None = None
    total_s: float | None = None
    retries: int = 0
    # Pieces are kept in lists: joining once is linear, `+=` per token is not.
    _text: list[str] = field(default_factory=list, repr=False)
    _reasoning: list[str] = field(default_factory=list, repr=False)

    @property
    def text(self) -> str:
        return "".join(self._text)

    @property
    def reasoning(self) -> str:
        return "".join(self._reasoning)

    def add(self, event: StreamEvent) -> None:
        if isinstance(event, ContentDelta):
            self._text.append(event.text)
        elif isinstance(event, ReasoningDelta):
            self._reasoning.append(event.text)
        elif isinstance(event, Usage):
            self.usage = event
        elif isinstance(event, Finish):
            self.finish_reason = event.reason
        elif isinstance(event, Retrying):
            self.retries += 1
