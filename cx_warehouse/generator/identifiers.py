"""How identifiers are written in the extracts (messy) and normalised in the ground truth (contract rules).

Phone numbers are kept as their 9-digit Dutch national significant number (``612345678`` for a mobile,
``201234567`` for an Amsterdam landline) and only formatted when written.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from cx_warehouse.generator.reference import ASCII_FOLD, TWO_DIGIT_AREA_CODES


class Placeholder(NamedTuple):
    id_type: str  # "email" or "phone"
    value: str  # as staff type it
    in_contract_list: bool  # named in the contract's examples, or only recognisable by its usage


PLACEHOLDERS: tuple[Placeholder, ...] = (
    Placeholder("email", "geen@email.nl", True),
    Placeholder("email", "noreply@example.com", True),
    Placeholder("email", "test@test.nl", False),
    Placeholder("email", "x@x.nl", False),
    Placeholder("phone", "0000000000", True),
    Placeholder("phone", "0612345678", True),
    Placeholder("phone", "0600000000", False),
    Placeholder("phone", "0111111111", False),
)
PLACEHOLDER_EMAILS: tuple[int, ...] = tuple(i for i, p in enumerate(PLACEHOLDERS) if p.id_type == "email")
PLACEHOLDER_PHONES: tuple[int, ...] = tuple(i for i, p in enumerate(PLACEHOLDERS) if p.id_type == "phone")
# National numbers no real person may get because a placeholder already uses them.
RESERVED_NATIONAL_NUMBERS: frozenset[str] = frozenset(
    p.value[1:] for p in PLACEHOLDERS if p.id_type == "phone"
)

PHONE_STYLES = 5  # 0612345678 | 06-12345678 | +31 6 1234 5678 | 0031612345678 | (06) 1234 5678
EMAIL_STYLES = 6
POSTCODE_STYLES = 4


def area_code(nsn: str) -> str:
    """The area (or mobile) prefix of a national significant number: ``6``, ``20`` or ``591``."""
    if nsn[0] == "6":
        return "6"
    return nsn[:2] if nsn[:2] in TWO_DIGIT_AREA_CODES else nsn[:3]


def _group(subscriber: str) -> str:
    """Subscriber digits grouped the way people write them: 1234 5678, 123 4567, 123 456."""
    split = 4 if len(subscriber) == 8 else 3
    return f"{subscriber[:split]} {subscriber[split:]}"


def format_phone(nsn: str, style: int) -> str:
    """A national significant number written in one of the ``PHONE_STYLES`` seen in source systems."""
    area = area_code(nsn)
    rest = nsn[len(area) :]
    if style == 0:
        return "0" + nsn
    if style == 1:
        return f"0{area}-{rest}"
    if style == 2:
        return f"+31 {area} {_group(rest)}"
    if style == 3:
        return "0031" + nsn
    return f"(0{area}) {_group(rest)}"


def messy_email(address: str, style: int) -> str:
    """An e-mail address as typed into a form: any case, sometimes with stray spaces."""
    if style == 0:
        return address
    if style == 1:
        return address.title()
    if style == 2:
        return address.upper()
    if style == 3:
        return " " + address
    if style == 4:
        return address + " "
    return " " + address.title() + "  "


def format_postcode(postcode: str, style: int) -> str:
    """A ``1234AB`` postcode written as ``1234AB``, ``1234 ab``, ``1234 AB`` or ``1234ab``."""
    digits, letters = postcode[:4], postcode[4:]
    return (
        postcode,
        f"{digits} {letters.lower()}",
        f"{digits} {letters}",
        digits + letters.lower(),
    )[style]


def messy_emails(addresses: Sequence[str], styles: np.ndarray) -> list[str]:
    """``messy_email`` over a batch."""
    return [messy_email(a, s) for a, s in zip(addresses, styles.tolist(), strict=True)]


def uuids(rng: np.random.Generator, n: int) -> list[str]:
    """``n`` random UUID strings in the version-4 layout."""
    h = rng.bytes(16 * n).hex()
    return [
        f"{h[i : i + 8]}-{h[i + 8 : i + 12]}-4{h[i + 13 : i + 16]}-a{h[i + 17 : i + 20]}-{h[i + 20 : i + 32]}"
        for i in range(0, 32 * n, 32)
    ]


@functools.cache
def ascii_fold(text: str) -> str:
    """Accents removed (``Zoë Çelik`` -> ``Zoe Celik``), for e-mail local parts and handles."""
    text = "".join(ASCII_FOLD.get(ch, ch) for ch in text)
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


# --- normalisation, exactly as the contract's "Identifier normalisation" table ---------------------------


def normalise_email(raw: str) -> str:
    """Trimmed and lower-cased, nothing else."""
    return raw.strip().lower()


_NON_DIGITS = re.compile(r"\D")


def normalise_phone(raw: str) -> str:
    """E.164 (``+31612345678``); empty when the value cannot be a Dutch or international number."""
    text = raw.strip()
    digits = _NON_DIGITS.sub("", text)
    if text.startswith("+"):
        international = digits
    elif digits.startswith("00"):
        international = digits[2:]
    elif digits.startswith("0"):
        international = "31" + digits[1:]
    else:
        return ""
    if international.startswith("31"):
        national = international[2:]
        return "+" + international if len(national) == 9 and national[0] != "0" else ""
    return "+" + international if 8 <= len(international) <= 15 and international[0] != "0" else ""


def normalise_social(platform: str, handle: str) -> str:
    """``platform:handle``, lower-case without a leading ``@`` (WhatsApp ids are digits as delivered)."""
    return f"{platform}:{handle.strip().lstrip('@').lower()}"
