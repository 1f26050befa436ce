"""Cookie sessions: refused from foreign origins (CSRF) and for non-JSON POSTs."""

from __future__ import annotations

from tests.identity.conftest import PASSWORD

ME = "query { me { email } }"
LOGIN = "mutation($i: LoginInput!) { login(input: $i) { member { email } } }"


async def cookie_login(client, member):
    await client.post(
        "/graphql",
        json={"query": LOGIN, "variables": {"i": {"email": member.email, "password": PASSWORD}}},
    )
    assert client.cookies.get("bff_session")


async def test_a_cookie_request_from_an_allowed_origin_is_served(client, member):
    """The SPA's own origin (CORS_ORIGINS) uses the cookie session."""
    await cookie_login(client, member)

    response = await client.post(
        "/graphql", json={"query": ME}, headers={"Origin": "http://web.example"}
    )

    assert response.json()["data"]["me"] == {"email": member.email}


async def test_a_cookie_request_from_a_foreign_origin_is_refused(client, member):
    """403 before anything runs when the cookie rides on another site's request."""
    await cookie_login(client, member)

    response = await client.post(
        "/graphql",
        json={"query": "mutation { logout { ok } }"},
        headers={"Origin": "https://evil.example"},
    )
    still = await client.post("/graphql", json={"query": ME})

    assert response.status_code == 403
    assert "data" not in response.json()
    assert still.json()["data"]["me"] == {"email": member.email}


async def test_a_cross_site_navigation_with_the_cookie_is_refused(client, member):
    """A GET from another site (Sec-Fetch-Site: cross-site, no Origin) is refused too."""
    await cookie_login(client, member)

    response = await client.get(
        "/graphql", params={"query": ME}, headers={"Sec-Fetch-Site": "cross-site"}
    )

    assert response.status_code == 403


async def test_a_bearer_request_from_any_origin_is_served(client, member):
    """Bearer tokens are not sent by browsers on their own: no CSRF check applies."""
    await cookie_login(client, member)
    client.cookies.clear()

    response = await client.post(
        "/graphql", json={"query": ME}, headers={"Origin": "https://elsewhere.example"}
    )

    assert response.status_code == 200


async def test_a_non_json_post_with_the_cookie_is_refused(client, member):
    """A form-encoded POST (what a foreign form can send) never executes."""
    await cookie_login(client, member)

    response = await client.post(
        "/graphql",
        content="query=mutation%20%7B%20logout%20%7B%20ok%20%7D%20%7D",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    still = await client.post("/graphql", json={"query": ME})

    assert response.status_code in {403, 415}
    assert still.json()["data"]["me"] == {"email": member.email}


async def test_a_cookie_request_from_the_servers_own_origin_over_http_is_served(client, member):
    """GraphiQL and the portal that the BFF serves itself send their own origin (the Host the
    request went to), as the websocket handshake's check accepts: not only CORS_ORIGINS."""
    await cookie_login(client, member)

    response = await client.post(
        "/graphql",
        json={"query": ME},
        headers={"Origin": "http://testserver", "Sec-Fetch-Site": "same-origin"},
    )

    assert response.status_code == 200
    assert response.json()["data"]["me"] == {"email": member.email}


async def test_a_cookie_request_from_the_same_host_on_another_port_is_refused(client, member):
    """Same origin means host and port: another port of the same host is another site."""
    await cookie_login(client, member)

    response = await client.post(
        "/graphql", json={"query": ME}, headers={"Origin": "http://testserver:8081"}
    )

    assert response.status_code == 403
