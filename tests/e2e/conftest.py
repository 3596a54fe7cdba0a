"""Browser tests: Playwright driving Debian's Chromium against the real server (waitress).

`playwright install` cannot download browsers here, so the system Chromium is used. The server runs
with short idle timeouts so that the automatic return to the start page can be seen in seconds.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.server import running_server

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]

# Seconds without a touch before the kiosk goes back to its start page, in these tests.
IDLE_SECONDS = 4

# Screenshots for a human to look at (the folder is in .gitignore).
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "e2e"

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items):
    """Every test under tests/e2e is an e2e test (`-m "not e2e"` leaves them out)."""
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "headless": True,
        "args": CHROMIUM_ARGS,
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    # A 10-inch tablet held in landscape, as at the venue.
    return {**browser_context_args, "viewport": {"width": 1280, "height": 800}}


@pytest.fixture(scope="session")
def live_server(tmp_path_factory) -> str:
    """The real server, shared by the e2e tests; yields its base URL."""
    with running_server(
        tmp_path_factory.mktemp("e2e-server"),
        KIOSK_IDLE_SECONDS=str(IDLE_SECONDS),
        KIOSK_WIZARD_IDLE_SECONDS=str(IDLE_SECONDS),
    ) as base_url:
        yield base_url


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def base_url(live_server) -> str:
    """Relative URLs in `page.goto("/kiosk")` go to the live server."""
    return live_server
