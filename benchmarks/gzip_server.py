"""A tiny static file server that compresses text with gzip, as real hosts do.

Python's ``http.server`` sends every file as it is on disk; a page-speed measure
against it would count HTML, CSS, JavaScript and SVG at their full size, which no
real host (GitHub Pages, Netlify, nginx) does. This server gzips those types when
the browser accepts it, and listens on the loopback interface only.

    python benchmarks/gzip_server.py [folder] [port]   # default: _build/html, any port
"""

from __future__ import annotations

import contextlib
import functools
import gzip
import http.server
import sys
import threading
from pathlib import Path

# Types that compress well; images (PNG, JPEG) and woff2 fonts are compressed already.
COMPRESSIBLE = {".html", ".css", ".js", ".json", ".svg", ".txt", ".xml", ".map",
                ".ipynb", ".md", ".ttf", ".woff"}


class GzipHandler(http.server.SimpleHTTPRequestHandler):
    """Serves files, gzipped (level 6, like nginx's default) where it helps."""

    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map,
                      ".woff2": "font/woff2", ".woff": "font/woff", ".ttf": "font/ttf",
                      ".svg": "image/svg+xml", ".js": "text/javascript"}
    _cache: dict[tuple[str, float], bytes] = {}
    _lock = threading.Lock()

    def log_message(self, *args):
        pass

    def send_head(self):
        path = Path(self.translate_path(self.path))
        if path.is_dir() and self.path.split("?")[0].endswith("/"):
            path = path / "index.html"
        wants_gzip = "gzip" in self.headers.get("Accept-Encoding", "")
        if not (wants_gzip and path.suffix in COMPRESSIBLE and path.is_file()):
            return super().send_head()  # directories, 404s, images, woff2
        body = self._compressed(path)
        self.send_response(200)
        self.send_header("Content-Type", self.guess_type(str(path)))
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Vary", "Accept-Encoding")
        self.end_headers()
        return _Bytes(body)

    @classmethod
    def _compressed(cls, path: Path) -> bytes:
        key = (str(path), path.stat().st_mtime)
        with cls._lock:
            if key not in cls._cache:
                cls._cache[key] = gzip.compress(path.read_bytes(), compresslevel=6,
                                                mtime=0)
            return cls._cache[key]


class _Bytes:
    """The file-like object ``SimpleHTTPRequestHandler`` copies to the socket."""

    def __init__(self, data: bytes):
        self.data = data

    def read(self, *args) -> bytes:
        data, self.data = self.data, b""
        return data

    def close(self) -> None:
        pass


@contextlib.contextmanager
def serve(directory: Path, port: int = 0):
    """Serve ``directory`` on 127.0.0.1 in a background thread; yield the base URL."""
    handler = functools.partial(GzipHandler, directory=str(directory))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_port}"
    finally:
        httpd.shutdown()
        httpd.server_close()


if __name__ == "__main__":
    folder = Path(sys.argv[1] if len(sys.argv) > 1 else "_build/html")
    with serve(folder, int(sys.argv[2]) if len(sys.argv) > 2 else 0) as url:
        print(f"serving {folder} at {url}/ (gzip); Ctrl-C stops")
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()
