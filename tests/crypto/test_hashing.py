"""``hashed_grant_key``: the form in which a handle reaches a store (Duende ``DefaultGrantStore.GetHashedKey``), and
the issue time that leads the key of a time-ordered handle (issue 15)."""

from __future__ import annotations

import hashlib

import pytest

from identityserver.crypto.hashing import hashed_grant_key

ORDERED = "0190F3A2B4C1" + "AB" * 32 + "-2"


def sha256_hex(handle: str, grant_type: str) -> str:
    return hashlib.sha256(f"{handle}:{grant_type}".encode()).hexdigest().upper()


def test_an_identityserver_handle_is_keyed_by_the_upper_case_hex_sha256_of_handle_and_type() -> None:
    # sha256("0123456789ABCDEF-1:reference_token"), computed apart from this code
    expected = "929BD039A701C3C802CE72DB2D1D56273E2756F32D5072B9DD5A427DFE675B4B"
    assert hashed_grant_key("0123456789ABCDEF-1", "reference_token") == expected


def test_a_time_ordered_handle_is_keyed_by_its_issue_time_then_the_hash_of_handle_and_type() -> None:
    key = hashed_grant_key(ORDERED, "refresh_token")
    assert key == "0190F3A2B4C1" + sha256_hex(ORDERED, "refresh_token")
    assert key != hashed_grant_key(ORDERED, "authorization_code")


def test_keys_of_later_handles_sort_after_earlier_ones_whatever_their_random_digits() -> None:
    issued = [0x0190F3A2B4C1 + step for step in (0, 1, 2, 1000, 10**9)]
    random_digits = ("FF" * 32, "00" * 32, "7F" * 32, "A0" * 32, "01" * 32)
    handles = [f"{t:012X}{digits}-2" for t, digits in zip(issued, random_digits, strict=True)]
    keys = [hashed_grant_key(h, "reference_token") for h in handles]
    assert keys == sorted(keys)


@pytest.mark.parametrize(
    "handle",
    [
        ORDERED.lower(),  # not the generator's form
        ORDERED[:-2] + "-1",
        ORDERED[1:],  # one digit short
        "0" + ORDERED,  # one digit long
        "\x00" * 12 + "AB" * 32 + "-2",  # PostgreSQL's text type refuses a NUL
        "é" * 12 + "AB" * 32 + "-2",
        "'; DROP T" + "ABC" + "AB" * 32 + "-2",
        "0190F3A2B4C1" + "AB" * 31 + "A-B-2",
    ],
)
def test_only_a_handle_of_exactly_the_time_ordered_form_lends_its_digits_to_its_key(handle: str) -> None:
    key = hashed_grant_key(handle, "reference_token")
    assert key == sha256_hex(handle, "reference_token")
    assert len(key) == 64 and set(key) <= set("0123456789ABCDEF")
