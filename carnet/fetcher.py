"""What WeasyPrint may read while it lays out a booklet: Rouages' own files and the event's uploads, nothing else."""

from __future__ import annotations

import logging
import mimetypes
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname

from weasyprint.urls import URLFetcher, URLFetcherResponse

log = logging.getLogger("carnet.render")


class SandboxFetcher(URLFetcher):
    """A URL fetcher that reads only files under the given folders and ``data:`` URLs; it refuses everything else."""

    def __init__(self, roots: Iterable[Path]):
        super().__init__(allowed_protocols={"file", "data"}, allow_redirects=False)
        self.roots = [Path(root).resolve() for root in roots]
        self.refused: list[str] = []

    def fetch(self, url: str, headers=None):
        """Return the file or data the URL names, or raise ValueError (WeasyPrint then leaves the resource out)."""
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme == "data":
            return super().fetch(url, headers)
        if scheme == "file" and parts.netloc in ("", "localhost"):
            path = Path(url2pathname(parts.path)).resolve()
            if path.is_file() and any(path.is_relative_to(root) for root in self.roots):
                kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
                return URLFetcherResponse(path.as_uri(), path.read_bytes(), {"Content-Type": kind})
        self.refused.append(url)
        log.warning("booklet: refused to fetch %s", url[:200])
        raise ValueError(f"Rouages booklets fetch nothing from {url[:200]!r}")
