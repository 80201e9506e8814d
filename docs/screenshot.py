"""Make docs/serve.png, the README's picture of `frsearch serve` on the seeds.

    python docs/screenshot.py

Indexes seeds/ in a temporary folder, serves it on a free loopback port and has Debian's
headless chromium (through /usr/bin/chromedriver, as the browser tests do) photograph
the page for the query below.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import threading
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
QUERY = "etats unis gouvernemnet"


def main() -> None:
    sys.path.insert(0, str(ROOT))
    import frsearch
    from frsearch.serve import make_server
    from tests.test_serve_browser import start_browser, stop_browser

    with tempfile.TemporaryDirectory() as tmp:
        shutil.copytree(ROOT / "seeds", Path(tmp) / "seeds")
        os.chdir(tmp)  # paths are shown from here, as `frsearch serve` run in a project shows them
        with frsearch.Index(".frsearch") as index:
            index.index_paths(["seeds"])
            server = make_server(index, "127.0.0.1", 0)
            threading.Thread(target=server.serve_forever, daemon=True).start()
            driver = start_browser(size=(860, 800))
            try:
                driver.get(server.url + "?q=" + quote(QUERY))
                out = ROOT / "docs" / "serve.png"
                driver.save_screenshot(str(out))
                print(f"{out}: {out.stat().st_size} bytes")
            finally:
                stop_browser(driver)
                server.shutdown()
                server.server_close()


if __name__ == "__main__":
    main()
