"""The parts of a token exchange that concern who acts for whom (RFC 8693 §1.1, §4.1, §4.4) and who holds the
presented tokens (RFC 9449 §6.1, RFC 8705 §3.1)."""

from __future__ import annotations

from typing import Any

from identityserver.crypto.certificates import X5T_S256, certificate_thumbprint
from identityserver.http.request import EndpointRequest
from identityserver.validation.results import ValidatedTokenRequest
from identityserver.validation.subject_token import ValidatedSubjectToken

#: Confirmation members this server can check against the request (DPoP key, client certificate).
CHECKABLE_CONFIRMATIONS = frozenset({"jkt", X5T_S256})


def act_depth(act: object) -> int:
    """How many actors an ``act`` claim names (each nested ``act`` is a prior actor, RFC 8693 §4.1)."""
    depth = 0
    while isinstance(act, dict):
        depth += 1
        act = act.get("act")
    return depth


def actor_claim(actor: ValidatedSubjectToken, issuer: str, prior: object) -> dict[str, Any]:
    """The ``act`` claim naming ``actor`` as the current actor, with the subject token's chain nested below it
    (RFC 8693 §4.1: the outermost ``act`` is the current actor). ``iss`` only when the actor is another issuer's
    subject, since ``sub`` is unique only per issuer."""
    act: dict[str, Any] = {"sub": actor.subject_id}
    if actor.issuer != issuer:
        act["iss"] = actor.issuer
    client_id = actor.claims.get("client_id")
    if isinstance(client_id, str) and client_id != actor.subject_id:
        act["client_id"] = client_id
    if isinstance(prior, dict):
        act["act"] = prior
    return act


def may_act_allows(may_act: object, party: dict[str, Any]) -> bool:
    """Whether the party that would act (the actor token's subject, or the client when impersonating) is the one
    the subject token names in ``may_act`` (RFC 8693 §4.4): every member given there must match."""
    if may_act is None:
        return True
    if not isinstance(may_act, dict) or not may_act:
        return False
    return all(party.get(name) == value for name, value in may_act.items() if name != "act")


def presented_certificate_thumbprint(http: EndpointRequest) -> str | None:
    """The ``x5t#S256`` of the client certificate of this request (RFC 8705 §3.1): the TLS connection's, or a
    trusted proxy's ``Client-Cert`` header; ``None`` without one."""
    if not http.client_certificate:
        return None
    return certificate_thumbprint(http.client_certificate)


def holder_problem(
    token: ValidatedSubjectToken, http: EndpointRequest, request: ValidatedTokenRequest, what: str
) -> str | None:
    """Why the request does not come from the holder of a sender-constrained token, or ``None``: a DPoP-bound token
    needs a DPoP proof of its key (RFC 9449 §6.1), a certificate-bound one the same client certificate (RFC 8705
    §3.1). A binding this server cannot check is refused rather than ignored."""
    cnf = token.confirmation
    if cnf is None:
        return None
    unknown = set(cnf) - CHECKABLE_CONFIRMATIONS
    if unknown:
        return f"the {what} is bound to a key this server cannot check ({', '.join(sorted(unknown))})"
    jkt = cnf.get("jkt")
    if jkt is not None and jkt != request.dpop_jkt:
        return f"the {what} is DPoP-bound: send a DPoP proof signed with its key"
    x5t = cnf.get(X5T_S256)
    if x5t is not None and x5t != presented_certificate_thumbprint(http):
        return f"the {what} is certificate-bound: present its client certificate"
    return None
