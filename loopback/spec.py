"""Check request bodies against Discord's OpenAPI document, as Discord itself would.

The document is big (about 1 MB, 500+ schemas), so it is loaded and turned into a
``referencing`` registry once per process and file; a validator is built once per
operation and kept.  Where the document and Discord's written documentation disagree
the documentation wins: those few places are patched in memory (see ``_PATCHES``).
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

__all__ = ["UNKNOWN_ROUTE", "SpecError", "SpecIndex", "Violation", "load_spec"]

_BASE_URI = "urn:discord-openapi"

#: The operation id a request gets when Discord's API has no such route (method and path).
UNKNOWN_ROUTE = "(unknown route)"

#: Total characters of title, description, field names and values, footer text and
#: author name over all embeds of one message (Discord's documentation, "Embed Limits").
EMBED_TOTAL_LIMIT = 6000


@dataclass(frozen=True)
class SpecError:
    """One request body that Discord would have refused."""

    method: str
    path: str
    message: str
    operation: str
    body: Any = field(repr=False, compare=False, default=None)


@dataclass(frozen=True)
class Violation:
    """Why a body is invalid: a readable message and Discord's nested ``errors`` object."""

    message: str
    errors: dict[str, Any]


def _pointer(*parts: str) -> str:
    escaped = (p.replace("~", "~0").replace("/", "~1") for p in parts)
    return f"{_BASE_URI}#/" + "/".join(quote(p, safe="~@") for p in escaped)


def _snowflake_or_int(schema: dict[str, Any]) -> dict[str, Any]:
    # Discord takes integer ids as well as strings; discord.py sends allowed_mentions
    # users/roles and message_reference ids as integers.
    return {"anyOf": [schema, {"type": "integer", "minimum": 0}]}


def _permissions_as_string(schema: dict[str, Any]) -> dict[str, Any]:
    # Documented as a "string" bit set (and discord.py sends a string); the document says integer.
    return {"anyOf": [schema, {"type": "string", "pattern": "^[0-9]+$"}]}


def _content_2000(schema: dict[str, Any]) -> dict[str, Any]:
    # Message content: "up to 2000 characters" for bots; 4000 is the Nitro limit.
    return {**schema, "maxLength": 2000}


# (schema name, property or None for the schema itself, patch)
_PATCHES: tuple[tuple[str, str | None, Any], ...] = (
    ("SnowflakeType", None, _snowflake_or_int),
    ("ApplicationCommandCreateRequest", "default_member_permissions", _permissions_as_string),
    ("ApplicationCommandPatchRequestPartial", "default_member_permissions", _permissions_as_string),
    ("ApplicationCommandUpdateRequest", "default_member_permissions", _permissions_as_string),
    ("MessageCreateRequest", "content", _content_2000),
    ("MessageEditRequestPartial", "content", _content_2000),
    ("BaseCreateMessageCreateRequest", "content", _content_2000),
)


def _apply_patches(doc: dict[str, Any]) -> None:
    schemas = doc["components"]["schemas"]
    for name, prop, patch in _PATCHES:
        if name not in schemas:
            continue
        if prop is None:
            schemas[name] = patch(schemas[name])
        elif prop in schemas[name].get("properties", {}):
            schemas[name]["properties"][prop] = patch(schemas[name]["properties"][prop])
    _discriminate_unions(doc)


def _type_values(doc: dict[str, Any], ref: str) -> tuple[list[Any], bool] | None:
    """The values of "type" that select a union branch, and whether the branch is an object schema."""
    if not ref.startswith("#/"):
        return None
    target: Any = doc
    for part in ref[2:].split("/"):
        if not isinstance(target, dict) or part not in target:
            return None
        target = target[part]
    if not isinstance(target, dict) or "type" not in target.get("required", ()):
        return None
    prop = target.get("properties", {}).get("type", {})
    values = prop.get("enum") if "enum" in prop else ([prop["const"]] if "const" in prop else None)
    if not values:
        return None
    return list(values), target.get("type") == "object"


def _discriminated(doc: dict[str, Any], union: list[Any]) -> dict[str, Any] | None:
    if len(union) < 2 or not all(isinstance(b, dict) and set(b) == {"$ref"} for b in union):
        return None
    seen: set[Any] = set()
    cases = []
    all_objects = True
    for branch in union:
        found = _type_values(doc, branch["$ref"])
        if found is None:
            return None
        values, is_object = found
        if seen & set(values):
            return None  # not told apart by "type"
        seen |= set(values)
        all_objects = all_objects and is_object
        cases.append({"if": {"properties": {"type": {"enum": values}}}, "then": {"$ref": branch["$ref"]}})
    out: dict[str, Any] = {
        "required": ["type"],
        "properties": {"type": {"enum": sorted(seen, key=lambda v: (isinstance(v, str), v))}},
        "allOf": cases,
    }
    if all_objects:
        out["type"] = "object"
    return out


def _discriminate_unions(node: Any, doc: dict[str, Any] | None = None) -> None:
    """Turn each oneOf/anyOf of object schemas told apart by their "type" (components, options,
    callbacks) into if/then on "type". Same verdicts, but only the matching branch is checked:
    a message with buttons checks in a tenth of the time, and errors name the real problem."""
    doc = node if doc is None else doc
    if isinstance(node, dict):
        consts = node.get("oneOf")
        if (
            isinstance(consts, list)
            and consts
            and all(
                isinstance(b, dict) and "const" in b and set(b) <= {"const", "title", "description"}
                for b in consts
            )
        ):
            # An enumeration written as oneOf of titled consts: the same as enum, and much cheaper.
            del node["oneOf"]
            node.setdefault("allOf", []).append({"enum": [b["const"] for b in consts]})
        for key in ("oneOf", "anyOf"):
            union = node.get(key)
            if isinstance(union, list):
                replacement = _discriminated(doc, union)
                if replacement is not None:
                    del node[key]
                    node.setdefault("allOf", []).append(replacement)
        for value in node.values():
            _discriminate_unions(value, doc)
    elif isinstance(node, list):
        for value in node:
            _discriminate_unions(value, doc)


def _template_regex(template: str) -> re.Pattern[str]:
    out = []
    for piece in re.split(r"(\{[^}]+\})", template):
        if piece.startswith("{") and piece.endswith("}"):
            out.append(r"([^/]+)")
        else:
            out.append(re.escape(piece))
    return re.compile("^" + "".join(out) + "$")


@dataclass
class _Operation:
    operation_id: str
    method: str
    template: str
    regex: re.Pattern[str]
    literal_chars: int
    schema_pointer: str | None


class SpecIndex:
    """Discord's OpenAPI document, ready to check every request: its route (method and path) and, where
    the operation takes JSON, its body. ``operations``: only these operation ids (default: all)."""

    def __init__(self, doc: dict[str, Any], operations: Iterable[str] | None = None) -> None:
        _apply_patches(doc)
        self.doc = doc
        self.registry: Registry[Any] = Registry().with_resource(
            _BASE_URI, Resource.from_contents(doc, default_specification=DRAFT202012)
        )
        self._validators: dict[str, Draft202012Validator] = {}
        self._lock = threading.Lock()
        wanted = None if operations is None else set(operations)
        ops: list[_Operation] = []
        for template, item in doc["paths"].items():
            for method, op in item.items():
                if not isinstance(op, dict) or "operationId" not in op:
                    continue
                if wanted is not None and op["operationId"] not in wanted:
                    continue
                ops.append(self._operation(template, method, op))
        # Literal segments win over parameters: ".../messages/@original" before ".../messages/{id}".
        ops.sort(key=lambda o: -o.literal_chars)
        self.operations = ops
        self._by_method: dict[str, list[_Operation]] = {}
        for op in ops:
            self._by_method.setdefault(op.method, []).append(op)

    def _operation(self, template: str, method: str, op: dict[str, Any]) -> _Operation:
        content = (op.get("requestBody") or {}).get("content", {})
        pointer = None
        if "application/json" in content:
            parts = ("paths", template, method, "requestBody", "content", "application/json", "schema")
            pointer = _pointer(*parts)
        literal = len(re.sub(r"\{[^}]+\}", "", template))
        return _Operation(
            operation_id=op["operationId"],
            method=method.upper(),
            template=template,
            regex=_template_regex(template),
            literal_chars=literal,
            schema_pointer=pointer,
        )

    def match(self, method: str, path: str) -> _Operation | None:
        for op in self._by_method.get(method.upper(), ()):
            if op.regex.match(path):
                return op
        return None

    def _validator(self, pointer: str) -> Draft202012Validator:
        validator = self._validators.get(pointer)
        if validator is None:
            with self._lock:
                validator = self._validators.get(pointer)
                if validator is None:
                    validator = Draft202012Validator({"$ref": pointer}, registry=self.registry)
                    self._validators[pointer] = validator
        return validator

    def check(self, method: str, path: str, body: Any) -> tuple[str, Violation] | None:
        """The operation id and what is wrong, or None if the request is fine: a route Discord's API does
        not have is wrong (operation UNKNOWN_ROUTE); a JSON body (dict or list) must fit its schema."""
        op = self.match(method, path)
        if op is None:
            message = f"{method.upper()} {path}: no such route in Discord's API"
            return UNKNOWN_ROUTE, Violation(message=message, errors={})
        if op.schema_pointer is None or not isinstance(body, (dict, list)):
            return None
        error = best_match(self._validator(op.schema_pointer).iter_errors(body))
        if error is not None:
            return op.operation_id, _violation(error)
        extra = _documented_limits(op.operation_id, body)
        if extra is not None:
            return op.operation_id, extra
        return None

    def warm(self) -> None:
        """Build every validator now (the first check of an operation otherwise pays for it)."""
        for op in self.operations:
            if op.schema_pointer is not None:
                self._validator(op.schema_pointer).is_valid({})


_CACHE: dict[tuple[str, int, int], SpecIndex] = {}
_CACHE_LOCK = threading.Lock()


def load_spec(path: str | Path) -> SpecIndex:
    """The SpecIndex for a file, built once per process (and again only if the file changes)."""
    p = Path(path).resolve()
    st = p.stat()
    key = (str(p), st.st_mtime_ns, st.st_size)
    index = _CACHE.get(key)
    if index is None:
        with _CACHE_LOCK:
            index = _CACHE.get(key)
            if index is None:
                index = SpecIndex(json.loads(p.read_text(encoding="utf-8")))
                _CACHE[key] = index
    return index


# --- Discord-shaped errors -------------------------------------------------------------


def _error_entry(error: ValidationError) -> tuple[list[str | int], dict[str, str]]:
    path: list[str | int] = list(error.absolute_path)
    kind = error.validator
    value = error.validator_value
    if kind in ("maxLength", "maxItems"):
        entry = {"code": "BASE_TYPE_MAX_LENGTH", "message": f"Must be {value} or fewer in length."}
    elif kind in ("minLength", "minItems"):
        entry = {"code": "BASE_TYPE_MIN_LENGTH", "message": f"Must be {value} or more in length."}
    elif kind == "required":
        missing = re.match(r"'([^']+)'", error.message)
        if missing:
            path.append(missing.group(1))
        entry = {"code": "BASE_TYPE_REQUIRED", "message": "This field is required"}
    elif kind == "enum":
        choices = ", ".join(str(v) for v in value)
        entry = {"code": "BASE_TYPE_CHOICES", "message": f"Value must be one of ({choices})."}
    elif kind == "maximum":
        entry = {"code": "NUMBER_TYPE_MAX", "message": f"Value should be less than or equal to {value}."}
    elif kind == "minimum":
        entry = {"code": "NUMBER_TYPE_MIN", "message": f"Value should be greater than or equal to {value}."}
    elif kind == "type":
        entry = {"code": "BASE_TYPE_BAD_TYPE", "message": f"Must be of type {value}: {error.message}"}
    elif kind == "pattern":
        entry = {
            "code": "STRING_TYPE_REGEX",
            "message": f"String value did not match validation regex: {error.message}",
        }
    else:
        entry = {"code": "BASE_TYPE_INVALID", "message": error.message}
    return path, entry


def _nest(path: list[str | int], entry: dict[str, str]) -> dict[str, Any]:
    errors: dict[str, Any] = {"_errors": [entry]}
    for part in reversed(path):
        errors = {str(part): errors}
    return errors


def _violation(error: ValidationError) -> Violation:
    path, entry = _error_entry(error)
    where = ".".join(str(p) for p in path) or "(body)"
    message = f"{where}: {entry['code']}: {entry['message']}"
    return Violation(message=message, errors=_nest(path, entry))


def _embed_chars(embed: Any) -> int:
    if not isinstance(embed, dict):
        return 0
    total = len(embed.get("title") or "") + len(embed.get("description") or "")
    for f in embed.get("fields") or ():
        if isinstance(f, dict):
            total += len(f.get("name") or "") + len(f.get("value") or "")
    total += len((embed.get("footer") or {}).get("text") or "")
    total += len((embed.get("author") or {}).get("name") or "")
    return total


def _documented_limits(operation: str, body: Any) -> Violation | None:
    if not isinstance(body, dict):
        return None
    data = body.get("data") if operation == "create_interaction_response" else body
    if not isinstance(data, dict):
        return None
    embeds = data.get("embeds") or []
    if isinstance(embeds, list) and sum(_embed_chars(e) for e in embeds) > EMBED_TOTAL_LIMIT:
        prefix: list[str | int] = ["data", "embeds"] if data is not body else ["embeds"]
        entry = {
            "code": "MAX_EMBED_SIZE_EXCEEDED",
            "message": f"Embed size exceeds maximum size of {EMBED_TOTAL_LIMIT}",
        }
        return Violation(
            message=f"{'.'.join(map(str, prefix))}: {entry['code']}: {entry['message']}",
            errors=_nest(prefix, entry),
        )
    return None
