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

TYPE_CHECKING = False  # typing is imported only by the checker: a cold start does not pay for it
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any
    from urllib.parse import SplitResult

    JSONSchema = dict[str, Any]

MAX_SAFE_INTEGER = 2**53
MAX_FIELD_NAME_SHOWN = 50
# Cc, Cf, Zl and Zp as of Unicode 15.1 (Python 3.13), but U+200C and U+200D; tests/test_schema.py checks it.
_REFUSED_RANGES = (
    (0x00, 0x1F),
    (0x7F, 0x9F),
    (0xAD, 0xAD),
    (0x600, 0x605),
    (0x61C, 0x61C),
    (0x6DD, 0x6DD),
    (0x70F, 0x70F),
    (0x890, 0x891),
    (0x8E2, 0x8E2),
    (0x180E, 0x180E),
    (0x200B, 0x200B),
    (0x200E, 0x200F),
    (0x2028, 0x202E),
    (0x2060, 0x2064),
    (0x2066, 0x206F),
    (0xFEFF, 0xFEFF),
    (0xFFF9, 0xFFFB),
    (0x110BD, 0x110BD),
    (0x110CD, 0x110CD),
    (0x13430, 0x1343F),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0001, 0xE0001),
    (0xE0020, 0xE007F),
)
_refused: dict[bool, frozenset[str]] = {}
_NO_EXAMPLE = object()
NO_DEFAULT = object()
_DECIMAL = frozenset("0123456789+-.eE")  # a Field's ``default`` when it has none


class FieldError(ValueError):
    """A value breaks its field's rule; the message says which rule.

    ``problems`` lists every bad part as ``(path, message)``: the path is ``""`` for the value itself,
    ``[3]`` for an item of a list, ``.sku`` for a field of an object or a key of a map, nested as
    ``[3].sku``. :meth:`of` builds one error from several problems.
    """

    def __init__(self, message: str, problems: list[tuple[str, str]] | None = None) -> None:
        super().__init__(message)
        self.problems = problems if problems is not None else [("", message)]

    @classmethod
    def of(cls, problems: list[tuple[str, str]]) -> FieldError:
        """One error for ``problems``; its message lists each as ``path: message``."""
        text = "; ".join(f"{path.removeprefix('.')}: {message}" if path else message for path, message in problems)
        return cls(text, problems)


def _nested(prefix: str, error: FieldError) -> list[tuple[str, str]]:
    return [(prefix + path, message) for path, message in error.problems]


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

    default_example: Any = _NO_EXAMPLE
    python_types: tuple[type, ...] = ()  # the types of the values it takes, as orjson decodes JSON
    takes_text = True  # whether a query parameter's text can stand for its values (from_text)

    def __init__(
        self,
        *,
        required: bool = False,
        nullable: bool = False,
        description: str = "",
        example: Any = _NO_EXAMPLE,
        message: str | None = None,
        default: Any = NO_DEFAULT,
    ) -> None:
        self.required = required
        self.nullable = nullable
        self.description = description
        self.message = message
        self.default = default
        self._example = example

    def check(self, value: Any) -> Any:
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

    def from_text(self, text: str) -> Any:
        """The value a query parameter's ``text`` stands for, checked; :class:`FieldError` otherwise.

        Text for a :class:`String`, ``Url`` or string ``Enum``; a decimal for an :class:`Integer` or a
        :class:`Number`; ``true`` or ``false`` for a :class:`Boolean`.
        """
        return self.check(self._parse(text))

    def from_texts(self, texts: list[str]) -> Any:
        """The value of a query parameter sent as ``texts`` (one per occurrence): one, else :class:`FieldError`."""
        if len(texts) != 1:
            raise FieldError("must be given once")
        return self.from_text(texts[0])

    def _parse(self, text: str) -> Any:
        return text

    def example(self) -> Any:
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

    def json_schema(self) -> JSONSchema:
        """The field's JSON Schema (OpenAPI 3.1): ``null`` is added to the type when nullable."""
        schema = self._schema()
        if self.nullable:
            if isinstance(schema.get("type"), str):
                schema["type"] = [schema["type"], "null"]
            else:
                schema = {"anyOf": [schema, {"type": "null"}]}
        if self.description:
            schema["description"] = self.description
        if self.default is not NO_DEFAULT:
            schema["default"] = self.default
        return schema

    def _check(self, value: Any) -> Any:
        return value

    def _schema(self) -> JSONSchema:
        return {}


class String(Field):
    """A string of ``min_length`` to ``max_length`` characters, one line unless ``one_line=False``.

    ``pattern`` (a regular expression, matched against the whole value) needs an ``example``;
    ``blank=False`` refuses a value of only whitespace.
    """

    python_types = (str,)

    def __init__(
        self,
        min_length: int = 0,
        max_length: int = 1000,
        pattern: str | None = None,
        one_line: bool = True,
        blank: bool = True,
        **common: Any,
    ) -> None:
        self.min_length = min_length
        self.max_length = max_length
        self.pattern = pattern
        # the pattern compiled on the first value checked: not at a cold start
        self._compiled: re.Pattern[str] | None = None
        self.one_line = one_line
        self.blank = blank
        self.default_example = _NO_EXAMPLE if pattern else "x" * max(min_length, 1)
        super().__init__(**common)

    def _check(self, value: Any) -> Any:
        if not isinstance(value, str):
            raise FieldError("must be a string")
        if not self.min_length <= len(value) <= self.max_length:
            raise FieldError(f"must be {self.min_length} to {self.max_length} characters long")
        if _has_refused_characters(value, self.one_line):
            raise FieldError(
                "must be one line, without control or format characters"
                if self.one_line
                else "must not contain control or format characters other than line breaks and tabs"
            )
        if not self.blank and not value.strip():
            raise FieldError("must not be blank")
        compiled = self.compiled if self.pattern is not None else None
        if compiled is not None and compiled.fullmatch(value) is None:
            raise FieldError(f"must match {self.pattern}")
        return value

    @property
    def compiled(self) -> re.Pattern[str] | None:
        """``pattern`` compiled (ASCII mode), on first use; None without a pattern."""
        if self._compiled is None and self.pattern is not None:
            self._compiled = re.compile(self.pattern, re.ASCII)
        return self._compiled

    def _schema(self) -> JSONSchema:
        schema = {"type": "string", "maxLength": self.max_length}
        if self.min_length:
            schema["minLength"] = self.min_length
        if self.pattern is not None:
            pattern = self.pattern
            schema["pattern"] = pattern if pattern.startswith("^") and pattern.endswith("$") else f"^(?:{pattern})$"
        return schema


class Url(String):
    """An ``https://`` URL with a host, without userinfo (``user@``) or backslashes, one line, at most 2048."""

    def __init__(self, max_length: int = 2048, **common: Any) -> None:
        common.setdefault("example", "https://example.com/")
        super().__init__(min_length=1, max_length=max_length, **common)

    def _check(self, value: Any) -> Any:
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

    def _schema(self) -> JSONSchema:
        return {
            "type": "string",
            "format": "uri",
            "maxLength": self.max_length,
            "pattern": "^https://[^@\\\\/?#]+([/?#].*)?$",
        }


def _urlsplit(url: str) -> SplitResult:
    global _urlsplit
    from urllib.parse import urlsplit  # on the first URL checked: it costs 2 ms of a cold start

    _urlsplit = urlsplit
    return urlsplit(url)


def _within_safe_range(field: str, *bounds: float | None) -> None:
    """ValueError at declaration for a bound beyond +/- 2**53, which no value could be checked against exactly."""
    if any(bound is not None and not -MAX_SAFE_INTEGER <= bound <= MAX_SAFE_INTEGER for bound in bounds):
        raise ValueError(f"{field} bounds must be within +/- 2**53 (what JavaScript and the checks hold exactly)")


class Integer(Field):
    """A whole number (not a boolean, not ``1.0``) from ``minimum`` to ``maximum``, within +/- 2**53."""

    python_types = (int,)
    default_example = 0

    def __init__(self, minimum: int | None = None, maximum: int | None = None, **common: Any) -> None:
        _within_safe_range("Integer", minimum, maximum)
        self.minimum = -MAX_SAFE_INTEGER if minimum is None else minimum
        self.maximum = MAX_SAFE_INTEGER if maximum is None else maximum
        self.default_example = min(max(0, self.minimum), self.maximum)
        super().__init__(**common)

    def _check(self, value: Any) -> Any:
        if type(value) is not int:
            raise FieldError("must be an integer")
        if not self.minimum <= value <= self.maximum:
            raise FieldError(f"must be from {self.minimum} to {self.maximum}")
        return value

    def _parse(self, text: str) -> Any:
        digits = text.removeprefix("-")
        if not (digits.isascii() and digits.isdigit() and len(digits) <= 20):
            raise FieldError("must be an integer")
        return int(text)

    def _schema(self) -> JSONSchema:
        return {"type": "integer", "minimum": self.minimum, "maximum": self.maximum}


class Number(Field):
    """A number (integer or not; never a boolean) within +/- 2**53, a float strictly within; optional bounds.

    A float of 2**53 or more (``1e20``, ``18446744073709551616``, which JSON parsers read as floats) is
    refused: it is a whole number that may already have been rounded (``9007199254740993.0`` reads as
    ``2**53``), and JavaScript or a BSON int64 would not hold it exactly.
    """

    python_types = (int, float)
    default_example: float = 0

    def __init__(self, minimum: float | None = None, maximum: float | None = None, **common: Any) -> None:
        _within_safe_range("Number", minimum, maximum)
        self.minimum = minimum
        self.maximum = maximum
        if minimum is not None and minimum > 0:
            self.default_example = minimum
        elif maximum is not None and maximum < 0:
            self.default_example = maximum
        super().__init__(**common)

    def _check(self, value: Any) -> Any:
        kind = type(value)
        if kind is not int and kind is not float:
            raise FieldError("must be a number")
        within = abs(value) <= MAX_SAFE_INTEGER if kind is int else -MAX_SAFE_INTEGER < value < MAX_SAFE_INTEGER
        if not within:  # NaN and the infinities are not within either
            raise FieldError("numbers must be within +/- 2**53")
        if (self.minimum is not None and value < self.minimum) or (self.maximum is not None and value > self.maximum):
            raise FieldError(f"must be from {self.minimum} to {self.maximum}")
        return value

    def _schema(self) -> JSONSchema:
        return {
            "type": "number",
            "minimum": -MAX_SAFE_INTEGER if self.minimum is None else self.minimum,
            "maximum": MAX_SAFE_INTEGER if self.maximum is None else self.maximum,
        }

    def _parse(self, text: str) -> Any:
        if not text or not text.isascii() or not set(text) <= _DECIMAL:
            raise FieldError("must be a number")
        try:
            return int(text) if text.removeprefix("-").isdigit() else float(text)
        except ValueError:
            raise FieldError("must be a number") from None


class Boolean(Field):
    """``true`` or ``false``."""

    python_types = (bool,)
    default_example = True

    def _check(self, value: Any) -> Any:
        if not isinstance(value, bool):
            raise FieldError("must be true or false")
        return value

    def _parse(self, text: str) -> Any:
        if text not in ("true", "false"):
            raise FieldError("must be true or false")
        return text == "true"

    def _schema(self) -> JSONSchema:
        return {"type": "boolean"}


class Enum(Field):
    """One of ``values`` (strings, numbers or booleans), compared by type and value."""

    def __init__(self, values: Sequence[Any], **common: Any) -> None:
        self.values = tuple(values)
        if not self.values:
            raise ValueError("Enum needs at least one value")
        self.python_types = tuple({type(value): None for value in self.values})
        self.default_example = self.values[0]
        super().__init__(**common)

    def _check(self, value: Any) -> Any:
        if not any(type(value) is type(allowed) and value == allowed for allowed in self.values):
            raise FieldError(f"must be one of {', '.join(map(str, self.values))}")
        return value

    def _schema(self) -> JSONSchema:
        return {"enum": list(self.values)}

    def _parse(self, text: str) -> Any:
        for value in self.values:
            if (str(value).lower() if isinstance(value, bool) else str(value)) == text:
                return value
        raise FieldError(f"must be one of {', '.join(map(str, self.values))}")

    def json_schema(self) -> JSONSchema:
        schema = super().json_schema()
        if self.nullable and "anyOf" in schema:  # an enum takes null among its values
            schema = {"enum": [*self.values, None], **({"description": self.description} if self.description else {})}
        return schema


class AnyOf(Field):
    """A value of one of several fields, chosen by its JSON type: ``AnyOf(String(...), Number(), Boolean())``.

    Each choice's ``python_types`` says which values it takes (``str`` for a String); the first wins.
    """

    def __init__(self, *choices: Field, **common: Any) -> None:
        self.choices = choices
        self._by_type: dict[type, Field] = {}  # the first choice that takes each Python type
        for choice in choices:
            for python_type in choice.python_types:
                self._by_type.setdefault(python_type, choice)
        self.python_types = tuple(self._by_type)
        self.takes_text = False
        super().__init__(**common)

    @property
    def default_example(self) -> Any:
        return self.choices[0].example()  # asked for where examples are made, not at a cold start

    def _check(self, value: Any) -> Any:
        choice = self._by_type.get(type(value))
        if choice is not None:
            return choice._check(value) if choice.message is None else choice.check(value)
        names = [f"a {type(choice).__name__.lower()}" for choice in self.choices]
        raise FieldError(f"must be {' or '.join([', '.join(names[:-1]), names[-1]] if len(names) > 1 else names)}")

    def _schema(self) -> JSONSchema:
        return {"anyOf": [choice.json_schema() for choice in self.choices]}


class List(Field):
    """An array of at most ``max_items`` values, each checked by ``item``; a bad one is named by its index."""

    python_types = (list,)

    def __init__(self, item: Field, max_items: int = 100, min_items: int = 0, **common: Any) -> None:
        self.item = item
        self.max_items = max_items
        self.min_items = min_items
        self.takes_text = item.takes_text and not isinstance(item, List)
        super().__init__(**common)

    @property
    def default_example(self) -> Any:
        return [self.item.example()] * max(self.min_items, 1 if self.max_items else 0)

    def _check(self, value: Any) -> Any:
        if not isinstance(value, list):
            raise FieldError("must be an array")
        if not self.min_items <= len(value) <= self.max_items:
            raise FieldError(f"must have {self.min_items} to {self.max_items} items")
        checked, problems = [], []
        for index, item in enumerate(value):
            try:
                checked.append(self.item.check(item))
            except FieldError as exc:
                problems += _nested(f"[{index}]", exc)
        if problems:
            raise FieldError.of(problems)
        return checked

    def from_texts(self, texts: list[str]) -> Any:
        """Every occurrence of a query parameter (``?status=open&status=held``), each read by ``item``, in order."""
        values, problems = [], []
        for index, text in enumerate(texts):
            try:
                values.append(self.item._parse(text))
            except FieldError as exc:
                problems += _nested(f"[{index}]", exc)
        if problems:
            raise FieldError.of(problems)
        return self.check(values)

    def _schema(self) -> JSONSchema:
        schema = {"type": "array", "items": self.item.json_schema(), "maxItems": self.max_items}
        if self.min_items:
            schema["minItems"] = self.min_items
        return schema


class Map(Field):
    """An object of at most ``max_items`` keys, each checked by ``key`` (a :class:`String`), values by ``value``.

    Keys starting with ``$`` or containing ``.`` are refused whatever ``key`` says.
    """

    python_types = (dict,)
    takes_text = False

    def __init__(self, value: Field, key: String | None = None, max_items: int = 100, **common: Any) -> None:
        self.key = key if key is not None else String(min_length=1, max_length=100)
        self.value = value
        self.max_items = max_items
        super().__init__(**common)

    @property
    def default_example(self) -> Any:
        return {self.key.example(): self.value.example()}

    def _check(self, value: Any) -> Any:
        if not isinstance(value, dict):
            raise FieldError("must be an object")
        if len(value) > self.max_items:
            raise FieldError(f"must have at most {self.max_items} keys")
        checked, problems, key_field, value_field = {}, [], self.key, self.value
        for key, item in value.items():
            if key.startswith("$") or "." in key:
                problems.append(("", f"key {shown(key)!r} may not start with $ or contain ."))
                continue
            try:
                key_field.check(key)
            except FieldError as exc:
                problems.append(("", f"key {shown(key)!r} {exc}"))
                continue
            try:
                checked[key] = value_field.check(item)
            except FieldError as exc:
                problems += _nested(f".{shown(key)}", exc)
        if problems:
            raise FieldError.of(problems)
        return checked

    def _schema(self) -> JSONSchema:
        names = self.key.json_schema()
        names.pop("type", None)
        return {
            "type": "object",
            "maxProperties": self.max_items,
            "propertyNames": names,
            "additionalProperties": self.value.json_schema(),
        }


class Object(Field):
    """A JSON object checked by a :class:`Schema`: schemas inside schemas, ``List(Object(ITEM))`` for lists of objects.

    Every bad field inside is listed with its path (``.sku``, then ``items[3].sku`` from the body's top);
    the object is checked whole (its required fields too), also inside a patch.
    """

    python_types = (dict,)
    takes_text = False

    def __init__(self, schema: Schema, **common: Any) -> None:
        self.schema = schema
        super().__init__(**common)

    def _check(self, value: Any) -> Any:
        if not isinstance(value, dict):
            raise FieldError("must be an object")
        checked, problems = self.schema.checked(value)
        if problems:
            raise FieldError.of([("." + path if path else "", message) for path, message in problems])
        return checked

    def _schema(self) -> JSONSchema:
        return self.schema.json_schema()

    @property
    def default_example(self) -> Any:
        return self.schema.example()


class Patch(dict[str, object]):
    """A checked JSON Merge Patch (:meth:`Schema.patch`): the fields sent; ``removed``: the ``null`` ones to remove.

    A ``null`` for a field that is required and nullable is in the patch as ``None`` but not in ``removed``:
    it is stored as null, since removing it would leave a document its schema refuses.
    """

    removed: tuple[str, ...] = ()


def merge_patch_parts(data: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """A checked patch (:meth:`Schema.patch`) split into the fields to set and the fields to remove.

    For a :class:`Patch`, the fields to remove are its ``removed``; for a plain dict, every ``None``.
    """
    removed = data.removed if isinstance(data, Patch) else [key for key, value in data.items() if value is None]
    to_set = {key: value for key, value in data.items() if key not in removed}
    return to_set, list(removed)


class Schema:
    """A JSON object body: its ``fields`` by name; anything else in it is refused.

    ``validate(body)`` returns the checked document (only the fields sent) or raises
    :class:`shared.errors.ValidationFailed` listing every bad field as ``{"field", "message"}``, the field
    named by its path (``items[3].sku``) when it is inside an :class:`Object` or a :class:`List`.
    """

    def __init__(
        self, name: str, fields: dict[str, Field], description: str = "", *, merge_patch: bool = False
    ) -> None:
        for key, field in fields.items():
            if unsafe_key(key) or not key:
                raise ValueError(f"schema {name}: field name {key!r} may not be empty, start with $ or contain .")
            if field.default is not NO_DEFAULT:
                raise ValueError(f"schema {name}: field {key!r} has a default, which only query parameters take")
        self.name = name
        self.fields = fields
        self.description = description
        self.merge_patch = merge_patch
        self._allowed = f"unknown field; allowed: {', '.join(fields)}"
        self._required = [key for key, field in fields.items() if field.required and not merge_patch]

    def validate(self, body: object) -> dict[str, Any]:
        """The checked body; :class:`shared.errors.ValidationFailed` listing every bad field otherwise.

        In a patch (:meth:`patch`) the result is a :class:`Patch`: ``null`` for a nullable field is kept
        as ``None``, and names the field in ``removed`` unless the field is also required.
        """
        checked, problems = self.checked(body)
        if problems:
            raise errors.ValidationFailed([{"field": path, "message": message} for path, message in problems])
        return checked

    def checked(self, body: object) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        """The checked fields of ``body`` and every problem as ``(path, message)``; ``(body)`` is the whole."""
        if not isinstance(body, dict):
            return {}, [("(body)", "must be a JSON object")]
        if self.merge_patch and not body:
            return {}, [("(body)", "must name at least one field")]
        problems, checked, removed = [], Patch() if self.merge_patch else {}, []
        fields = self.fields
        for key, value in body.items():
            field = fields.get(key)
            if field is None:
                message = "field names may not start with $ or contain ." if unsafe_key(key) else self._allowed
                problems.append((shown(key), message))
            elif value is None:
                if field.nullable:
                    checked[key] = None
                    if not field.required:
                        removed.append(key)
                else:
                    problems.append((key, "may not be removed" if self.merge_patch else "may not be null"))
            else:
                try:
                    checked[key] = field.check(value)
                except FieldError as exc:
                    problems += [(key + path, message) for path, message in exc.problems]
        problems += [(key, "is required") for key in self._required if key not in body]
        if isinstance(checked, Patch):
            checked.removed = tuple(removed)
        return checked, problems

    def patch(self) -> Schema:
        """The schema of a JSON Merge Patch (RFC 7396) of this one, at the top level.

        Every field optional, at least one present; ``null`` removes a nullable field (it is in the
        result as ``None`` and in its ``removed``), is kept as null for a field both required and nullable,
        and is refused for the others; a present field is checked as usual (an :class:`Object` as a whole).
        """
        return Schema(f"{self.name}Patch", self.fields, self.description, merge_patch=True)

    def json_schema(self) -> JSONSchema:
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

    def example(self) -> dict[str, Any]:
        """A valid body from the fields' examples: every required field (a patch: its first field)."""
        if self.merge_patch:
            key = next(iter(self.fields))
            return {key: self.fields[key].example()}
        chosen = self._required or [key for key, field in self.fields.items() if field._example is not _NO_EXAMPLE]
        return {key: self.fields[key].example() for key in chosen}
