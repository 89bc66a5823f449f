"""Who may register what (issue 16 item 1): a dynamically registered client is untrusted. Without a policy it may
use the code and refresh token grants only, and ask only for the scopes open to every registered client
(``allowed_scopes``, by default the identity scopes). An initial access token can carry a policy that allows more
(``[options.dynamic_client_registration.initial_access_tokens.<name>]``; docs/registration.md)."""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from identityserver.constants import GrantType
from identityserver.crypto.hashing import constant_time_equals, sha256_base64
from identityserver.options import DynamicClientRegistrationOptions

TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
DEFAULT_GRANTS = frozenset({GrantType.AUTHORIZATION_CODE, GrantType.REFRESH_TOKEN})
#: Grants that let a client act without a user (or with a user's password): only through a token's policy.
PRIVILEGED_GRANTS = frozenset({GrantType.CLIENT_CREDENTIALS, GrantType.PASSWORD, TOKEN_EXCHANGE})
REGISTRABLE_GRANTS = DEFAULT_GRANTS | PRIVILEGED_GRANTS
POLICY_FIELDS = ("token_hash", "grant_types", "scopes")
#: The policy name stored on clients registered without a named token (open registration, legacy token).
DEFAULT_POLICY = ""
_HASH_LENGTH = 44  # base64 of 32 bytes


@dataclass(frozen=True, slots=True)
class RegistrationPolicy:
    """What a registrant may ask for beyond the defaults."""

    name: str = DEFAULT_POLICY
    grant_types: frozenset[str] = DEFAULT_GRANTS
    scopes: frozenset[str] = frozenset()
    token_hash: str = ""


def _names(value: str | tuple[str, ...] | None) -> tuple[str, ...] | None:
    if value is None:
        return ()
    if isinstance(value, str) or not all(isinstance(v, str) and v for v in value):
        return None
    return value


def policy_problem(options: DynamicClientRegistrationOptions) -> tuple[str, str] | None:
    """The option name and problem of the first invalid initial access token policy, or ``None``."""
    seen: set[str] = set()
    for name, entry in options.initial_access_tokens.items():
        field_name = f"initial_access_tokens.{name}"
        unknown = [key for key in entry if key not in POLICY_FIELDS]
        if unknown:
            return field_name, f"unknown field {unknown[0]!r} (expected {', '.join(POLICY_FIELDS)})"
        token_hash = entry.get("token_hash")
        if not isinstance(token_hash, str) or len(token_hash) != _HASH_LENGTH:
            return field_name, "token_hash must be the base64 SHA-256 of the token (44 characters)"
        if token_hash in seen:
            return field_name, "two policies have the same token_hash"
        seen.add(token_hash)
        grants = _names(entry.get("grant_types"))
        if grants is None or any(g not in REGISTRABLE_GRANTS for g in grants):
            return field_name, f"grant_types must be an array of {', '.join(sorted(REGISTRABLE_GRANTS))}"
        if _names(entry.get("scopes")) is None:
            return field_name, "scopes must be an array of scope names"
    if options.open_registration_limit < 0 or options.open_registration_window <= 0:
        return "open_registration_limit", "the limit must not be negative and the window must be positive"
    return None


class RegistrationPolicies:
    """The configured initial access tokens and their policies; finds the policy of a presented token."""

    def __init__(self, options: DynamicClientRegistrationOptions) -> None:
        self.legacy_token = options.initial_access_token or ""
        self.policies: dict[str, RegistrationPolicy] = {}
        for name, entry in options.initial_access_tokens.items():
            self.policies[name] = RegistrationPolicy(
                name,
                DEFAULT_GRANTS | frozenset(_names(entry.get("grant_types")) or ()),
                frozenset(_names(entry.get("scopes")) or ()),
                str(entry.get("token_hash", "")),
            )

    @property
    def token_required(self) -> bool:
        """Whether registration is closed to callers without an initial access token (RFC 7591 §3)."""
        return bool(self.legacy_token or self.policies)

    def for_token(self, token: str) -> RegistrationPolicy | None:
        """The policy of the presented token, or ``None``; every configured token is compared (constant time)."""
        found: RegistrationPolicy | None = None
        presented = sha256_base64(token).encode("ascii")
        for policy in self.policies.values():
            if hmac.compare_digest(presented, policy.token_hash.encode("utf-8", "surrogatepass")):
                found = policy
        if self.legacy_token and constant_time_equals(token, self.legacy_token) and found is None:
            found = RegistrationPolicy()
        return found

    def named(self, name: str) -> RegistrationPolicy:
        """The policy a client was registered under (the default one if its token has since been removed)."""
        return self.policies.get(name, RegistrationPolicy())
