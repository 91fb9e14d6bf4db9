"""The rule every text taken from an event or a token follows first: it is text UTF-8 can hold.

JSON may spell a lone surrogate (``"\\ud800"``), which Python's ``json`` (PyJWT's
claims, the Lambda runtime's event) decodes into a string no UTF-8 encoder, BSON
or orjson accepts: such a value would fail later, in a query or in a response.
:func:`is_text` tells such values apart (the request and the principal refuse
them); :func:`encodable` repairs text a response must carry anyway.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing is imported only by the checker: a cold start does not pay for it
if TYPE_CHECKING:
    from typing import TypeGuard


def is_text(value: object) -> TypeGuard[str]:
    """Whether ``value`` is a string without lone surrogates (one C loop for ASCII, one encode otherwise)."""
    if not isinstance(value, str):
        return False
    if value.isascii():
        return True
    try:
        value.encode()
    except UnicodeEncodeError:
        return False
    return True


def encodable(value: str) -> str:
    """``value`` with each lone surrogate replaced by U+FFFD, so that UTF-8 (and orjson) can hold it."""
    if is_text(value):
        return value
    return "".join("\ufffd" if "\ud800" <= character <= "\udfff" else character for character in value)
