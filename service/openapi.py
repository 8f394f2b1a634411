"""The OpenAPI document of the records API; its schemas also validate requests, so they cannot drift."""

from __future__ import annotations

from typing import Any

MAX_LIMIT = 100
DEFAULT_LIMIT = 20
MAX_RECORD_ID = 2**63 - 1  # PostgreSQL bigint
MAX_BODY_CHARS = 4000
# The largest valid request: every body character JSON-escaped as a surrogate pair (12 bytes), plus the rest.
MAX_REQUEST_BYTES = MAX_BODY_CHARS * 12 + 4096

RECORD_INPUT: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["subject", "kind", "body"],
    "properties": {
        "subject": {"type": "string", "minLength": 1, "maxLength": 64, "pattern": r"^[A-Za-z0-9._:-]+$"},
        "kind": {"type": "string", "enum": ["note", "observation", "order"]},
        # PostgreSQL text cannot hold NUL characters.
        "body": {"type": "string", "minLength": 1, "maxLength": MAX_BODY_CHARS, "pattern": "^[^\\x00]*$"},
        "client_ref": {"type": "string", "minLength": 1, "maxLength": 64, "pattern": r"^[A-Za-z0-9._:-]+$"},
    },
}
RECORD: dict[str, Any] = {
    "type": "object",
    "required": ["id", "subject", "kind", "body", "created_at"],
    "properties": {
        "id": {"type": "integer", "minimum": 1},
        "client_ref": {"type": ["string", "null"]},
        "subject": {"type": "string"},
        "kind": {"type": "string"},
        "body": {"type": "string"},
        "created_at": {"type": "string", "format": "date-time"},
    },
}
ERROR: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {"error": {"type": "string"}, "detail": {}, "request_id": {"type": "string"}},
}


def _json(schema_ref: str) -> dict[str, Any]:
    return {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema_ref}"}}}


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": _json("Error")}


def document(version: str) -> dict[str, Any]:
    return {
        "openapi": "3.0.3",
        "info": {"title": "records", "version": version},
        "paths": {
            "/api/records": {
                "post": {
                    "operationId": "createRecord",
                    "requestBody": {"required": True, "content": _json("RecordInput")},
                    "responses": {
                        "201": {"description": "created", "content": _json("Record")},
                        "200": {"description": "already created with this client_ref", "content": _json("Record")},
                        "400": _error("invalid payload"),
                        "409": _error("client_ref already used for a different record"),
                        "413": _error("payload too large"),
                        "415": _error("not JSON"),
                        "503": _error("database unavailable or writes paused"),
                    },
                },
                "get": {
                    "operationId": "listRecords",
                    "parameters": [
                        {"name": "limit", "in": "query", "required": False,
                         "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT}}
                    ],
                    "responses": {
                        "200": {"description": "newest first", "content": {"application/json": {"schema": {
                            "type": "object", "required": ["items"],
                            "properties": {
                                "items": {"type": "array", "items": {"$ref": "#/components/schemas/Record"}}
                            },
                        }}}},
                        "400": _error("invalid limit"),
                        "503": _error("database unavailable"),
                    },
                },
            },
            "/api/records/{record_id}": {
                "get": {
                    "operationId": "getRecord",
                    "parameters": [{"name": "record_id", "in": "path", "required": True,
                                    "schema": {"type": "integer", "minimum": 1, "maximum": MAX_RECORD_ID}}],
                    "responses": {
                        "200": {"description": "the record", "content": _json("Record")},
                        "404": _error("no such record"),
                        "503": _error("database unavailable"),
                    },
                }
            },
        },
        "components": {"schemas": {"RecordInput": RECORD_INPUT, "Record": RECORD, "Error": ERROR}},
    }
