"""When a client certificate expires: ``notAfter`` read from a PEM certificate's DER (RFC 5280
section 4.1: Certificate, then tbsCertificate, then validity), with no library beyond the
standard one. Only that field is read; nothing is verified (the TLS handshake does that)."""

from __future__ import annotations

import base64
import binascii
import re
from datetime import datetime, timezone

_PEM = re.compile(rb"-----BEGIN CERTIFICATE-----(.+?)-----END CERTIFICATE-----", re.S)


def _tlv(data: bytes, at: int) -> tuple[int, int, int]:
    """(tag, start of the value, end of the value) of the DER element at ``at``."""
    tag, length = data[at], data[at + 1]
    start = at + 2
    if length & 0x80:
        count = length & 0x7F
        length = int.from_bytes(data[start:start + count], "big")
        start += count
    if start + length > len(data):
        raise ValueError("truncated DER")
    return tag, start, start + length


def _children(data: bytes, start: int, end: int) -> list[tuple[int, int, int]]:
    out, at = [], start
    while at < end:
        tag, value, stop = _tlv(data, at)
        out.append((tag, value, stop))
        at = stop
    return out


def _time(tag: int, text: str) -> datetime:
    if tag == 0x17:  # UTCTime YYMMDDHHMMSSZ: years 50-99 are 19xx (RFC 5280 4.1.2.5.1)
        year = int(text[:2])
        text = f"{1900 + year if year >= 50 else 2000 + year}{text[2:]}"
    return datetime.strptime(text[:14], "%Y%m%d%H%M%S").replace(tzinfo=timezone.utc)


def not_after(pem: bytes) -> datetime | None:
    """The end of the first certificate's validity, or None if ``pem`` holds no readable certificate."""
    match = _PEM.search(pem)
    if not match:
        return None
    try:
        der = base64.b64decode(b"".join(match.group(1).split()), validate=True)
        _, cert_start, cert_end = _tlv(der, 0)
        _, tbs_start, tbs_end = _children(der, cert_start, cert_end)[0]
        fields = _children(der, tbs_start, tbs_end)
        if fields and fields[0][0] == 0xA0:  # the explicit [0] version
            fields = fields[1:]
        _, validity_start, validity_end = fields[3]  # serialNumber, signature, issuer, validity
        tag, value, stop = _children(der, validity_start, validity_end)[1]
        return _time(tag, der[value:stop].decode("ascii"))
    except (binascii.Error, ValueError, IndexError, UnicodeDecodeError):
        return None
