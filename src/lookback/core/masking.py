"""Masking of personal numbers for roles without the personal-data permission."""


def mask_id_number(value: str | None) -> str:
    """`350125198001011234` → `350125********1234`: the region stays visible, the birth date does not."""
    if not value:
        return ""
    if len(value) <= 10:
        return "*" * len(value)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def mask_phone(value: str | None) -> str:
    """`13805912345` → `138****2345`."""
    if not value:
        return ""
    if len(value) <= 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]
