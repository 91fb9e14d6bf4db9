"""Declarative request bodies: typed, bounded fields that validate at run time and describe themselves.

A toolkit module (standard library only; nothing in it knows any resource):

    NOTE = Schema("Note", {
        "title": String(min_length=1, max_length=100, required=True, example="Groceries"),
        "body": String(max_length=2000, one_line=False, nullable=True),
        "pinned": Boolean(),
    })
    NOTE.validate({"title": "Groceries"})   # -> {"title": "Groceries"}; else ValidationFailed listing every bad field
    NOTE.patch()                             # the JSON Merge Patch of a Note (PATCH bodies)
    NOTE.json_schema()                       # its OpenAPI 3.1 (JSON Schema 2020-12) schema object

Every field takes ``required=False`` (must be present), ``nullable=False`` (``null`` accepted; in a
patch, ``null`` removes the field), ``description=""``, ``example=`` (a valid value, checked when
:meth:`Field.example` gives it; each type has a default one unless it has a pattern) and ``message=``
(the one message for any bad value, instead of the field's own). ``check(value)`` returns the value or raises
:class:`FieldError`; ``json_schema()`` describes it.

Text is never free-form: a one-line :class:`String` refuses the Unicode categories Cc (controls, tabs and
line breaks included), Cf (format characters such as the bidirectional overrides U+202A-U+202E and
U+2066-U+2069, zero-width spaces, U+FEFF), Zl and Zp (U+2028, U+2029), except U+200C/U+200D (the
zero-width (non-)joiner, which emoji sequences and several scripts need); ``one_line=False`` also
accepts ``\\n`` and ``\\t``. Patterns are matched against the whole value (``re.fullmatch``) in ASCII
mode, so ``\\d`` and ``\\w`` mean what they mean in the OpenAPI document. Numbers are bounded to
+/- 2**53 (what JavaScript represents exactly, and what a BSON int64 holds) unless tighter bounds are given.
Object keys anywhere (a body's fields, a :class:`Map`'s keys) may not start with ``$`` or contain ``.``:
MongoDB would read them as operators or dotted paths.
"""

from __future__ import annotations

import re

from shared import errors

MAX_SAFE_INTEGER = 2**53
MAX_FIELD_NAME_SHOWN = 50
# Cc, Cf, Zl and Zp as of Unicode 15 (Python 3.12), but U+200C and U+200D; tests/test_schema.py checks it.
_REFUSED_RANGES = (
    (0x00, 0x1F), (0x7F, 0x9F), (0xAD, 0xAD), (0x600, 0x605), (0x61C, 0x61C), (0x6DD, 0x6DD), (0x70F, 0x70F),
    (0x890, 0x891), (0x8E2, 0x8E2), (0x180E, 0x180E), (0x200B, 0x200B), (0x200E, 0x200F), (0x2028, 0x202E),
    (0x2060, 0x2064), (0x2066, 0x206F), (0xFEFF, 0xFEFF), (0xFFF9, 0xFFFB), (0x110BD, 0x110BD), (0x110CD, 0x110CD),
    (0x13430, 0x1343F), (0x1BCA0, 0x1BCA3), (0x1D173, 0x1D17A), (0xE0001, 0xE0001), (0xE0020, 0xE007F),
)
_refused: dict[bool, frozenset[str]] = {}
_NO_EXAMPLE = object()


class FieldError(ValueError):
    """A value breaks its field's rule; the message says which rule."""


def unsafe_key(key: str) -> bool:
    """Whether MongoDB would read ``key`` as an operator or a dotted path."""
    return key.startswith("$") or "." in key


def shown(key: str) -> str:
    """A field name as a problem shows it: at most 50 characters of whatever the client sent."""
    return key[:MAX_FIELD_NAME_SHOWN]


def refused_characters(one_line: bool) -> frozenset[str]:
    """What text may not hold: Cc, Cf, Zl, Zp but U+200C/U+200D; of Cc, ``\\t`` and ``\\n`` only when ``one_line``.

    Sets rather than a regular expression, which would cost half a millisecond of a cold start to
    compile; built on first use.
    """
    if not _refused:
        _refused[True] = frozenset(chr(code) for first, last in _REFUSED_RANGES for code in range(first, last + 1))
        _refused[False] = _refused[True] - {"\t", "\n"}
    return _refused[one_line]


def _has_refused_characters(value: str, one_line: bool) -> bool:
    if value.isprintable():  # the usual case, one C loop: no refused character is printable
        return False
    if not one_line and value.replace("\n", " ").replace("\t", " ").isprintable():
        return False
    return not refused_characters(one_line).isdisjoint(value)


class Field:
    """The common part of every field type; subclasses define ``_check`` and ``_schema``."""

    default_example = _NO_EXAMPLE
    python_types: tuple[type, ...] = ()  # the types of the values it takes, as orjson decodes JSON

    def __init__(self, *, required: bool = False, nullable: bool = False, description: str = "",
                 example=_NO_EXAMPLE, message: str | None = None) -> None:
        self.required = required
        self.nullable = nullable
        self.description = description
        self.message = message
        self._example = example

    def check(self, value):
        """``value`` if it follows the rule (``None`` only when nullable); :class:`FieldError` otherwise."""
        if value is None:
            if self.nullable:
                return None
            raise FieldError(self.message or "may not be null")
        try:
            return self._check(value)
        except FieldError:
            if self.message is None:
                raise
            raise FieldError(self.message) from None

    def example(self):
        """A valid value: the declared ``example``, else the type's default one.

        ValueError when there is none (a pattern needs ``example=``) or when it breaks the field's own
        rule: checked here, where the OpenAPI document and event files are made, not at every cold start.
        """
        example = self.default_example if self._example is _NO_EXAMPLE else self._example
        if example is _NO_EXAMPLE:
            raise ValueError(f"{type(self).__name__} field with a pattern or custom rule needs an example=")
        try:
            return self.check(example)
        except FieldError as exc:
            raise ValueError(f"example {example!r} breaks its own field's rule: {exc}") from None

    def json_schema(self) -> dict:
        """The field's JSON Schema (OpenAPI 3.1): ``null`` is added to the type when nullable."""
        schema = self._schema()
        if self.nullable:
            if isinstance(schema.get("type"), str):
                schema["type"] = [schema["type"], "null"]
            else:
                schema = {"anyOf": [schema, {"type": "null"}]}
        if self.description:
            schema["description"] = self.description
        return schema

    def _check(self, value):
        return value

    def _schema(self) -> dict:
        return {}


class String(Field):
    """A string of ``min_length`` to ``max_length`` characters, one line unless ``one_line=False``.

    ``pattern`` (a regular expression, matched against the whole value) needs an ``example``;
    ``blank=False`` refuses a value of only whitespace.
    """

    python_types = (str,)

    def __init__(self, min_length: int = 0, max_length: int = 1000, pattern: str | None = None,
                 one_line: bool = True, blank: bool = True, **common) -> None:
        self.min_length = min_length
        self.max_length = max_length
        self.pattern = pattern
        self.compiled = re.compile(pattern, re.ASCII) if pattern is not None else None
        self.one_line = one_line
        self.blank = blank
        self.default_example = _NO_EXAMPLE if pattern else "x" * max(min_length, 1)
        super().__init__(**common)


    def _check(self, value):
        if not isinstance(value, str):
            raise FieldError("must be a string")
        if not self.min_length <= len(value) <= self.max_length:
            raise FieldError(f"must be {self.min_length} to {self.max_length} characters long")
        if _has_refused_characters(value, self.one_line):
            raise FieldError("must be one line, without control or format characters" if self.one_line
                             else "must not contain control or format characters other than line breaks and tabs")
        if not self.blank and not value.strip():
            raise FieldError("must not be blank")
        if self.compiled is not None and self.compiled.fullmatch(value) is None:
            raise FieldError(f"must match {self.pattern}")
        return value

    def _schema(self) -> dict:
        schema = {"type": "string", "maxLength": self.max_length}
        if self.min_length:
            schema["minLength"] = self.min_length
        if self.pattern is not None:
            pattern = self.pattern
            schema["pattern"] = pattern if pattern.startswith("^") and pattern.endswith("$") else f"^(?:{pattern})$"
        return schema


class Url(String):
    """An ``https://`` URL with a host, without userinfo (``user@``) or backslashes, one line, at most 2048."""

    def __init__(self, max_length: int = 2048, **common) -> None:
        common.setdefault("example", "https://example.com/")
        super().__init__(min_length=1, max_length=max_length, **common)

    def _check(self, value):
        super()._check(value)
        if "\\" in value or not value.startswith("https://"):
            raise FieldError("must be an https:// URL without backslashes")
        try:
            parts = _urlsplit(value)
            host = parts.hostname
        except ValueError:
            raise FieldError("must be an https:// URL") from None
        if "@" in parts.netloc:
            raise FieldError("must not contain a user name or password (user@host)")
        if not host:
            raise FieldError("must be an https:// URL with a host")
        return value

    def _schema(self) -> dict:
        return {"type": "string", "format": "uri", "maxLength": self.max_length, "pattern": "^https://[^@\\\\/?#]+([/?#].*)?$"}


def _urlsplit(url: str):
    global _urlsplit
    from urllib.parse import urlsplit  # on the first URL checked: it costs 2 ms of a cold start

    _urlsplit = urlsplit
    return urlsplit(url)


class Integer(Field):
    """A whole number (not a boolean, not ``1.0``) from ``minimum`` to ``maximum``, within +/- 2**53."""

    python_types = (int,)
    default_example = 0

    def __init__(self, minimum: int | None = None, maximum: int | None = None, **common) -> None:
        self.minimum = -MAX_SAFE_INTEGER if minimum is None else minimum
        self.maximum = MAX_SAFE_INTEGER if maximum is None else maximum
        self.default_example = min(max(0, self.minimum), self.maximum)
        super().__init__(**common)


    def _check(self, value):
        if type(value) is not int:
            raise FieldError("must be an integer")
        if not self.minimum <= value <= self.maximum:
            raise FieldError(f"must be from {self.minimum} to {self.maximum}")
        return value

    def _schema(self) -> dict:
        return {"type": "integer", "minimum": self.minimum, "maximum": self.maximum}


class Number(Field):
    """A number (integer or not; never a boolean); whole numbers within +/- 2**53; optional bounds."""

    python_types = (int, float)
    default_example = 0

    def __init__(self, minimum: float | None = None, maximum: float | None = None, **common) -> None:
        self.minimum = minimum
        self.maximum = maximum
        if minimum is not None and minimum > 0:
            self.default_example = minimum
        elif maximum is not None and maximum < 0:
            self.default_example = maximum
        super().__init__(**common)


    def _check(self, value):
        if type(value) not in (int, float):
            raise FieldError("must be a number")
        if type(value) is int and abs(value) > MAX_SAFE_INTEGER:
            raise FieldError("numbers must be within +/- 2**53")
        if (self.minimum is not None and value < self.minimum) or (self.maximum is not None and value > self.maximum):
            raise FieldError(f"must be from {self.minimum} to {self.maximum}")
        return value

    def _schema(self) -> dict:
        schema = {"type": "number"}
        if self.minimum is not None:
            schema["minimum"] = self.minimum
        if self.maximum is not None:
            schema["maximum"] = self.maximum
        return schema


class Boolean(Field):
    """``true`` or ``false``."""

    python_types = (bool,)
    default_example = True


    def _check(self, value):
        if not isinstance(value, bool):
            raise FieldError("must be true or false")
        return value

    def _schema(self) -> dict:
        return {"type": "boolean"}


class Enum(Field):
    """One of ``values`` (strings, numbers or booleans), compared by type and value."""

    def __init__(self, values, **common) -> None:
        self.values = tuple(values)
        if not self.values:
            raise ValueError("Enum needs at least one value")
        self.python_types = tuple({type(value): None for value in self.values})
        self.default_example = self.values[0]
        super().__init__(**common)


    def _check(self, value):
        if not any(type(value) is type(allowed) and value == allowed for allowed in self.values):
            raise FieldError(f"must be one of {', '.join(map(str, self.values))}")
        return value

    def _schema(self) -> dict:
        return {"enum": list(self.values)}

    def json_schema(self) -> dict:
        schema = super().json_schema()
        if self.nullable and "anyOf" in schema:  # an enum takes null among its values
            schema = {"enum": [*self.values, None], **({"description": self.description} if self.description else {})}
        return schema


class AnyOf(Field):
    """A value of one of several fields, chosen by its JSON type: ``AnyOf(String(...), Number(), Boolean())``.

    Each choice's ``python_types`` says which values it takes (``str`` for a String); the first wins.
    """

    def __init__(self, *choices: Field, **common) -> None:
        self.choices = choices
        self._by_type = {}  # the first choice that takes each Python type
        for choice in choices:
            for python_type in choice.python_types:
                self._by_type.setdefault(python_type, choice)
        self.python_types = tuple(self._by_type)
        self.default_example = choices[0].example()
        super().__init__(**common)

    def _check(self, value):
        choice = self._by_type.get(type(value))
        if choice is not None:
            return choice._check(value) if choice.message is None else choice.check(value)
        names = [f"a {type(choice).__name__.lower()}" for choice in self.choices]
        raise FieldError(f"must be {' or '.join([', '.join(names[:-1]), names[-1]] if len(names) > 1 else names)}")

    def _schema(self) -> dict:
        return {"anyOf": [choice.json_schema() for choice in self.choices]}


class List(Field):
    """An array of at most ``max_items`` values, each checked by ``item``; a bad one is named by its index."""

    python_types = (list,)

    def __init__(self, item: Field, max_items: int = 100, min_items: int = 0, **common) -> None:
        self.item = item
        self.max_items = max_items
        self.min_items = min_items
        self.default_example = [item.example()] * max(min_items, 1 if max_items else 0)
        super().__init__(**common)


    def _check(self, value):
        if not isinstance(value, list):
            raise FieldError("must be an array")
        if not self.min_items <= len(value) <= self.max_items:
            raise FieldError(f"must have {self.min_items} to {self.max_items} items")
        checked = []
        for index, item in enumerate(value):
            try:
                checked.append(self.item.check(item))
            except FieldError as exc:
                raise FieldError(f"[{index}]: {exc}") from None
        return checked

    def _schema(self) -> dict:
        schema = {"type": "array", "items": self.item.json_schema(), "maxItems": self.max_items}
        if self.min_items:
            schema["minItems"] = self.min_items
        return schema


class Map(Field):
    """An object of at most ``max_items`` keys, each checked by ``key`` (a :class:`String`), values by ``value``.

    Keys starting with ``$`` or containing ``.`` are refused whatever ``key`` says.
    """

    python_types = (dict,)

    def __init__(self, value: Field, key: String | None = None, max_items: int = 100, **common) -> None:
        self.key = key if key is not None else String(min_length=1, max_length=100)
        self.value = value
        self.max_items = max_items
        self.default_example = {self.key.example(): value.example()}
        super().__init__(**common)


    def _check(self, value):
        if not isinstance(value, dict):
            raise FieldError("must be an object")
        if len(value) > self.max_items:
            raise FieldError(f"must have at most {self.max_items} keys")
        checked, key_field, value_field = {}, self.key, self.value
        for key, item in value.items():
            if key.startswith("$") or "." in key:
                raise FieldError(f"key {shown(key)!r} may not start with $ or contain .")
            try:
                key_field.check(key)
            except FieldError as exc:
                raise FieldError(f"key {shown(key)!r} {exc}") from None
            try:
                checked[key] = value_field.check(item)
            except FieldError as exc:
                raise FieldError(f"{shown(key)}: {exc}") from None
        return checked

    def _schema(self) -> dict:
        names = self.key.json_schema()
        names.pop("type", None)
        return {"type": "object", "maxProperties": self.max_items, "propertyNames": names,
                "additionalProperties": self.value.json_schema()}


def merge_patch_parts(data: dict) -> tuple[dict, list[str]]:
    """A checked patch (:meth:`Schema.patch`) split into the fields to set and the fields to remove."""
    to_set, to_unset = {}, []
    for key, value in data.items():
        if value is None:
            to_unset.append(key)
        else:
            to_set[key] = value
    return to_set, to_unset


class Schema:
    """A JSON object body: its ``fields`` by name; anything else in it is refused.

    ``validate(body)`` returns the checked document (only the fields sent) or raises
    :class:`shared.errors.ValidationFailed` listing every bad field as ``{"field", "message"}``.
    """

    def __init__(self, name: str, fields: dict[str, Field], description: str = "", *,
                 merge_patch: bool = False) -> None:
        for key in fields:
            if unsafe_key(key) or not key:
                raise ValueError(f"schema {name}: field name {key!r} may not be empty, start with $ or contain .")
        self.name = name
        self.fields = fields
        self.description = description
        self.merge_patch = merge_patch
        self._allowed = f"unknown field; allowed: {', '.join(fields)}"
        self._required = [key for key, field in fields.items() if field.required and not merge_patch]

    def validate(self, body) -> dict:  # noqa: C901 -- every request's body: one pass, its checks inline
        """The checked body; :class:`shared.errors.ValidationFailed` listing every bad field otherwise.

        In a patch (:meth:`patch`), ``null`` for a nullable field is kept as ``None``: remove the field.
        """
        if not isinstance(body, dict):
            raise errors.ValidationFailed([{"field": "(body)", "message": "must be a JSON object"}])
        if self.merge_patch and not body:
            raise errors.ValidationFailed([{"field": "(body)", "message": "must name at least one field"}])
        problems, checked = [], {}
        fields = self.fields
        for key, value in body.items():
            field = fields.get(key)
            if field is None:
                message = "field names may not start with $ or contain ." if unsafe_key(key) else self._allowed
                problems.append({"field": shown(key), "message": message})
                continue
            if value is None:
                if field.nullable:
                    checked[key] = None
                else:
                    problems.append({"field": key, "message": "may not be removed" if self.merge_patch
                                     else "may not be null"})
                continue
            try:
                checked[key] = field.check(value)
            except FieldError as exc:
                problems.append({"field": key, "message": str(exc)})
        for key in self._required:
            if key not in body:
                problems.append({"field": key, "message": "is required"})
        if problems:
            raise errors.ValidationFailed(problems)
        return checked

    def patch(self) -> Schema:
        """The schema of a JSON Merge Patch (RFC 7396) of this one, at the top level.

        Every field optional, at least one present; ``null`` removes a nullable field (it is in the
        result as ``None``) and is refused for the others; a present field is checked as usual.
        """
        return Schema(f"{self.name}Patch", self.fields, self.description, merge_patch=True)

    def json_schema(self) -> dict:
        """The OpenAPI 3.1 schema object: properties, required, ``additionalProperties: false``, bounds."""
        schema = {"type": "object", "additionalProperties": False}
        if self.description:
            schema["description"] = self.description
        if self._required:
            schema["required"] = list(self._required)
        if self.merge_patch:
            schema["minProperties"] = 1
        schema["properties"] = {key: field.json_schema() for key, field in self.fields.items()}
        return schema

    def example(self) -> dict:
        """A valid body from the fields' examples: every required field (a patch: its first field)."""
        if self.merge_patch:
            key = next(iter(self.fields))
            return {key: self.fields[key].example()}
        chosen = self._required or [key for key, field in self.fields.items() if field._example is not _NO_EXAMPLE]
        return {key: self.fields[key].example() for key in chosen}
