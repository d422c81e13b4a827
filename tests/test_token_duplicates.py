"""A JSON segment naming a member twice is refused, naming the first name seen twice."""

from __future__ import annotations

import json

import pytest

from parsers.token import json_object


@pytest.mark.parametrize(
    ("payload", "named"),
    [
        ('{"a": 1, "b": 2, "b": 3, "a": 4}', "'b'"),
        ('{"a": 1, "b": {"c": 1, "c": 2}, "a": 4}', "'c'"),
        ('{"x": [{"k": 1}, {"k": 2, "k": 3}]}', "'k'"),
    ],
)
def test_the_first_name_seen_twice_is_named(payload: str, named: str) -> None:
    with pytest.raises(Exception, match=f"duplicate member {named}"):
        json_object(payload.encode(), name="payload")


def test_distinct_names_keep_their_order() -> None:
    payload = '{"z": 1, "a": {"y": 2, "b": 3}, "m": [1, {"q": null}]}'
    assert json.dumps(json_object(payload.encode(), name="payload")) == payload
