"""``wcfit-tui serve``: the app in a web browser through textual-serve, one app process per browser tab.

textual-serve has no authentication: whoever reaches the port drives the app. So the server binds loopback
by default, refuses any other address unless ``--public`` is given, and refuses a browser's websocket
from another site (its Origin must be the page's own address; on loopback the Host must be a loopback name,
which also stops DNS rebinding). Nothing here imports Textual: each browser tab runs ``python -m tui.main``.
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import shlex
import socket
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from engine.runs import RunError, resolve_run
from tui.cli.errors import EXIT_BAD_INPUT, EXIT_OK, Refused
from tui.cli.parser import Subparsers

DEFAULT_HOST, DEFAULT_PORT = "127.0.0.1", 8000
INSTALL_HINT = "wcfit-tui: serve needs textual-serve: pip install 'wcfit-tui[serve]' (or pip install textual-serve==1.1.3)"
ROOT = Path(__file__).resolve().parents[2]


class ServeError(Refused):
    """A server that cannot start: reported as one line, exit code 2."""


def is_loopback(host: str) -> bool:
    """True for 'localhost', any 127.0.0.0/8 address and ::1 (with or without brackets)."""
    name = host.strip().strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def url_of(host: str, port: int) -> str:
    """The http URL of a host and port (IPv6 literals in brackets; a wildcard address as this machine's name)."""
    name = host.strip("[]")
    if name in ("", "0.0.0.0", "::"):
        name = socket.gethostname()
    if ":" in name:
        name = f"[{name}]"
    return f"http://{name}:{port}"


def tunnel_hint(host: str, port: int) -> str:
    """How to reach a loopback server from another machine: an ``ssh -L`` line."""
    name = host.strip("[]").lower()
    target = "localhost" if name in ("127.0.0.1", "::1", "localhost") else (f"[{name}]" if ":" in name else name)
    return f"from another machine: ssh -L {port}:{target}:{port} THIS_HOST, then open http://localhost:{port}"


def check_port(host: str, port: int) -> None:
    """Bind every address of ``host`` at ``port`` as the server will, and let go; raises ServeError if one fails."""
    if not 1 <= port <= 65535:
        raise ServeError(f"port {port} is out of range (1–65535)")
    try:
        infos = socket.getaddrinfo(host.strip("[]") or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as e:
        raise ServeError(f"cannot serve on {host!r}: {e.strerror or e}") from None
    for family, kind, proto, _, address in infos:
        with socket.socket(family, kind, proto) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as aiohttp does: a TIME_WAIT port is free
            if family == socket.AF_INET6:
                s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            try:
                s.bind(address)
            except OSError as e:
                raise ServeError(bind_message(host, port, e)) from None


def bind_message(host: str, port: int, error: OSError) -> str:
    """One line saying why ``host:port`` cannot be bound."""
    import errno

    if error.errno == errno.EADDRINUSE:
        why = "the port is in use (another server, or an earlier serve still running); pick another with --port"
    elif error.errno in (errno.EACCES, errno.EPERM):
        why = "permission denied (ports below 1024 need privileges); pick another with --port"
    elif error.errno == errno.EADDRNOTAVAIL:
        why = "this machine has no such address"
    else:
        why = error.strerror or str(error)
    return f"cannot serve on {host}:{port}: {why}"


def app_command(data: str | None, attach: Path | None) -> str:
    """The shell command that textual-serve runs for each browser tab: this Python running the app."""
    argv = [sys.executable, "-m", "tui.main"]
    if attach is not None:
        argv += ["attach", str(attach)]
    elif data is not None:
        argv += ["--data", data]
    return shlex.join(argv)


def origin_allowed(host_header: str, origin: str | None, *, loopback: bool) -> bool:
    """Whether a websocket request may start an app: same-origin only, and a loopback Host when bound to loopback."""
    if loopback and not is_loopback(urlsplit(f"//{host_header}").hostname or ""):
        return False  # a DNS-rebound name pointing at 127.0.0.1
    if origin is None:
        return True  # not a browser (browsers always send Origin on a websocket)
    return urlsplit(origin).netloc.lower() == host_header.lower()


def make_server(command: str, host: str, port: int, *, loopback: bool) -> Any:
    """A textual-serve Server that builds its page's URLs from the address the browser used (any tunnel port)."""
    import asyncio
    import gc

    import aiohttp.web as web
    from textual_serve.server import Server

    class WcfitServer(Server):
        async def handle_index(self, request: web.Request) -> web.StreamResponse:  # type: ignore[override]
            self.public_url = f"{request.scheme}://{request.host}"  # read synchronously by the page's template
            return await super().handle_index(request)

        async def handle_websocket(self, request: web.Request) -> web.StreamResponse:  # type: ignore[override]
            if not origin_allowed(request.host, request.headers.get("Origin"), loopback=loopback):
                return web.Response(status=403, text="wcfit-tui serve: cross-site request refused\n")
            task = asyncio.current_task()
            assert task is not None
            sessions.add(task)
            try:
                return await super().handle_websocket(request)
            finally:
                sessions.discard(task)

        async def on_startup(self, app: web.Application) -> None:
            """Quiet: the URL was printed before binding."""

        async def on_shutdown(self, app: web.Application) -> None:
            """Ctrl+C: end every tab's session now (each tells its app to quit and waits for it)."""
            for task in sessions:
                task.cancel()
            if sessions:
                await asyncio.wait(sessions, timeout=20)
            gc.collect()  # textual-serve leaves each app's pipes to the collector: close them while the loop runs

    sessions: set[asyncio.Task[Any]] = set()

    return WcfitServer(command, host=host, port=port, title="wcfit-tui")


def register(subparsers: Subparsers) -> tuple[argparse.ArgumentParser, ...]:
    """Add the ``serve`` subcommand."""
    p = subparsers.add_parser(
        "serve", help="serve the app to a web browser (textual-serve; one app per tab)",
        description="Serve the app to a web browser: each tab runs its own app. No authentication: by default "
                    "only this machine can connect; from a laptop use `ssh -L 8000:localhost:8000 HOST`.",
        usage="wcfit-tui serve [--host HOST] [--port PORT] [--public] [--data PATH | attach RUN]")
    p.add_argument("--host", default=DEFAULT_HOST, help=f"address to listen on (default {DEFAULT_HOST}, loopback only)")
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})")
    p.add_argument("--public", action="store_true",
                   help="allow a non-loopback --host: anyone who reaches the port controls the app (no authentication)")
    p.add_argument("--data", default=None, metavar="PATH", help="the app's dataset (as `wcfit-tui --data`)")
    p.add_argument("target", nargs="*", metavar="attach RUN", help="serve the read-only viewer of a run directory")
    p.set_defaults(func=cmd_serve)
    return (p,)


def _attach_target(target: list[str]) -> Path | None:
    if not target:
        return None
    if len(target) != 2 or target[0] != "attach":
        raise ServeError(f"expected `attach RUN`, got {' '.join(target)!r}")
    try:
        return resolve_run(target[1]).resolve()
    except RunError as e:
        raise ServeError(str(e)) from None


def cmd_serve(args: argparse.Namespace) -> int:
    """``wcfit-tui serve``: print the URL, serve until Ctrl+C; exit 2 with one line (a ServeError) if it cannot."""
    host, port = args.host, args.port
    loopback = is_loopback(host)
    if not loopback and not args.public:
        raise ServeError(f"refusing to serve on {host}, which is not loopback: there is no authentication, "
                         "anyone who reaches the port controls the app; add --public to do it anyway")
    attach = _attach_target(args.target)
    if attach is not None and args.data is not None:
        raise ServeError("give either --data or attach RUN, not both")
    if not 1 <= port <= 65535:
        raise ServeError(f"port {port} is out of range (1–65535)")
    try:
        import textual_serve.server  # noqa: F401
    except ImportError:
        print(INSTALL_HINT, file=sys.stderr)
        return EXIT_BAD_INPUT
    check_port(host, port)
    # Each tab's app imports this checkout's code, whatever the current directory.
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
    server = make_server(app_command(args.data, attach), host, port, loopback=loopback)
    url = url_of(host, port)
    what = f"the read-only viewer of {attach}" if attach else "the app"
    print(f"serving {what} on {url} — open it in a browser; each tab runs its own app; Ctrl+C stops", flush=True)
    if loopback:
        print(tunnel_hint(host, port), flush=True)
    else:
        print("warning: --public: no authentication — anyone who reaches this port controls the app", flush=True)
    try:
        server.serve()
    except OSError as e:  # lost the port between the check and aiohttp's bind
        raise ServeError(bind_message(host, port, e)) from None
    return EXIT_OK
