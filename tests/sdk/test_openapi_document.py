"""The served OpenAPI document against the official SDK's models: for every SDK operation that
the document also has (same method and path), the request's path and query parameters and body,
and the response's fields, are compared with the document, field by field (the JSON name from
`attribute_map`, the JSON type from `openapi_types`), recursively through nested models, lists
and the document's `$ref`s.

Every difference must be listed, with its reason, in `docs/openapi-vs-sdk.md` (the table's
first column, one difference per row); an unlisted difference fails, and so does a listed one
that no longer occurs, so the list stays exact."""

import inspect
import json
import os
import re
import urllib.request
from pathlib import Path

from huaweicloudsdksms.v3 import SmsClient
from huaweicloudsdksms.v3 import model as sdk_model

ALLOW_LIST = Path(
    os.environ.get("SMS_OPENAPI_DIFFERENCES", Path(__file__).resolve().parents[2] / "docs" / "openapi-vs-sdk.md")
)

# The JSON type of each SDK scalar type.
SCALARS = {"str": "string", "int": "integer", "float": "number", "bool": "boolean", "datetime": "string", "date": "string"}


def load_document():
    endpoint = os.environ["SMS_ENDPOINT"].rstrip("/")
    with urllib.request.urlopen(f"{endpoint}/openapi.json", timeout=30) as reply:
        return json.load(reply)


class Schema:
    """A document schema seen through `$ref`, `allOf`, and `oneOf` with `null`: the JSON types it
    allows, its properties (objects) and its items (arrays)."""

    def __init__(self, doc, schema):
        self.doc = doc
        self.types = set()
        self.properties = {}
        self.items = None
        self.any = False
        self._add(schema)

    def _add(self, schema):
        if "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[-1]
            return self._add(self.doc["components"]["schemas"][name])
        for part in schema.get("allOf", []):
            self._add(part)
        for part in schema.get("oneOf", []) + schema.get("anyOf", []):
            self._add(part)
        kind = schema.get("type")
        kinds = kind if isinstance(kind, list) else [kind] if kind else []
        self.types.update(k for k in kinds if k != "null")
        if "properties" in schema:
            self.types.add("object")
            self.properties.update(schema["properties"])
        if "items" in schema:
            self.items = schema["items"]
        if not kinds and not any(k in schema for k in ("$ref", "allOf", "oneOf", "anyOf", "properties", "enum")):
            self.any = True


def sdk_kind(sdk_type):
    """(JSON type, element or model) of an `openapi_types` value."""
    if sdk_type.startswith("list["):
        return "array", sdk_type[5:-1]
    if sdk_type.startswith("dict("):
        return "object", None
    if sdk_type == "object":
        return None, None
    if sdk_type in SCALARS:
        return SCALARS[sdk_type], None
    return "object", sdk_type


def compare_type(doc, where, sdk_type, schema, out):
    kind, inner = sdk_kind(sdk_type)
    shape = Schema(doc, schema)
    if kind is None or shape.any:
        return
    if kind not in shape.types:
        out.add(f"{where}: SDK {sdk_type}, document {'|'.join(sorted(shape.types)) or '?'}")
        return
    if kind == "array" and shape.items is not None:
        compare_type(doc, f"{where}[]", inner, shape.items, out)
    elif kind == "object" and inner is not None:
        compare_model(doc, where, getattr(sdk_model, inner), shape, out)


def compare_model(doc, where, cls, shape, out):
    """The fields of SDK model `cls` against the object `shape`, both ways."""
    seen = set()
    for attr, sdk_type in cls.openapi_types.items():
        name = cls.attribute_map[attr]
        seen.add(name)
        if name not in shape.properties:
            out.add(f"{where}.{name}: in the SDK, not in the document")
            continue
        compare_type(doc, f"{where}.{name}", sdk_type, shape.properties[name], out)
    for name in shape.properties:
        if name not in seen:
            out.add(f"{where}.{name}: in the document, not in the SDK")


def sdk_operations():
    """(method, path, request class, response class) of each SDK operation."""
    for name, member in inspect.getmembers(SmsClient):
        match = re.fullmatch(r"_(\w+)_http_info", name)
        if not match:
            continue
        base = "".join(part.capitalize() for part in match.group(1).split("_"))
        request_cls = getattr(sdk_model, f"{base}Request", None)
        if request_cls is None:
            continue
        info = member(request_cls())
        response_cls = getattr(sdk_model, info["response_type"])
        yield info, request_cls, response_cls


def normalize(path):
    return re.sub(r"\{[^}]*\}", "{}", path)


def differences():
    doc = load_document()
    operations = {}
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            operations[(method.upper(), normalize(path))] = operation
    out = set()
    compared = 0
    for info, request_cls, response_cls in sdk_operations():
        operation = operations.get((info["method"], normalize(info["resource_path"])))
        if operation is None:
            continue
        compared += 1
        op = operation["operationId"]
        params = {(p["in"], p["name"]): p for p in operation.get("parameters", [])}
        for attr, sdk_type in request_cls.openapi_types.items():
            name = request_cls.attribute_map[attr]
            if attr == "body":
                content = operation.get("requestBody", {}).get("content", {}).get("application/json")
                if content is None:
                    out.add(f"{op} request body: in the SDK, not in the document")
                else:
                    compare_type(doc, f"{op} request body", sdk_type, content["schema"], out)
                continue
            place = "path" if name in info["path_params"] else "query" if any(k == name for k, _ in info["query_params"]) else "header"
            param = params.pop((place, name), None)
            if param is None:
                out.add(f"{op} {place} parameter {name}: in the SDK, not in the document")
            else:
                compare_type(doc, f"{op} {place} parameter {name}", sdk_type, param["schema"], out)
        for (place, name) in params:
            out.add(f"{op} {place} parameter {name}: in the document, not in the SDK")
        content = operation["responses"]["200"].get("content", {}).get("application/json")
        if content is None:
            out.add(f"{op} response: no JSON body in the document")
        elif list(response_cls.openapi_types) != ["body"]:
            # A response model whose only attribute is `body` holds the raw reply (`{}` here).
            compare_model(doc, f"{op} response", response_cls, Schema(doc, content["schema"]), out)
    return compared, out


def allowed():
    """The first column of each row of the allow-list's tables: `` `difference` ``."""
    text = ALLOW_LIST.read_text(encoding="utf-8")
    return {m.group(1) for m in re.finditer(r"^\| `([^`]+)` \|", text, re.MULTILINE)}


def test_the_document_matches_the_sdk_models_up_to_the_listed_differences():
    compared, found = differences()
    assert compared >= 35, f"only {compared} SDK operations matched the document"
    listed = allowed()
    unlisted = sorted(found - listed)
    stale = sorted(listed - found)
    assert not unlisted, (
        f"{len(unlisted)} difference(s) between the document and the SDK models are not listed in "
        f"{ALLOW_LIST.name} (fix them, or list them with their reason):\n" + "\n".join(unlisted)
    )
    assert not stale, f"{ALLOW_LIST.name} lists differences that no longer occur:\n" + "\n".join(stale)
