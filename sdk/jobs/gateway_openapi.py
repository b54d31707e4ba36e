"""The OpenAPI 3.1 document of the job gateway, from the handler's own models and route table.

`python -m sdk.jobs.gateway_openapi docs/job_gateway.openapi.json` rewrites the shipped copy (a test checks it)."""

import json
import sys
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from sdk.jobs.gateway import (
    READ,
    ROUTES,
    SUBMIT,
    CancelResponse,
    ErrorResponse,
    HealthResponse,
    JobView,
    SubmitRequest,
    SubmitResponse,
)
from sdk.jobs.schema import JOB_ID_PATTERN

_REF = "#/components/schemas/{model}"
_ERRORS = {
    "400": "Bad request: `error.field` names the field",
    "401": "No caller identity",
    "403": "The token lacks the route's scope",
    "404": "No such job of this caller",
    "413": "Body over the bound",
    "429": "Throttled, or the caller's submission quota is used up (Retry-After)",
}
# Route key -> (summary, request model, status, response model, error statuses)
_OPERATIONS: dict[str, tuple[str, type[BaseModel] | None, str, type[BaseModel], tuple[str, ...]]] = {
    "POST /jobs": ("Submit a job", SubmitRequest, "201", SubmitResponse, ("400", "401", "403", "413", "429")),
    "POST /jobs/{id}/start": ("Start a job after its uploads", None, "202", JobView, ("400", "401", "403", "404")),
    "GET /jobs/{id}": ("Status, result and output URLs", None, "200", JobView, ("400", "401", "403", "404")),
    "DELETE /jobs/{id}": ("Cancel a job", None, "200", CancelResponse, ("400", "401", "403", "404")),
    "GET /health": ("Liveness", None, "200", HealthResponse, ()),
}


def _content(model: type[BaseModel]) -> dict[str, Any]:
    return {"application/json": {"schema": {"$ref": _REF.format(model=model.__name__)}}}


def _operation(key: str) -> dict[str, Any]:
    summary, request, status, reply, errors = _OPERATIONS[key]
    scope = ROUTES[key]
    operation: dict[str, Any] = {
        "summary": summary,
        "operationId": key.lower().replace(" /", "_").replace("/", "_").replace("{", "").replace("}", ""),
        "responses": {
            status: {"description": summary, "content": _content(reply)},
            **{code: {"description": _ERRORS[code], "content": _content(ErrorResponse)} for code in errors},
        },
        "security": [{"jwt": [scope]}, {"sigv4": []}] if scope else [],
    }
    if "{id}" in key:
        schema = {"type": "string", "pattern": JOB_ID_PATTERN}
        operation["parameters"] = [{"name": "id", "in": "path", "required": True, "schema": schema}]
    if request is not None:
        operation["requestBody"] = {"required": True, "content": _content(request)}
    return operation


def openapi_document() -> dict[str, Any]:
    models: list[type[BaseModel]] = [
        SubmitRequest,
        SubmitResponse,
        JobView,
        CancelResponse,
        ErrorResponse,
        HealthResponse,
    ]
    mode: JsonSchemaMode = "validation"
    _, schemas = models_json_schema([(m, mode) for m in models], ref_template=_REF)
    paths: dict[str, dict[str, Any]] = {}
    for key in ROUTES:
        method, path = key.split(" ", 1)
        paths.setdefault(path, {})[method.lower()] = _operation(key)
    error = {"type": "object", "properties": {"error": {"$ref": _REF.format(model="ErrorResponse")}}}
    for operation in (op for item in paths.values() for op in item.values()):
        for code, response in operation["responses"].items():
            if code in _ERRORS:
                response["content"] = {"application/json": {"schema": error}}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "GPU job gateway",
            "version": "1",
            "description": "Submit and follow jobs of an IdleStopGpuQueue (docs/job_gateway.md). Scopes: "
            f"{SUBMIT!r} routes need the gateway's submit_scope, {READ!r} routes its read_scope.",
        },
        "paths": paths,
        "components": {
            "schemas": schemas["$defs"],
            "securitySchemes": {
                "jwt": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
                "sigv4": {"type": "apiKey", "name": "Authorization", "in": "header", "description": "AWS SigV4"},
            },
        },
    }


def render() -> str:
    return json.dumps(openapi_document(), indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":
    Path(sys.argv[1]).write_text(render(), encoding="utf-8")
