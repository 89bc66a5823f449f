"""The protocol's HTML pages come from autoescaping Jinja2 templates (hosting/templates): request values are
escaped in attributes and text, JSON-encoded in scripts, and each CSP hash matches the script that is sent."""

from __future__ import annotations

import ast
import base64
import fnmatch
import hashlib
import json
import re
import subprocess
import sys
import tomllib
from html.parser import HTMLParser
from pathlib import Path

import pytest

from identityserver.endpoints.check_session import CheckSessionEndpoint
from identityserver.endpoints.results import AuthorizeResult, CheckSessionResult
from identityserver.hosting.html_pages import check_session_page, error_page, form_post_page
from identityserver.hosting.writers import error_page_html, write, write_authorize

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "src" / "identityserver"
HOSTILE = "\"><script>alert(1)</script><input name='x"
HOSTILE_COOKIE = "a\"</script><script>alert(1)</script>'&"


class _Page(HTMLParser):
    """Every form action, hidden input and inline script of a page, as a browser would read them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.actions: list[str | None] = []
        self.inputs: list[tuple[str, str]] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        data = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.actions.append(data.get("action"))
        elif tag == "input":
            self.inputs.append((data["name"], data.get("value", "")))
        elif tag == "script":
            self._in_script = True
            self.scripts.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts[-1] += data


def _parse(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    page.close()
    return page


def _sha256(text: str) -> str:
    return base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")


def _csp_hashes(headers: list[tuple[bytes, bytes]]) -> list[str]:
    csp = dict(headers)[b"content-security-policy"].decode()
    return re.findall(r"'sha256-([A-Za-z0-9+/=]+)'", csp)


# -- form_post ----------------------------------------------------------------------------------------------------


def test_form_post_escapes_a_hostile_state_and_keeps_its_value():
    page = form_post_page("https://app.example/cb", {"code": "abc", "state": HOSTILE})
    assert "<script>alert(1)" not in page.html and "<input name='x" not in page.html
    assert "&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in page.html
    parsed = _parse(page.html)
    assert parsed.inputs == [("code", "abc"), ("state", HOSTILE)]
    assert parsed.actions == ["https://app.example/cb"]
    assert parsed.scripts == ["document.forms[0].submit();"]


def test_form_post_escapes_parameter_names_and_the_action():
    action = 'https://app.example/cb?a=1&b="><script>alert(1)</script>'
    page = form_post_page(action, {'x"><script>alert(2)</script>': "v"})
    assert "<script>alert" not in page.html
    parsed = _parse(page.html)
    assert parsed.actions == [action]
    assert parsed.inputs == [('x"><script>alert(2)</script>', "v")]
    assert len(parsed.scripts) == 1


def test_form_post_response_csp_hash_matches_the_rendered_script_and_headers_are_kept():
    result = AuthorizeResult("https://app.example/cb", "form_post", {"state": HOSTILE}, ["c=1; Path=/"])
    status, headers, body = write_authorize(result)
    assert status == 200
    scripts = _parse(body.decode()).scripts
    assert _csp_hashes(headers) == [_sha256(scripts[0])]
    values = dict(headers)
    assert values[b"cache-control"] == b"no-store" and values[b"x-frame-options"] == b"DENY"
    assert values[b"content-type"] == b"text/html; charset=utf-8"
    csp = values[b"content-security-policy"].decode()
    assert "frame-ancestors 'none'" in csp and "form-action https://app.example" in csp
    assert "unsafe-inline" not in csp
    assert (b"set-cookie", b"c=1; Path=/") in headers


# -- check-session iframe -----------------------------------------------------------------------------------------


def _cookie_name_in(script: str) -> str:
    match = re.search(r"^var cookieName=(.*);$", script, re.MULTILINE)
    assert match, script
    name: str = json.loads(match.group(1))
    return name


def test_check_session_page_json_encodes_the_cookie_name():
    page = check_session_page("idsrv.session")
    assert 'var cookieName="idsrv.session";' in page.html
    (script,) = _parse(page.html).scripts
    assert page.script_hashes == (_sha256(script),)


def test_check_session_page_cannot_be_broken_out_of_by_the_cookie_name():
    page = check_session_page(HOSTILE_COOKIE)
    assert "</script><script>" not in page.html and "'&" not in page.html
    (script,) = _parse(page.html).scripts
    assert _cookie_name_in(script) == HOSTILE_COOKIE
    assert page.script_hashes == (_sha256(script),)


async def test_check_session_endpoint_returns_data_and_the_writer_renders_it():
    class Get:
        method = "GET"

    result = await CheckSessionEndpoint("my.session").process(Get())  # type: ignore[arg-type]
    assert result == CheckSessionResult("my.session")
    status, headers, body = write(result)
    assert status == 200
    values = dict(headers)
    assert b"x-frame-options" not in values and values[b"cache-control"] == b"no-store"
    assert "frame-ancestors *" in values[b"content-security-policy"].decode()
    (script,) = _parse(body.decode()).scripts
    assert _cookie_name_in(script) == "my.session"
    assert _csp_hashes(headers) == [_sha256(script)]


async def test_check_session_iframe_served_by_the_server_matches_its_csp(server):
    response = await server.client.get("/connect/checksession")
    assert response.status_code == 200
    (script,) = _parse(response.text).scripts
    assert _cookie_name_in(script) == "idsrv.session"
    csp = response.headers["content-security-policy"]
    assert f"script-src 'sha256-{_sha256(script)}';" in csp


# -- error page -----------------------------------------------------------------------------------------------


def test_error_page_escapes_title_and_message():
    html = error_page_html("<b>t</b>", "m & <script>alert(1)</script>")
    assert html == error_page("<b>t</b>", "m & <script>alert(1)</script>")
    assert "<script>" not in html and "<b>" not in html
    assert "&lt;b&gt;t&lt;/b&gt;" in html and "m &amp; &lt;script&gt;" in html


# -- packaging and layering -----------------------------------------------------------------------------------


def test_the_templates_are_package_data():
    """An installed wheel carries every template (pyproject ``[tool.setuptools.package-data]``)."""
    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    templates = [p.relative_to(PACKAGE).as_posix() for p in (PACKAGE / "hosting" / "templates").iterdir()]
    assert templates
    assert [t for t in templates if not any(fnmatch.fnmatch(t, g) for g in patterns["identityserver"])] == []


def test_importing_hosting_compiles_no_template():
    script = (
        "import identityserver.hosting.writers, identityserver.hosting.html_pages as pages\n"
        "print(pages.environment.cache_info().currsize)"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "0"


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: p.relative_to(PACKAGE).as_posix())
def test_jinja2_is_imported_only_in_hosting_and_ui(path):
    relative = path.relative_to(PACKAGE).parts
    if relative[0] in ("hosting", "ui"):
        return
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.extend(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.append(node.module)
    assert [n for n in names if n.split(".")[0] in ("jinja2", "markupsafe")] == []
