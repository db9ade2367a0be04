"""Every response the tests see, checked against the contract (entrypoints/http/openapi.yaml).

`CONTRACT.check(method, target, status, headers, body)` fails the test (AssertionError)
when the answer is not one the document promises: an undocumented route or status, a
content type it does not list, a body that does not match its schema, a required header
missing or a header of the wrong shape. A request to no documented route may only get
the JSON error envelope with 404 or 405; the automatic OPTIONS answer is not checked.
Used by tests/unit (every Flask test client, see tests/unit/conftest.py) and by
tests/integration/servers.py (every reply of the real server).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

from flask.testing import FlaskClient
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from werkzeug.test import Client, TestResponse

from logistic.entrypoints.http.contract import openapi_document

BASE = "urn:logistic:openapi"
METHODS = ("get", "put", "post", "delete", "patch", "head", "options")
# Answers Flask or the HTTP server give to any path: routing's own errors.
ROUTING_STATUSES = (404, 405)


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def _media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


class Contract:
    def __init__(self, document: Mapping[str, Any]) -> None:
        self.document = document
        resource = Resource.from_contents(document, default_specification=DRAFT202012)
        self._registry: Registry[Any] = Registry().with_resource(BASE, resource)
        self._validators: dict[str, Draft202012Validator] = {}
        self._routes: list[tuple[re.Pattern[str], str]] = []
        for template in document["paths"]:
            pattern = re.sub(r"\\\{[^}/]+\\\}", "[^/]+", re.escape(template))
            self._routes.append((re.compile(f"^{pattern}$"), template))
        # Fixed paths before templates: /docs is not /docs/{asset}.
        self._routes.sort(key=lambda route: "{" in route[1])

    def template(self, path: str) -> str | None:
        return next((template for pattern, template in self._routes if pattern.match(path)), None)

    def _validator(self, pointer: str) -> Draft202012Validator:
        if pointer not in self._validators:
            self._validators[pointer] = Draft202012Validator(
                {"$ref": f"{BASE}#{pointer}"},
                registry=self._registry,
                format_checker=Draft202012Validator.FORMAT_CHECKER,
            )
        return self._validators[pointer]

    def _resolved(self, node: Mapping[str, Any], pointer: str) -> tuple[Mapping[str, Any], str]:
        """`node` (at `pointer`), or what its `$ref` points to (within this document)."""
        while "$ref" in node:
            pointer = node["$ref"].removeprefix("#")
            node = self.document
            for token in pointer.strip("/").split("/"):
                node = node[token.replace("~1", "/").replace("~0", "~")]
        return node, pointer

    def _valid(self, instance: Any, pointer: str, what: str) -> None:
        try:
            self._validator(pointer).validate(instance)
        except ValidationError as error:
            raise AssertionError(f"{what} breaks the contract: {error.message}") from None

    def check(
        self,
        method: str,
        target: str,
        status: int,
        headers: Iterable[tuple[str, str]],
        body: bytes,
    ) -> None:
        """Fails (AssertionError) unless this answer to `method target` is one the
        document promises."""
        method = method.lower()
        if method == "options":
            return
        path = urlsplit(target).path
        named = f"{method.upper()} {path} → {status}"
        found = {name.lower(): value for name, value in headers}
        template = self.template(path)
        operation = None
        if template is not None:
            item = self.document["paths"][template]
            operation = item.get("get" if method == "head" else method)
        if operation is None:
            assert status in ROUTING_STATUSES, f"{named}: a route the contract does not have"
            self._valid_body(named, found, body, "/components/schemas/Error", method)
            return
        op_pointer = f"/paths/{_escape(str(template))}/{'get' if method == 'head' else method}"
        responses = operation["responses"]
        assert str(status) in responses, (
            f"{named}: status {status} is not in the contract (it lists {', '.join(responses)})"
        )
        response, pointer = self._resolved(
            responses[str(status)], f"{op_pointer}/responses/{status}"
        )
        self._check_headers(named, response, pointer, found)
        content = response.get("content")
        if not content:
            assert not body, f"{named}: a body where the contract has none"
            return
        media = _media_type(found.get("content-type"))
        assert media in content, (
            f"{named}: content type {media or '(none)'} is not in the contract "
            f"({', '.join(content)})"
        )
        if media == "application/json":
            self._valid_body(
                named, found, body, f"{pointer}/content/{_escape(media)}/schema", method
            )

    def _valid_body(
        self, named: str, headers: Mapping[str, str], body: bytes, pointer: str, method: str
    ) -> None:
        if method == "head":
            return
        media = _media_type(headers.get("content-type"))
        assert media == "application/json", f"{named}: {media or '(none)'}, not JSON"
        try:
            document = json.loads(body)
        except ValueError as error:
            raise AssertionError(f"{named}: the body is not JSON ({error})") from None
        self._valid(document, pointer, f"{named}: the body")

    def _check_headers(
        self, named: str, response: Mapping[str, Any], pointer: str, found: Mapping[str, str]
    ) -> None:
        for name, declared in response.get("headers", {}).items():
            header, header_pointer = self._resolved(declared, f"{pointer}/headers/{name}")
            value = found.get(name.lower())
            if value is None:
                assert not header.get("required"), f"{named}: the {name} header is missing"
                continue
            schema = header["schema"]
            instance: Any = value
            if schema.get("type") == "integer":
                assert re.fullmatch(r"-?[0-9]+", value), f"{named}: {name}: {value!r}"
                instance = int(value)
            self._valid(instance, f"{header_pointer}/schema", f"{named}: the {name} header")


CONTRACT = Contract(openapi_document())


def checked(response: TestResponse, method: str, target: str) -> TestResponse:
    CONTRACT.check(
        method, target, response.status_code, response.headers.items(), response.get_data()
    )
    return response


class CheckedClient(Client):
    """A werkzeug test client whose every response is checked against the contract."""

    def open(self, *args: Any, **kwargs: Any) -> TestResponse:
        response = super().open(*args, **kwargs)
        return checked(response, response.request.method, response.request.full_path)


class CheckedFlaskClient(FlaskClient):
    """Flask's test client, every response checked against the contract."""

    def open(self, *args: Any, **kwargs: Any) -> TestResponse:
        response = super().open(*args, **kwargs)
        return checked(response, response.request.method, response.request.full_path)
