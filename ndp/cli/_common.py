"""What every command shares: output formats, option spellings, error handling."""

from __future__ import annotations

import contextlib
import enum
import json
import math
import sys
from typing import Annotated

import typer
from typer.core import TyperGroup

from ndp.errors import NdpError


class Format(enum.StrEnum):
    """Output format of a command's table."""

    table = "table"
    csv = "csv"
    json = "json"


FormatOption = Annotated[
    Format,
    typer.Option(
        "--format", "-f", help="table (for people), csv or json (for scripts; stable columns)."
    ),
]


def fail(message: str) -> typer.Exit:
    """Print one line on stderr and return the Exit(2) to raise."""
    typer.echo(f"ndp: error: {message}", err=True)
    return typer.Exit(code=2)


def _hide_flag_types(command, ctx) -> None:
    """Help as written: no '<bool>' beside on/off flags (typer shows every option's type), and
    run-file sections such as '[sample]' kept, not swallowed as rich markup tags."""
    from rich.markup import escape

    if getattr(command, "_ndp_help", False):
        return
    command._ndp_help = True
    if command.help:
        command.help = escape(command.help)
    for param in command.get_params(ctx):
        if getattr(param, "help", None) and not getattr(param, "_ndp_help", False):
            param.help = escape(param.help)
            param._ndp_help = True
        if getattr(param, "is_flag", False) and hasattr(param, "display_type_rich"):
            param.display_type_rich = lambda ctx: None
    if hasattr(command, "list_commands"):
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            if sub is not None:
                _hide_flag_types(sub, ctx)


class NdpGroup(TyperGroup):
    """A command group that turns a user's mistake (NdpError) into one line and exit code 2."""

    def get_command(self, ctx, cmd_name):
        command = super().get_command(ctx, cmd_name)
        if command is not None:
            _hide_flag_types(command, ctx)
        return command

    def format_help(self, ctx, formatter):
        _hide_flag_types(self, ctx)
        return super().format_help(ctx, formatter)

    def invoke(self, ctx):
        from typer._click.exceptions import UsageError  # typer's own click raises them

        try:
            return super().invoke(ctx)
        except NdpError as exc:
            raise fail(str(exc)) from None
        except UsageError as exc:
            if (
                type(exc).__name__ == "NoArgsIsHelpError"
                or exc.ctx is None
                or exc.ctx.command is self
            ):
                raise  # the help a bare command asks for, or the group's own usage
            # A value that fails its option's check: one line too, not a usage box.
            raise fail(f"{exc.format_message()} (see '{exc.ctx.command_path} --help')") from None
        except BrokenPipeError:
            # The reader of our stdout (``| head``) has had enough: not an error of anyone's.
            import os

            with contextlib.suppress(OSError):
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            raise typer.Exit(code=0) from None
        except OSError as exc:
            # A folder that cannot be written (read-only, full disk, no permission) is the
            # user's situation to fix, not a bug: name the path and the reason.
            where = exc.filename if exc.filename is not None else "output"
            raise fail(f"{where}: {exc.strerror or exc}") from None
        except MemoryError:
            raise fail(
                "out of memory; use a coarser grid (depth_step_um), fewer channels or "
                "shorter inputs"
            ) from None
        except KeyboardInterrupt:
            typer.echo("ndp: interrupted", err=True)
            raise typer.Exit(code=130) from None


def _clean(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def emit(df, fmt: Format, *, notes: list[str] | None = None, float_format: str = "{:.6g}") -> None:
    """Print a table (pandas DataFrame) in the chosen format on stdout.

    ``notes`` are printed as ``# ...`` lines above the table in ``table`` format only, so that
    csv and json stay machine-readable.
    """
    out = sys.stdout
    if fmt is Format.csv:
        df.to_csv(out, index=False, float_format="%.6g", lineterminator="\n")
    elif fmt is Format.json:
        rows = [{k: _clean(v) for k, v in row.items()} for row in df.to_dict(orient="records")]
        json.dump(rows, out, indent=1)
        out.write("\n")
    else:
        for note in notes or []:
            out.write(f"# {note}\n")
        out.write(df.to_string(index=False, float_format=float_format.format, na_rep="-") + "\n")


class Progress:
    """A rich progress bar on a terminal's stderr; silent elsewhere (CI logs, pipes).

    Use as ``with Progress() as p: library_call(progress=p.update)``; the library calls
    ``update(stage, done, total)``.
    """

    def __init__(self):
        self._bar = None
        self._tasks: dict[str, int] = {}

    def __enter__(self):
        if sys.stderr.isatty():
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeRemainingColumn
            from rich.progress import Progress as RichProgress

            self._bar = RichProgress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                     TimeRemainingColumn(), console=Console(stderr=True), transient=True)  # fmt: skip
            self._bar.__enter__()
        return self

    def update(self, stage: str, done: int, total: int = 0) -> None:
        if self._bar is None:
            return
        if stage not in self._tasks:
            self._tasks[stage] = self._bar.add_task(stage, total=total or None)
        self._bar.update(self._tasks[stage], completed=done, total=total or None)

    def __exit__(self, *exc):
        if self._bar is not None:
            self._bar.__exit__(*exc)
        return False
