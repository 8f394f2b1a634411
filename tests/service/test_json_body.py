"""Bounded JSON: the depth is counted before anything recurses; every refusal is an InvalidBody (a 400)."""

import pytest

from service.json_body import MAX_DEPTH, InvalidBody, depth, parse


@pytest.mark.parametrize(("raw", "deepest"), [
    (b"{}", 1), (b"[[1], [[2]]]", 3), (b'{"a": "[[[{{{"}', 1), (b'["\\"[[[", [2]]', 2), (b'"\\\\"', 0),
    (b'[["\\\\"], [[]]]', 3), (b"1", 0),
])
def test_depth_counts_brackets_outside_strings_only(raw, deepest):
    assert depth(raw) == deepest


def test_a_body_at_the_limit_parses_and_one_level_more_is_refused():
    assert parse(b"[" * MAX_DEPTH + b"]" * MAX_DEPTH) == eval("[" * MAX_DEPTH + "]" * MAX_DEPTH)  # noqa: S307
    with pytest.raises(InvalidBody, match=f"nested {MAX_DEPTH + 1} levels deep; at most {MAX_DEPTH}"):
        parse(b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1))
    with pytest.raises(InvalidBody, match="nested 100000 levels deep"):
        parse(b"[" * 100_000)  # unbalanced too: refused before the parser ever sees it


@pytest.mark.parametrize("raw", [b"9" * 5000, b"\xff\xfe\x00", b"{", b'{"a": NaN', b"", b"\xc3\x28"])
def test_what_python_refuses_to_read_is_an_invalid_body(raw):
    with pytest.raises(InvalidBody, match="body is not valid JSON"):
        parse(raw)


def test_other_encodings_json_allows_are_read():
    assert parse('{"a": 1}'.encode("utf-16")) == {"a": 1}
    assert parse(b'{"a": 1, "a": 2}') == {"a": 2}  # duplicate keys: the last wins, as RFC 8259 leaves open
