"""Schemas shared by several apps' APIs."""

from ninja import Schema


class ErrorOut(Schema):
    detail: str
