"""GS1 identifiers for the EPCIS export: check digits, GTINs and GLNs, and the URIs EPCIS 2.0 events carry.

- A lot is a class-level identifier: the material's GTIN plus the lot number, as a GS1 Digital Link URI
  (`https://id.gs1.org/01/{gtin14}/10/{lot}`, the default) or an LGTIN EPC URI
  (`urn:epc:class:lgtin:{company prefix}.{indicator}{item reference}.{lot}`, which needs the length of the GS1
  company prefix).
- A location is the site's GLN with the location id as GLN extension (AI 254): `https://id.gs1.org/414/{gln}/254/
  {location}` or `urn:epc:id:sgln:{company prefix}.{location reference}.{location}`; the site itself has no
  extension (`.../414/{gln}`, `urn:epc:id:sgln:...0`).
- A party (owning or possessing) is a party GLN (`https://id.gs1.org/417/{gln}`, `urn:epc:id:pgln:...`) when one
  is known; otherwise a private URI under the export's namespace (`{namespace}party/{id}`).
- A work order or shipment is a business transaction in the CBV form `urn:epcglobal:cbv:bt:{site gln}:{id}`.

GS1 AI 10 (lot) and AI 254 (GLN extension) values are 1 to 20 characters of GS1 character set 82; anything else
is refused with a clear error, never silently altered.
"""

from __future__ import annotations

import re
from typing import Literal
from urllib.parse import quote, unquote

from lakehouse.errors import PlantlakeError

IdFormat = Literal["digital_link", "epc"]
ID_FORMATS: tuple[str, ...] = ("digital_link", "epc")
DIGITAL_LINK = "https://id.gs1.org"
CBV_BT = "urn:epcglobal:cbv:bt:"
# GS1 prefix 952 is reserved for demonstrations and examples: identifiers under it are never a real company's
DEMO_COMPANY_PREFIX = "9524321"
_CSET82 = re.compile(r"^[!\"%&'()*+,\-./0-9:;<=>?A-Z_a-z]{1,20}$")
_EPC_ESCAPED = {'"': "%22", "%": "%25", "&": "%26", "/": "%2F", "<": "%3C", ">": "%3E", "?": "%3F"}
_DL_PATH = re.compile(r"^https?://[^/]+(?:/[^/]+)*?/(01|414|417)/(\d{8,14})(?:/(10|254)/([^/?#]+))?/?(?:[?#].*)?$")
_LGTIN = re.compile(r"^urn:epc:class:lgtin:(\d+)\.(\d+)\.(.+)$")
_SGLN = re.compile(r"^urn:epc:id:sgln:(\d+)\.(\d*)\.(.+)$")
_PGLN = re.compile(r"^urn:epc:id:pgln:(\d+)\.(\d*)$")
_BT = re.compile(r"^urn:epcglobal:cbv:bt:(\d{13}):(.+)$")


class EpcisIdentifierError(PlantlakeError, ValueError):
    """A GTIN, GLN, lot number or location cannot be written as (or read from) a GS1 identifier."""


def gs1_check_digit(digits: str) -> int:
    """The GS1 mod-10 check digit of a key (GTIN, GLN, SSCC, ...) given without it: from the right, the digits
    are weighted 3, 1, 3, 1, ...; the check digit brings the weighted sum up to a multiple of 10."""
    if not digits.isdigit():
        raise EpcisIdentifierError(f"a GS1 key has only digits, got {digits!r}")
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits)))
    return (10 - total % 10) % 10


def with_check_digit(digits: str) -> str:
    return digits + str(gs1_check_digit(digits))


def has_valid_check_digit(key: str) -> bool:
    return key.isdigit() and len(key) >= 2 and gs1_check_digit(key[:-1]) == int(key[-1])


def normalize_gtin(gtin: object, *, what: str = "GTIN") -> str:
    """A GTIN-8, -12, -13 or -14 as the 14-digit form (zero-filled), its check digit verified."""
    text = "" if gtin is None else str(gtin).strip()
    if len(text) not in (8, 12, 13, 14) or not text.isdigit():
        raise EpcisIdentifierError(f"{what} {text!r} is not a GTIN: 8, 12, 13 or 14 digits expected")
    if not has_valid_check_digit(text):
        raise EpcisIdentifierError(f"{what} {text!r} has a wrong check digit (expected "
                                   f"{gs1_check_digit(text[:-1])})")
    return text.zfill(14)


def normalize_gln(gln: object, *, what: str = "GLN") -> str:
    text = "" if gln is None else str(gln).strip()
    if len(text) != 13 or not text.isdigit():
        raise EpcisIdentifierError(f"{what} {text!r} is not a GLN: 13 digits expected")
    if not has_valid_check_digit(text):
        raise EpcisIdentifierError(f"{what} {text!r} has a wrong check digit (expected {gs1_check_digit(text[:-1])})")
    return text


DEMO_SITE_GLN = with_check_digit(DEMO_COMPANY_PREFIX + "00001")


def check_cset82(value: str, *, what: str) -> str:
    if not _CSET82.match(value):
        raise EpcisIdentifierError(f"{what} {value!r} cannot be a GS1 identifier component: 1 to 20 characters of "
                                   "letters, digits and !\"%&'()*+,-./:;<=>?_ expected")
    return value


def _epc_escape(value: str) -> str:
    return "".join(_EPC_ESCAPED.get(ch, ch) for ch in value)


def _split_key(key: str, company_prefix_length: int, *, indicator: bool) -> tuple[str, str]:
    """(company prefix, reference) of a GTIN-14 (reference = indicator digit + item reference) or a GLN."""
    if not 6 <= company_prefix_length <= 12:
        raise EpcisIdentifierError(f"a GS1 company prefix has 6 to 12 digits, not {company_prefix_length}")
    body = key[1:-1] if indicator else key[:-1]
    prefix, reference = body[:company_prefix_length], body[company_prefix_length:]
    return prefix, (key[0] + reference) if indicator else reference


def lot_class_uri(gtin14: str, lot: str, id_format: IdFormat = "digital_link", company_prefix_length: int = 7) -> str:
    """The class-level identifier of a lot: GS1 Digital Link (`.../01/{gtin}/10/{lot}`) or LGTIN EPC URI."""
    check_cset82(lot, what="lot number")
    if id_format == "digital_link":
        return f"{DIGITAL_LINK}/01/{gtin14}/10/{quote(lot, safe='')}"
    if id_format == "epc":
        prefix, reference = _split_key(gtin14, company_prefix_length, indicator=True)
        return f"urn:epc:class:lgtin:{prefix}.{reference}.{_epc_escape(lot)}"
    raise EpcisIdentifierError(f"id_format must be one of {', '.join(ID_FORMATS)}, not {id_format!r}")


def parse_lot_class_uri(uri: str) -> tuple[str, str]:
    """(GTIN-14, lot number) of a GS1 Digital Link lot URI (any resolver host) or an LGTIN EPC URI."""
    match = _DL_PATH.match(uri)
    if match and match.group(1) == "01" and match.group(3) == "10":
        return normalize_gtin(match.group(2)), unquote(match.group(4))
    match = _LGTIN.match(uri)
    if match:
        prefix, reference, lot = match.groups()
        body = reference[:1] + prefix + reference[1:]
        if len(body) != 13:
            raise EpcisIdentifierError(f"{uri!r} is not an LGTIN: company prefix and item reference need 13 digits")
        return with_check_digit(body), unquote(lot)
    raise EpcisIdentifierError(f"{uri!r} is not a lot identifier (GS1 Digital Link with /01/ and /10/, or an "
                               "LGTIN EPC URI)")


def location_uri(gln: str, extension: str | None, id_format: IdFormat = "digital_link",
                 company_prefix_length: int = 7) -> str:
    """A location: the site GLN, with the location id as GLN extension (AI 254) unless `extension` is None."""
    if extension is not None:
        check_cset82(extension, what="location id")
    if id_format == "digital_link":
        return f"{DIGITAL_LINK}/414/{gln}" + ("" if extension is None else f"/254/{quote(extension, safe='')}")
    prefix, reference = _split_key(gln, company_prefix_length, indicator=False)
    return f"urn:epc:id:sgln:{prefix}.{reference}.{'0' if extension is None else _epc_escape(extension)}"


def parse_location_uri(uri: str) -> tuple[str, str | None] | None:
    """(GLN, extension or None) of a GS1 location URI; None when the URI is not one."""
    match = _DL_PATH.match(uri)
    if match and match.group(1) == "414":
        return match.group(2), unquote(match.group(4)) if match.group(3) == "254" else None
    match = _SGLN.match(uri)
    if match:
        prefix, reference, extension = match.groups()
        return with_check_digit(prefix + reference), None if extension == "0" else unquote(extension)
    return None


def party_gln_uri(gln: str, id_format: IdFormat = "digital_link", company_prefix_length: int = 7) -> str:
    if id_format == "digital_link":
        return f"{DIGITAL_LINK}/417/{gln}"
    prefix, reference = _split_key(gln, company_prefix_length, indicator=False)
    return f"urn:epc:id:pgln:{prefix}.{reference}"


def parse_party_gln_uri(uri: str) -> str | None:
    match = _DL_PATH.match(uri)
    if match and match.group(1) == "417" and match.group(3) is None:
        return match.group(2)
    match = _PGLN.match(uri)
    return with_check_digit(match.group(1) + match.group(2)) if match else None


def business_transaction_uri(site_gln: str, identifier: str) -> str:
    """A work order or shipment as a CBV business transaction id: `urn:epcglobal:cbv:bt:{gln}:{id}`."""
    return f"{CBV_BT}{site_gln}:{quote(identifier, safe='-._~')}"


def parse_business_transaction_uri(uri: str) -> tuple[str, str] | None:
    match = _BT.match(uri)
    return (match.group(1), unquote(match.group(2))) if match else None
