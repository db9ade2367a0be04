"""The contract itself: a valid OpenAPI 3.1 document, of exactly the routes the app has,
served as JSON and rendered at /docs from local files; and the checker the tests run."""

from __future__ import annotations

import json
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openapi_spec_validator import validate

from logistic.entrypoints.http.contract import ASSETS, openapi_document
from tests.contract import CONTRACT

METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE"}
ERROR = b'{"status":"error","data":null,"error":{"code":404,"message":"no shipment with sno 9"}}'
REQUEST_ID = ("X-Request-ID", "a1b2")
JSON = [("Content-Type", "application/json; charset=utf-8"), REQUEST_ID]


def test_the_document_is_valid_openapi_3_1() -> None:
    document = openapi_document()
    validate(document)  # raises on the first problem
    assert document["openapi"].startswith("3.1")


def test_it_documents_every_route_the_app_has_and_no_other(app: Flask) -> None:
    routes = {
        (method, re.sub(r"<(?:[^:>]+:)?[^>]+>", "{}", rule.rule))
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static"
        for method in (rule.methods or set()) & METHODS
    }
    documented = {
        (method.upper(), re.sub(r"\{[^}]+\}", "{}", path))
        for path, item in openapi_document()["paths"].items()
        for method in item
        if method.upper() in METHODS
    }
    assert routes == documented


def test_every_operation_names_its_security_and_answers_500_in_the_envelope() -> None:
    for path, item in openapi_document()["paths"].items():
        for method, operation in item.items():
            assert "security" in operation, f"{method} {path}"
            assert "500" in operation["responses"], f"{method} {path}"
            assert operation["operationId"]


def test_openapi_json_is_the_document(client: FlaskClient) -> None:
    response = client.get("/openapi.json")

    assert response.status_code == 200
    assert json.loads(response.data) == openapi_document()


def test_the_docs_page_loads_only_files_the_service_serves(client: FlaskClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    assert page.content_type == "text/html; charset=utf-8"
    html = page.get_data(as_text=True)
    assert "//" not in html.replace("<!DOCTYPE html>", "")  # no other site, no CDN
    assert "<script>" not in html  # no inline script
    loaded = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert {name.removeprefix("docs/") for name in loaded} == {*ASSETS, "start.js"}
    for name in loaded:
        asset = client.get(f"/{name}")
        assert asset.status_code == 200, name
        assert asset.data
    assert b"openapi.json" in client.get("/docs/start.js").data


@pytest.mark.parametrize("name", ["index.html", "swagger-ui.js", "..%2Fcontract.py", "VERSION"])
def test_no_other_file_is_served(client: FlaskClient, name: str) -> None:
    assert client.get(f"/docs/{name}").status_code == 404


# The checker: it must fail on answers the contract does not promise.


def test_the_checker_accepts_a_documented_answer() -> None:
    CONTRACT.check("GET", "/query?sno=9", 404, JSON, ERROR)


@pytest.mark.parametrize(
    ("method", "target", "status", "headers", "body", "problem"),
    [
        ("GET", "/query?sno=9", 418, JSON, ERROR, "status 418 is not in the contract"),
        (
            "GET",
            "/query?sno=9",
            404,
            [("Content-Type", "text/html"), REQUEST_ID],
            b"<p>",
            "text/html",
        ),
        ("GET", "/query?sno=9", 404, JSON, b'{"error": "nope"}', "the body breaks"),
        ("GET", "/query?sno=9", 404, JSON, b"{", "not JSON"),
        ("GET", "/query?sno=9", 200, JSON, b"{}", "the ETag header is missing"),
        ("GET", "/query?sno=9", 304, [("ETag", "abc")], b"", "the ETag header breaks"),
        ("GET", "/query?sno=9", 304, [], b"x", "the ETag header is missing"),
        ("GET", "/nowhere", 200, JSON, b"{}", "a route the contract does not have"),
        ("DELETE", "/query", 200, JSON, b"{}", "a route the contract does not have"),
        ("GET", "/fake", 401, JSON, ERROR.replace(b"404", b"401"), "WWW-Authenticate"),
        (
            "GET",
            "/query?sno=9",
            429,
            [*JSON, ("Retry-After", "soon")],
            ERROR.replace(b"404", b"429"),
            "Retry-After",
        ),
    ],
)
def test_the_checker_refuses_what_the_contract_does_not_promise(
    method: str,
    target: str,
    status: int,
    headers: list[tuple[str, str]],
    body: bytes,
    problem: str,
) -> None:
    with pytest.raises(AssertionError, match=re.escape(problem)):
        CONTRACT.check(method, target, status, headers, body)
