"""Resource validation (Duende ``DefaultResourceValidator``): requested scopes and resource indicators against
the client's allowed scopes and the resource store. RFC 6749 §3.3, RFC 8707 §2."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from identityserver._utils.urls import has_fragment, is_absolute_uri_reference
from identityserver.clock import Clock
from identityserver.constants import StandardScopes
from identityserver.models.client import Client
from identityserver.models.resources import Resources, ResourceValidationResult
from identityserver.stores.caching import TtlCache
from identityserver.stores.protocols import ResourceStore
from identityserver.validation.scopes import DefaultScopeParser


@dataclass(slots=True)
class ResourceValidationError:
    error: str
    description: str


def resource_indicator_is_valid(value: str, max_length: int) -> bool:
    """RFC 8707 §2: an absolute URI without a fragment."""
    return len(value) <= max_length and is_absolute_uri_reference(value) and not has_fragment(value)


#: How long a validation outcome is remembered when the resource store itself is cached or static.
MEMO_SECONDS = 60
MEMO_MAX_ENTRIES = 10_000

Outcome = ResourceValidationResult | ResourceValidationError


def _copy(outcome: Outcome) -> Outcome:
    """Callers narrow the result in place; each gets its own lists."""
    if isinstance(outcome, ResourceValidationError):
        return outcome
    r = outcome.resources
    return ResourceValidationResult(
        Resources(list(r.identity_resources), list(r.api_resources), list(r.api_scopes), r.offline_access),
        list(outcome.parsed_scopes),
        outcome.resource_indicator,
    )


class DefaultResourceValidator:
    """Validates requested scopes and resource indicators against the client and the resource store (Duende
    ``DefaultResourceValidator``; RFC 8707 §2); override to change which resources a request may reach."""

    def __init__(
        self,
        store: ResourceStore,
        scope_parser: DefaultScopeParser | None = None,
        clock: Clock | None = None,
        memoize: bool = False,
    ) -> None:
        self.store = store
        self.scope_parser = scope_parser or DefaultScopeParser()
        self.clock = clock
        self.memoize = memoize and clock is not None
        """Remember outcomes for ``MEMO_SECONDS`` (only over a cached or static resource store, whose answers
        are at least that stale anyway): the hot path of every token request."""
        self._memo: TtlCache[Outcome] | None = (
            TtlCache(clock, MEMO_SECONDS, MEMO_MAX_ENTRIES) if self.memoize and clock is not None else None
        )

    async def validate_requested_resources(
        self, client: Client, scopes: Sequence[str], resource_indicators: Sequence[str] = ()
    ) -> Outcome:
        """Every scope must be allowed for the client and exist (enabled) in the store; every resource
        indicator must name an API resource reachable with the requested scopes."""
        if self._memo is None:
            return await self._validate(client, scopes, resource_indicators)
        key = (
            client.client_id,
            tuple(client.allowed_scopes),
            client.allow_offline_access,
            tuple(scopes),
            tuple(resource_indicators),
        )
        outcome = await self._memo.get_or_add(key, lambda: self._validate(client, scopes, resource_indicators))
        return _copy(outcome)

    async def _validate(self, client: Client, scopes: Sequence[str], resource_indicators: Sequence[str]) -> Outcome:
        parsed = [self.scope_parser.parse_scope_value(s) for s in dict.fromkeys(scopes)]
        names = [p.parsed_name for p in parsed]
        for name in names:
            if name not in client.allowed_scopes and not (
                name == StandardScopes.OFFLINE_ACCESS and client.allow_offline_access
            ):
                return ResourceValidationError("invalid_scope", f"scope '{name}' is not allowed for this client")
        identity = [r for r in await self.store.find_identity_resources_by_scope_name(names) if r.enabled]
        api_scopes = [s for s in await self.store.find_api_scopes_by_name(names) if s.enabled]
        known = {r.name for r in identity} | {s.name for s in api_scopes}
        offline = StandardScopes.OFFLINE_ACCESS in names
        for name in names:
            if name not in known and name != StandardScopes.OFFLINE_ACCESS:
                return ResourceValidationError("invalid_scope", f"scope '{name}' is not supported")
        scope_names = [s.name for s in api_scopes]
        api_resources = [a for a in await self.store.find_api_resources_by_scope_name(scope_names) if a.enabled]
        for indicator in resource_indicators:
            if not any(a.name == indicator for a in api_resources):
                return ResourceValidationError(
                    "invalid_target", f"resource '{indicator}' is not valid for the requested scopes"
                )
        if not resource_indicators:
            api_resources = [a for a in api_resources if not a.require_resource_indicator]
        else:
            wanted = set(resource_indicators)
            api_resources = [a for a in api_resources if not a.require_resource_indicator or a.name in wanted]
        algorithms = [
            set(a.allowed_access_token_signing_algorithms)
            for a in api_resources
            if a.allowed_access_token_signing_algorithms
        ]
        if algorithms and not set.intersection(*algorithms):
            return ResourceValidationError("invalid_scope", "the requested APIs share no token signing algorithm")
        return ResourceValidationResult(Resources(identity, api_resources, api_scopes, offline), parsed)
