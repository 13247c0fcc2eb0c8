"""The ``caselink`` command.  Verbs live in :mod:`caselink.commands`, one module per area."""

from __future__ import annotations

import importlib
import pkgutil
from typing import Annotated

import typer

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
    app()


if __name__ == "__main__":
    main()
