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

# Finds the drawn highlight (stroke #d1105a) on the map's canvases; returns its box in CSS pixels
# relative to the map element, or null when no pixel has that colour.
FIND_HIGHLIGHT_JS = """
() => {
  const map = document.getElementById("map");
  const mapBox = map.getBoundingClientRect();
  let box = null;
  for (const canvas of map.querySelectorAll("canvas")) {
    if (!canvas.width || !canvas.height) continue;
    const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
    const rect = canvas.getBoundingClientRect();
    const scaleX = rect.width / canvas.width, scaleY = rect.height / canvas.height;
    for (let i = 0; i < data.length; i += 4) {
      const [r, g, b, a] = [data[i], data[i + 1], data[i + 2], data[i + 3]];
      if (a > 200 && Math.abs(r - 209) < 30 && g < 70 && Math.abs(b - 90) < 35) {
        const p = i / 4, x = (p % canvas.width) * scaleX + rect.left - mapBox.left;
        const y = Math.floor(p / canvas.width) * scaleY + rect.top - mapBox.top;
        box = box ? [Math.min(box[0], x), Math.min(box[1], y), Math.max(box[2], x), Math.max(box[3], y)] : [x, y, x, y];
      }
    }
  }
  return box;
}
"""
