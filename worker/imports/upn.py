"""The DfE Unique Pupil Number check letter.

A UPN is a check letter followed by 12 characters (LA number, establishment, year, serial).
Weights 2..13 multiply characters 2..13; the sum modulo 23 indexes CHECK_LETTERS. A temporary
UPN ends in a letter, which counts as its position in the same table. A mistyped UPN would
match rows to the wrong child, so the roster rejects one whose check letter is wrong.
"""

from __future__ import annotations

import re

CHECK_LETTERS = "ABCDEFGHJKLMNPQRTUVWXYZ"
_SHAPE = re.compile(r"^[A-Z][0-9]{11}[0-9A-Z]$")


def check_letter(body: str) -> str:
    """The check letter for the 12 characters after it; raises ValueError if they are not valid."""
    if len(body) != 12:
        raise ValueError("a UPN has 12 characters after its check letter")
    total = 0
    for weight, char in zip(range(2, 14), body, strict=True):
        if char.isdigit():
            value = int(char)
        elif char in CHECK_LETTERS and weight == 13:
            value = CHECK_LETTERS.index(char)
        else:
            raise ValueError(f"{char!r} cannot appear at position {weight} of a UPN")
        total += weight * value
    return CHECK_LETTERS[total % 23]


def upn_problem(upn: str) -> str | None:
    """None when `upn` is well formed with the right check letter, else why not."""
    if not _SHAPE.match(upn):
        return "a UPN is a letter and 12 digits (13 characters)"
    try:
        expected = check_letter(upn[1:])
    except ValueError as exc:
        return str(exc)
    if upn[0] != expected:
        return f"the check letter should be {expected}, not {upn[0]}"
    return None


def is_valid_upn(upn: str) -> bool:
    return upn_problem(upn) is None
