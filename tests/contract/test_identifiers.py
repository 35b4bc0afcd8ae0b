"""Identifier checks (scalar and vectorised) under generated inputs."""

from __future__ import annotations

import pyarrow as pa
from hypothesis import given
from hypothesis import strategies as st

from fairwatch.contract.identifiers import (
    USCC_ALPHABET,
    looks_like_phone,
    phone_mask,
    resident_id_is_valid,
    resident_id_mask,
    uscc_check_char,
    uscc_is_valid,
    uscc_valid_mask,
)

ALNUM = USCC_ALPHABET  # the characters allowed in the code body
uscc_bodies = st.builds(
    lambda a, region, rest: a + region + rest,
    st.text(ALNUM, min_size=2, max_size=2),
    st.text("0123456789", min_size=6, max_size=6),
    st.text(ALNUM, min_size=9, max_size=9),
)
id_bodies = st.text("0123456789", min_size=17, max_size=17)
ID_CHECK = "10X98765432"


def _resident_id(body: str) -> str:
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return body + ID_CHECK[sum(int(c) * w for c, w in zip(body, weights, strict=True)) % 11]


@given(uscc_bodies)
def test_uscc_check_char_makes_valid_codes(body: str) -> None:
    code = body + uscc_check_char(body)
    assert uscc_is_valid(code)
    assert uscc_valid_mask(pa.array([code])).to_pylist() == [True]


@given(uscc_bodies, st.integers(0, 17), st.sampled_from(ALNUM + "IOZSV"))
def test_any_single_character_change_of_a_uscc_is_caught(body: str, pos: int, char: str) -> None:
    code = body + uscc_check_char(body)
    changed = code[:pos] + char + code[pos + 1 :]
    if changed == code:
        return
    assert not uscc_is_valid(changed)
    assert uscc_valid_mask(pa.array([changed])).to_pylist() == [False]


@given(st.lists(st.one_of(st.none(), st.text(max_size=20), uscc_bodies.map(
    lambda b: b + uscc_check_char(b)))))  # fmt: skip
def test_vectorised_uscc_check_agrees_with_the_scalar_one(values: list[str | None]) -> None:
    expected = [v is not None and uscc_is_valid(v) for v in values]
    assert uscc_valid_mask(pa.array(values, pa.string())).to_pylist() == expected


@given(id_bodies, st.integers(0, 17), st.sampled_from("0123456789X"))
def test_resident_ids_and_single_changes(body: str, pos: int, char: str) -> None:
    rid = _resident_id(body)
    assert resident_id_is_valid(rid)
    changed = rid[:pos] + char + rid[pos + 1 :]
    values = [rid, changed, rid.lower(), None]
    expected = [True, resident_id_is_valid(changed), True, False]
    assert resident_id_mask(pa.array(values, pa.string())).to_pylist() == expected
    if changed != rid:  # ISO 7064 MOD 11-2 catches every single substitution
        assert not resident_id_is_valid(changed)


@given(st.lists(st.one_of(st.none(), st.text("0123456789X", max_size=19), id_bodies.map(
    _resident_id))))  # fmt: skip
def test_vectorised_resident_id_check_agrees_with_the_scalar_one(values: list[str | None]) -> None:
    expected = [v is not None and resident_id_is_valid(v) for v in values]
    assert resident_id_mask(pa.array(values, pa.string())).to_pylist() == expected


@given(
    st.lists(
        st.one_of(
            st.none(),
            st.text("0123456789+ -", max_size=13),
            st.text("0123456789", min_size=10, max_size=10).map("1".__add__),
        )
    )
)
def test_vectorised_phone_check_agrees_with_the_scalar_one(values: list[str | None]) -> None:
    expected = [v is not None and looks_like_phone(v) for v in values]
    assert phone_mask(pa.array(values, pa.string())).to_pylist() == expected
