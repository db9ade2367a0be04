"""GET /openapi.json: the API's contract; GET /docs: the same rendered for people.

One source: `openapi.yaml` beside this module (package data), read once and served as
JSON. /docs is Swagger UI from the files the flask-swagger-ui package ships, served
from here: the page loads nothing from another site, and runs no inline script.
"""

from __future__ import annotations

import functools
import importlib.util
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from flask import Blueprint, Response, send_from_directory
from werkzeug.exceptions import NotFound

from logistic.services.rendering import to_json_bytes

contract = Blueprint("contract", __name__)

DOCUMENT = "openapi.yaml"
SWAGGER_UI_PACKAGE = "flask_swagger_ui"
# The files of the package's dist/ the page uses; anything else there is not served.
ASSETS = ("swagger-ui.css", "swagger-ui-bundle.js", "favicon-32x32.png", "favicon-16x16.png")
HTML = "text/html; charset=utf-8"
JAVASCRIPT = "text/javascript; charset=utf-8"

# Relative addresses: the page works under any prefix a proxy puts in front.
_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>logistic API</title>
  <link rel="stylesheet" href="docs/swagger-ui.css">
  <link rel="icon" type="image/png" href="docs/favicon-32x32.png" sizes="32x32">
  <link rel="icon" type="image/png" href="docs/favicon-16x16.png" sizes="16x16">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="docs/swagger-ui-bundle.js"></script>
  <script src="docs/start.js"></script>
</body>
</html>
"""
_START = """window.onload = function () {
  window.ui = SwaggerUIBundle({
    url: "openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
  });
};
"""


@functools.cache
def openapi_document() -> dict[str, Any]:
    """The contract, as a mapping (read once)."""
    text = resources.files(__package__).joinpath(DOCUMENT).read_text(encoding="utf-8")
    document: dict[str, Any] = yaml.safe_load(text)
    return document


@functools.cache
def _document_bytes() -> bytes:
    return to_json_bytes(openapi_document())


@functools.cache
def _swagger_ui_files() -> Path:
    # Found without importing the package (its Flask blueprint is not used).
    spec = importlib.util.find_spec(SWAGGER_UI_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"the {SWAGGER_UI_PACKAGE} package is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "dist"


@contract.get("/openapi.json")
def openapi() -> Response:
    return Response(_document_bytes(), content_type="application/json; charset=utf-8")


@contract.get("/docs")
def docs() -> Response:
    return Response(_PAGE, content_type=HTML)


@contract.get("/docs/<asset>")
def docs_asset(asset: str) -> Response:
    if asset == "start.js":
        return Response(_START, content_type=JAVASCRIPT)
    if asset not in ASSETS:
        raise NotFound(f"no such file of the /docs page: {asset[:40]!r}")
    return send_from_directory(_swagger_ui_files(), asset)
