"""Token exchange (RFC 8693): the grant validator and the validators of presented subject and actor tokens."""

from __future__ import annotations

from identityserver.clock import Clock
from identityserver.configuration.wiring.composition import Composition, default
from identityserver.services.protocols import EventService, ProfileService
from identityserver.validation.identity_token import IdentityTokenValidator
from identityserver.validation.subject_token import SubjectTokenValidator, SubjectTokenValidators
from identityserver.validation.token_request.token_exchange import TokenExchangeGrantValidator
from identityserver.validation.token_validator import TokenValidator


@default(SubjectTokenValidators)
def subject_token_validators(c: Composition) -> SubjectTokenValidators:
    """This server's token validators, and one ``SubjectTokenValidator`` item per other issuer."""
    return c.cls(SubjectTokenValidators, SubjectTokenValidators)(
        c.get(TokenValidator),
        c.get(IdentityTokenValidator),
        c.items(SubjectTokenValidator),
        c.get(Clock),
        c.options.input_length_restrictions.jwt,
    )


@default(TokenExchangeGrantValidator)
def token_exchange_grant(c: Composition) -> TokenExchangeGrantValidator:
    return c.cls(TokenExchangeGrantValidator, TokenExchangeGrantValidator)(
        c.get(SubjectTokenValidators), c.get(ProfileService), c.get(EventService)
    )
