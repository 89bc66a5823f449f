"""Endpoint results: data only. ``hosting/writers.py`` turns each into HTTP."""

from identityserver.endpoints.results.authorize import AuthorizeResult
from identityserver.endpoints.results.common import (
    HtmlResult,
    JsonResult,
    ProtectedResourceErrorResult,
    RedirectResult,
    StatusCodeResult,
)
from identityserver.endpoints.results.session import CheckSessionResult
from identityserver.endpoints.results.token import TokenErrorResult, TokenResult

__all__ = [
    "AuthorizeResult",
    "CheckSessionResult",
    "HtmlResult",
    "JsonResult",
    "ProtectedResourceErrorResult",
    "RedirectResult",
    "StatusCodeResult",
    "TokenErrorResult",
    "TokenResult",
]
