"""How the model bar names a model, and what its tooltip says it can do.

A model the catalog has no entry for (a provider listed it today, or a custom endpoint
serves it) is marked "guessed", and its tooltip says what was guessed from its name, so
the person knows what to check — and that vision can be turned on or off.
"""

from __future__ import annotations

from qwenvl_desktop.core.catalog import Model

from ..core.i18n import N_, _

__all__ = ["model_caption", "model_tooltip", "vision_tooltip"]

_GROUNDING = {"absolute": N_("boxes in pixels of the image as sent"),
              "relative-1000": N_("boxes in thousandths (0–1000) of each side")}


def model_caption(model: Model) -> str:
    """How a model is listed: its label, its id, and what it can or cannot do."""
    marks = []
    if not model.vision:
        marks.append(_("(text only)"))
    if model.thinking == "always":
        marks.append(_("· thinking"))
    elif model.thinking == "optional":
        marks.append(_("· thinks by default") if model.thinking_default
                     else _("· thinking optional"))
    if model.guessed:
        marks.append(_("· guessed"))
    caption = model.label if model.label == model.id else f"{model.label} — {model.id}"
    return " ".join([caption, *marks])


def _abilities(model: Model) -> list[str]:
    said = [_("sees images") if model.vision else _("does not see images")]
    if model.thinking == "always":
        said.append(_("always thinks before answering"))
    elif model.thinking == "optional":
        said.append(_("thinks unless told not to") if model.thinking_default
                    else _("can think when asked"))
    said.append(_("{patch_factor}-pixel patches").format(patch_factor=model.patch_factor))
    said.append(_("up to {image_token_cap} tokens per image").format(
        image_token_cap=model.image_token_cap))
    if model.grounding:
        said.append(_(_GROUNDING[model.grounding]))
    return said


def model_tooltip(model: Model) -> str:
    """What the model is, and for a guessed one what was guessed and how to correct it."""
    lines = [f"{model.label} ({model.id})" if model.label != model.id else model.id]
    if model.guessed:
        rules = ", ".join(model.guessed_from) or _("no family rule matched")
        lines.append(_("Not in the catalog: guessed from its name ({rules}): ").format(rules=rules)
                     + "; ".join(_abilities(model)) + ".")
        lines.append(_("If it cannot see images (or can), switch “Images” next to the list (or "
                       "right-click the list)."))
    else:
        lines.append("; ".join(_abilities(model)).capitalize() + ".")
    if model.assumed:
        lines.append(_("Not documented by the provider, assumed: ")
                     + ", ".join(name.replace("_", " ") for name in model.assumed) + ".")
    if "vision" in model.overridden:
        lines.append(_("Whether it sees images was set by you."))
    return "\n".join(lines)


def vision_tooltip(model: Model) -> str:
    """The “Images” switch: its state, and where that state came from."""
    state = _("sees images") if model.vision else _("does not see images")
    if "vision" in model.overridden:
        origin = _("you set this; switch again to go back to ")
        origin += _("the guess.") if model.guessed else _("the catalog.")
    elif model.guessed:
        origin = _("guessed from its name; switch if that is wrong.")
    else:
        origin = _("as the catalog says; switch only if you know better.")
    return f"{model.id} {state} — {origin}"
