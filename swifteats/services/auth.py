"""API keys on the HTTP APIs: ``Authorization: Bearer <key>`` or ``X-API-Key: <key>``.

A presented key is compared with every configured key, all of them every time, by
:func:`hmac.compare_digest` over SHA-256 digests (so neither content nor length leaks
through timing). With no key configured the guard lets every request in and says so
once, when it is built.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Annotated, Any, NoReturn

from fastapi import Depends, HTTPException
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from pydantic import SecretStr

log = logging.getLogger("swifteats.auth")

API_KEY_HEADER = "X-API-Key"
_CHALLENGE = 'Bearer realm="swifteats"'

# Read without refusing (auto_error=False): the guard gives the reason; named in OpenAPI.
_bearer = HTTPBearer(auto_error=False, description="An API key as a bearer token.")
_api_key_header = APIKeyHeader(name=API_KEY_HEADER, auto_error=False)

Bearer = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
HeaderKey = Annotated[str | None, Depends(_api_key_header)]

UNAUTHORIZED: dict[int | str, dict[str, Any]] = {
    401: {"description": "API key missing or invalid (see the WWW-Authenticate header)"}
}
"""The OpenAPI ``responses`` entry of a guarded route."""


class ApiKeys:
    """The keys a service accepts, kept as digests."""

    def __init__(self, keys: Iterable[SecretStr]) -> None:
        self._digests = tuple(_digest(key.get_secret_value()) for key in keys)

    @property
    def configured(self) -> bool:
        """Whether any key is required at all."""
        return bool(self._digests)

    def accepts(self, presented: str) -> bool:
        """Whether ``presented`` is one of the keys; every key is compared, match or not."""
        given = _digest(presented)
        matched = False
        for digest in self._digests:
            matched |= hmac.compare_digest(given, digest)
        return matched


def api_key_guard(keys: ApiKeys, *, service: str) -> Callable[[Bearer, HeaderKey], None]:
    """A FastAPI dependency refusing requests without a valid key (401 with the reason)."""
    if not keys.configured:
        log.warning(
            "%s: no API keys configured (SWIFTEATS_API_KEYS); every request is let in", service
        )

    def require_api_key(bearer: Bearer, header: HeaderKey) -> None:
        if not keys.configured:
            return
        presented = bearer.credentials if bearer is not None else header
        if not presented:
            _refuse(f"missing API key: send 'Authorization: Bearer <key>' or '{API_KEY_HEADER}'")
        elif not keys.accepts(presented):
            _refuse("invalid API key", error='error="invalid_token"')

    return require_api_key


def key_fingerprint(headers: Mapping[str, str]) -> str | None:
    """Which key a request presented, for audit logs without the key: the first 12 hex
    digits of its SHA-256 (None: no key presented)."""
    bearer = headers.get("authorization", "")
    scheme, _, token = bearer.partition(" ")
    presented = token.strip() if scheme.lower() == "bearer" else headers.get(API_KEY_HEADER)
    return _digest(presented).hex()[:12] if presented else None


def _refuse(reason: str, *, error: str = "") -> NoReturn:
    challenge = f"{_CHALLENGE}, {error}" if error else _CHALLENGE
    raise HTTPException(401, reason, headers={"WWW-Authenticate": challenge})


def _digest(key: str) -> bytes:
    return hashlib.sha256(key.encode()).digest()
