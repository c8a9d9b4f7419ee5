"""Debian's headless Chromium for the browser tests: where it is and the flags this machine needs.

Playwright never downloads a browser here; the background-networking flags keep Chromium from
reaching for Google's hosts, which this machine's closed network refuses.
"""

from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
