"""A Starlette / FastAPI dependency: ``token = Depends(RequireAccessToken(validator, scopes=["api1"]))``."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request

from identityserver.resource_server.middleware import request_certificate, request_url
from identityserver.resource_server.validator import AccessTokenValidator, AuthenticationFailure, ValidatedAccessToken


class RequireAccessToken:
    def __init__(
        self, validator: AccessTokenValidator, scopes: list[str] | None = None, public_base_url: str | None = None
    ) -> None:
        self.validator = validator
        self.scopes = scopes or []
        self.public_base_url = public_base_url

    async def __call__(self, request: Request) -> ValidatedAccessToken:
        result = await self.validator.validate(
            request.headers.getlist("authorization"),
            request.headers.getlist("dpop"),
            request.method,
            request_url(request.scope, self.public_base_url),
            request_certificate(request.scope),
        )
        if isinstance(result, AuthenticationFailure):
            raise HTTPException(result.status, result.description, headers=result.headers)
        missing = [s for s in self.scopes if s not in result.scopes]
        if missing:
            raise HTTPException(
                403,
                f"the token lacks {' '.join(missing)}",
                headers={"WWW-Authenticate": f'{result.scheme} error="insufficient_scope"'},
            )
        return result
