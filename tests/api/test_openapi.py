"""The OpenAPI document and the interactive docs page."""

from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_the_openapi_document_lists_the_responses_endpoints_with_their_bodies():
    response = Client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    spec = response.json()
    paths = spec["paths"]
    assert set(paths["/api/v1/responses"]) == {"get", "post"}
    assert set(paths["/api/v1/responses/{response_id}"]) == {"get", "patch"}
    post = paths["/api/v1/responses"]["post"]
    assert post["requestBody"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ResponseIn"}
    schemas = spec["components"]["schemas"]
    assert set(schemas["ResponseIn"]["required"]) == {"survey", "external_id", "answers"}
    assert "CustomerIn" in schemas and "ResponseFixIn" in schemas
    assert {"200", "201", "401", "403", "422"} <= set(post["responses"])
    query = {p["name"] for p in paths["/api/v1/responses"]["get"]["parameters"]}
    assert {"srn", "unit", "date", "ticket", "page", "include_superseded"} <= query
    assert spec["components"]["securitySchemes"]["TokenAuth"] == {"type": "http", "scheme": "bearer"}


def test_every_ref_in_the_document_resolves():
    spec = Client().get("/api/v1/openapi.json").json()
    refs: set[str] = set()

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("$ref"), str):
                refs.add(node["$ref"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(spec)
    assert refs
    for ref in refs:
        assert ref.startswith("#/components/schemas/")
        assert ref.rsplit("/", 1)[1] in spec["components"]["schemas"], ref


def test_the_docs_page_loads_its_assets_from_this_server():
    response = Client().get("/api/v1/docs")
    assert response.status_code == 200
    page = response.content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in page
    assert "cdn" not in page.lower()
    assert Client().get("/static/ninja/swagger-ui-bundle.js").status_code == 200
