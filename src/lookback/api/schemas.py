"""Schemas shared by several apps' APIs."""

from ninja import Field, Schema

# Query strings must not carry NUL characters: PostgreSQL refuses them in any text (a 500 otherwise).
NO_NUL = r"^[^\x00]*$"


class ErrorOut(Schema):
    detail: str


class FieldErrorOut(Schema):
    field: str
    message: str


class ValidationErrorOut(Schema):
    detail: str = Field(description="请求参数有误")
    errors: list[FieldErrorOut]
