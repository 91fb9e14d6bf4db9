"""Conditional request headers: ``If-Match`` and ``If-None-Match`` (RFC 9110)."""

from __future__ import annotations

ANY = "*"


def _entity_tags(header: str) -> list[str]:
    return [tag.strip() for tag in header.split(",") if tag.strip()]


def _opaque(tag: str) -> str:
    return tag.removeprefix("W/").strip('"')


def if_match_revisions(header: str | None) -> list[str] | str | None:
    """What ``If-Match`` demands: None (no header), ``"*"`` (any revision) or a list of revisions.

    Weak tags never match under ``If-Match`` (strong comparison), so they are
    dropped; a header holding only weak tags yields an empty list, which no
    revision matches.
    """
    if header is None:
        return None
    tags = _entity_tags(header)
    if ANY in tags:
        return ANY
    return [_opaque(tag) for tag in tags if not tag.startswith("W/")]


def none_match(header: str | None, current_etag: str) -> bool:
    """Whether ``If-None-Match`` matches ``current_etag`` (weak comparison): answer 304."""
    if header is None:
        return False
    tags = _entity_tags(header)
    return ANY in tags or _opaque(current_etag) in {_opaque(tag) for tag in tags}
