"""The bytes of a /query or /fake body: compact JSON, text as UTF-8, as the original sent them.

Cached bodies written before an upgrade are served beside bodies written after
it, so the encoding is pinned to the original's `json.dumps` settings byte for byte.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from logistic.services.rendering import to_json_bytes

_SCALARS = st.none() | st.booleans() | st.integers() | st.text()
_DOCUMENTS = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


def test_a_body_is_compact_with_text_as_utf8() -> None:
    body = to_json_bytes({"title": "臺中物流中心", "details": [{"id": 1, "note": None}]})

    assert body == '{"title":"臺中物流中心","details":[{"id":1,"note":null}]}'.encode()


@given(_DOCUMENTS)
def test_every_document_is_encoded_as_the_original_encoded_it(document: object) -> None:
    text = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
    try:
        expected = text.encode()
    except UnicodeEncodeError:  # a lone surrogate: no UTF-8 body
        with pytest.raises(UnicodeEncodeError):
            to_json_bytes(document)
        return
    assert to_json_bytes(document) == expected
