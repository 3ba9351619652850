"""Request models: one base with the original's whitelist + forbidNonWhitelisted, and the
constrained types every module shares (ObjectId strings, emails, passwords)."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from lutea.errors import InvalidInput
from lutea.wire import invalid_id_message, is_object_id


class StrictModel(BaseModel):
    """Unknown fields are rejected, strings are bounded, no coercion of types."""

    model_config = ConfigDict(extra="forbid", str_max_length=5000, strict=False, populate_by_name=True, defer_build=True)


class LenientModel(BaseModel):
    """For bodies whose extra fields API.md says are ignored for compatibility."""

    model_config = ConfigDict(extra="ignore", str_max_length=5000, populate_by_name=True, defer_build=True)


def object_id(label: str) -> Any:
    """A 24-hex id field of a body; a malformed one gets the original's ``ID de <label> invalide``."""

    def check(value: str) -> str:
        if not is_object_id(value):
            raise ValueError(invalid_id_message(label))
        return value

    return Annotated[str, StringConstraints(max_length=64), AfterValidator(check)]


def _email(value: str) -> str:
    """Exactly one address (lutea.email.addresses): never a list, a display name or a group."""
    from lutea.email.addresses import is_single_address  # on first use: cold starts stay small

    value = value.strip().lower()
    if not is_single_address(value):
        raise ValueError("email must be an email")
    return value


Email = Annotated[str, StringConstraints(max_length=254), AfterValidator(_email)]

PASSWORD_RULE = re.compile(r"^(?=.*[a-z])(?=.*[A-Z])(?=.*\d)(?=.*[@$!%*?&]).{8,}$")


def _password(value: str) -> str:
    if not PASSWORD_RULE.match(value):
        raise ValueError(
            "Le mot de passe doit contenir au moins 8 caractères, une minuscule, une majuscule, "
            "un chiffre et un caractère spécial (@$!%*?&)"
        )
    return value


# bcrypt ignores bytes past 72 and bcrypt 5 refuses them: bound the length for every hasher.
Password = Annotated[str, StringConstraints(max_length=72), AfterValidator(_password)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
ShortText = Annotated[str, StringConstraints(max_length=255)]


def error_entries(exc: ValidationError | list[dict[str, Any]]) -> tuple[list[str], list[dict[str, str]]]:
    """pydantic errors -> (class-validator-like messages, [{field, rule}])."""
    errors = exc.errors() if isinstance(exc, ValidationError) else exc
    messages: list[str] = []
    fields: list[dict[str, str]] = []
    for err in errors:
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path")]
        field = ".".join(loc) or "body"
        rule = err.get("type", "invalid")
        if rule == "json_invalid":
            field = "body"
            messages.append("Le corps de la requête n'est pas un JSON valide")
        elif rule == "extra_forbidden":
            messages.append(f"property {field} should not exist")
        elif rule == "missing":
            messages.append(f"{field} should not be empty")
        else:
            msg = str(err.get("msg", "invalid")).removeprefix("Value error, ")
            # An id keeps the original's exact message ("ID de retraite invalide").
            messages.append(msg if msg.startswith("ID d") else f"{field}: {msg}")
        fields.append({"field": field, "rule": rule})
    return messages, fields


def parse[M: BaseModel](model: type[M], data: Any) -> M:
    """Validate outside the resolver (domain entry points, jobs): InvalidInput on failure."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        messages, fields = error_entries(exc)
        raise InvalidInput(messages, fields=fields) from exc


__all__ = ["Email", "Field", "LenientModel", "Name", "Password", "ShortText", "StrictModel", "object_id", "parse"]
