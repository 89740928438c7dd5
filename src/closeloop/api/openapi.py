"""Request bodies that are validated by a service rather than by Ninja, described in the OpenAPI document.

The ingest and fix services check their input themselves (the same rules serve the API,
files and the CLI), so those endpoints read the raw JSON; `json_body(Model)` still shows
clients the exact shape through `openapi_extra`.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

REF_TEMPLATE = "#/components/schemas/{model}"

_documented: dict[str, type[BaseModel]] = {}


def json_body(model: type[BaseModel], description: str = "") -> dict[str, Any]:
    """The `openapi_extra` of an operation whose JSON body has the shape of `model`."""
    _documented[model.__name__] = model
    body: dict[str, Any] = {
        "required": True,
        "content": {"application/json": {"schema": {"$ref": REF_TEMPLATE.format(model=model.__name__)}}},
    }
    if description:
        body["description"] = description
    return {"requestBody": body}


def add_documented_bodies(schema: dict[str, Any]) -> None:
    """Put the models named by `json_body` (and the models they contain) into the schema's components."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for name, model in _documented.items():
        model_schema = model.model_json_schema(ref_template=REF_TEMPLATE)
        for nested_name, nested in model_schema.pop("$defs", {}).items():
            components.setdefault(nested_name, nested)
        components[name] = model_schema
