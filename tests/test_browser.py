"""The site in a real browser: headless Chromium opens the front page and every experiment page.

Driven over the Chrome DevTools Protocol (a websocket), so the test sees what a reader's browser
sees: console errors, failed resource loads, images that did not decode, links that go nowhere.
`make test` installs Debian's chromium first when it is missing. Screenshots are written to
test-artifacts/screenshots/.
"""

from __future__ import annotations

import base64
import itertools
import json
import shutil
import subprocess
import time
import urllib.request
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest
import websocket

from experiments.__main__ import known
from experiments.common import REPO_ROOT
from experiments.site import write_index

pytestmark = pytest.mark.browser
ARTIFACTS = REPO_ROOT / "test-artifacts" / "screenshots"
PAGE_FACTS = """(() => ({
  images: [...document.images].map(i => ({src: i.src, ok: i.complete && i.naturalWidth > 0})),
  links: [...document.querySelectorAll('a[href]')].map(a => a.href),
  external: [...document.querySelectorAll('[src],link[href]')].map(e => e.src || e.href)
             .filter(u => /^https?:/.test(u)),
  ids: [...document.querySelectorAll('[id]')].map(e => e.id),
  headings: [...document.querySelectorAll('h2')].map(h => h.textContent),
}))()"""


class Chromium:
    """A headless Chromium and one page, spoken to over the DevTools websocket."""

    def __init__(self, profile: Path):
        binary = shutil.which("chromium") or shutil.which("chromium-browser")
        if binary is None:
            pytest.fail(
                "chromium is not installed: `make test` installs it (apt-get install chromium)"
            )
        self.process = subprocess.Popen(
            [binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--no-first-run", "--disable-component-update", "--disable-sync",
             "--remote-debugging-port=0", "--remote-allow-origins=*", f"--user-data-dir={profile}",
             "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 60
        while not (port_file.is_file() and port_file.read_text().strip()):
            if time.monotonic() > deadline:
                self.close()
                pytest.fail("chromium did not open its DevTools port within 60 s")
            time.sleep(0.1)
        port = port_file.read_text().split()[0]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as reply:
            target = next(t for t in json.load(reply) if t["type"] == "page")
        self.socket = websocket.create_connection(target["webSocketDebuggerUrl"], timeout=60)
        self.ids = itertools.count(1)
        self.events: list[dict] = []
        for domain in ("Page", "Runtime", "Log"):
            self.call(f"{domain}.enable")

    def call(self, method: str, **params) -> dict:
        """Send one command and return its result, keeping the events that arrive meanwhile."""
        ident = next(self.ids)
        self.socket.send(json.dumps({"id": ident, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv())
            if message.get("id") == ident:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            self.events.append(message)

    def open(self, url: str) -> list[str]:
        """Load ``url`` fully; return the errors the page produced (console, exceptions, loads)."""
        self.events.clear()
        self.call("Page.navigate", url=url)
        deadline = time.monotonic() + 60
        while not any(e.get("method") == "Page.loadEventFired" for e in self.events):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{url} did not finish loading")
            self.events.append(json.loads(self.socket.recv()))
        errors = []
        for event in self.events:
            params = event.get("params", {})
            if event.get("method") == "Runtime.consoleAPICalled" and params["type"] in (
                "error",
                "assert",
            ):
                errors.append(
                    " ".join(str(a.get("value", a.get("description"))) for a in params["args"])
                )
            elif event.get("method") == "Runtime.exceptionThrown":
                errors.append(params["exceptionDetails"].get("text", "exception"))
            elif event.get("method") == "Log.entryAdded" and params["entry"]["level"] == "error":
                errors.append(params["entry"]["text"] + " " + params["entry"].get("url", ""))
        return errors

    def facts(self) -> dict:
        result = self.call("Runtime.evaluate", expression=PAGE_FACTS, returnByValue=True)
        return result["result"]["value"]

    def screenshot(self, path: Path) -> None:
        """Full-page PNG at 1100 px wide (height measured at that width, capped at 8000 px)."""
        metrics = {"width": 1100, "deviceScaleFactor": 1, "mobile": False}
        self.call("Emulation.setDeviceMetricsOverride", height=800, **metrics)
        height = self.call("Runtime.evaluate", expression="document.documentElement.scrollHeight",
                           returnByValue=True)["result"]["value"]  # fmt: skip
        self.call("Emulation.setDeviceMetricsOverride", height=min(height, 8000), **metrics)
        shot = self.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)
        path.write_bytes(base64.b64decode(shot["data"]))

    def close(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


@pytest.fixture(scope="module")
def site(run_quick, tmp_path_factory) -> Path:
    """Every experiment's quick run, gathered under one reports folder with its front page."""
    root = tmp_path_factory.mktemp("site")
    for name in known():
        out, _ = run_quick(name)
        shutil.copytree(out, root / name)
    write_index(root)
    return root


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    chromium = Chromium(tmp_path_factory.mktemp("chromium-profile"))
    yield chromium
    chromium.close()


def _link_target(url: str) -> tuple[Path, str]:
    parsed = urlparse(url)
    return Path(unquote(parsed.path)), parsed.fragment


@pytest.mark.parametrize("page", ["index", *known()])
def test_page_in_browser(site, browser, page):
    path = site / "index.html" if page == "index" else site / page / "index.html"
    errors = browser.open(path.as_uri())
    facts = browser.facts()
    assert errors == [], f"{page}: browser errors {errors}"
    assert facts["external"] == [], f"{page}: loads from the network: {facts['external']}"
    assert facts["images"], f"{page}: no figures"
    broken = [image["src"] for image in facts["images"] if not image["ok"]]
    assert not broken, f"{page}: images that did not load: {broken}"
    for link in facts["links"]:
        assert link.startswith("file://"), f"{page}: external link {link}"
        target, fragment = _link_target(link)
        assert target.is_file(), f"{page}: link to a missing file {link}"
        if fragment:
            assert f'id="{fragment}"' in target.read_text(), f"{page}: missing anchor {link}"
    if page != "index":
        assert any("point estimate hides" in h for h in facts["headings"]), (
            f"{page}: no 'hides' section"
        )
        assert "Git revision" in path.read_text() and (path.parent / "index.md").is_file()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    browser.screenshot(ARTIFACTS / f"{page}.png")
    # A blank page's PNG is a few kB; a page with text and figures is hundreds of kB.
    assert (ARTIFACTS / f"{page}.png").stat().st_size > 10_000
