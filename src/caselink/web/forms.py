"""Request bodies that arrive as JSON (API) or as an HTML form (browser), validated by one model.

A handler receives a :class:`Submitted` and decides what a failure looks like: the API raises a
422 problem naming each field; a page re-renders its form with the message beside the field.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from fastapi import Request
from pydantic import BaseModel, ValidationError

from caselink.web.errors import FieldProblem

ModelT = TypeVar("ModelT", bound=BaseModel)
LIST_SEPARATOR = "\n"  # list fields in a form are one item per line of a textarea


@dataclass
class Submitted(Generic[ModelT]):
    value: ModelT | None
    raw: dict[str, Any]
    errors: dict[str, str] = field(default_factory=dict)

    def or_raise(self) -> ModelT:
        if self.value is None:
            raise FieldProblem([{"field": k, "message": v} for k, v in self.errors.items()])
        return self.value


def body_of(model: type[ModelT]) -> Callable[..., Any]:
    list_fields = {name for name, info in model.model_fields.items() if "list" in str(info.annotation)}

    async def dependency(request: Request) -> Submitted[ModelT]:
        raw: dict[str, Any]
        if request.headers.get("content-type", "").startswith("application/json"):
            try:
                parsed = await request.json()
            except ValueError:
                raise FieldProblem([{"field": "body", "message": "is not valid JSON"}]) from None
            if not isinstance(parsed, dict):
                raise FieldProblem([{"field": "body", "message": "must be a JSON object"}])
            raw = parsed
        else:
            form = await request.form()
            raw = {key: value for key, value in form.items() if key != "csrf_token" and isinstance(value, str)}
            for name in list_fields & raw.keys():
                raw[name] = [line.strip() for line in raw[name].split(LIST_SEPARATOR) if line.strip()]
            for name, value in list(raw.items()):
                if value == "":
                    raw.pop(name)
        # PostgreSQL cannot hold NUL in text (SQLite can): refused here, by field, on both engines.
        with_nul = {name: "contains a NUL character (0x00); remove it" for name, value in raw.items()
                    if any(isinstance(v, str) and "\x00" in v for v in (value if isinstance(value, list) else [value]))}
        if with_nul:
            return Submitted(None, raw, with_nul)
        try:
            return Submitted(model.model_validate(raw), raw)
        except ValidationError as exc:
            errors = {".".join(str(p) for p in e["loc"]) or "body": e["msg"] for e in exc.errors()}
            return Submitted(None, raw, errors)

    return dependency


def openapi_body(model: type[BaseModel]) -> dict[str, Any]:
    """``openapi_extra`` that documents ``model`` as the JSON request body."""
    return {"requestBody": {"required": True, "content": {
        "application/json": {"schema": model.model_json_schema(ref_template="#/components/schemas/{model}")}}}}
