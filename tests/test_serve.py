"""``wcfit-tui serve``: the app in a real browser (headless Chromium), and every refusal as one line, exit 2.

The browser tests need textual-serve, selenium and Debian's chromium + chromium-driver. Outside CI they skip
when one is missing; with CI=true a missing one fails the test (CI installs them).
"""

from __future__ import annotations

import asyncio
import io
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

import browser_screenshot as bs  # noqa: E402

from tests.support import GUARD_S, fake_fit, tiny_npz, wait_until  # noqa: E402
from tui.cli import serve as serve_cli  # noqa: E402

IN_CI = os.environ.get("CI", "").lower() == "true"


def require(ok: bool, reason: str) -> None:
    """Skip without ``ok`` — but fail in CI, which must run every browser test."""
    if not ok:
        (pytest.fail if IN_CI else pytest.skip)(reason + (" (CI=true: CI must install it)" if IN_CI else ""))


def have(module: str) -> bool:
    try:
        __import__(module)
    except ImportError:
        return False
    return True


def serve(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "tui.main", "serve", *args], capture_output=True, text=True,
                          cwd=ROOT, env=env, timeout=timeout)


def one_line(r: subprocess.CompletedProcess) -> str:
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert "Traceback" not in r.stderr and r.stdout == ""
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    return lines[0]


@pytest.mark.parametrize("host, loopback", [
    ("127.0.0.1", True), ("127.8.9.10", True), ("localhost", True), ("LocalHost", True), ("::1", True),
    ("[::1]", True), ("0.0.0.0", False), ("::", False), ("128.0.0.1", False), ("10.0.0.5", False),
    ("192.168.1.20", False), ("example.org", False), ("localhost.example.org", False), ("", False),
])
def test_loopback_is_127_slash_8_and_colon_colon_1_and_localhost(host, loopback):
    assert serve_cli.is_loopback(host) is loopback


def cli(capsys, *args: str) -> str:
    """``wcfit-tui serve ARGS`` in this process (for refusals, which return before anything is served)."""
    from tui.cli.fit import main

    rc = main(["serve", *args])
    out = capsys.readouterr()
    assert rc == 2 and out.out == "" and "Traceback" not in out.err, out
    lines = out.err.strip().splitlines()
    assert len(lines) == 1, out.err
    return lines[0]


@pytest.mark.parametrize("host, target", [("127.0.0.1", "localhost"), ("localhost", "localhost"), ("::1", "localhost"),
                                          ("127.0.0.2", "127.0.0.2")])
def test_the_tunnel_hint_forwards_to_the_address_served(host, target):
    assert f"ssh -L 8001:{target}:8001 " in serve_cli.tunnel_hint(host, 8001)


def test_a_non_loopback_host_is_refused_without_public():
    line = one_line(serve("--host", "0.0.0.0", "--port", str(bs.free_port())))
    assert "not loopback" in line and "--public" in line and "authentication" in line


@pytest.mark.parametrize("host", ["::", "192.168.1.20", "example.org", "127.0.0.1.example.org"])
def test_other_non_loopback_hosts_are_refused_too(host, capsys):
    assert "--public" in cli(capsys, "--host", host, "--port", str(bs.free_port()))


def _listening(host: str) -> socket.socket:
    s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    s.bind((host, 0))
    s.listen()
    return s


def test_a_port_in_use_is_one_line_and_exit_2():
    with _listening("127.0.0.1") as s:
        port = s.getsockname()[1]
        line = one_line(serve("--port", str(port)))
    assert f"127.0.0.1:{port}" in line and "in use" in line


def test_public_lets_a_non_loopback_host_through_to_the_port_check():
    with _listening("0.0.0.0") as s:  # the port is taken, so nothing is served even though the host is accepted
        port = s.getsockname()[1]
        refused = one_line(serve("--host", "0.0.0.0", "--port", str(port)))
        passed = one_line(serve("--host", "0.0.0.0", "--public", "--port", str(port)))
    assert "--public" in refused
    assert "in use" in passed and "--public" not in passed


@pytest.mark.parametrize("args, phrase", [
    (["--port", "0"], "out of range"),
    (["--port", "70000"], "out of range"),
    (["--host", "no-such-host.invalid"], "no-such-host.invalid"),
    (["attach"], "attach RUN"),
    (["run-1"], "attach RUN"),
    (["attach", "/no/such/run"], "no run"),
    (["--port", "x"], "invalid int value"),
])
def test_bad_arguments_are_one_line_and_exit_2(args, phrase, capsys):
    public = ["--public"] if "--host" in args else []
    assert phrase in cli(capsys, *public, *args)


def test_without_textual_serve_it_says_how_to_install_it(monkeypatch, capsys):
    from tui.cli.fit import main

    monkeypatch.setitem(sys.modules, "textual_serve", None)  # `import textual_serve…` now raises ImportError
    monkeypatch.setitem(sys.modules, "textual_serve.server", None)
    assert main(["serve", "--port", str(bs.free_port())]) == 2
    out = capsys.readouterr()
    assert out.out == "" and out.err.strip() == serve_cli.INSTALL_HINT
    assert "pip install" in out.err and "[serve]" in out.err


def test_each_tab_runs_this_python_on_the_app_and_attach_is_the_read_only_viewer(tmp_path):
    import shlex

    assert shlex.split(serve_cli.app_command(None, None)) == [sys.executable, "-m", "tui.main"]
    assert shlex.split(serve_cli.app_command("my data.npz", None)) == [sys.executable, "-m", "tui.main",
                                                                      "--data", "my data.npz"]
    run = tmp_path / "a run; rm -rf ~"  # quoted for the shell textual-serve runs it in
    assert shlex.split(serve_cli.app_command(None, run)) == [sys.executable, "-m", "tui.main", "attach", str(run)]


@pytest.mark.parametrize("host, origin, loopback, allowed", [
    ("127.0.0.1:8000", "http://127.0.0.1:8000", True, True),
    ("localhost:9000", "http://localhost:9000", True, True),  # through `ssh -L 9000:localhost:8000`
    ("[::1]:8000", "http://[::1]:8000", True, True),
    ("localhost:8000", None, True, True),  # not a browser
    ("localhost:8000", "http://evil.example", True, False),  # another site's page in the user's browser
    ("evil.example:8000", "http://evil.example:8000", True, False),  # DNS rebinding to 127.0.0.1
    ("box.lab:8000", "http://box.lab:8000", False, True),
    ("box.lab:8000", "http://evil.example", False, False),
])
def test_websockets_only_from_the_page_itself(host, origin, loopback, allowed):
    assert serve_cli.origin_allowed(host, origin, loopback=loopback) is allowed


def test_a_cross_site_websocket_is_refused_before_any_app_starts():
    require(have("textual_serve"), "textual-serve is not installed (pip install -e '.[serve]')")
    import aiohttp

    async def handshake(url: str, **headers: str) -> int:
        async with aiohttp.ClientSession() as session:
            async with session.get(url, headers={"Connection": "Upgrade", "Upgrade": "websocket",
                                                 "Sec-WebSocket-Version": "13",
                                                 "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==", **headers}) as r:
                return r.status

    with bs.serving() as (url, proc):
        port = url.rsplit(":", 1)[1]
        assert asyncio.run(handshake(f"{url}/ws", Origin="http://evil.example")) == 403
        assert asyncio.run(handshake(f"{url}/ws", Host=f"evil.example:{port}",
                                     Origin=f"http://evil.example:{port}")) == 403
        assert not _apps(proc.pid)


def _apps(server_pid: int) -> list[int]:
    """Process ids of the apps a server started (``python -m tui.main`` in its session, not forks of one another)."""
    found: dict[int, int] = {}
    for p in Path("/proc").iterdir():
        if not p.name.isdigit():
            continue
        try:
            cmd = (p / "cmdline").read_bytes().split(b"\0")
            fields = (p / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ppid, session = int(fields[1]), int(fields[3])  # the server runs in a session of its own
        if session == server_pid and cmd[1:3] == [b"-m", b"tui.main"] and b"serve" not in cmd:
            found[int(p.name)] = ppid
    return sorted(pid for pid, ppid in found.items() if ppid not in found)


def _image(png: bytes):
    from PIL import Image  # Pillow comes with matplotlib, which braintools requires

    return Image.open(io.BytesIO(png)).convert("RGB")


def _differing_pixels(a, b) -> int:
    from PIL import ImageChops

    return ImageChops.difference(a, b).convert("L").point(lambda v: 255 if v else 0).histogram()[255]


@pytest.mark.slow
def test_the_app_draws_in_a_real_browser_and_takes_keys(tmp_path):
    require(have("textual_serve"), "textual-serve is not installed (pip install -e '.[serve]')")
    require(have("selenium"), "selenium is not installed (pip install -e '.[serve,test]')")
    require(bs.find_browser() is not None, "chromium or chromedriver is missing (apt-get install chromium chromium-driver)")
    from selenium.webdriver.common.keys import Keys

    with bs.serving() as (url, proc), bs.browser() as driver:
        bs.open_page(driver, url)
        bs.wait_for(driver, lambda t: "Setup" in t and "dataset" in t and "F1 help" in t, 180, "the setup screen")
        assert "wcfit-tui — keys" not in bs.screen_text(driver)
        bs.settle(driver)
        setup = _image(driver.get_screenshot_as_png())
        colours = setup.getcolors(maxcolors=setup.width * setup.height)  # every pixel's own colour at most: never None
        assert colours is not None and len(colours) > 8, "the page is blank"
        background = max(colours)[1]
        drawn = sum(n for n, c in colours if c != background)
        assert drawn > 0.02 * setup.width * setup.height, "almost nothing drawn"

        bs.press(driver, Keys.F1)
        bs.wait_for(driver, lambda t: "wcfit-tui — keys" in t and "start the fit with the setup form" in t, 60, "the help screen after F1")
        bs.settle(driver)
        helped = _image(driver.get_screenshot_as_png())
        changed = _differing_pixels(setup, helped)
        assert changed > 0.05 * setup.width * setup.height, "F1 changed too little of the page"
        helped.save(tmp_path / "browser-help.png")

        assert len(_apps(proc.pid)) == 1, _apps(proc.pid)
        bs.open_page(driver, url, new_tab=True)  # a second tab gets an app of its own
        bs.wait_for(driver, lambda t: "Setup" in t and "F1 help" in t, 180, "the setup screen in a second tab")
        assert "wcfit-tui — keys" not in bs.screen_text(driver)
        assert len(_apps(proc.pid)) == 2, _apps(proc.pid)
        driver.close()  # closing a tab ends its app
        wait_until(lambda: len(_apps(proc.pid)) <= 1, interval=0.2, what="a closed tab's app ended")
        assert len(_apps(proc.pid)) == 1, f"the other tab's app ended too: {_apps(proc.pid)}"

        os.killpg(proc.pid, signal.SIGINT)  # Ctrl+C in the server's terminal, with a tab still open
        assert proc.wait(GUARD_S) == 0, proc.stderr.read()
        # an app may still be finishing its exit after closing its output: it must end, not outlive the server
        wait_until(lambda: not _apps(proc.pid), interval=0.2, what="the apps ending with the server")
        err = proc.stderr.read()
        assert "Traceback" not in err and "Exception" not in err, err


@pytest.mark.slow
def test_serve_attach_shows_a_run_read_only_in_a_real_browser(tmp_path):
    require(have("textual_serve"), "textual-serve is not installed (pip install -e '.[serve]')")
    require(have("selenium"), "selenium is not installed (pip install -e '.[serve,test]')")
    require(bs.find_browser() is not None, "chromium or chromedriver is missing (apt-get install chromium chromium-driver)")
    from selenium.webdriver.common.keys import Keys

    run = fake_fit(tiny_npz(tmp_path), tmp_path / "runs", "served", budget=4)
    with bs.serving("attach", str(run)) as (url, proc), bs.browser() as driver:
        bs.open_page(driver, url)
        bs.wait_for(driver, lambda t: "finished" in t and "budget spent" in t and "4/4" in t, 180,
                    "the attached run, replayed to its end")
        apps = _apps(proc.pid)
        assert len(apps) == 1
        cmd = Path(f"/proc/{apps[0]}/cmdline").read_bytes().split(b"\0")
        assert b"attach" in cmd and str(run).encode() in cmd  # the tab's app is the read-only viewer of this run
        # F1 reaches the viewer's app (F5 would reload the page: the browser keeps it)
        bs.press(driver, Keys.F1)
        bs.wait_for(driver, lambda t: "wcfit-tui — keys" in t, 60, "the help screen over the attached run")


def test_help_lists_serve_and_its_risk(capsys):
    from tui.cli.fit import main as cli_main
    from tui.main import main

    with pytest.raises(SystemExit):
        main(["--help"])
    assert "serve" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        cli_main(["serve", "--help"])
    out = capsys.readouterr().out
    assert "--public" in out and "authentication" in out and "ssh -L" in out and "attach RUN" in out
