"""The site in a real browser: Playwright drives Debian's headless chromium (offline).

The front page and every experiment page of a --quick run: no console errors, every image decoded,
every internal link and anchor resolves, nothing loaded from the network. A CSV whose column names
are markup shows them as text and injects nothing. `make test` installs chromium when it is
missing. Screenshots are written to test-artifacts/screenshots/.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from urllib.parse import unquote, urlparse

import numpy as np
import pytest

from experiments.__main__ import main
from experiments.common import REPO_ROOT
from experiments.registry import experiments
from experiments.site import write_index

pytestmark = pytest.mark.browser
ARTIFACTS = REPO_ROOT / "test-artifacts" / "screenshots"
HOSTILE = ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "a\"b'c"]
PAGE_FACTS = """() => ({
  images: [...document.images].map(i => ({src: i.src, ok: i.complete && i.naturalWidth > 0})),
  links: [...document.querySelectorAll('a[href]')].map(a => a.href),
  external: [...document.querySelectorAll('[src],link[href]')].map(e => e.src || e.href)
             .filter(u => /^https?:/.test(u)),
  headings: [...document.querySelectorAll('h2')].map(h => h.textContent),
  scripts: document.querySelectorAll('script').length,
  text: document.body.innerText,
  firstAfterTitle: (document.querySelector('h1') || {}).nextElementSibling?.className || "",
  boxLines: [...document.querySelectorAll('.box .line')].map(l => l.className),
  figuresWithoutObserve: [...document.querySelectorAll('figure')]
    .filter(f => !f.classList.contains('hero') && !f.querySelector('.observe'))
    .map(f => f.querySelector('img')?.getAttribute('src')),
})"""


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    if binary is None:
        pytest.fail("chromium is not installed: `make test` installs it (apt-get install chromium)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=binary,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield chromium
        chromium.close()


def open_page(browser, path: Path) -> tuple[dict, list[str], list[str]]:
    """Load ``path``; return its facts, the errors it produced, and every URL it requested."""
    page = browser.new_page(viewport={"width": 1100, "height": 800})
    errors, requests = [], []
    page.on("console", lambda m: errors.append(m.text) if m.type in ("error", "assert") else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("dialog", lambda d: (errors.append(f"dialog: {d.message}"), d.dismiss()))
    page.on("request", lambda r: requests.append(r.url))
    page.goto(path.as_uri(), wait_until="load")
    facts = page.evaluate(PAGE_FACTS)
    page.screenshot(path=str(ARTIFACTS / f"{path.parent.name}.png"), full_page=True)
    page.close()
    return facts, errors, requests


@pytest.fixture(scope="module")
def site(run_quick, tmp_path_factory) -> Path:
    """Every experiment's quick run, gathered under one reports folder with its front page."""
    root = tmp_path_factory.mktemp("site")
    for name in experiments():
        out, _ = run_quick(name)
        shutil.copytree(out, root / name)
    write_index(root)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return root


@pytest.mark.parametrize("page", ["index", *experiments()])
def test_page_in_browser(site, browser, page):
    path = site / "index.html" if page == "index" else site / page / "index.html"
    facts, errors, requests = open_page(browser, path)
    assert errors == [], f"{page}: browser errors {errors}"
    assert facts["external"] == [] and all(u.startswith("file://") for u in requests), requests
    assert facts["images"], f"{page}: no figures"
    broken = [image["src"] for image in facts["images"] if not image["ok"]]
    assert not broken, f"{page}: images that did not load: {broken}"
    for link in facts["links"]:
        assert link.startswith("file://"), f"{page}: external link {link}"
        parsed = urlparse(link)
        target = Path(unquote(parsed.path))
        assert target.is_file(), f"{page}: link to a missing file {link}"
        if parsed.fragment:
            assert f'id="{parsed.fragment}"' in target.read_text(), f"{page}: missing anchor {link}"
    if page != "index":
        # verdict first: the box opens the page, with a verified line or checks, each coloured
        assert facts["firstAfterTitle"] == "box", f"{page}: does not open with its verdict box"
        assert facts["boxLines"], f"{page}: a verdict box without verdicts"
        assert all(re.search(r"\b(green|amber|red|info)\b", c) for c in facts["boxLines"])
        assert facts["figuresWithoutObserve"] == [], f"{page}: figures without an Observe line"
        assert any("point estimate hides" in h for h in facts["headings"]), f"{page}: no 'hides'"
        assert "Git revision" in facts["text"] and (path.parent / "index.md").is_file()


def test_hostile_column_names_are_text(browser, tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3))
    y = X @ [1.0, -2.0, 0.5] + rng.normal(size=40)
    header = ",".join(f'"{name.replace(chr(34), chr(34) * 2)}"' for name in [*HOSTILE, "y"])
    rows = "\n".join(",".join(f"{v:.6f}" for v in row) for row in np.column_stack([X, y]))
    path = tmp_path / "hostile.csv"
    path.write_text(f"{header}\n{rows}\n")
    out = tmp_path / "hostile"
    argv = ["ridge", "--quick", "--quiet", "--data", str(path), "--target", "y", "--out", str(out)]
    assert main(argv) == 0
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    facts, errors, _ = open_page(browser, out / "index.html")
    assert errors == [] and facts["scripts"] == 0, errors
    assert all(not image["src"].endswith("/x") for image in facts["images"])
    for name in HOSTILE:
        assert name in facts["text"], name  # shown as text, not parsed
    markdown = (out / "index.md").read_text()
    assert not re.search(r"(?<!\\)<(script|img)", markdown)  # every < in user text is escaped
