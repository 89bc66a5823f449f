"""Result -> HTTP. One writer per result type; override a writer to change output without touching an
endpoint (Duende 7's ``IHttpResponseWriter<T>``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode, urlsplit

from identityserver._utils import json_bytes
from identityserver.endpoints.results import (
    AuthorizeResult,
    CheckSessionResult,
    HtmlResult,
    JsonResult,
    ProtectedResourceErrorResult,
    RedirectResult,
    StatusCodeResult,
    TokenErrorResult,
    TokenResult,
)
from identityserver.hosting.html_pages import check_session_page, error_page, form_post_page

Headers = list[tuple[bytes, bytes]]
HttpResponse = tuple[int, Headers, bytes]

_JSON = (b"content-type", b"application/json; charset=utf-8")
NO_STORE: Headers = [(b"cache-control", b"no-store"), (b"pragma", b"no-cache")]

#: Security headers for every HTML page (RFC 9700 §4.16, §4.2.4).
HTML_SECURITY_HEADERS: Headers = [
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
]


def _h(name: str, value: str) -> tuple[bytes, bytes]:
    return name.lower().encode("latin-1"), value.encode("latin-1")


def write_token(result: TokenResult) -> HttpResponse:
    body: dict[str, Any] = {
        "access_token": result.access_token,
        "token_type": result.token_type,
        "expires_in": result.expires_in,
    }
    if result.refresh_token:
        body["refresh_token"] = result.refresh_token
    if result.id_token:
        body["id_token"] = result.id_token
    if result.scope:
        body["scope"] = result.scope
    for name, value in result.custom.items():
        body.setdefault(name, value)
    headers = [_JSON, *NO_STORE]
    if result.dpop_nonce:
        headers.append((b"dpop-nonce", result.dpop_nonce.encode("ascii")))
    return 200, headers, json_bytes.dumps(body)


def _safe_description(text: str) -> str:
    """RFC 6749 §5.2: error_description is limited to %x20-21 / %x23-5B / %x5D-7E."""
    return "".join(ch if 0x20 <= ord(ch) <= 0x7E and ch not in '"\\' else "?" for ch in text)


def write_token_error(result: TokenErrorResult) -> HttpResponse:
    body: dict[str, Any] = {"error": result.error}
    if result.error_description:
        body["error_description"] = _safe_description(result.error_description)
    for name, value in result.custom.items():
        body.setdefault(name, value)
    headers = [_JSON, *NO_STORE]
    if result.dpop_nonce:
        headers.append((b"dpop-nonce", result.dpop_nonce.encode("ascii")))
    if result.www_authenticate:
        headers.append(_h("www-authenticate", result.www_authenticate))
    return result.status, headers, json_bytes.dumps(body)


def write_json(result: JsonResult) -> HttpResponse:
    headers: Headers = []
    content_type = result.headers.get("Content-Type")
    headers.append(_h("content-type", content_type) if content_type else _JSON)
    headers.extend(_h(k, v) for k, v in result.headers.items() if k != "Content-Type")
    if result.no_store:
        headers.extend(NO_STORE)
    elif result.max_age is not None:
        headers.append(_h("cache-control", f"max-age={result.max_age}"))
    body = result.encoded if result.encoded is not None else json_bytes.dumps(result.body)
    return result.status, headers, body


def write_status(result: StatusCodeResult) -> HttpResponse:
    headers = [_h(k, v) for k, v in result.headers.items()]
    if result.body is not None:
        headers.append(_JSON)
        return result.status, [*headers, *NO_STORE], json_bytes.dumps(result.body)
    return result.status, [*headers, *NO_STORE, (b"content-length", b"0")], b""


def write_redirect(result: RedirectResult) -> HttpResponse:
    headers = [_h("location", result.location), (b"cache-control", b"no-store")]
    headers += [(b"set-cookie", c.encode("latin-1")) for c in result.cookies]
    return result.status, headers, b""


def content_security_policy(script_hashes: list[str], frame_src: list[str], frameable: bool = False) -> str:
    script = " ".join(f"'sha256-{h}'" for h in script_hashes) or "'none'"
    frames = " ".join(frame_src) if frame_src else "'none'"
    ancestors = "*" if frameable else "'none'"
    return (
        f"default-src 'none'; script-src {script}; style-src 'self'; img-src 'self' data:; "
        f"frame-src {frames}; frame-ancestors {ancestors}; base-uri 'none'"
    )


def write_html(result: HtmlResult) -> HttpResponse:
    security = [h for h in HTML_SECURITY_HEADERS if not (result.frameable and h[0] == b"x-frame-options")]
    csp = content_security_policy(result.script_hashes, result.frame_src, result.frameable)
    headers = [
        (b"content-type", b"text/html; charset=utf-8"),
        (b"cache-control", b"no-store"),
        *security,
        _h("content-security-policy", csp),
    ]
    headers += [_h(k, v) for k, v in result.headers.items()]
    headers += [(b"set-cookie", c.encode("latin-1")) for c in result.cookies]
    return result.status, headers, result.html.encode("utf-8")


def write_check_session(result: CheckSessionResult) -> HttpResponse:
    """OIDC Session Management 1.0 §3.3: the iframe relying parties embed, so frameable by any site."""
    page = check_session_page(result.cookie_name)
    return write_html(HtmlResult(page.html, script_hashes=list(page.script_hashes), frameable=True))


def _quoted(value: str) -> str:
    return _safe_description(value)


def write_protected_resource_error(result: ProtectedResourceErrorResult) -> HttpResponse:
    """RFC 6750 §3 and RFC 9449 §7.1 challenges; both schemes when the token could be either. Without an error
    code (no credentials were sent) the challenge carries no error (RFC 6750 §3.1)."""
    params = ""
    if result.error:
        params = f'error="{_quoted(result.error)}"'
        if result.error_description:
            params += f', error_description="{_quoted(result.error_description)}"'
    algs = " ".join(result.dpop_algs)
    challenges = []
    if result.scheme == "DPoP":
        parts = [p for p in (params, f'algs="{algs}"' if algs else "") if p]
        challenges.append("DPoP " + ", ".join(parts) if parts else "DPoP")
        if result.include_bearer_challenge:
            challenges.append('Bearer realm="identityserver"')
    else:
        challenges.append('Bearer realm="identityserver"' + (f", {params}" if params else ""))
        if algs:
            challenges.append(f'DPoP algs="{algs}"')
    headers = [_JSON, *NO_STORE] + [(b"www-authenticate", c.encode("latin-1")) for c in challenges]
    if result.dpop_nonce:
        headers.append((b"dpop-nonce", result.dpop_nonce.encode("ascii")))
    body: dict[str, str] = {}
    if result.error:
        body["error"] = result.error
        if result.error_description:
            body["error_description"] = _safe_description(result.error_description)
    return result.status, headers, json_bytes.dumps(body)


def write_authorize(result: AuthorizeResult) -> HttpResponse:
    """RFC 6749 §4.1.2 (query), §4.2.2 (fragment); OAuth 2.0 Form Post Response Mode §2."""
    cookies = [(b"set-cookie", c.encode("latin-1")) for c in result.cookies]
    if result.response_mode == "form_post":
        page = form_post_page(result.redirect_uri, result.parameters)
        scripts = " ".join(f"'sha256-{h}'" for h in page.script_hashes)
        csp = (
            f"default-src 'none'; script-src {scripts}; "
            f"form-action {_origin(result.redirect_uri)}; frame-ancestors 'none'; base-uri 'none'"
        )
        headers = [
            (b"content-type", b"text/html; charset=utf-8"),
            (b"cache-control", b"no-store"),
            *HTML_SECURITY_HEADERS,
            _h("content-security-policy", csp),
            *cookies,
        ]
        return 200, headers, page.html.encode("utf-8")
    query = urlencode(result.parameters)
    if result.response_mode == "fragment":
        location = result.redirect_uri.split("#", 1)[0] + "#" + query
    else:
        location = result.redirect_uri + ("&" if "?" in result.redirect_uri else "?") + query
    return (
        302,
        [_h("location", location), (b"cache-control", b"no-store"), (b"referrer-policy", b"no-referrer"), *cookies],
        b"",
    )


def _origin(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme in ("http", "https") and parts.netloc:
        return f"{parts.scheme}://{parts.netloc}"
    return "*"


WRITERS: dict[type, Callable[[Any], HttpResponse]] = {
    AuthorizeResult: write_authorize,
    TokenResult: write_token,
    TokenErrorResult: write_token_error,
    JsonResult: write_json,
    StatusCodeResult: write_status,
    RedirectResult: write_redirect,
    HtmlResult: write_html,
    CheckSessionResult: write_check_session,
    ProtectedResourceErrorResult: write_protected_resource_error,
}


ResultWriter = Callable[[Any], HttpResponse]


class ResultWriters(dict[type, ResultWriter]):
    """The writer of each endpoint result type (a slot of the builder: replace one with
    ``builder.decorate(ResultWriters, lambda w: w.with_writer(TokenResult, my_writer))``)."""

    def with_writer(self, kind: type, writer: ResultWriter) -> ResultWriters:
        """A copy in which results of ``kind`` (and its subclasses without their own writer) use ``writer``."""
        return ResultWriters({**self, kind: writer})


def write(result: object, writers: dict[type, Callable[[Any], HttpResponse]] | None = None) -> HttpResponse:
    table = writers or WRITERS
    writer = table.get(type(result))
    if writer is None:
        for kind, candidate in table.items():
            if isinstance(result, kind):
                writer = candidate
                break
    if writer is None:
        raise TypeError(f"no writer for result type {type(result).__name__}")
    return writer(result)


def error_page_html(title: str, message: str) -> str:
    return error_page(title, message)
