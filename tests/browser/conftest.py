"""Browser tests: the app served on the loopback address, Debian's chromium driven by Playwright,
axe-core (from npm) run on every page visited."""
from __future__ import annotations

import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

ROOT = Path(__file__).resolve().parent.parent.parent
CHROMIUM = Path("/usr/bin/chromium")
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture
def live_server(app_ctx):
    """The app on http://localhost:<port>, serving from this test's database."""
    server = make_server("localhost", 0, app_ctx, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://localhost:{server.server_port}"
    finally:
        server.shutdown()
        thread.join()


@pytest.fixture(scope="session")
def chromium():
    if not CHROMIUM.exists() or not AXE.exists():
        pytest.fail("The browser tests need /usr/bin/chromium and node_modules/axe-core: run `make test`.")
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
    yield browser
    browser.close()
    playwright.stop()


@pytest.fixture
def browser_page(chromium):
    """A fresh browser profile (its own cookies); console errors such as CSP refusals are kept."""
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(0)  # no wall-clock limits: a slow machine is not a failure
    context.set_default_navigation_timeout(0)
    page = context.new_page()
    page.console_errors = []
    page.on("console", lambda message: message.type == "error" and page.console_errors.append(message.text))
    yield page
    context.close()


def axe_violations(page) -> list[str]:
    """Serious and critical axe-core violations on the current page."""
    page.evaluate(AXE.read_text(encoding="utf-8") + "\n;undefined")
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
            for v in result["violations"] if v["impact"] in ("serious", "critical")]
