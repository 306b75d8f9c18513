"""The terminal front end: `qwenvl-desktop ask|providers|models|key|export`.

It runs on the Qt-free core alone (the proof that the core stands alone) and never
imports the window: `qwenvl_desktop.__main__` decides between the two (`wants_window`)
and hands `--self-test`, which opens a window, in as a callable. Exit codes come from
`errors.exit_code_for` and error text from `errors.explain`, so the terminal and the
window say the same thing about the same failure:

    0 ok · 2 usage · 3 authentication, permission or credits · 4 still rate-limited
    5 other provider error · 6 network, timeout or interrupted stream
    7 bad input file · 8 keyring trouble: no secure keyring to save a key in, or it
    is locked, refused or did not answer · 130 interrupted by Ctrl-C
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from .. import __version__
from ..core.errors import exit_code_for, explain, use_advice
from .advice import terminal_advice

__all__ = ["COMMANDS", "build_parser", "main", "wants_window"]

COMMANDS = ("ask", "providers", "models", "key", "export")


class _Parser(argparse.ArgumentParser):
    """argparse, but usage errors go through `main` as exit code 2, not sys.exit."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        raise _UsageError(2)


class _UsageError(Exception):
    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number") from None
    if not (value > 0 and value <= 60):
        raise argparse.ArgumentTypeError(f"'{text}' should be above 0 and at most 60")
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
    if not 1 <= value <= 512:
        raise argparse.ArgumentTypeError(f"'{text}' should be from 1 to 512")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number of seconds") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be more than 0 seconds, not {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="qwenvl-desktop",
        description="Talk to Qwen vision-language models. Without a command, opens the window.",
    )
    parser.add_argument("--version", action="version", version=f"qwenvl-desktop {__version__}")
    parser.add_argument("--self-test", action="store_true",
                        help="check that the app works on this machine, then exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    ask = sub.add_parser("ask", help="ask a question (with images) and stream the answer")
    ask.add_argument("prompt", metavar="PROMPT", help="the question; '-' reads it from stdin")
    ask.add_argument("-p", "--provider", help="provider id (see `qwenvl-desktop providers`)")
    ask.add_argument("-m", "--model", help="model id (default: the provider's first model)")
    ask.add_argument("-i", "--image", action="append", default=[], metavar="FILE",
                     help="an image file or http(s) URL, a PDF (doc.pdf, or doc.pdf:2-5 for "
                          "pages 2 to 5; without a range at most the first 20 pages) or a "
                          "video (mp4, webm, mov, mkv); repeat for several")
    ask.add_argument("--fps", type=_positive_float, metavar="F", default=None,
                     help="video frames taken per second (default 2)")
    ask.add_argument("--max-frames", type=_positive_int, metavar="N", default=None,
                     help="most frames taken from each video (default 32, at most 512)")
    ask.add_argument("--system", metavar="TEXT", help="system prompt")
    ask.add_argument("--temperature", type=float, metavar="F")
    ask.add_argument("--top-p", type=float, metavar="F")
    ask.add_argument("--max-tokens", type=int, metavar="N")
    ask.add_argument("--seed", type=int, metavar="N")
    thinking = ask.add_mutually_exclusive_group()
    thinking.add_argument("--thinking", dest="thinking", action="store_true", default=None,
                          help="ask a hybrid model to reason before answering")
    thinking.add_argument("--no-thinking", dest="thinking", action="store_false")
    ask.add_argument("--high-res", action="store_true",
                     help="send images at high resolution (more tokens) where offered")
    ask.add_argument("--base-url", metavar="URL",
                     help="without -p: a custom OpenAI-compatible endpoint (key from "
                          "QWENVL_API_KEY); with -p: that provider's dialect sent to this URL")
    ask.add_argument("--timeout", type=_seconds, metavar="SECONDS",
                     help="longest silence allowed while the answer streams")
    ask.add_argument("--save", type=Path, metavar="FILE", help="save the conversation here")
    ask.add_argument("--continue", dest="continue_file", type=Path, metavar="FILE",
                     help="continue a saved conversation and save it back")
    ask.add_argument("--json", action="store_true",
                     help="print one JSON object at the end instead of streaming (with the "
                          "answer's boxes and points as \"detections\", in pixels of the "
                          "original images)")
    ask.add_argument("--annotate", type=Path, metavar="OUT.png",
                     help="write the first image at its original size with the answer's "
                          "boxes and points drawn in")

    sub.add_parser("providers", help="list providers, models and whether a key is set")

    models = sub.add_parser(
        "models", help="list a provider's models: the catalog merged with its own list")
    models.add_argument("provider", metavar="PROVIDER",
                        help="provider id (see `qwenvl-desktop providers`), a custom endpoint's "
                             "name, or 'custom' with --base-url")
    models.add_argument("--base-url", metavar="URL",
                        help="that provider's dialect at this URL; with 'custom', an "
                             "OpenAI-compatible endpoint (key from QWENVL_API_KEY)")
    models.add_argument("--refresh", action="store_true",
                        help="ask the provider for its list now (kept, with its date)")
    models.add_argument("--timeout", type=_seconds, metavar="SECONDS",
                        help="longest silence allowed while the list arrives")
    models.add_argument("--json", action="store_true", help="print JSON instead of text")

    key = sub.add_parser("key", help="store, delete or check a provider's API key")
    key.add_argument("action", choices=("set", "delete", "status"))
    key.add_argument("provider", metavar="PROVIDER")

    export = sub.add_parser("export", help="export a saved conversation to Markdown or HTML")
    export.add_argument("file", type=Path, metavar="FILE")
    export.add_argument("--to", choices=("md", "html"), required=True)
    export.add_argument("-o", "--output", type=Path, metavar="OUT")
    return parser


def wants_window(argv: Sequence[str]) -> bool:
    """No arguments, or only existing files (a conversation, images): the window's job."""
    if not argv:
        return True
    return argv[0] not in COMMANDS and all(
        not arg.startswith("-") and Path(arg).is_file() for arg in argv)


def main(argv: Sequence[str] | None = None, *,
         self_test: Callable[[], int] | None = None) -> int:
    """Run the command in `argv` (default: sys.argv[1:]) and return its exit code.

    `self_test` runs `--self-test` (it needs the window, which this package never
    imports); without it, `--self-test` is a usage error.
    """
    args_list = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    try:
        args = parser.parse_args(args_list)
    except _UsageError as err:
        return err.code
    except SystemExit as err:  # --help and --version
        return err.code if isinstance(err.code, int) else 0
    if args.self_test and self_test is not None:
        return self_test()
    if args.command is None:
        parser.print_usage(sys.stderr)
        print("qwenvl-desktop: error: give a command (the window opens from the "
              "`qwenvl-desktop` program itself)", file=sys.stderr)
        return 2
    # Errors are explained in the terminal's terms (options, sub-commands, env vars).
    previous = use_advice(terminal_advice)
    try:
        return _run_command(args, parser)
    finally:
        use_advice(previous)


def _run_command(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    try:
        return _dispatch(args, parser)
    except _UsageError as err:
        return err.code
    except KeyboardInterrupt:
        print("\nStopped.", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`… | head`): stop quietly, and keep Python from
        # complaining again when it flushes stdout at exit.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    except Exception as exc:
        print(f"qwenvl-desktop: {explain(exc)}", file=sys.stderr)
        return exit_code_for(exc)


def _dispatch(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    if args.command == "ask":
        from .ask import run_ask
        return run_ask(args, parser)
    if args.command == "models":
        from .models import run_models
        return run_models(args)
    from . import commands
    if args.command == "providers":
        return commands.run_providers()
    if args.command == "key":
        return commands.run_key(args.action, args.provider)
    return commands.run_export(args.file, args.to, args.output)
