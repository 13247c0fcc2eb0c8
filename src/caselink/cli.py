"""The ``caselink`` command.  Verbs live in :mod:`caselink.commands`, one module per area."""

from __future__ import annotations

import importlib
import pkgutil
import sys
from typing import Annotated

import typer

try:  # typer 0.2x vendors click as typer._click; older ones raise click's own exceptions
    from typer._click import exceptions as usage
except ImportError:  # pragma: no cover - depends on the installed typer
    from click import exceptions as usage  # type: ignore[no-redef]

import caselink
from caselink import commands

app = typer.Typer(
    name="caselink",
    help="Find deaths that belong together, and keep every investigative decision accountable.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"caselink {caselink.__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
) -> None:
    """caselink: series detection, assurance and audit for unexplained deaths."""


def _register_all() -> None:
    for module in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        if module.name == "common":
            continue
        loaded = importlib.import_module(f"caselink.commands.{module.name}")
        register = getattr(loaded, "register", None)
        if register is not None:
            register(app)


_register_all()


def main() -> None:
    """Run the command; a usage error (bad option value, unknown option or command) is one line.

    Why not click's own box: every other error caselink gives is one ``caselink: error:`` line with
    exit code 2 for bad input, and users' scripts read stderr that way (DESIGN §3).
    """
    try:
        code = app(standalone_mode=False)
    except usage.NoArgsIsHelpError as exc:
        if exc.ctx is not None:  # a bare ``caselink``: its help, as before
            typer.echo(exc.ctx.get_help())
        sys.exit(exc.exit_code)
    except usage.UsageError as exc:
        path = exc.ctx.command_path if exc.ctx is not None else "caselink"
        message = " ".join(exc.format_message().split())
        sys.stderr.write(f"caselink: error: {message} (see '{path} --help')\n")
        sys.exit(exc.exit_code)
    except usage.ClickException as exc:
        sys.stderr.write(f"caselink: error: {' '.join(exc.format_message().split())}\n")
        sys.exit(exc.exit_code)
    except typer.Abort:
        sys.stderr.write("caselink: error: interrupted\n")
        sys.exit(130)
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
