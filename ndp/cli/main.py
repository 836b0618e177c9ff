"""The ``ndp`` command: a thin layer over the library, one module per command."""

from __future__ import annotations

import typer

from ndp.cli._common import NdpGroup

app = typer.Typer(
    name="ndp",
    cls=NdpGroup,
    help="Operando neutron depth profiling of Li batteries: spectra → Li depth profiles → "
    "Li efficiency.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)


def _version(value: bool):
    if value:
        from ndp import __version__

        typer.echo(f"ndp {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
    verbose: int = typer.Option(
        0, "--verbose", "-v", count=True,
        help="Say what ndp does, step by step (-v), and how the solver fares on each block of "
        "frames (-vv); on standard error.",
    ),
):
    """Operando neutron depth profiling of Li batteries."""
    if verbose:
        import logging

        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("ndp %(levelname)s %(name)s: %(message)s"))
        root = logging.getLogger("ndp")
        root.addHandler(handler)
        root.setLevel(logging.INFO if verbose == 1 else logging.DEBUG)


def _register() -> None:
    from ndp.cli import calibrate, cycles, demo, depth, info, run, simulate, stopping

    app.command("run")(run.run)
    app.command("demo")(demo.demo)
    app.add_typer(stopping.app, name="stopping")
    app.command("depth")(depth.depth)
    app.command("calibrate")(calibrate.calibrate)
    app.command("info")(info.info)
    app.command("simulate")(simulate.simulate)
    app.command("cycles")(cycles.cycles)


_register()


def main() -> None:
    """Console-script entry point."""
    app()
