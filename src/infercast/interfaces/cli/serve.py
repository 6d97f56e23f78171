"""``infercast serve``: the API and web app on one local port (uvicorn)."""

from __future__ import annotations

import ipaddress
from typing import Annotated

import typer

from infercast.interfaces.cli.common import ModelsDirOption, console, err_console, esc

__all__ = ["register"]


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve(
    host: Annotated[
        str, typer.Option(help="Interface to listen on; the default is this machine only.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port.")] = 8000,
    models_dir: ModelsDirOption = None,
    cors_origin: Annotated[
        list[str] | None,
        typer.Option(
            "--cors-origin",
            help="Origin allowed cross-origin access, e.g. http://localhost:3000 (repeatable; "
            "default none, or INFERCAST_CORS_ORIGINS).",
        ),
    ] = None,
    allowed_host: Annotated[
        list[str] | None,
        typer.Option(
            "--allowed-host",
            help="Host name clients may use in addition to the bound host and localhost, e.g. "
            "infercast.example.org (repeatable; '*' accepts any; or INFERCAST_ALLOWED_HOSTS).",
        ),
    ] = None,
) -> None:
    """Serve the HTTP API and the web app (open the printed URL in a browser)."""
    import uvicorn

    from infercast.interfaces.api import create_app

    app = create_app(
        models_dirs=models_dir,
        cors_origins=cors_origin or None,
        allowed_hosts=allowed_host or None,
        bind_host=host,
    )  # user hardware comes from the global --hardware-dir / INFERCAST_HARDWARE_PATH
    shown = f"[{host}]" if ":" in host else host
    console.print(
        f"infercast web app and API: http://{shown}:{port}/", highlight=False, markup=False
    )
    if not _is_loopback(host):
        err_console.print(
            f"[yellow]warning:[/] listening on {esc(host)}: anyone who can reach this address can "
            "use the API (no authentication).",
            highlight=False,
        )
    from infercast.interfaces.api.server import GuardedH11Protocol

    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level="info",
        server_header=False,
        http=GuardedH11Protocol,
    )


def register(app: typer.Typer) -> None:
    """Add the ``serve`` command to the main app."""
    app.command("serve")(serve)
