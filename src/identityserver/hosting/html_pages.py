"""The protocol's own HTML pages (the ``form_post`` response, the check-session iframe, the error page), rendered
from ``hosting/templates`` with autoescaping; values go into inline scripts only through ``tojson``.

Each inline script is rendered on its own and hashed for the Content-Security-Policy, then placed in its page as
it is: the hash covers exactly the trusted script, never anything a request put into the page."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from jinja2 import Environment
    from markupsafe import Markup


@dataclass(frozen=True, slots=True)
class Page:
    html: str
    script_hashes: tuple[str, ...] = ()
    """Base64 SHA-256 of each inline script, for ``script-src 'sha256-...'``."""


@cache
def environment() -> Environment:
    """Created on first use, so importing ``hosting`` neither reads nor compiles a template, nor imports Jinja2
    (a worker that serves only JSON endpoints never does)."""
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    return Environment(
        loader=PackageLoader("identityserver.hosting", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
    )


def script_hash(script: str) -> str:
    return base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii")


def _script(template: str, **values: object) -> tuple[Markup, str]:
    from markupsafe import Markup

    script = environment().get_template(template).render(**values)
    # Markup: the script comes from our own template with every value through tojson; escaping it again as HTML
    # would break it (and its hash)
    return Markup(script), script_hash(script)  # noqa: S704


@cache
def _form_post_script() -> tuple[Markup, str]:
    return _script("form_post.js")


def form_post_page(action: str, parameters: Mapping[str, str]) -> Page:
    """OAuth 2.0 Form Post Response Mode §2: an auto-submitting form to the client's redirect URI."""
    script, digest = _form_post_script()
    html = (
        environment()
        .get_template("form_post.html")
        .render(action=action, parameters=list(parameters.items()), script=script)
    )
    return Page(html, (digest,))


@lru_cache(maxsize=16)
def check_session_page(cookie_name: str) -> Page:
    """OIDC Session Management 1.0 §3.3; the same page for every request with one cookie name."""
    script, digest = _script("check_session.js", cookie_name=cookie_name)
    return Page(environment().get_template("check_session.html").render(script=script), (digest,))


def error_page(title: str, message: str) -> str:
    return environment().get_template("error.html").render(title=title, message=message)
