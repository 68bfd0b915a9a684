"""`Authorization: Token <key>` for account tokens and profile-bound tokens alike.

An account token (DRF's Token) authenticates as the account with `request.auth` the Token; a
profile-bound token (accounts.ProfileToken) authenticates as the same account with
`request.auth` the ProfileToken, whose `profile_id` common.sudo reads to confine the call to
that profile.
"""

from rest_framework import authentication, exceptions
from rest_framework.authtoken.models import Token

from .models import PROFILE_TOKEN_PREFIX, ProfileToken


class TokenAuthentication(authentication.TokenAuthentication):
    def authenticate_credentials(self, key):
        if key.startswith(PROFILE_TOKEN_PREFIX):
            token = ProfileToken.objects.select_related("profile__account").filter(key=key).first()
            user = token.profile.account if token is not None else None
        else:
            token = Token.objects.select_related("user").filter(key=key).first()
            user = token.user if token is not None else None
        if token is None:
            raise exceptions.AuthenticationFailed("Invalid token.")
        if not user.is_active:
            raise exceptions.AuthenticationFailed("User inactive or deleted.")
        return user, token
