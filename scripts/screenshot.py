"""Screenshot a running cope-eval app in headless Debian Chromium.

    .venv/bin/python scripts/screenshot.py http://localhost:8501 docs/screenshots/home.png [--wait-for TEXT]
"""

import argparse
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.browser import CHROMIUM, CHROMIUM_ARGS  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("out", type=Path)
    parser.add_argument("--wait-for", default="Healthy", help="text that must be on the page first")
    args = parser.parse_args()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.goto(args.url)
        page.get_by_text(args.wait_for).first.wait_for(timeout=60_000)
        page.wait_for_timeout(1000)  # let the last rerun paint
        args.out.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(args.out), full_page=True)
        browser.close()
    print(args.out)


if __name__ == "__main__":
    main()
