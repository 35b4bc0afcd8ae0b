"""Identifier checks: Unified Social Credit Codes and personal identifiers.

* USCC check character per GB 32100-2015 (18 characters, base-31 alphabet without
  I, O, Z, S, V; weights 3^i mod 31).
* Resident identity numbers per GB 11643-1999 (18 characters, ISO 7064 MOD 11-2).
* Mainland mobile numbers: 11 digits starting with 1 (the reporting standard's test).

These are used to reject non-pseudonymous data in pseudonym columns and to validate
``uscc`` columns; the synthetic market uses :func:`uscc_check_char` to make valid codes.
"""

from __future__ import annotations

import re

import pyarrow as pa
import pyarrow.compute as pc

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_VALUE = {c: i for i, c in enumerate(USCC_ALPHABET)}
_USCC_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))
_USCC_SHAPE = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$")

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_ID_SHAPE = re.compile(r"^\d{17}[\dXx]$")
PHONE_PATTERN = re.compile(r"^1\d{10}$")


def uscc_check_char(first17: str) -> str:
    """The 18th character of a USCC whose first 17 characters are given."""
    if len(first17) != 17 or any(c not in _USCC_VALUE for c in first17):
        raise ValueError(f"not 17 USCC characters: {first17!r}")
    total = sum(_USCC_VALUE[c] * w for c, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def uscc_is_valid(code: str) -> bool:
    """Whether ``code`` is an 18-character USCC with a correct check character."""
    if not isinstance(code, str) or not _USCC_SHAPE.match(code):
        return False
    return uscc_check_char(code[:17]) == code[17]


def resident_id_is_valid(value: str) -> bool:
    """Whether ``value`` is an 18-character resident ID number with a valid checksum."""
    if not isinstance(value, str) or not _ID_SHAPE.match(value):
        return False
    total = sum(int(c) * w for c, w in zip(value[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11] == value[17].upper()


def looks_like_phone(value: str) -> bool:
    """Whether ``value`` looks like a raw mainland mobile number (11 digits, leading 1)."""
    return isinstance(value, str) and PHONE_PATTERN.match(value) is not None


# ----------------------------------------------------------------- vectorised versions
# The same tests over whole Arrow columns (pyarrow.compute, no per-row Python), used by
# batch validation. Each returns a boolean array, False where the input is null.

_USCC_SHAPE_RE = _USCC_SHAPE.pattern
_ID_SHAPE_RE = _ID_SHAPE.pattern
_PHONE_RE = PHONE_PATTERN.pattern


def _weighted_sum(
    values: pa.Array | pa.ChunkedArray, alphabet: str, weights: tuple[int, ...]
) -> pa.Array | pa.ChunkedArray:
    """Sum over positions of ``weight * alphabet.index(char)`` (null where a char is foreign)."""
    value_set = pa.array(list(alphabet))
    total: pa.Array | pa.ChunkedArray | None = None
    for i, w in enumerate(weights):
        char = pc.utf8_slice_codeunits(values, i, i + 1)
        term = pc.multiply(pc.cast(pc.index_in(char, value_set=value_set), pa.int64()), w)
        total = term if total is None else pc.add(total, term)
    assert total is not None
    return total


def _mod(values: pa.Array | pa.ChunkedArray, m: int) -> pa.Array | pa.ChunkedArray:
    return pc.subtract(values, pc.multiply(pc.divide(values, m), m))


def _as_strings(values: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    return values if pa.types.is_string(values.type) else pc.cast(values, pa.string())


def uscc_valid_mask(values: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """Vectorised :func:`uscc_is_valid`."""
    values = _as_strings(values)
    shape = pc.fill_null(pc.match_substring_regex(values, _USCC_SHAPE_RE), False)
    safe = pc.if_else(shape, values, pa.scalar("0" * 18))
    total = _weighted_sum(safe, USCC_ALPHABET, _USCC_WEIGHTS)
    expected = _mod(pc.subtract(31, _mod(total, 31)), 31)
    actual = pc.cast(
        pc.index_in(pc.utf8_slice_codeunits(safe, 17, 18), value_set=pa.array(list(USCC_ALPHABET))),
        pa.int64(),
    )
    return pc.and_(shape, pc.fill_null(pc.equal(expected, actual), False))


def resident_id_mask(values: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """Vectorised :func:`resident_id_is_valid`."""
    values = _as_strings(values)
    shape = pc.fill_null(pc.match_substring_regex(values, _ID_SHAPE_RE), False)
    safe = pc.if_else(shape, values, pa.scalar("0" * 18))
    total = _weighted_sum(safe, "0123456789", _ID_WEIGHTS)
    expected = pc.take(pa.array(list(_ID_CHECK)), _mod(total, 11))
    actual = pc.utf8_upper(pc.utf8_slice_codeunits(safe, 17, 18))
    return pc.and_(shape, pc.fill_null(pc.equal(expected, actual), False))


def phone_mask(values: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """Vectorised :func:`looks_like_phone`."""
    values = _as_strings(values)
    return pc.fill_null(pc.match_substring_regex(values, _PHONE_RE), False)
