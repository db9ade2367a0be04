"""How every CLI command runs: with a container from the environment, closed afterwards;
its errors one line on stderr and an exit code, never a trace."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Concatenate, NoReturn, ParamSpec

import click

from logistic.container import Container, container_from_environment
from logistic.domain.errors import DomainError
from logistic.entrypoints import logs

INTERRUPTED = 130  # what a shell reports for a process ended by Ctrl-C

Options = ParamSpec("Options")


def fail(message: str, code: int) -> NoReturn:
    click.echo(message, err=True)
    click.get_current_context().exit(code)


def with_container(
    command: Callable[Concatenate[Container, Options], None],
) -> Callable[Options, None]:
    """`command` run with a container from the environment, closed afterwards."""

    @functools.wraps(command)
    def invoke(*args: Options.args, **kwargs: Options.kwargs) -> None:
        name = click.get_current_context().find_root().invoked_subcommand
        try:
            container = container_from_environment()
        except DomainError as error:
            fail(f"logistic: {error}", 2)
        settings = container.settings()
        logs.configure(settings.log_level, settings.log_format)
        try:
            command(container, *args, **kwargs)
        except DomainError as error:
            fail(f"logistic {name}: {error}", 1)
        except KeyboardInterrupt:
            fail(f"logistic {name}: interrupted", INTERRUPTED)
        finally:
            container.shutdown_resources()

    return invoke
