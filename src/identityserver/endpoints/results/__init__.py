"""Endpoint results: data only. ``hosting/writers.py`` turns each into HTTP."""

from identityserver.endpoints.results.authorize import AuthorizeResult
from identityserver.endpoints.results.common import (
    HtmlResult,
    JsonResult,
    ProtectedResourceErrorResult,
    RedirectResult,
    StatusCodeResult,
)
from identityserver.endpoints.results.token import TokenErrorResult, TokenResult

__all__ = [
    "AuthorizeResult",
    "HtmlResult",
    "JsonResult",
    "ProtectedResourceErrorResult",
    "RedirectResult",
    "StatusCodeResult",
    "TokenErrorResult",
    "TokenResult",
]
