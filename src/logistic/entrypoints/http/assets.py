"""The pages' stylesheet and script, served under names that carry a hash of their bytes,
so that a browser may keep them for a year and a new version is a new name."""

from __future__ import annotations

import hashlib
from importlib import resources

from attrs import frozen
from flask import Blueprint, Response, current_app

from logistic.entrypoints.http.errors import error_response

FILES = {"page.css": "text/css; charset=utf-8", "page.js": "text/javascript; charset=utf-8"}
IMMUTABLE = "public, max-age=31536000, immutable"


@frozen
class Asset:
    name: str  # page.<hash>.css
    body: bytes
    content_type: str


class Assets:
    """The files of FILES, read once from the package's `static` folder."""

    def __init__(self) -> None:
        folder = resources.files("logistic.entrypoints.http") / "static"
        self._by_name: dict[str, Asset] = {}
        self._urls: dict[str, str] = {}
        for name, content_type in FILES.items():
            body = (folder / name).read_bytes()
            stem, _, suffix = name.rpartition(".")
            hashed = f"{stem}.{hashlib.sha256(body).hexdigest()[:12]}.{suffix}"
            self._by_name[hashed] = Asset(hashed, body, content_type)
            self._urls[name] = f"/assets/{hashed}"

    def url(self, name: str) -> str:
        """Where the file `name` (page.css) is served: /assets/page.<hash>.css."""
        return self._urls[name]

    def get(self, hashed: str) -> Asset | None:
        return self._by_name.get(hashed)


assets = Blueprint("assets", __name__)


@assets.get("/assets/<name>")
def asset(name: str) -> Response:
    served: Assets = current_app.extensions["logistic.assets"]
    asset = served.get(name)
    if asset is None:
        return error_response(404, f"no such file {name!r}")
    response = Response(asset.body, content_type=asset.content_type)
    response.headers["Cache-Control"] = IMMUTABLE
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
