"""What to do about an error, in the terminal's terms: its options and commands.

The core records what went wrong as facts (`core.error_facts`); this module words the
advice for someone at a shell prompt — `--timeout`, `qwenvl-desktop key set …`, the
provider's environment variable — instead of the window's panels.
"""

from __future__ import annotations

from ..core.error_facts import ErrorFacts, generic_advice, moderation_sentence

__all__ = ["terminal_advice"]

# `ask --base-url URL` without -p talks to an endpoint that is not saved anywhere.
AD_HOC = "custom"


def _key_commands(f: ErrorFacts) -> str:
    ways = []
    if f.provider and f.provider != AD_HOC:
        ways.append(f"store one with `qwenvl-desktop key set {f.provider}` (it reads the key "
                    "from stdin, never from the command line)")
    if f.env_var:
        ways.append(f"set the {f.env_var} environment variable")
    return " or ".join(ways)


def _models_command(f: ErrorFacts) -> str:
    if not f.provider or f.provider == AD_HOC:
        return ""
    return f" (`qwenvl-desktop models {f.provider} --refresh` lists what it serves today)"


def terminal_advice(f: ErrorFacts) -> str:
    """Advice naming the terminal command's options and sub-commands."""
    kind = f.kind
    if kind == "missing_key":
        ways = _key_commands(f)
        return f"To add a key, {ways}." if ways else ""
    if kind == "auth":
        ways = _key_commands(f)
        fix = f" To replace it, {ways}." if ways else ""
        if f.region_locked:
            return ("Check the key. DashScope keys are tied to a region: a Singapore key does "
                    "not work in Virginia or Beijing; choose the key's region with -p "
                    f"(dashscope-intl, dashscope-us, dashscope-cn).{fix}")
        return f"Check the key.{fix}"
    if kind == "rate_limit":
        wait = f" (it asked to wait {f.retry_after:g} s)" if f.retry_after else ""
        return f"The provider is rate-limiting requests{wait}; wait, then run the command again."
    if kind == "timeout":
        return ("The provider took too long; run the command again, or allow a longer "
                "silence with --timeout SECONDS.")
    if kind == "bad_request":
        return ("The provider refused the request; check the options you gave (--temperature, "
                "--top-p, --max-tokens, --seed, --thinking/--no-thinking, --high-res).")
    if kind == "image_refused":
        return ("The provider refused an image; try a smaller or different image (-i), or "
                "leave out --high-res.")
    if kind == "too_long":
        return ("The conversation is too long for this model; start a new one (without "
                "--continue) or send fewer images.")
    if kind == "model_not_found":
        return f"This provider does not know the model; pick another with -m{_models_command(f)}."
    if kind == "not_found":
        return ("The model or endpoint was not found; check -m, the region (-p) and "
                f"--base-url{_models_command(f)}.")
    if kind == "model_retired":
        charged = " Nothing was charged." if not f.billed else ""
        return f"This model was retired; pick another with -m{_models_command(f)}.{charged}"
    if kind == "moderation":
        return moderation_sentence(f)
    if kind == "malformed":
        return ("The provider sent something that is not a chat answer; check --base-url and "
                "the provider's status.")
    if kind == "network":
        return "Check the network connection, proxy settings and the address (--base-url)."
    return generic_advice(f)
