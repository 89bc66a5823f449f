"""Authenticates the client of a request (Duende ``ClientSecretValidator``): parse, find client, check the
method it is registered for, validate the secret, raise the event."""

from __future__ import annotations

from identityserver.clock import Clock
from identityserver.constants import ProtocolRoutePaths, SecretTypes, TokenEndpointAuthMethods, TokenErrors
from identityserver.events import ClientAuthenticationFailureEvent, ClientAuthenticationSuccessEvent
from identityserver.http.request import EndpointRequest
from identityserver.models.client import Client
from identityserver.models.security_profile import apply_security_profile
from identityserver.options import InputLengthRestrictions
from identityserver.services.protocols import EventService
from identityserver.stores.protocols import ClientStore
from identityserver.validation.client_secrets.mutual_tls import (
    MUTUAL_TLS_METHODS,
    MutualTlsSecretValidator,
    certificate_auth_methods,
)
from identityserver.validation.client_secrets.parsers import parse_client_credentials, resolve_id
from identityserver.validation.client_secrets.validators import (
    HashedSharedSecretValidator,
    PrivateKeyJwtSecretValidator,
)
from identityserver.validation.results import ClientSecretValidationResult, ParsedSecret
from identityserver.validation.security_profile import client_assertion_problem

#: One answer for an unknown, disabled or wrongly authenticated client, so that responses do not reveal which
#: client ids exist (RFC 6819 §5.1.4.1; security.md item 80). The event keeps the real reason.
INVALID_CREDENTIALS = "invalid client credentials"


def allowed_auth_methods(client: Client) -> set[str]:
    """The methods a client may use: its registered one, else what its secrets allow."""
    if client.token_endpoint_auth_method:
        return {client.token_endpoint_auth_method}
    if not client.require_client_secret:
        return {
            TokenEndpointAuthMethods.NONE,
            TokenEndpointAuthMethods.CLIENT_SECRET_BASIC,
            TokenEndpointAuthMethods.CLIENT_SECRET_POST,
            TokenEndpointAuthMethods.PRIVATE_KEY_JWT,
        }
    methods: set[str] = set()
    if any(s.type == SecretTypes.SHARED_SECRET for s in client.client_secrets):
        methods |= {TokenEndpointAuthMethods.CLIENT_SECRET_BASIC, TokenEndpointAuthMethods.CLIENT_SECRET_POST}
    if any(s.type == SecretTypes.JSON_WEB_KEY for s in client.client_secrets):
        methods.add(TokenEndpointAuthMethods.PRIVATE_KEY_JWT)
    return methods | certificate_auth_methods(client)


class ClientSecretValidator:
    """Authenticates the client of a token, revocation or introspection request (Duende ``ClientSecretValidator``;
    RFC 6749 §2.3): shared secrets, ``private_key_jwt`` (RFC 7523 §3) or none for public clients; override to add a
    method."""

    def __init__(
        self,
        clients: ClientStore,
        shared: HashedSharedSecretValidator,
        private_key_jwt: PrivateKeyJwtSecretValidator,
        events: EventService,
        limits: InputLengthRestrictions,
        clock: Clock,
        mutual_tls: MutualTlsSecretValidator | None = None,
        security_profile: str | None = None,
    ) -> None:
        self.mutual_tls = mutual_tls
        """RFC 8705 client authentication; ``None`` while ``[options.mutual_tls]`` is off."""
        self.clients = clients
        self.shared = shared
        self.private_key_jwt = private_key_jwt
        self.events = events
        self.limits = limits
        self.clock = clock
        self.security_profile = security_profile
        """The server's default security profile (``[options] security_profile``; docs/fapi.md)."""

    async def validate(self, request: EndpointRequest) -> ClientSecretValidationResult:
        """The authenticated client, or an ``invalid_client`` result (RFC 6749 §5.2); raises the authentication
        events."""
        parsed = parse_client_credentials(request, request.form(), self.limits)
        if parsed.error is not None:
            return await self._fail(
                request, None, parsed.error_code, parsed.error, request.header("authorization") is not None
            )
        secret = parsed.secret
        if secret is None:
            return await self._fail(request, None, TokenErrors.INVALID_CLIENT, "no client credentials found", False)
        if secret.type == TokenEndpointAuthMethods.PRIVATE_KEY_JWT and not secret.id:
            secret.id = self._assertion_subject(secret)
        await resolve_id(secret, self._client_exists)
        client = await self.clients.find_client_by_id(secret.id) if secret.id else None
        if client is None or not client.enabled:
            await self.shared.validate([], secret, self.clock.utc_now())  # same work for unknown clients
            return await self._fail(
                request,
                secret,
                TokenErrors.INVALID_CLIENT,
                "unknown or disabled client",
                secret.from_authorization_header,
                public_description=INVALID_CREDENTIALS,
            )
        client = apply_security_profile(client, self.security_profile)  # FAPI 2.0: private_key_jwt or mTLS
        if self.mutual_tls is not None:
            self.mutual_tls.select_method(client, secret, request.client_certificate)
        if secret.type not in allowed_auth_methods(client):
            return await self._fail(
                request,
                secret,
                TokenErrors.INVALID_CLIENT,
                f"client is not allowed to authenticate with {secret.type}",
                secret.from_authorization_header,
                public_description=INVALID_CREDENTIALS,
            )
        if not await self._secret_is_valid(request, client, secret):
            return await self._fail(
                request,
                secret,
                TokenErrors.INVALID_CLIENT,
                INVALID_CREDENTIALS,
                secret.from_authorization_header,
            )
        if secret.type == TokenEndpointAuthMethods.PRIVATE_KEY_JWT and (
            problem := client_assertion_problem(client, secret.credential or "", request.issuer)
        ):
            return await self._fail(
                request, secret, TokenErrors.INVALID_CLIENT, problem, secret.from_authorization_header
            )
        if self.events.can_raise(ClientAuthenticationSuccessEvent.event_type):  # built only when someone listens
            await self.events.raise_event(
                ClientAuthenticationSuccessEvent(client_id=client.client_id, authentication_method=secret.type),
                request.remote_ip,
            )
        return ClientSecretValidationResult(client, secret, from_authorization_header=secret.from_authorization_header)

    async def _client_exists(self, client_id: str) -> bool:
        return await self.clients.find_client_by_id(client_id) is not None

    async def _secret_is_valid(self, request: EndpointRequest, client: Client, secret: ParsedSecret) -> bool:
        if secret.type == TokenEndpointAuthMethods.NONE:
            return not client.require_client_secret
        now = self.clock.utc_now()
        if secret.type in MUTUAL_TLS_METHODS:
            if self.mutual_tls is None:
                return False
            checked = await self.mutual_tls.validate(client.client_secrets, request.client_certificate, secret.type)
            return checked.success
        if secret.type == TokenEndpointAuthMethods.PRIVATE_KEY_JWT:
            # RFC 9126 §2 and CIBA Core §7.1: the PAR and CIBA endpoint URLs identify this server too
            audiences = [
                request.issuer,
                request.issuer + ProtocolRoutePaths.TOKEN,
                request.issuer + ProtocolRoutePaths.PUSHED_AUTHORIZATION,
                request.issuer + ProtocolRoutePaths.BACKCHANNEL_AUTHENTICATION,
            ]
            result = await self.private_key_jwt.validate(
                client.client_secrets, secret, client.client_id, audiences, self.limits.jwt
            )
            return result.success
        return (await self.shared.validate(client.client_secrets, secret, now)).success

    @staticmethod
    def _assertion_subject(secret: ParsedSecret) -> str:
        """Without ``client_id`` the client is named by the assertion's ``sub`` (RFC 7523 §3)."""
        from identityserver.crypto.jwt import JwtError, decode_jws

        try:
            sub = decode_jws(secret.credential or "").payload.get("sub")
        except JwtError:
            return ""
        return sub if isinstance(sub, str) and len(sub) <= 100 else ""

    async def _fail(
        self,
        request: EndpointRequest,
        secret: ParsedSecret | None,
        error: str,
        description: str,
        from_header: bool,
        public_description: str | None = None,
    ) -> ClientSecretValidationResult:
        """Raise the failure event with the real reason; answer with ``public_description`` when given."""
        await self.events.raise_event(
            ClientAuthenticationFailureEvent(message=description, client_id=secret.id if secret else None),
            request.remote_ip,
        )
        return ClientSecretValidationResult(
            error=error,
            error_description=public_description or description,
            from_authorization_header=from_header,
        )
