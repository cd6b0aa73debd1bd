"""JWT login and checking: HS256 tokens for the users a ``JwtConfig`` lists.

``Authenticator.login(name, password)`` compares the password in constant time and
issues a token with ``sub`` (the user), ``role``, ``iss``, ``iat`` and ``exp``;
``check(header, role)`` accepts ``Authorization: Bearer <token>`` and answers with
the token's claims or raises ``AuthError``: 401 for a missing, malformed, forged or
expired token, 403 for a valid token whose role is not enough. Only HS256 is
accepted when decoding, so a token claiming ``alg: none`` (or RS256 with the secret
as a public key) is refused. PyJWT is imported here only, on first use.
"""

from __future__ import annotations

import hmac
import time
from typing import Any

from dubbo_recsys.provider.rest.config import JwtConfig, Role
from dubbo_recsys.provider.rest.errors import AuthError

__all__ = ["ALGORITHM", "Authenticator"]

ALGORITHM = "HS256"
_BEARER = "bearer "


class Authenticator:
    """Issues and checks tokens for one ``JwtConfig``."""

    def __init__(self, config: JwtConfig) -> None:
        self.config = config
        self._users = config.user_table()

    def login(self, name: str, password: str) -> tuple[str, int]:
        """``(token, expires_in_seconds)`` for a known user with the right password."""
        import jwt

        user = self._users.get(name)
        # compare against something even for an unknown name, so timing does not tell names apart
        expected = user.password if user is not None else "\x00" * max(len(password), 8)
        if not hmac.compare_digest(expected.encode(), password.encode()) or user is None:
            raise AuthError("unknown user or wrong password", 401)
        now = int(time.time())
        claims = {
            "sub": user.name,
            "role": user.role,
            "iss": self.config.issuer,
            "iat": now,
            "exp": now + self.config.ttl_seconds,
        }
        return jwt.encode(claims, self.config.secret, algorithm=ALGORITHM), self.config.ttl_seconds

    def check(self, authorization: str | None, role: str = Role.USER) -> dict[str, Any]:
        """The claims of a valid bearer token with at least ``role``; else ``AuthError``."""
        import jwt

        if not authorization:
            raise AuthError("missing Authorization: Bearer <token> (POST /login to get one)", 401)
        if not authorization[: len(_BEARER)].lower() == _BEARER:
            raise AuthError("Authorization must be 'Bearer <token>'", 401)
        token = authorization[len(_BEARER) :].strip()
        try:
            claims = jwt.decode(
                token,
                self.config.secret,
                algorithms=[ALGORITHM],
                issuer=self.config.issuer,
                options={"require": ["exp", "iat", "sub", "iss"]},
            )
        except jwt.ExpiredSignatureError:
            raise AuthError("token expired: log in again", 401) from None
        except jwt.InvalidTokenError as exc:
            raise AuthError(f"invalid token: {exc}", 401) from None
        granted = claims.get("role")
        if granted not in Role.ALL:
            raise AuthError("invalid token: unknown role", 401)
        if role == Role.ADMIN and granted != Role.ADMIN:
            raise AuthError(f"user {claims.get('sub')!r} may not use admin routes", 403)
        return claims
