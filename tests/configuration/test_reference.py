"""docs/configuration.md is generated from the code: every option and client field is documented and the
committed file matches what the code renders (the drift oidc-provider users complained about)."""

from __future__ import annotations

import dataclasses
import typing
from pathlib import Path

from identityserver.configuration.reference import attribute_docs, option_attribute_docs, render_configuration_reference
from identityserver.models import client as client_module
from identityserver.models.client import Client
from identityserver.options import IdentityServerOptions

DOC = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"


def test_every_option_field_has_a_docstring():
    docs = option_attribute_docs()
    hints = typing.get_type_hints(IdentityServerOptions)
    missing = [
        f.name
        for f in dataclasses.fields(IdentityServerOptions)
        if not dataclasses.is_dataclass(hints[f.name]) and ("IdentityServerOptions", f.name) not in docs
    ]
    for f in dataclasses.fields(IdentityServerOptions):
        group = hints[f.name]
        if dataclasses.is_dataclass(group):
            assert group.__doc__, f"options group {group.__name__} has no docstring"
            missing += [f"{f.name}.{g.name}" for g in dataclasses.fields(group) if (group.__name__, g.name) not in docs]
    assert missing == []


def test_every_client_field_has_a_docstring():
    docs = attribute_docs(client_module)
    assert [f.name for f in dataclasses.fields(Client) if ("Client", f.name) not in docs] == []


def test_configuration_reference_is_up_to_date():
    assert DOC.read_text() == render_configuration_reference(), (
        "regenerate with: python -m identityserver.configuration.reference > docs/configuration.md"
    )
