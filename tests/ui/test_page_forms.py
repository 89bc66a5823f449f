"""``ui/forms.read_form``: the pages' posted forms, read without ``python-multipart``."""

from __future__ import annotations

import pytest
from starlette.requests import Request
from starlette.types import Message

from identityserver.ui.forms import MAX_FIELDS, read_form


def posted(body: bytes, content_type: str = "application/x-www-form-urlencoded") -> Request:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    headers = [(b"content-type", content_type.encode())] if content_type else []
    return Request({"type": "http", "method": "POST", "path": "/account/login", "headers": headers}, receive)


async def test_fields_are_decoded_in_order_with_repeated_names_kept() -> None:
    form = await read_form(posted(b"username=al%C3%AFce&password=p+w%26d&empty=&button=login&button=cancel"))
    assert form["username"] == "alïce"
    assert form["password"] == "p w&d"
    assert form["empty"] == ""
    assert form.getlist("button") == ["login", "cancel"]
    assert list(form.keys()) == ["username", "password", "empty", "button"]


async def test_a_charset_parameter_is_accepted() -> None:
    form = await read_form(posted(b"a=1", "Application/X-WWW-Form-Urlencoded; charset=UTF-8"))
    assert form["a"] == "1"


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"a=1", ""),
        (b"a=1", "text/plain"),
        (b'--x\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--x--\r\n', "multipart/form-data; boundary=x"),
        (b"a=%FF", "application/x-www-form-urlencoded"),
        (b"a=\xff", "application/x-www-form-urlencoded"),
        (b"&".join(b"f%d=1" % i for i in range(MAX_FIELDS + 1)), "application/x-www-form-urlencoded"),
    ],
    ids=["no type", "text", "multipart", "percent-encoded non-UTF-8", "raw non-UTF-8", "too many fields"],
)
async def test_anything_else_reads_as_an_empty_form(body: bytes, content_type: str) -> None:
    assert len(await read_form(posted(body, content_type))) == 0
