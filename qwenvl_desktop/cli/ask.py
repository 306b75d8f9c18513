"""`qwenvl-desktop ask`: one turn, streamed to the terminal, optionally saved.

The answer goes to stdout as it arrives; reasoning goes to stderr, every line marked
`[reasoning]`, so `ask … > answer.txt` captures only the answer. A last line on stderr
gives usage and timings. With `--continue`/`--save` the conversation is saved while
the answer streams and once more when the turn ends — also on error or Ctrl-C, keeping
the question and any partial answer (marked as incomplete). A file changed by another
program meanwhile (the window saved the same conversation) is never overwritten: it is
left as it is, and this conversation is saved beside it as `name (copy from the
terminal).qwenvl`, which stderr names (`core/file_guard.py`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TextIO

from ..core.api.types import ChatParams, ContentDelta, ReasoningDelta, Retrying, StreamEvent
from ..core.catalog import CustomEndpoint, Model, Provider
from ..core.conversation import Conversation, Message, left_out_of_history
from ..core.errors import ConfigError, exit_code_for, explain, register_secret
from ..core.file_guard import GuardedFile
from ..core.images import (
    PreparedImage,
    fetch_image_url,
    image_byte_budget,
    prepare_image_async,
    read_image_file,
)
from ..core.media import PreparedMedia
from ..core.opened_files import review_opened_conversation
from ..core.output_rate import tokens_per_second
from ..core.secrets import TERMINAL_WAIT, KeyStore
from ..core.throttle import Throttle
from ..core.turn import Turn, send_turn
from ..core.url_credentials import UrlCredentials, split_url_credentials
from ..services import Services
from .annotate import detections_json, write_annotated
from .media_inputs import is_media_source, prepare_media_source

__all__ = ["run_ask"]

_COPY_LABEL = "copy from the terminal"
CUSTOM_KEY_ENV = "QWENVL_API_KEY"
DEFAULT_PROVIDER = "dashscope-intl"
SAVE_EVERY_S = 2.0          # while the answer streams; and once when the turn ends


def run_ask(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    if args.base_url and not args.provider and not args.model:
        parser.error("--base-url without -p needs -m MODEL (the endpoint's model name)")
    if args.prompt == "-":
        args.prompt = sys.stdin.read()
    if not args.prompt.strip() and not args.image:
        parser.error("the prompt is empty")
    if args.annotate is not None and not args.image and not args.continue_file:
        parser.error("--annotate needs an image (-i IMAGE) or a conversation (--continue)")
    # asyncio.run turns Ctrl-C into a cancellation of the task (closing the stream and
    # saving what arrived), then raises KeyboardInterrupt: main() makes that exit 130.
    return asyncio.run(_ask(args))


@dataclass
class _Choice:
    provider: Provider
    model: Model
    api_key: str | None


def _choose(args: argparse.Namespace, services: Services,
            conversation: Conversation | None) -> _Choice:
    """Provider, model and key from the flags, the saved conversation and the settings."""
    catalog = services.catalog
    base_url, url_credentials = split_url_credentials(args.base_url or "")
    if args.base_url and not args.provider:
        endpoint = CustomEndpoint(name="custom", base_url=base_url,
                                  models=(args.model,), key_env=CUSTOM_KEY_ENV)
        # Named as the person named it: the URL they typed (without any credentials).
        provider = replace(catalog.make_custom(endpoint), name=base_url)
        _use_url_credentials(services, provider, url_credentials)
        key = os.environ.get(CUSTOM_KEY_ENV, "").strip() or None
        if key:
            register_secret(key)
        return _Choice(provider, provider.model(args.model), key)
    provider_id = args.provider or (conversation.provider_id if conversation else "")
    if not provider_id:
        last = services.settings.last_provider
        provider_id = last if last in catalog.providers else DEFAULT_PROVIDER
    provider = catalog.get(provider_id)
    if args.base_url:
        provider = provider.with_base_url(base_url)
        _use_url_credentials(services, provider, url_credentials)
    model_id = args.model
    if not model_id and conversation and conversation.provider_id == provider.id:
        model_id = conversation.model_id
    if not model_id and not args.provider and services.settings.last_provider == provider.id:
        model_id = services.settings.last_model
    if not model_id:
        if not provider.models:
            raise ConfigError(f"{provider.name} has no models listed; choose one with -m.")
        model_id = provider.models[0].id
    model = provider.model(model_id)
    return _Choice(provider, model, services.api_key(provider))


def _use_url_credentials(services: Services, provider: Provider,
                         credentials: UrlCredentials) -> None:
    """Credentials typed into --base-url: sent with this run's requests, never saved."""
    if not credentials:
        return
    services.keystore.set_url_credentials(provider, credentials, session_only=True)
    print(f"note: --base-url carries {credentials.describe()}; they are sent with this "
          f"request only and never saved (conversations record {provider.base_url}).",
          file=sys.stderr)


def _params(args: argparse.Namespace, base: ChatParams) -> ChatParams:
    params = replace(base)
    for flag, name in (("temperature", "temperature"), ("top_p", "top_p"),
                       ("max_tokens", "max_tokens"), ("seed", "seed")):
        value = getattr(args, flag)
        if value is not None:
            setattr(params, name, value)
    if args.thinking is not None:
        params.thinking = args.thinking
    if args.high_res:
        params.high_resolution = True
    return params


async def _images(args: argparse.Namespace, services: Services, choice: _Choice,
                  params: ChatParams
                  ) -> tuple[list[PreparedImage | PreparedMedia], tuple[bytes, str] | None]:
    """What is sent (images, documents' pages, clips' frames), and the first image's
    own bytes and name (for --annotate)."""
    sources: list[str] = args.image
    budget = image_byte_budget(choice.provider, len(sources))
    prepared: list[PreparedImage | PreparedMedia] = []
    first: tuple[bytes, str] | None = None
    for source in sources:
        if is_media_source(source):
            prepared.append(await prepare_media_source(
                source, model=choice.model, provider=choice.provider,
                high_resolution=params.high_resolution, fps=args.fps,
                max_frames=args.max_frames, max_bytes=budget, notes=sys.stderr))
            continue
        is_url = source.startswith(("http://", "https://"))
        if is_url:
            data = await fetch_image_url(services.http, source, max_bytes=50_000_000)
            name = source.rsplit("/", 1)[-1] or source
        else:
            data = await asyncio.to_thread(read_image_file, Path(source))
            name = Path(source).name
        prepared.append(await prepare_image_async(
            data, name=name, model=choice.model, provider=choice.provider,
            high_resolution=params.high_resolution, max_bytes=budget,
            source_url=source if is_url else ""))
        first = first or (data, name)
    return prepared, first


class _Printer:
    """Writes events to the terminal: answer to stdout, marked reasoning to stderr."""

    def __init__(self, out: TextIO, err: TextIO) -> None:
        self.out, self.err = out, err
        self.reasoning_open = False      # a reasoning line has been started on stderr
        self.at_line_start = True
        self.answer_ends_with_newline = True

    def __call__(self, event: StreamEvent) -> None:
        if isinstance(event, ReasoningDelta) and event.text:
            for piece in event.text.splitlines(keepends=True):
                if self.at_line_start:
                    self.err.write("[reasoning] ")
                self.err.write(piece)
                self.at_line_start = piece.endswith("\n")
            self.reasoning_open = not self.at_line_start
            self.err.flush()
        elif isinstance(event, ContentDelta) and event.text:
            self.close_reasoning()
            self.out.write(event.text)
            self.out.flush()
            self.answer_ends_with_newline = event.text.endswith("\n")
        elif isinstance(event, Retrying):
            self.close_reasoning()
            self.err.write(f"[retrying in {event.delay:.1f} s: {event.reason}]\n")
            self.err.flush()

    def close_reasoning(self) -> None:
        if self.reasoning_open:
            self.err.write("\n")
            self.reasoning_open = False
            self.at_line_start = True

    def end_answer(self) -> None:
        self.close_reasoning()
        if not self.answer_ends_with_newline:
            self.out.write("\n")
            self.answer_ends_with_newline = True
        self.out.flush()


def _summary(message: Message) -> str:
    prov = message.provenance
    if prov is None:
        return ""
    parts = [f"{prov.model} via {prov.provider}"]
    if prov.usage is not None:
        parts.append(f"{prov.usage.prompt_tokens} prompt + {prov.usage.completion_tokens} "
                     "completion tokens")
    if prov.first_token_s is not None:
        parts.append(f"first token {prov.first_token_s:.2f} s")
    if prov.total_s is not None:
        parts.append(f"total {prov.total_s:.2f} s")
    rate = tokens_per_second(message)
    if rate is not None:
        parts.append(f"{rate:.1f} tokens/s")
    if prov.retries:
        parts.append(f"{prov.retries} retr{'y' if prov.retries == 1 else 'ies'}")
    parts.append(f"finish: {prov.finish_reason or message.status}")
    return "[" + " · ".join(parts) + "]"


def _as_json(message: Message, *, error: BaseException | None = None,
             saved: Path | None = None) -> dict[str, Any]:
    prov = message.provenance
    usage = prov.usage if prov else None
    data: dict[str, Any] = {
        "text": message.text,
        "reasoning": message.reasoning,
        "usage": None if usage is None else {
            "prompt_tokens": usage.prompt_tokens,
            "completion_tokens": usage.completion_tokens,
            "total_tokens": usage.total_tokens,
            "reasoning_tokens": usage.reasoning_tokens,
        },
        "finish_reason": prov.finish_reason if prov else "",
        "model": prov.model if prov else "",
        "provider": prov.provider if prov else "",
        "timings": {"first_token_s": prov.first_token_s if prov else None,
                    "total_s": prov.total_s if prov else None},
        "retries": prov.retries if prov else 0,
        "status": message.status,
    }
    if saved is not None:
        data["saved"] = str(saved)
    if error is not None:
        data["error"] = explain(error)
        data["exit_code"] = exit_code_for(error)
    return data


def _save(conv: Conversation, target: GuardedFile) -> None:
    """Save the conversation to its file, never over another program's change."""
    left_alone = target.save(conv)
    if left_alone is not None:
        print(f"qwenvl-desktop: {left_alone.name} was changed by another program since it "
              f"was read, so it is left as it is; this conversation is saved as "
              f"{target.path}", file=sys.stderr)


async def _ask(args: argparse.Namespace) -> int:
    # A terminal can wait for the keyring (an unlock prompt); the window cannot.
    services = Services.create(keystore=KeyStore(wait=TERMINAL_WAIT))
    for warning in services.settings_warnings:
        print(f"note: {warning}", file=sys.stderr)
    try:
        return await _ask_with(args, services)
    finally:
        await services.aclose()


async def _ask_with(args: argparse.Namespace, services: Services) -> int:
    if args.timeout is not None:
        services.settings.read_timeout = args.timeout
        services.reconfigure_client()
    source = (GuardedFile(args.continue_file, label=_COPY_LABEL) if args.continue_file
              else None)
    conversation = source.load() if source is not None else None
    choice = _choose(args, services, conversation)
    if conversation is not None:
        # A file may come from someone else: what it would steer is checked and said.
        for notice in review_opened_conversation(conversation, services.catalog,
                                                 choice.provider):
            print(f"note: {notice}", file=sys.stderr)
        last = conversation.messages[-1] if conversation.messages else None
        if last is not None and (last.role == "user" or left_out_of_history(last)):
            print("note: the last question in the file has no answer; it is sent again "
                  "with this one.", file=sys.stderr)
    base = conversation.params if conversation else services.settings.params_for(
        choice.provider.id)
    params = _params(args, base)
    images, first_original = await _images(args, services, choice, params)

    if conversation is None:
        conversation = Conversation(system_prompt=services.settings.system_prompt)
    if args.system is not None:
        conversation.system_prompt = args.system
    conversation.provider_id, conversation.model_id = choice.provider.id, choice.model.id
    conversation.params = params
    target = source
    if args.save is not None and (source is None or args.save != source.path):
        target = GuardedFile(args.save, label=_COPY_LABEL)

    turns: list[Turn] = []

    def save() -> None:
        if target is None:
            return
        for turn in turns:
            turn.sync()                      # what has arrived so far goes into the file
        if conversation.title == "New conversation":
            conversation.title = conversation.auto_title()
        _save(conversation, target)

    throttle = Throttle(save, SAVE_EVERY_S)
    printer = None if args.json else _Printer(sys.stdout, sys.stderr)

    def on_event(event: StreamEvent) -> None:
        if printer is not None:
            printer(event)
        throttle()

    def on_end(_turn: Turn) -> None:
        throttle.cancel()
        save()

    try:
        message = await send_turn(
            services.client, conversation, choice.provider, choice.model, params,
            args.prompt, images, api_key=choice.api_key,
            drop_old_images=services.settings.drop_old_images,
            on_start=turns.append, on_event=on_event, on_end=on_end)
    except Exception as exc:
        failed = conversation.messages[-1]
        saved = target.path if target else None
        if printer is not None:
            printer.end_answer()
        elif failed.role == "assistant":
            data = _as_json(failed, error=exc, saved=saved)
            data["detections"] = detections_json(conversation, failed, services.catalog)
            print(json.dumps(data, ensure_ascii=False))
        raise
    except BaseException:  # Ctrl-C: the answer was saved as stopped; main() says "Stopped."
        if printer is not None:
            printer.end_answer()
        raise
    if printer is not None:
        printer.end_answer()
        print(_summary(message), file=sys.stderr)
    if printer is None:
        data = _as_json(message, saved=target.path if target else None)
        data["detections"] = detections_json(conversation, message, services.catalog)
        print(json.dumps(data, ensure_ascii=False), flush=True)
    if args.annotate is not None:     # after the answer is out: a write error loses nothing
        write_annotated(args.annotate, conversation, message, services.catalog,
                        first_original, sys.stderr)
    return 0
