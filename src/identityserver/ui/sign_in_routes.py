"""Routes of the passkey and second-factor pages (docs/sign-in.md), present when the server has local users."""

from __future__ import annotations

from starlette.routing import BaseRoute, Route

from identityserver.hosting.services import Services
from identityserver.ui.account import AccountPages
from identityserver.ui.account_security import PAGE_PATHS, REGISTER_OPTIONS_PATH, REGISTER_PATH, SecurityPage
from identityserver.ui.passkeys import PASSKEY_OPTIONS_PATH, PASSKEY_SIGN_IN_PATH, PasskeySignIn
from identityserver.ui.second_factor import SECOND_FACTOR_PATH, SecondFactorPages


def sign_in_method_routes(account: AccountPages, services: Services) -> list[BaseRoute]:
    """Wires the second factor into the login page's password step and turns its passkey button on."""
    passkeys, totp = services.passkeys, services.totp
    if services.users is None or passkeys is None or totp is None:
        return []
    second_factor = SecondFactorPages(account, totp)
    account.after_password = second_factor.after_password
    account.passkeys_enabled = True
    sign_in = PasskeySignIn(account, passkeys)
    security = SecurityPage(account.ui, passkeys, totp)
    return [
        Route(SECOND_FACTOR_PATH, second_factor.handle, methods=["GET", "POST"]),
        Route(PASSKEY_OPTIONS_PATH, sign_in.options, methods=["POST"]),
        Route(PASSKEY_SIGN_IN_PATH, sign_in.sign_in, methods=["POST"]),
        *(Route(path, security.handle, methods=["GET", "POST"]) for path in PAGE_PATHS),
        Route(REGISTER_OPTIONS_PATH, security.registration_options, methods=["POST"]),
        Route(REGISTER_PATH, security.register, methods=["POST"]),
    ]
