"""What the earlier turns of a conversation cost when they are sent again (plain
arithmetic on the stored sizes: the window shows it without importing Pillow)."""

from __future__ import annotations

from .catalog import Model, Provider
from .conversation import Message, StoredImage
from .tokens import image_tokens, video_tokens

__all__ = ["resend_costs"]


def resend_costs(images: dict[str, StoredImage], messages: list[Message], model: Model,
                 provider: Provider, high_resolution: bool = False) -> list[tuple[int, int]]:
    """(pictures, tokens) each earlier user turn resends on `model`, oldest first: loose
    images and document pages by the image rule, clips by the video rule where the
    provider takes them as videos (else as images, each after its timestamp)."""
    costs: list[tuple[int, int]] = []
    for message in messages:
        if message.role != "user" or not message.images:
            continue
        clips = [g for g in message.media if g.kind == "video"]
        grouped = {sha for g in message.media for sha in g.images}
        # As `Conversation.to_wire` sends them: loose images, then every document page.
        pictures = [images[sha] for sha in message.images
                    if sha in images and sha not in grouped]
        pictures += [images[sha] for g in message.media if g.kind == "document"
                     for sha in g.images if sha in images]
        count = len(pictures)
        tokens = sum(image_tokens(p.width, p.height, model, high_resolution) for p in pictures)
        for clip in clips:
            frames = [images[sha] for sha in clip.images if sha in images]
            if not frames:
                continue
            count += len(frames)
            first = frames[0]
            if provider.takes_video(model, len(frames)):
                tokens += video_tokens(first.width, first.height, len(frames), model)
            else:
                tokens += sum(image_tokens(f.width, f.height, model) + 6 for f in frames)
        costs.append((count, tokens))
    return costs
