"""Events raised by the engine (Duende ``Events``) and delivered to an ``EventSink``.

One class per event type; sinks match on the class::

    match event:
        case TokenIssuedSuccessEvent(client_id=client_id, grant_type="client_credentials"):
            ...
"""

from identityserver.events.base import Event, EventCategories, EventTypes, obfuscate
from identityserver.events.clients import (
    ApiAuthenticationFailureEvent,
    ApiAuthenticationSuccessEvent,
    ClientAuthenticationFailureEvent,
    ClientAuthenticationSuccessEvent,
)
from identityserver.events.consent import ConsentDeniedEvent, ConsentGrantedEvent, GrantsRevokedEvent
from identityserver.events.errors import InvalidClientConfigurationEvent, UnhandledExceptionEvent
from identityserver.events.flows import (
    BackchannelAuthenticationFailureEvent,
    BackchannelAuthenticationSuccessEvent,
    DeviceAuthorizationFailureEvent,
    DeviceAuthorizationSuccessEvent,
)
from identityserver.events.token_exchange import TokenExchangeFailureEvent, TokenExchangeSuccessEvent
from identityserver.events.tokens import (
    IssuedToken,
    TokenIntrospectionFailureEvent,
    TokenIntrospectionSuccessEvent,
    TokenIssuedFailureEvent,
    TokenIssuedSuccessEvent,
    TokenRevokedSuccessEvent,
    issued_tokens,
)
from identityserver.events.users import UserLoginFailureEvent, UserLoginSuccessEvent, UserLogoutSuccessEvent

#: Every event type.
EVENT_TYPES: tuple[type[Event], ...] = (
    UserLoginSuccessEvent,
    UserLoginFailureEvent,
    UserLogoutSuccessEvent,
    ClientAuthenticationSuccessEvent,
    ClientAuthenticationFailureEvent,
    ApiAuthenticationSuccessEvent,
    ApiAuthenticationFailureEvent,
    TokenIssuedSuccessEvent,
    TokenIssuedFailureEvent,
    TokenRevokedSuccessEvent,
    TokenIntrospectionSuccessEvent,
    TokenIntrospectionFailureEvent,
    TokenExchangeSuccessEvent,
    TokenExchangeFailureEvent,
    UnhandledExceptionEvent,
    InvalidClientConfigurationEvent,
    ConsentGrantedEvent,
    ConsentDeniedEvent,
    GrantsRevokedEvent,
    DeviceAuthorizationSuccessEvent,
    DeviceAuthorizationFailureEvent,
    BackchannelAuthenticationSuccessEvent,
    BackchannelAuthenticationFailureEvent,
)

__all__ = [
    "EVENT_TYPES",
    "ApiAuthenticationFailureEvent",
    "ApiAuthenticationSuccessEvent",
    "BackchannelAuthenticationFailureEvent",
    "BackchannelAuthenticationSuccessEvent",
    "ClientAuthenticationFailureEvent",
    "ClientAuthenticationSuccessEvent",
    "ConsentDeniedEvent",
    "ConsentGrantedEvent",
    "DeviceAuthorizationFailureEvent",
    "DeviceAuthorizationSuccessEvent",
    "Event",
    "EventCategories",
    "EventTypes",
    "GrantsRevokedEvent",
    "InvalidClientConfigurationEvent",
    "IssuedToken",
    "TokenExchangeFailureEvent",
    "TokenExchangeSuccessEvent",
    "TokenIntrospectionFailureEvent",
    "TokenIntrospectionSuccessEvent",
    "TokenIssuedFailureEvent",
    "TokenIssuedSuccessEvent",
    "TokenRevokedSuccessEvent",
    "UnhandledExceptionEvent",
    "UserLoginFailureEvent",
    "UserLoginSuccessEvent",
    "UserLogoutSuccessEvent",
    "issued_tokens",
    "obfuscate",
]
