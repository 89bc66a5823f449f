"""Whether the server can sign what a client's settings ask for. Configured clients are checked at start-up; a
client added while the server runs (a database row, an administrator's edit) is checked here, before a code is
issued, so that a missing key is a clean error rather than a failure halfway through the response."""

from __future__ import annotations

from identityserver.services.key_management.key_material import NoSigningKeyError
from identityserver.services.protocols import KeyMaterialService
from identityserver.validation.authorize_results import ValidatedAuthorizeRequest
from identityserver.validation.jarm import is_jarm_mode

#: The error for a client whose signing settings name algorithms the server has no key for.
UNSIGNABLE_ERROR = "unauthorized_client"


async def has_signing_key(keys: KeyMaterialService, algorithms: list[str]) -> bool:
    try:
        await keys.get_signing_credentials(algorithms)
    except NoSigningKeyError:
        return False
    return True


async def unsignable_setting(
    keys: KeyMaterialService,
    request: ValidatedAuthorizeRequest,
    jarm_algorithms: list[str] | None,
    id_token: bool = True,
) -> str | None:
    """A description of the client setting this server cannot sign with, or ``None`` when it can sign the
    authorization response (JARM §2.1, ``jarm_algorithms``) and the ID token (OIDC Core §2) the request needs."""
    client = request.client
    if is_jarm_mode(request.response_mode) and jarm_algorithms and not await has_signing_key(keys, jarm_algorithms):
        return f"the server has no signing key for the client's authorization_signed_response_alg {jarm_algorithms}"
    wanted = list(client.allowed_identity_token_signing_algorithms)
    if id_token and request.is_openid_request and wanted and not await has_signing_key(keys, wanted):
        return f"the server has no signing key for the client's allowed_identity_token_signing_algorithms {wanted}"
    return None
