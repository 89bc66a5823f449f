"""Automatic signing-key management (duende §1.16; security.md items 135, 136, 148): creation, persistence,
propagation, rotation, retention, retirement, several algorithms, unreadable keys, encryption at rest."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import stat
import traceback
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from identityserver._utils.b64 import b64url_decode
from identityserver.models.keys import SerializedKey
from identityserver.options import DataProtectionOptions, IdentityServerOptions, KeyManagementOptions
from identityserver.services.data_protection import KeyRingDataProtectionProvider
from identityserver.services.key_management.key_manager import (
    REFUSAL_RETRY_SECONDS,
    DefaultKeyManager,
    SigningKeysUnreadable,
)
from identityserver.services.key_management.serializer import generate_key, serialize_key
from identityserver.stores.in_memory import InMemoryDataProtectionKeyStore, InMemorySigningKeyStore
from tests.support.client_auth import form_basic, jwt_parts, verify_jwt
from tests.support.clock import FakeClock
from tests.support.keys import CountingKeyStore, generated_signing_keys
from tests.support.quick import canonical_configuration
from tests.support.server import Server, basic, make_builder, running

DAY = timedelta(days=1)
PROPAGATION = timedelta(days=14)
ROTATION = timedelta(days=90)
RETENTION = timedelta(days=14)


def options_with(**key_management) -> IdentityServerOptions:
    return replace(IdentityServerOptions(), key_management=KeyManagementOptions(**key_management))


@pytest.fixture(autouse=True)
def _generated_keys() -> Iterator[None]:
    """Every server here generates its keys for real (no key material reused from the session)."""
    with generated_signing_keys():
        yield


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    """A server whose first start really creates its key (no pre-seeded store)."""
    async with running(make_builder(canonical_configuration())) as srv:
        yield srv


def state_builder(state: Path, clock: FakeClock | None = None, options: IdentityServerOptions | None = None):
    builder = make_builder(canonical_configuration(), clock=clock, options=options)
    builder.state_path = state
    return builder


async def jwks_kids(server: Server) -> list[str]:
    return [k["kid"] for k in (await server.client.get("/.well-known/openid-configuration/jwks")).json()["keys"]]


async def signing_kid(server: Server, client_id: str = "m2m") -> str:
    response = await server.token({"grant_type": "client_credentials"}, headers=basic(client_id, "secret"))
    assert response.status_code == 200
    return jwt_parts(response.json()["access_token"])[0]["kid"]


def manager(
    clock: FakeClock,
    store: InMemorySigningKeyStore | None = None,
    ring: InMemoryDataProtectionKeyStore | None = None,
    **key_management,
) -> DefaultKeyManager:
    """A key manager over in-memory stores; managers sharing ``store`` and ``ring`` act like two processes."""
    provider = KeyRingDataProtectionProvider(ring or InMemoryDataProtectionKeyStore(), clock, "tests")
    return DefaultKeyManager(
        KeyManagementOptions(**key_management),
        store or InMemorySigningKeyStore(),
        provider.create_protector("DataProtectionKeyProtector"),
        clock,
    )


def key_files(state: Path) -> list[Path]:
    return sorted((state / "keys").glob("is-signing-key-*.json"))


# -- creation ---------------------------------------------------------------------------------------------


async def test_first_start_creates_one_rs256_key_that_signs(server):
    kids = await jwks_kids(server)
    assert len(kids) == 1
    assert await signing_kid(server) == kids[0]
    keys = (await server.client.get("/.well-known/openid-configuration/jwks")).json()["keys"]
    assert keys[0]["alg"] == "RS256"
    assert keys[0]["kty"] == "RSA"


async def test_concurrent_first_requests_create_a_single_key():
    store = InMemorySigningKeyStore()
    keys = manager(FakeClock(), store)
    results = await asyncio.gather(*(keys.get_all_keys() for _ in range(8)))
    assert len(await store.load_keys()) == 1
    assert {tuple(k.id for k in result) for result in results} == {(results[0][0].id,)}


async def test_key_created_by_another_process_is_used_instead_of_a_new_one():
    clock, store, ring = FakeClock(), InMemorySigningKeyStore(), InMemoryDataProtectionKeyStore()
    first = await manager(clock, store, ring).get_current_keys()
    second = await manager(clock, store, ring).get_current_keys()
    assert [k.id for k in second] == [k.id for k in first]
    assert len(await store.load_keys()) == 1


async def test_key_dated_in_the_future_by_another_node_counts_as_new():
    clock, store = FakeClock(), InMemorySigningKeyStore()
    keys = manager(clock, store)
    future = generate_key("RS256", clock.now + timedelta(hours=1))
    await store.store_key(await serialize_key(future, keys.protector))
    assert [k.id for k in await keys.get_current_keys()] == [future.id]
    assert len(await store.load_keys()) == 1


@pytest.mark.parametrize(
    ("settings", "field"),
    [
        ({"rotation_interval": 10 * 86400, "propagation_time": 14 * 86400}, "rotation_interval"),
        ({"retention_duration": 0}, "retention_duration"),
        ({"signing_algorithms": ("HS256",)}, "signing_algorithms"),
        ({"signing_algorithms": ()}, "signing_algorithms"),
        ({"signing_algorithms": ("RS256", "RS256")}, "signing_algorithms"),
        ({"rsa_key_size": 1024}, "rsa_key_size"),
    ],
)
async def test_invalid_key_management_options_are_refused(settings, field):
    with pytest.raises(ValueError, match=field):
        manager(FakeClock(), **settings)


# -- lifecycle (propagation 14 d, rotation 90 d, retention 14 d) ----------------------------------------


async def test_successor_is_announced_while_the_current_key_keeps_signing(server):
    first = await signing_kid(server)
    server.clock.advance(days=75)
    assert await jwks_kids(server) == [first]
    server.clock.advance(days=1, minutes=1)  # day 76: the current key has the propagation time left
    kids = await jwks_kids(server)
    assert len(kids) == 2
    assert first in kids
    assert await signing_kid(server) == first


async def test_successor_signs_once_the_current_key_is_rotation_interval_old(server):
    first = await signing_kid(server)
    server.clock.advance(days=76, minutes=1)
    successor = next(k for k in await jwks_kids(server) if k != first)
    server.clock.advance(days=13, hours=23)
    assert await signing_kid(server) == first
    server.clock.advance(hours=1)  # day 90
    assert await signing_kid(server) == successor
    assert set(await jwks_kids(server)) == {first, successor}  # the old key is retained for validation


async def test_token_signed_before_rotation_still_verifies_against_the_jwks(server):
    server.clock.advance(days=89)
    old = (await server.token({"grant_type": "client_credentials"}, headers=basic("m2m", "secret"))).json()
    server.clock.advance(days=2)
    assert jwt_parts(old["access_token"])[0]["kid"] != await signing_kid(server)
    jwks = (await server.client.get("/.well-known/openid-configuration/jwks")).json()
    assert verify_jwt(old["access_token"], jwks, ["RS256"])["client_id"] == "m2m"


async def test_retired_key_leaves_the_jwks_and_the_store(server):
    first = await signing_kid(server)
    server.clock.advance(days=103, hours=23)
    assert first in await jwks_kids(server)
    server.clock.advance(hours=1, minutes=1)  # rotation interval + retention duration
    assert first not in await jwks_kids(server)
    assert first not in [k.id for k in await server.services.signing_keys.load_keys()]
    # a token signed by the retired key no longer introspects as active
    assert len(await jwks_kids(server)) >= 1


async def test_retired_key_is_kept_in_the_store_when_deletion_is_off():
    store = InMemorySigningKeyStore()
    clock = FakeClock()
    keys = manager(clock, store, delete_retired_keys=False)
    first = (await keys.get_current_keys())[0].id
    clock.advance(days=105)
    assert first not in [k.id for k in await keys.get_all_keys()]
    assert first in [k.id for k in await store.load_keys()]


async def test_signing_key_is_always_announced_for_the_propagation_time_and_retained_after_use():
    """Walk 200 days; at every step the published keys hold the signing key, a key signs only after being
    published for the propagation time (except the very first key), and stays published for the retention
    duration after it last signed (Core §10.1.1, security.md item 135). ES256 keeps the walk fast."""
    clock = FakeClock()
    keys = manager(clock, signing_algorithms=("ES256",))
    first_published: dict[str, datetime] = {}
    last_signed: dict[str, datetime] = {}
    previous: set[str] = set()
    initial = None
    for _ in range(200):
        now = clock.now
        published = {k.id for k in await keys.get_all_keys()}
        kid = (await keys.get_current_keys())[0].id
        initial = initial or kid
        for new in published - previous:
            first_published[new] = now
        for gone in previous - published:
            assert now - last_signed[gone] >= RETENTION, f"{gone} left the JWKS too early"
        assert kid in published
        if kid != initial:
            assert now - first_published[kid] >= PROPAGATION, f"{kid} signed before it was propagated"
        assert now - first_published[kid] < ROTATION + DAY
        last_signed[kid] = now
        previous = published
        clock.advance(days=1)
    assert len(first_published) == 3  # day 0, day 76, day 152
    assert len(last_signed) == 3
    # retired keys (day 104 and day 180) were deleted from the store, only the published one is left
    assert {k.id for k in await keys.store.load_keys()} == previous


# -- several algorithms ---------------------------------------------------------------------------------


async def test_es256_and_ps256_each_get_a_key_and_the_first_signs_by_default():
    options = options_with(signing_algorithms=("ES256", "PS256"))
    async with running(make_builder(canonical_configuration(), options=options)) as srv:
        keys = (await srv.client.get("/.well-known/openid-configuration/jwks")).json()["keys"]
        by_alg = {k["alg"]: k for k in keys}
        assert set(by_alg) == {"ES256", "PS256"}
        assert by_alg["ES256"]["kty"] == "EC"
        assert by_alg["ES256"]["crv"] == "P-256"
        assert by_alg["PS256"]["kty"] == "RSA"
        token = (await srv.token({"grant_type": "client_credentials"}, headers=basic("m2m", "secret"))).json()
        header = jwt_parts(token["access_token"])[0]
        assert header["alg"] == "ES256"
        assert header["kid"] == by_alg["ES256"]["kid"]
        jwks = {"keys": keys}
        assert verify_jwt(token["access_token"], jwks, ["ES256"])["client_id"] == "m2m"


async def test_each_algorithm_rotates_its_own_key():
    options = options_with(signing_algorithms=("ES256", "PS256"))
    async with running(make_builder(canonical_configuration(), options=options)) as srv:
        srv.clock.advance(days=76, minutes=1)
        keys = (await srv.client.get("/.well-known/openid-configuration/jwks")).json()["keys"]
        assert sorted(k["alg"] for k in keys) == ["ES256", "ES256", "PS256", "PS256"]


# -- persistence, encryption at rest, unreadable keys ------------------------------------------------------


async def test_signing_key_survives_a_rebuild_on_the_same_state_folder(tmp_path):
    clock = FakeClock()
    async with running(state_builder(tmp_path, clock)) as first:
        kid = await signing_kid(first)
        token = (await first.token({"grant_type": "client_credentials"}, headers=basic("m2m", "secret"))).json()
    async with running(state_builder(tmp_path, clock)) as second:
        assert await jwks_kids(second) == [kid]
        assert await signing_kid(second) == kid
        response = await second.client.post(
            "/connect/introspect",
            data={"token": token["access_token"]},
            headers=form_basic("urn:api1", "api1-secret"),
        )
        assert response.json()["active"] is True
    assert len(key_files(tmp_path)) == 1


async def test_key_files_hold_no_plaintext_key_material(tmp_path):
    async with running(state_builder(tmp_path, options=options_with(signing_algorithms=("RS256", "ES256")))) as srv:
        await signing_kid(srv)
    files = key_files(tmp_path)
    assert len(files) == 2
    for file in files:
        text = file.read_text()
        document = json.loads(text)
        assert document["DataProtected"] is True
        assert "PRIVATE KEY" not in text
        assert "BEGIN" not in text
        sealed = b64url_decode(document["Data"])
        assert b"PRIVATE KEY" not in sealed
        assert b"Pem" not in sealed
        assert stat.S_IMODE(file.stat().st_mode) == 0o600


async def test_unprotected_key_files_are_still_readable_when_data_protection_of_keys_is_off(tmp_path):
    options = options_with(data_protect_keys=False)
    async with running(state_builder(tmp_path, options=options)) as srv:
        kid = await signing_kid(srv)
    document = json.loads(key_files(tmp_path)[0].read_text())
    assert document["DataProtected"] is False
    assert b"PRIVATE KEY" in base64.b64decode(document["Data"])
    async with running(state_builder(tmp_path, options=options)) as srv:
        assert await signing_kid(srv) == kid


def tamper(file: Path, change) -> None:
    document = json.loads(file.read_text())
    change(document)
    file.write_text(json.dumps(document))


def flip_last_char(document: dict) -> None:
    data = document["Data"]
    document["Data"] = data[:-2] + ("A" if data[-2] != "A" else "B") + data[-1]


@pytest.mark.parametrize(
    ("damage", "refused"),
    [
        # the file is no key at all (the store skips it): the algorithm has no key, and gets a fresh one
        pytest.param(lambda f: f.write_text("{not json"), False, id="not-json"),
        pytest.param(lambda f: f.write_text("[]"), False, id="json-array"),
        pytest.param(lambda f: tamper(f, lambda d: d.update(Created="yesterday")), False, id="created-garbled"),
        # a key of an algorithm that still has a readable key, or of one not configured: skipped
        pytest.param(lambda f: tamper(f, lambda d: d.update(Algorithm="ES256")), False, id="algorithm-edited"),
        pytest.param(lambda f: tamper(f, lambda d: d.update(Algorithm="RS256")), False, id="algorithm-of-other-type"),
        # the only live ES384 key cannot be read: no new one (security.md F6), the server does not start
        pytest.param(lambda f: tamper(f, flip_last_char), True, id="ciphertext-flipped"),
        pytest.param(lambda f: tamper(f, lambda d: d.update(Data="!!")), True, id="data-not-base64"),
        pytest.param(lambda f: tamper(f, lambda d: d.update(Id="ABCDEF")), True, id="id-edited"),
    ],
)
async def test_unreadable_key_is_skipped_and_never_replaced_behind_the_others_backs(tmp_path, caplog, damage, refused):
    clock = FakeClock()
    options = options_with(signing_algorithms=("ES256", "ES384"))
    async with running(state_builder(tmp_path, clock, options)) as srv:
        await signing_kid(srv)
    es384 = next(f for f in key_files(tmp_path) if json.loads(f.read_text())["Algorithm"] == "ES384")
    es256 = next(f for f in key_files(tmp_path) if f != es384)
    es256_kid = json.loads(es256.read_text())["Id"]
    es384_kid = json.loads(es384.read_text())["Id"]
    damage(es384)
    caplog.set_level(logging.ERROR, logger="identityserver")
    if refused:
        with pytest.raises(SigningKeysUnreadable) as refusal:
            async with running(state_builder(tmp_path, clock, options)):
                pass
        stored_id = json.loads(es384.read_text())["Id"]
        assert refusal.value.algorithm == "ES384" and refusal.value.key_ids == [stored_id]
        assert "identityserver keys retire" in str(refusal.value)
        assert len(key_files(tmp_path)) == 2  # nothing was created
        assert any(r.levelno == logging.CRITICAL and stored_id in r.getMessage() for r in caplog.records)
        return
    async with running(state_builder(tmp_path, clock, options)) as srv:
        keys = (await srv.client.get("/.well-known/openid-configuration/jwks")).json()["keys"]
        assert [k["kid"] for k in keys if k["alg"] == "ES256"] == [es256_kid]
        assert len([k for k in keys if k["alg"] == "ES384"]) == 1  # a fresh key in place of the non-key
        assert await signing_kid(srv) == es256_kid
    # security.md item 148: skipped with an error log naming the key (by its file name or its stored id)
    skipped = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR and "skipping" in r.getMessage()]
    assert any(es384_kid in message for message in skipped)


async def test_a_running_node_whose_only_key_turns_unreadable_answers_500_and_is_not_ready(tmp_path):
    clock = FakeClock()
    async with running(state_builder(tmp_path, clock)) as srv:
        kid = await signing_kid(srv)
        (file,) = key_files(tmp_path)
        tamper(file, flip_last_char)
        srv.services.key_manager.invalidate_cache()
        token = await srv.token({"grant_type": "client_credentials"}, headers=basic("m2m", "secret"))
        assert token.status_code == 500 and token.json()["error"] == "server_error"
        assert "Traceback" not in token.text and kid not in token.text
        ready = await srv.client.get("/health/ready")
        assert ready.status_code == 503
        assert ready.json()["checks"]["signing_keys"].startswith("unavailable: SigningKeysUnreadable")
        assert key_files(tmp_path) == [file]  # no key of its own


async def test_keys_protected_under_another_application_name_stop_the_server_instead_of_splitting_jwks(
    tmp_path, caplog
):
    """security.md F6: a node that cannot read the deployment's keys (another ``application_name``, another
    key-encryption key) must not mint a key of its own, which the other nodes would not publish."""
    clock = FakeClock()
    async with running(state_builder(tmp_path, clock)) as srv:
        old = await signing_kid(srv)
    other_app = replace(IdentityServerOptions(), data_protection=DataProtectionOptions(application_name="other-app"))
    caplog.set_level(logging.ERROR, logger="identityserver.keys")
    with pytest.raises(SigningKeysUnreadable) as refusal:
        async with running(state_builder(tmp_path, clock, other_app)):
            pass
    assert refusal.value.key_ids == [old]
    assert "application_name" in str(refusal.value)
    assert [json.loads(f.read_text())["Id"] for f in key_files(tmp_path)] == [old]
    assert any(old in record.getMessage() and "skipping" in record.getMessage() for record in caplog.records)
    async with running(state_builder(tmp_path, clock)) as srv:  # the right application name reads it again
        assert await signing_kid(srv) == old


async def test_a_node_with_another_key_ring_refuses_to_sign_rather_than_create_a_key_of_its_own():
    """security.md F6 and M-cases: two nodes share the key store but not the data-protection key ring."""
    clock, store = FakeClock(), InMemorySigningKeyStore()
    first = manager(clock, store)
    (key,) = await first.get_current_keys()
    stranger = manager(clock, store, ring=InMemoryDataProtectionKeyStore())
    for _ in range(2):  # every reload refuses again; none creates a key
        with pytest.raises(SigningKeysUnreadable) as refusal:
            await stranger.get_current_keys()
        stranger.invalidate_cache()
    assert refusal.value.algorithm == "RS256" and refusal.value.key_ids == [key.id]
    assert [k.id for k in await store.load_keys()] == [key.id]
    # the node that reads the key goes on signing with it, and rotates it when due, as before
    clock.advance((ROTATION - PROPAGATION + DAY).total_seconds())
    first.invalidate_cache()
    assert [k.id for k in await first.get_current_keys()] == [key.id]
    assert len(await store.load_keys()) == 2
    # once the operator retires the unreadable key (`identityserver keys retire`), a key of its own is no split
    for stored in await store.load_keys():
        await store.delete_key(stored.id)
    stranger.invalidate_cache()
    assert len(await stranger.get_current_keys()) == 1


async def test_a_refusal_stands_for_a_few_seconds_without_reading_the_store_or_logging_again(caplog):
    """Every request of a refusing node asks for the keys: it answers from memory, reading the store (and logging the
    refusal) again only every ``REFUSAL_RETRY_SECONDS``."""
    clock, store = FakeClock(), CountingKeyStore()
    (key,) = await manager(clock, store).get_current_keys()
    stranger = manager(clock, store, ring=InMemoryDataProtectionKeyStore())
    before = store.loads
    caplog.set_level(logging.CRITICAL, logger="identityserver.keys")
    for _ in range(20):
        with pytest.raises(SigningKeysUnreadable) as refusal:
            await stranger.get_current_keys()
        assert refusal.value.key_ids == [key.id]
        assert len(list(traceback.walk_tb(refusal.value.__traceback__))) < 20  # a fresh exception each time
    assert store.loads - before <= 2  # the reads of the first refresh (outside and inside the creation lock)
    assert len([r for r in caplog.records if r.levelno == logging.CRITICAL]) == 1
    clock.advance(REFUSAL_RETRY_SECONDS + 1)
    with pytest.raises(SigningKeysUnreadable):
        await stranger.get_current_keys()
    assert 2 < store.loads - before <= 4
    assert len([r for r in caplog.records if r.levelno == logging.CRITICAL]) == 2


async def test_a_node_whose_keys_turn_unreadable_behind_a_stale_cache_stops_signing_and_logs_once(caplog):
    """The node's only readable key is retired by hand while an unreadable one remains: once its cache is due, the
    background refresh refuses, and the node stops signing with the key the store no longer holds (fail closed),
    logging the refusal once, not once per request."""
    clock, store = FakeClock(), InMemorySigningKeyStore()
    ours = manager(clock, store)
    (key,) = await ours.get_current_keys()
    stranger = manager(clock, store, ring=InMemoryDataProtectionKeyStore())
    await store.store_key(await serialize_key(generate_key("RS256", clock.now), stranger.protector))
    await store.delete_key(key.id)
    caplog.set_level(logging.ERROR, logger="identityserver.keys")
    clock.advance(60 * 60 * 24 + 1)  # past key_cache_duration: the cache is stale, and seems fine
    assert [k.id for k in await ours.get_current_keys()] == [key.id]  # answered from the stale cache ...
    await asyncio.sleep(0)  # ... while the store is read again in the background
    task = ours._refresh_task
    assert task is not None
    with contextlib.suppress(SigningKeysUnreadable):
        await task
    for _ in range(10):
        with pytest.raises(SigningKeysUnreadable):
            await ours.get_current_keys()
    assert len([r for r in caplog.records if r.levelno == logging.CRITICAL]) == 1
    assert not any("refreshing signing keys failed" in r.getMessage() for r in caplog.records)


async def test_an_unreadable_key_past_its_retention_blocks_nothing():
    clock, store = FakeClock(), InMemorySigningKeyStore()
    old = manager(clock, store)
    (key,) = await old.get_current_keys()
    clock.advance((ROTATION + RETENTION + DAY).total_seconds())  # no server would publish it any more
    stranger = manager(clock, store, ring=InMemoryDataProtectionKeyStore())
    (fresh,) = await stranger.get_current_keys()
    assert fresh.id != key.id


async def test_a_node_that_can_sign_rotates_as_before_beside_an_unreadable_key(caplog):
    """The refusal is for a node with no key of its own that can sign: one that has such a key creates its
    successor when due, as IdentityServer does, and logs the key it skips at every reload."""
    clock, store = FakeClock(), InMemorySigningKeyStore()
    ours = manager(clock, store)
    (first,) = await ours.get_current_keys()
    stranger = manager(clock, store, ring=InMemoryDataProtectionKeyStore())
    unreadable = generate_key("RS256", clock.now)
    await store.store_key(await serialize_key(unreadable, stranger.protector))
    caplog.set_level(logging.ERROR, logger="identityserver.keys")
    clock.advance((ROTATION - PROPAGATION + DAY).total_seconds())
    ours.invalidate_cache()
    assert [k.id for k in await ours.get_current_keys()] == [first.id]
    assert len(await store.load_keys()) == 3  # its successor, created and announced
    clock.advance((PROPAGATION).total_seconds())
    ours.invalidate_cache()
    (successor,) = await ours.get_current_keys()
    assert successor.id not in (first.id, unreadable.id)
    assert any(unreadable.id in r.getMessage() and "skipping" in r.getMessage() for r in caplog.records)


class FailingOnceKeyStore(InMemorySigningKeyStore):
    """Fails the next ``store_key`` or ``delete_key`` as a crash or a lost database would (security.md F5)."""

    def __init__(self) -> None:
        super().__init__()
        self.fail_next: str | None = None

    async def store_key(self, key: SerializedKey) -> None:
        if self.fail_next == "store":
            self.fail_next = None
            raise ConnectionError("the database went away")
        await super().store_key(key)

    async def delete_key(self, key_id: str) -> None:
        if self.fail_next == "delete":
            self.fail_next = None
            raise ConnectionError("the database went away")
        await super().delete_key(key_id)


async def test_a_rotation_cut_short_loses_no_key_and_leaves_one_successor():
    """security.md F5: a failure between generating a key and storing it, or while a retired key is deleted, leaves
    the keys as they were; the next reload finishes the rotation with one new key, and the old key still signs
    (tokens issued before verify) until its successor takes over."""
    clock, store, ring = FakeClock(), FailingOnceKeyStore(), InMemoryDataProtectionKeyStore()
    first_manager = manager(clock, store, ring, delete_retired_keys=True)
    (first,) = await first_manager.get_current_keys()
    clock.advance((ROTATION - PROPAGATION + DAY).total_seconds())  # a successor is due
    first_manager.invalidate_cache()
    store.fail_next = "store"
    with pytest.raises(ConnectionError):
        await first_manager.get_current_keys()
    assert [k.id for k in await store.load_keys()] == [first.id]
    restarted = manager(clock, store, ring, delete_retired_keys=True)  # a process started after the crash
    assert [k.id for k in await restarted.get_current_keys()] == [first.id]
    (kept, successor) = sorted(await restarted.get_all_keys(), key=lambda k: k.created)
    assert kept.id == first.id and len(await store.load_keys()) == 2
    clock.advance((PROPAGATION + RETENTION).total_seconds())  # the first key is retired: deleted on reload
    restarted.invalidate_cache()
    store.fail_next = "delete"
    with pytest.raises(ConnectionError):
        await restarted.get_all_keys()
    assert {k.id for k in await store.load_keys()} == {first.id, successor.id}
    again = manager(clock, store, ring, delete_retired_keys=True)
    assert [k.id for k in await again.get_current_keys()] == [successor.id]
    assert [k.id for k in await store.load_keys()] == [successor.id]


async def test_tampered_key_in_an_in_memory_store_is_skipped():
    clock, store = FakeClock(), InMemorySigningKeyStore()
    keys = manager(clock, store)
    good = (await keys.get_current_keys())[0]
    broken = generate_key("RS256", clock.now - timedelta(days=1))
    serialized = await serialize_key(broken, keys.protector)
    serialized.data = serialized.data[:-4] + "AAAA"
    await store.store_key(serialized)
    keys.invalidate_cache()
    assert [k.id for k in await keys.get_all_keys()] == [good.id]
