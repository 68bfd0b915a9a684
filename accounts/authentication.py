"""`Authorization: Token <key>` for account tokens and profile-bound tokens alike.

An account token (DRF's Token) authenticates as the account with `request.auth` the Token; a
profile-bound token (accounts.ProfileToken) authenticates as the same account with
`request.auth` the ProfileToken, whose `profile_id` common.sudo reads to confine the call to
that profile.
"""

from rest_framework import authentication, exceptions
from rest_framework.authtoken.models import Token

from .devices import token_seen
from .models import PROFILE_TOKEN_PREFIX, ProfileToken


class TokenAuthentication(authentication.TokenAuthentication):
    def authenticate(self, request):
        result = super().authenticate(request)
        if result is not None:
            # "Last used" for Sessions and devices: joined above, written at most every few minutes.
            token_seen(request, result[1])
        return result

    def authenticate_credentials(self, key):
        if key.startswith(PROFILE_TOKEN_PREFIX):
            token = ProfileToken.objects.select_related("profile__account", "device").filter(key=key).first()
            user = token.profile.account if token is not None else None
        else:
            token = Token.objects.select_related("user", "device").filter(key=key).first()
            user = token.user if token is not None else None
        if token is None:
            raise exceptions.AuthenticationFailed("Invalid token.")
        if not user.is_active:
            raise exceptions.AuthenticationFailed("User inactive or deleted.")
        return user, token
