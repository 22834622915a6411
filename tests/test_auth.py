"""Sign-in settings read from the secrets, and the author a signed-in user is recorded as."""

import pytest

from cope_eval.app import author_of, is_signed_in, sign_in_providers
from cope_eval.errors import ConfigError

SHARED = {"redirect_uri": "https://evals.example.org/oauth2callback", "cookie_secret": "c" * 32}
PROVIDER = {"client_id": "id", "client_secret": "secret",
            "server_metadata_url": "https://idp.example.org/.well-known/openid-configuration"}


def test_no_auth_section_means_sign_in_is_off():
    assert sign_in_providers({}) == ()
    assert sign_in_providers({"COPE_API_KEY": "sk-x"}) == ()


def test_provider_settings_at_the_top_of_auth_are_the_default_provider():
    secrets = {"auth": {**SHARED, **PROVIDER, "client_kwargs": {"prompt": "login"}}}
    assert sign_in_providers(secrets) == ("default",)


def test_named_providers_in_the_order_of_the_secrets():
    secrets = {"auth": {**SHARED, "okta": PROVIDER, "google": PROVIDER}}
    assert sign_in_providers(secrets) == ("okta", "google")


@pytest.mark.parametrize(("auth", "named"), [
    ({}, "`redirect_uri`, `cookie_secret`"),
    ({**PROVIDER, "redirect_uri": "https://x/oauth2callback"}, "`cookie_secret`"),
    ({**SHARED, "cookie_secret": ""}, "`cookie_secret`"),
    (SHARED, "names no provider"),
    ({**SHARED, "client_id": "id"}, "[auth] in the secrets lacks `client_secret`, `server_metadata_url`"),
    ({**SHARED, "okta": {**PROVIDER, "client_secret": ""}}, "[auth.okta] in the secrets lacks `client_secret`"),
    ({**SHARED, "my_idp": PROVIDER}, "underscore"),
])
def test_an_auth_section_that_st_login_cannot_use_is_an_error_naming_what_is_missing(auth, named):
    with pytest.raises(ConfigError) as error:
        sign_in_providers({"auth": auth})
    assert named in str(error.value)


def test_auth_that_is_not_a_table_is_an_error():
    with pytest.raises(ConfigError, match="must be a table"):
        sign_in_providers({"auth": "yes"})


def test_signed_in_only_when_the_identity_says_so():
    assert is_signed_in({"is_logged_in": True, "email": "a@example.org"})
    for claims in ({}, {"email": "a@example.org"}, {"is_logged_in": False}, {"is_logged_in": "true"}):
        assert not is_signed_in(claims)


def test_the_author_is_the_email_else_the_name_else_the_subject():
    assert author_of({"email": "ada@example.org", "name": "Ada Lovelace", "sub": "u1"}) == "ada@example.org"
    assert author_of({"email": " ", "name": " Ada Lovelace ", "sub": "u1"}) == "Ada Lovelace"
    assert author_of({"sub": "u1", "is_logged_in": True}) == "u1"


def test_a_user_with_no_identity_is_an_error_not_an_anonymous_author():
    with pytest.raises(ConfigError, match="no email, name or subject"):
        author_of({"is_logged_in": True, "email": None})
