"""Open ``wcfit-tui serve`` in headless Chromium, press F1, and save screenshots/browser.png.

Also the helpers tests/test_serve.py uses: start a server on a free port, open a browser on it, read the text
the app sent to the page's terminal, press keys. xterm.js draws on a WebGL canvas, so the page holds no text:
a script run before the page's own tees every byte the websocket delivers to the terminal into
``window.__wcfitText``, and ``screen_text`` strips the escape sequences from it.
Needs Debian's chromium and chromium-driver packages and selenium (pip install -e ".[serve,test]").
Usage: .venv/bin/python scripts/browser_screenshot.py [OUT_PNG] [--attach RUN]
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = ("chromium", "chromium-browser", "google-chrome")
CHROMEDRIVER = ("chromedriver",)
#: Flags that render a textual-serve page headless, offline, with nothing left behind (FACTS.md).
CHROMIUM_FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--enable-unsafe-swiftshader",
                  "--window-size=1400,900", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run", "--disable-quic", "--disable-dev-shm-usage")
#: Runs before the page's scripts: keep the text of every binary websocket message (the app's terminal output).
TEE = """
window.__wcfitText = "";
const Native = window.WebSocket;
const decoder = new TextDecoder();
window.WebSocket = function (url, protocols) {
  const ws = protocols === undefined ? new Native(url) : new Native(url, protocols);
  ws.addEventListener("message", (e) => {
    if (typeof e.data !== "string") window.__wcfitText += decoder.decode(new Uint8Array(e.data), {stream: true});
  });
  return ws;
};
Object.assign(window.WebSocket, {CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3});
window.WebSocket.prototype = Native.prototype;
"""
_ESCAPES = re.compile(r"\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b\[[0-9;?<>=]*[ -/]*[@-~]|\x1b[()][0-9A-Za-z]|\x1b[@-_]")


def find_browser() -> tuple[str, str] | None:
    """Paths of a Chromium and its chromedriver, or None when either is missing."""
    browser = next((p for p in map(shutil.which, CHROMIUM) if p), None)
    driver = next((p for p in map(shutil.which, CHROMEDRIVER) if p), None)
    return (browser, driver) if browser and driver else None


def free_port() -> int:
    """A TCP port free on loopback just now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def plain(terminal_output: str) -> str:
    """Terminal output without its escape sequences (cursor moves become spaces, so words stay apart)."""
    return _ESCAPES.sub(" ", terminal_output)


@contextlib.contextmanager
def serving(*args: str, port: int | None = None, cwd: Path | None = None) -> Iterator[tuple[str, subprocess.Popen]]:
    """Run ``wcfit-tui serve --port P ARGS`` until the block ends; yields its URL and process."""
    port = port or free_port()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)}
    log = tempfile.TemporaryFile()  # its access log: a pipe nobody reads could fill and stall the server
    proc = subprocess.Popen([sys.executable, "-m", "tui.main", "serve", "--port", str(port), *args], cwd=cwd or ROOT,
                            env=env, stdout=log, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)  # its own process group: the apps it starts go with it
    try:
        deadline = time.monotonic() + 60
        while True:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            if proc.poll() is not None:
                raise RuntimeError(f"serve exited with {proc.returncode}: {proc.stderr.read().strip()}")
            if time.monotonic() > deadline:
                raise TimeoutError("serve did not listen within 60 s")
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}", proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)  # as Ctrl+C: textual-serve tells each app to quit
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                pass
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # whatever of this group is left (apps that did not quit)
        proc.wait()
        log.close()


@contextlib.contextmanager
def browser() -> Iterator[object]:
    """A headless Chromium driven by selenium, with the websocket tee installed on every page."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    found = find_browser()
    if found is None:
        raise RuntimeError("no chromium/chromedriver: apt-get install -y chromium chromium-driver")
    options = webdriver.ChromeOptions()
    options.binary_location = found[0]
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    with tempfile.TemporaryDirectory(prefix="wcfit-chromium-") as profile:
        options.add_argument(f"--user-data-dir={profile}")
        driver = webdriver.Chrome(options=options, service=Service(executable_path=found[1]))
        try:
            yield driver
        finally:
            driver.quit()


def open_page(driver: object, url: str, *, new_tab: bool = False) -> None:
    """Load ``url`` (in a new tab if asked) with the websocket tee installed before the page's scripts run."""
    if new_tab:
        driver.switch_to.new_window("tab")  # type: ignore[attr-defined]
    teed = driver.__dict__.setdefault("_wcfit_teed", set())
    if driver.current_window_handle not in teed:  # type: ignore[attr-defined]
        driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": TEE})  # type: ignore[attr-defined]
        teed.add(driver.current_window_handle)  # type: ignore[attr-defined]
    driver.get(url)  # type: ignore[attr-defined]


def screen_text(driver: object) -> str:
    """Everything the app has drawn in the page so far, as plain text."""
    return plain(driver.execute_script("return window.__wcfitText || ''"))  # type: ignore[attr-defined]


def wait_for(driver: object, cond: Callable[[str], bool], timeout: float, what: str) -> str:
    """Poll the page's text until ``cond`` holds; returns the text, or raises TimeoutError naming ``what``."""
    deadline = time.monotonic() + timeout
    while True:
        text = screen_text(driver)
        if cond(text):
            return text
        if time.monotonic() > deadline:
            raise TimeoutError(f"gave up waiting for {what} after {timeout:.0f} s; the page shows: {text[-300:]!r}")
        time.sleep(0.25)


def press(driver: object, *keys: str) -> None:
    """Send keys to the terminal: focus its hidden textarea (no click, which the app would see) and type."""
    from selenium.webdriver.common.action_chains import ActionChains

    driver.execute_script("document.querySelector('.xterm-helper-textarea').focus()")  # type: ignore[attr-defined]
    ActionChains(driver).send_keys(*keys).perform()


def settle(driver: object, quiet_s: float = 1.0, timeout: float = 20) -> None:
    """Wait until the app has sent nothing new for ``quiet_s`` seconds (a frame fully drawn)."""
    deadline = time.monotonic() + timeout
    last, since = None, time.monotonic()
    while time.monotonic() < deadline:
        n = len(driver.execute_script("return window.__wcfitText || ''"))  # type: ignore[attr-defined]
        if n != last:
            last, since = n, time.monotonic()
        elif time.monotonic() - since >= quiet_s:
            return
        time.sleep(0.1)


def main(argv: list[str]) -> int:
    """Serve the app, open it, save the browser's screenshot of the setup screen (or of a run, with --attach)."""
    import argparse

    p = argparse.ArgumentParser(description="Screenshot `wcfit-tui serve` in headless Chromium.")
    p.add_argument("out", nargs="?", type=Path, default=None, help="PNG (default screenshots/browser.png, "
                                                                   "or screenshots/browser-attach.png with --attach)")
    p.add_argument("--attach", metavar="RUN", default=None, help="serve the read-only viewer of this run directory")
    args = p.parse_args(argv)
    out = args.out or ROOT / "screenshots" / ("browser-attach.png" if args.attach else "browser.png")
    out.parent.mkdir(parents=True, exist_ok=True)
    serve_args = ("attach", str(Path(args.attach).resolve())) if args.attach else ()
    with serving(*serve_args) as (url, _), browser() as driver:
        open_page(driver, url)
        if args.attach:
            wait_for(driver, lambda t: "read-only" in t, 180, "the run view")
        else:
            wait_for(driver, lambda t: "Setup" in t and "backend" in t, 180, "the setup screen and the device panel")
        settle(driver, 3.0)
        driver.save_screenshot(str(out))  # type: ignore[attr-defined]
        print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
