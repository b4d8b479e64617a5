"""Sign-in through the deployment's OpenID Connect provider (Entra ID, NHS CIS2 and the rest): the authorization
code flow with PKCE (RFC 7636) and a nonce. Authlib makes the PKCE challenge and the authorization request; joserfc
checks the ID token: its signature against the keys the provider publishes, its issuer, audience, expiry and nonce.
The provider's metadata and keys are fetched from it when first needed, and the keys again when a token is signed
with one not seen yet (the provider has rolled its keys)."""

from __future__ import annotations

from typing import Any

import httpx
from authlib.common.urls import add_params_to_uri
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet

TIMEOUT_SECONDS = 5.0
LEEWAY_SECONDS = 60
"""How far the two clocks may differ when the ID token's times are checked."""


class Refused(Exception):
    """The sign-in cannot go on; the message says why, in words for the sign-in page."""


class OidcClient:
    def __init__(self, issuer: str, client_id: str, client_secret: str, scopes: str) -> None:
        self.issuer, self.client_id, self.client_secret, self.scopes = issuer, client_id, client_secret, scopes
        self._metadata: dict[str, Any] | None = None
        self._keys: KeySet | None = None

    async def authorization_url(self, redirect_uri: str, state: str, nonce: str, verifier: str) -> str:
        metadata = await self._provider()
        return str(
            add_params_to_uri(
                metadata["authorization_endpoint"],
                [
                    ("response_type", "code"),
                    ("client_id", self.client_id),
                    ("redirect_uri", redirect_uri),
                    ("scope", self.scopes),
                    ("state", state),
                    ("nonce", nonce),
                    ("code_challenge", create_s256_code_challenge(verifier)),
                    ("code_challenge_method", "S256"),
                ],
            )
        )

    async def claims(self, code: str, redirect_uri: str, verifier: str, nonce: str) -> dict[str, Any]:
        """The checked claims of the ID token the code is exchanged for."""
        metadata = await self._provider()
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "code_verifier": verifier,
        }
        try:
            async with httpx.AsyncClient(timeout=TIMEOUT_SECONDS) as client:
                response = await client.post(
                    metadata["token_endpoint"],
                    data=form,
                    auth=(self.client_id, self.client_secret),
                    headers={"Accept": "application/json"},
                )
        except httpx.HTTPError as e:
            raise Refused("the identity provider cannot be reached just now: try again") from e
        if response.status_code != 200:
            raise Refused("the identity provider did not accept this sign-in: start again")
        id_token = _id_token(response)
        token = await self._decoded(id_token)
        registry = jwt.JWTClaimsRegistry(
            leeway=LEEWAY_SECONDS,
            iss={"essential": True, "value": self.issuer},
            aud={"essential": True, "value": self.client_id},
            nonce={"essential": True, "value": nonce},
            sub={"essential": True},
            exp={"essential": True},
        )
        try:
            registry.validate(token.claims)
        except JoseError as e:
            raise Refused("the identity provider's answer could not be checked: start again") from e
        if not _for_us(token.claims, self.client_id):
            raise Refused("the identity provider's answer was made for another service: start again")
        return dict(token.claims)

    async def _decoded(self, id_token: str) -> jwt.Token:
        for fresh in (False, True):
            keys = await self._key_set(fresh)
            try:
                return jwt.decode(id_token, keys)
            except InvalidKeyIdError:  # no key with the token's kid: the provider may have rolled its keys
                if fresh:
                    break
            except (JoseError, ValueError) as e:
                raise Refused("the identity provider's answer could not be checked: start again") from e
        raise Refused("the identity provider's answer is signed with a key it does not publish")

    async def _provider(self) -> dict[str, Any]:
        if self._metadata is None:
            metadata = await self._get(self.issuer.rstrip("/") + "/.well-known/openid-configuration")
            if metadata.get("issuer") != self.issuer:
                raise Refused("the identity provider's settings name another issuer: ask the administrator")
            self._metadata = metadata
        return self._metadata

    async def _key_set(self, fresh: bool) -> KeySet:
        if self._keys is None or fresh:
            published = await self._get((await self._provider())["jwks_uri"])
            self._keys = KeySet.import_key_set(published)  # type: ignore[arg-type]
        return self._keys

    async def _get(self, url: str) -> dict[str, Any]:
        try:
            async with httpx.AsyncClient(timeout=TIMEOUT_SECONDS) as client:
                response = await client.get(url, headers={"Accept": "application/json"})
                response.raise_for_status()
                found: dict[str, Any] = response.json()
                return found
        except (httpx.HTTPError, ValueError) as e:
            raise Refused("the identity provider cannot be reached just now: try again") from e


def _for_us(claims: dict[str, Any], client_id: str) -> bool:
    """OpenID Connect Core 3.1.3.7: a token for several audiences must name this client as the one it was issued to
    (azp), and a token naming an authorised party must name this client."""
    audiences = claims.get("aud")
    several = isinstance(audiences, list) and len(audiences) > 1
    party = claims.get("azp")
    return party == client_id if (several or party is not None) else True


def _id_token(response: httpx.Response) -> str:
    try:
        token = response.json().get("id_token")
    except ValueError:
        token = None
    if not isinstance(token, str):
        raise Refused("the identity provider sent no ID token: ask the administrator")
    return token
