#!/usr/bin/env python3
"""JOSE micro-benchmark (run by hand, not in CI): our ``crypto/jwt.py`` + ``crypto/jwk.py`` against ``joserfc``.

In one process, interleaved round by round, it times per operation:

- **sign**: what ``services/token_creation.py`` does per access token (cached header segment, payload JSON,
  signature) against ``joserfc.jws.serialize_compact`` with the key imported once and a prebuilt registry;
- **verify**: what ``resource_server/validator.py`` and ``validation/`` do (``decode_jws`` + ``verify_signature``)
  against ``joserfc.jws.extract_compact`` + the JWA ``check_key``/``verify`` (what a switched ``decode_jws`` and
  ``verify_signature`` would call), and against ``joserfc.jws.deserialize_compact`` in one call;
- **JWK** load (``load_public_jwk`` vs ``RSAKey/ECKey.import_key``), export (``public_jwk`` vs ``as_dict``) and
  RFC 7638 thumbprints (``jwk_thumbprint`` vs ``joserfc.jwk.thumbprint``);

plus "joserfc JWA only": joserfc's algorithm objects for the signature, our serialization and parsing. Then, in
process (no sockets), the whole token endpoint (``client_credentials``, ``client_secret_basic``, the
configuration of ``bench/token_endpoint.py`` with its SQLite database) and the resource server's
``AccessTokenValidator.validate`` per token, with our code and with joserfc patched in. The figure the decision
rule of the JOSE issue uses is the per-token difference relative to the per-token cost of the token endpoint
(``Δ %``).

    .venv/bin/python bench/jose.py                       # RS256 and ES256, 21 rounds, medians (2-5 min)
    .venv/bin/python bench/jose.py --alg ES256 --rounds 41 --json /tmp/jose.json
    .venv/bin/python bench/jose.py --no-endpoint         # operations only

Times are CPU time of this process (``time.process_time``), which other processes on a shared machine disturb
less than wall-clock time; ratios and differences are computed within each round, then the median is taken. The
in-process endpoint leaves out the HTTP server (uvicorn, the kernel), so the ``Δ %`` printed overstates the share
in a real server, whose CPU per token ``bench/token_endpoint.py`` measures.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import gc
import json
import platform
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives.asymmetric import ec, rsa

import identityserver.crypto.jwt as our_jwt
from identityserver.crypto.jwk import PrivateKey, PublicKey, jwk_thumbprint, load_public_jwk, public_jwk
from identityserver.crypto.jwt import DecodedJws, decode_jws, encode_jws_with_header, encode_segment, verify_signature

try:
    import joserfc
    from joserfc import jwk as jjwk
    from joserfc import jws as jjws
except ImportError:  # pragma: no cover
    raise SystemExit("joserfc is not installed: pip install -e '.[dev]'") from None

sys.path.insert(0, str(Path(__file__).resolve().parent))
from token_endpoint import CLIENT_ID, CLIENT_SECRET, write_config

if TYPE_CHECKING:
    from identityserver.configuration.loader import Configuration

ISSUER = "http://127.0.0.1:5000"

#: An access token as the token endpoint issues it for the benchmark client (claims of bench/token_endpoint.py).
PAYLOAD: dict[str, Any] = {
    "iss": ISSUER,
    "nbf": 1767225600,
    "iat": 1767225600,
    "exp": 1767229200,
    "aud": "urn:api1",
    "scope": "api1",
    "client_id": CLIENT_ID,
    "jti": "9F2C4E0A1B3D5F7E9A8C6B4D2F0E1A3C",
}
KID = "6B0D9C5F3E8A2B7C1D4E6F8A0B2C4D6E"

Op = Callable[[], object]


# -- joserfc versions of what our callers do ----------------------------------------------------------------


def _registry(alg: str) -> jjws.JWSRegistry:
    return jjws.JWSRegistry(algorithms=[alg])


def joserfc_key(key: PrivateKey | PublicKey) -> jjwk.RSAKey | jjwk.ECKey:
    if isinstance(key, rsa.RSAPrivateKey | rsa.RSAPublicKey):
        return jjwk.RSAKey.import_key(key)
    if isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey):
        return jjwk.ECKey.import_key(key)
    raise TypeError(type(key))


class _KeyCache:
    """joserfc keys for our ``cryptography`` keys: importing one per call converts it to a JWK dict on first use
    (15 µs for RSA), so a switched ``crypto/jwt.py`` would keep them."""

    def __init__(self) -> None:
        self.keys: dict[int, tuple[PrivateKey | PublicKey, jjwk.RSAKey | jjwk.ECKey]] = {}
        self.registries: dict[str, jjws.JWSRegistry] = {}

    def key(self, key: PrivateKey | PublicKey) -> jjwk.RSAKey | jjwk.ECKey:
        cached = self.keys.get(id(key))
        if cached is None or cached[0] is not key:
            cached = self.keys[id(key)] = (key, joserfc_key(key))
        return cached[1]

    def registry(self, alg: str) -> jjws.JWSRegistry:
        return self.registries.get(alg) or self.registries.setdefault(alg, _registry(alg))


class JoserfcSigner(_KeyCache):
    """``encode_jws_with_header`` through ``joserfc.jws.serialize_compact`` (header dict and key cached)."""

    def __init__(self) -> None:
        super().__init__()
        self.headers: dict[str, dict[str, Any]] = {}

    def __call__(self, header_segment: str, alg: str, payload: dict[str, Any], key: PrivateKey) -> str:
        header = self.headers.get(header_segment)
        if header is None:
            header = self.headers[header_segment] = json.loads(base64.urlsafe_b64decode(header_segment + "=="))
        return jjws.serialize_compact(
            header, our_jwt._dumps(payload).encode(), self.key(key), registry=self.registry(alg)
        )


class JwaSigner(_KeyCache):
    """``encode_jws_with_header`` with joserfc's JWA algorithm objects doing the signature, our serialization."""

    def __call__(self, header_segment: str, alg: str, payload: dict[str, Any], key: PrivateKey) -> str:
        signing_input = f"{header_segment}.{encode_segment(payload)}"
        signature = self.registry(alg).get_alg(alg).sign(signing_input.encode("ascii"), self.key(key))
        return f"{signing_input}.{base64.urlsafe_b64encode(signature).rstrip(b'=').decode('ascii')}"


class JoserfcVerifier(_KeyCache):
    """``decode_jws`` on ``joserfc.jws.extract_compact`` and ``verify_signature`` on the JWA algorithm objects
    (``check_key`` + ``verify``), as a switched ``crypto/jwt.py`` would be."""

    def decode(self, token: str, *, max_length: int = our_jwt.MAX_JWT_LENGTH) -> DecodedJws:
        obj = jjws.extract_compact(token.encode("ascii"))
        segments = obj.segments
        return DecodedJws(
            obj.headers(),
            json.loads(obj.payload),
            segments["header"] + b"." + segments["payload"],
            base64.urlsafe_b64decode(segments["signature"] + b"=" * (-len(segments["signature"]) % 4)),
        )

    def verify(self, alg: str, key: PublicKey, signing_input: bytes, signature: bytes) -> bool:
        jalg = self.registry(alg).get_alg(alg)
        jkey = self.key(key)
        jalg.check_key(jkey)
        return bool(jalg.verify(signing_input, signature, jkey))

    def jwa_verify(self, alg: str, key: PublicKey, signing_input: bytes, signature: bytes) -> bool:
        return bool(self.registry(alg).get_alg(alg).verify(signing_input, signature, self.key(key)))

    def deserialize(self, token: str, alg: str, key: PublicKey) -> dict[str, Any]:
        """The public API in one call: ``deserialize_compact`` + the payload's JSON."""
        obj = jjws.deserialize_compact(token, self.key(key), registry=self.registry(alg))
        claims: dict[str, Any] = json.loads(obj.payload)
        return claims


# -- timing -------------------------------------------------------------------------------------------------


def _time(op: Op, number: int) -> float:
    """CPU seconds per call."""
    start = time.process_time()
    for _ in range(number):
        op()
    return (time.process_time() - start) / number


def _calibrate(op: Op, seconds: float) -> int:
    number = 1
    while True:
        start = time.process_time()
        for _ in range(number):
            op()
        elapsed = time.process_time() - start
        if elapsed >= 0.02:
            return max(1, int(number * seconds / elapsed))
        number *= 4


@dataclass
class Row:
    group: str
    alg: str
    variant: str
    note: str = ""
    us: list[float] = field(default_factory=list)
    ratio: list[float] = field(default_factory=list)  # to the group's first variant, per round

    @property
    def median_us(self) -> float:
        return statistics.median(self.us)

    @property
    def median_ratio(self) -> float:
        return statistics.median(self.ratio) if self.ratio else 1.0


def run_group(rows: list[Row], ops: list[Op], rounds: int, seconds: float) -> None:
    """Interleave the variants of one operation, alternating their order each round; ratios to ``ops[0]``."""
    for op in ops:
        for _ in range(max(3, rounds // 3)):
            op()  # warm up caches (joserfc's key dicts, our header cache)
    numbers = [_calibrate(op, seconds) for op in ops]
    for round_no in range(rounds):
        order = list(range(len(ops))) if round_no % 2 == 0 else list(reversed(range(len(ops))))
        results: dict[int, float] = {}
        for index in order:
            results[index] = _time(ops[index], numbers[index])
        for index, row in enumerate(rows):
            row.us.append(results[index] * 1e6)
            if index:
                row.ratio.append(results[index] / results[0])


# -- operations ---------------------------------------------------------------------------------------------


def new_key(alg: str) -> PrivateKey:
    if alg.startswith("ES"):
        return ec.generate_private_key(ec.SECP256R1())
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def operations(alg: str, rounds: int, seconds: float) -> list[Row]:
    key = new_key(alg)
    pub = key.public_key()
    header = {"alg": alg, "kid": KID, "typ": "at+jwt"}
    segment = encode_segment(header)
    registry = _registry(alg)
    signer, jwa_signer, verifier = JoserfcSigner(), JwaSigner(), JoserfcVerifier()
    token = encode_jws_with_header(segment, alg, PAYLOAD, key)
    jwk = public_jwk(pub)
    key_cls: Any = jjwk.RSAKey if alg.startswith(("RS", "PS")) else jjwk.ECKey
    required = {name: jwk[name] for name in (("e", "kty", "n") if key_cls is jjwk.RSAKey else ("crv", "kty", "x", "y"))}

    if alg.startswith("RS") and not (  # RSA PKCS#1 v1.5 is deterministic: the tokens must be identical
        signer(segment, alg, PAYLOAD, key) == jwa_signer(segment, alg, PAYLOAD, key) == token
    ):
        raise SystemExit("joserfc and our code produce different RS256 tokens")
    decoded = verifier.decode(token)
    if verifier.deserialize(token, alg, pub) != PAYLOAD or decoded != decode_jws(token):
        raise SystemExit("joserfc decodes our token differently")
    if not verifier.verify(alg, pub, decoded.signing_input, decoded.signature):
        raise SystemExit("joserfc does not verify our token")
    if jwk_thumbprint(jwk) != jjwk.thumbprint(required) or jwk_thumbprint(jwk) != key_cls.import_key(jwk).thumbprint():
        raise SystemExit("thumbprints differ")

    def ours_verify() -> object:
        jws = decode_jws(token)
        return verify_signature(jws.alg, pub, jws.signing_input, jws.signature) and jws.payload

    def joserfc_verify() -> object:
        jws = verifier.decode(token)
        return verifier.verify(jws.alg, pub, jws.signing_input, jws.signature) and jws.payload

    def jwa_verify() -> object:
        jws = decode_jws(token)
        return verifier.jwa_verify(jws.alg, pub, jws.signing_input, jws.signature) and jws.payload

    groups: list[tuple[str, list[tuple[str, str, Op]]]] = [
        (
            "sign (access token)",
            [
                ("ours", "encode_jws_with_header", lambda: encode_jws_with_header(segment, alg, PAYLOAD, key)),
                ("joserfc", "serialize_compact, key/registry cached", lambda: signer(segment, alg, PAYLOAD, key)),
                (
                    "joserfc, key per call",
                    "import_key on every token",
                    lambda: jjws.serialize_compact(
                        header, our_jwt._dumps(PAYLOAD).encode(), joserfc_key(key), registry=registry
                    ),
                ),
                ("joserfc JWA only", "alg.sign, our serialization", lambda: jwa_signer(segment, alg, PAYLOAD, key)),
            ],
        ),
        (
            "verify (decode + signature)",
            [
                ("ours", "decode_jws + verify_signature", ours_verify),
                ("joserfc", "extract_compact + check_key/verify", joserfc_verify),
                ("joserfc, one call", "deserialize_compact + payload", lambda: verifier.deserialize(token, alg, pub)),
                ("joserfc JWA only", "decode_jws + alg.verify", jwa_verify),
            ],
        ),
        (
            "JWK load (public)",
            [
                ("ours", "load_public_jwk", lambda: load_public_jwk(jwk)),
                ("joserfc", f"{key_cls.__name__}.import_key(dict)", lambda: key_cls.import_key(jwk)),
            ],
        ),
        (
            "JWK export (public)",
            [
                ("ours", "public_jwk", lambda: public_jwk(pub)),
                ("joserfc", "import_key(key).as_dict()", lambda: key_cls.import_key(pub).as_dict()),
            ],
        ),
        (
            "RFC 7638 thumbprint",
            [
                ("ours", "jwk_thumbprint(jwk)", lambda: jwk_thumbprint(jwk)),
                ("joserfc", "jwk.thumbprint(required members)", lambda: jjwk.thumbprint(required)),
                ("joserfc, from JWK", "import_key(jwk).thumbprint()", lambda: key_cls.import_key(jwk).thumbprint()),
            ],
        ),
    ]
    all_rows: list[Row] = []
    for name, variants in groups:
        rows = [Row(name, alg, variant, note) for variant, note, _ in variants]
        run_group(rows, [op for _, _, op in variants], rounds, seconds)
        all_rows.extend(rows)
    return all_rows


# -- in-process token endpoint and resource server --------------------------------------------------------


@dataclass
class EndToEnd:
    alg: str
    what: str
    us: dict[str, list[float]] = field(default_factory=dict)
    delta: dict[str, list[float]] = field(default_factory=dict)  # variant minus ours, per round

    def median(self, variant: str) -> float:
        return statistics.median(self.us[variant])

    def median_delta(self, variant: str) -> float:
        return statistics.median(self.delta[variant])


async def _loop_cpu(call: Callable[[], Awaitable[object]], number: int) -> float:
    start = time.process_time()
    for _ in range(number):
        await call()
    return (time.process_time() - start) / number


async def _interleave(
    result: EndToEnd,
    variants: dict[str, Callable[[], None]],
    call: Callable[[], Awaitable[object]],
    rounds: int,
    number: int,
) -> None:
    names = list(variants)
    for name in names:
        variants[name]()
        await _loop_cpu(call, max(20, number // 10))
    for round_no in range(rounds):
        order = names if round_no % 2 == 0 else list(reversed(names))
        measured: dict[str, float] = {}
        for name in order:
            variants[name]()
            measured[name] = await _loop_cpu(call, number) * 1e6
        for name in names:
            result.us.setdefault(name, []).append(measured[name])
            result.delta.setdefault(name, []).append(measured[name] - measured["ours"])
    variants["ours"]()


def end_to_end(alg: str, rounds: int, seconds: float) -> list[EndToEnd]:
    from identityserver.configuration.host import prepare_database
    from identityserver.configuration.loader import load_configuration

    folder = Path(tempfile.mkdtemp(prefix=f"idsrv-jose-{alg.lower()}-"))
    try:
        config = load_configuration(str(write_config(folder, alg)))
        prepare_database(config, folder / "state")  # what `serve` runs before the worker starts
        return asyncio.run(_end_to_end(config, folder / "state", alg, rounds, seconds))
    finally:
        shutil.rmtree(folder, ignore_errors=True)


async def _end_to_end(config: Configuration, state: Path, alg: str, rounds: int, seconds: float) -> list[EndToEnd]:
    import identityserver.resource_server.validator as rs_validator
    import identityserver.services.token_creation as token_creation
    from identityserver.configuration.host import create_builder
    from identityserver.hosting.app import create_app
    from identityserver.resource_server import AccessTokenValidator, ResourceServerOptions

    services = create_builder(config, state, ISSUER).build()
    for step in services.startup:
        await step()
    app = create_app(services)

    body = b"grant_type=client_credentials"
    basic = "Basic " + base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode("ascii")
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
        "path": "/connect/token", "raw_path": b"/connect/token", "query_string": b"", "root_path": "",
        "headers": [
            (b"host", b"127.0.0.1:5000"), (b"content-type", b"application/x-www-form-urlencoded"),
            (b"authorization", basic.encode("ascii")), (b"content-length", str(len(body)).encode("ascii")),
        ],
        "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 5000),
    }  # fmt: skip
    response: list[MutableMapping[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: MutableMapping[str, Any]) -> None:
        response.append(message)

    async def token_request() -> None:
        response.clear()
        await app(dict(scope), receive, send)

    await token_request()
    status = response[0].get("status")
    if status != 200:
        raise SystemExit(f"token endpoint answered {status}: {response}")
    token = json.loads(b"".join(m.get("body", b"") for m in response[1:]))["access_token"]
    header = decode_jws(token).header
    if header["alg"] != alg:
        raise SystemExit(f"token signed with {header['alg']}, expected {alg}")

    # the resource server's validator with the issuer's key preloaded (no HTTP)
    keys = await services.key_material.get_validation_keys()
    validator = AccessTokenValidator(ResourceServerOptions(ISSUER, audience="urn:api1", required_scopes=["api1"]))
    validator.jwks.issuer = ISSUER
    validator.jwks._keys = {k.id: (k.algorithm, k.private_key.public_key()) for k in keys}
    validator.jwks._expires = float("inf")
    authorization = [f"Bearer {token}"]

    async def validate() -> None:
        result = await validator.validate(authorization, [], "GET", "http://127.0.0.1:6000/api")
        if not hasattr(result, "claims"):
            raise SystemExit(f"validation failed: {result}")

    signer, jwa_signer, verifier = JoserfcSigner(), JwaSigner(), JoserfcVerifier()
    original_decode, original_verify = our_jwt.decode_jws, our_jwt.verify_signature

    def patch(sign: Callable[..., str], decode: Callable[..., DecodedJws], verify: Callable[..., bool]) -> None:
        # the callers imported these names, so they are replaced where they are looked up
        setattr(token_creation, "encode_jws_with_header", sign)  # noqa: B010
        setattr(rs_validator, "decode_jws", decode)  # noqa: B010
        setattr(rs_validator, "verify_signature", verify)  # noqa: B010

    def use_ours() -> None:
        patch(encode_jws_with_header, original_decode, original_verify)

    def use_joserfc() -> None:
        patch(signer, verifier.decode, verifier.verify)

    def use_jwa() -> None:
        patch(jwa_signer, original_decode, verifier.jwa_verify)

    variants = {"ours": use_ours, "joserfc": use_joserfc, "joserfc JWA only": use_jwa}
    results = [EndToEnd(alg, "token endpoint (in-process)"), EndToEnd(alg, "resource server validate")]
    try:
        for result, call in zip(results, (token_request, validate), strict=True):
            await call()
            start = time.process_time()
            for _ in range(50):
                await call()
            per_call = (time.process_time() - start) / 50
            await _interleave(result, variants, call, rounds, max(50, int(seconds / per_call)))
    finally:
        use_ours()
        for step in services.shutdown:
            await step()
    return results


# -- report -------------------------------------------------------------------------------------------------


def print_report(rows: list[Row], e2e: list[EndToEnd], rounds: int) -> dict[str, Any]:
    print(f"\nPer operation, CPU µs per call, median of {rounds} interleaved rounds; ratio = variant ÷ ours per round")
    print(f"{'operation':30} {'alg':6} {'variant':24} {'µs':>9} {'ratio':>7}  note")
    for row in rows:
        ratio = "" if row.variant == "ours" else f"{row.median_ratio:7.3f}"
        print(f"{row.group:30} {row.alg:6} {row.variant:24} {row.median_us:9.2f} {ratio:>7}  {row.note}")
    decision: dict[str, Any] = {}
    if e2e:
        print("\nPer token, in-process (no HTTP server), CPU µs, median; Δ = variant - ours within each round")
        print(f"{'what':30} {'alg':6} {'variant':18} {'ours':>8} {'variant':>8} {'Δ µs':>7} {'Δ %':>6}")
        for item in e2e:
            ours = item.median("ours")
            for variant in item.us:
                if variant != "ours":
                    delta = item.median_delta(variant)
                    print(
                        f"{item.what:30} {item.alg:6} {variant:18} {ours:8.1f} {item.median(variant):8.1f}"
                        f" {delta:7.1f} {delta / ours * 100:6.2f}"
                    )
        print("\nDecision figure (issue: switch when joserfc costs ≤ 5 % more per token of the token endpoint):")
        for item in e2e:
            if not item.what.startswith("token endpoint"):
                continue
            ours = item.median("ours")
            sign = {r.variant: r.median_us for r in rows if r.alg == item.alg and r.group.startswith("sign")}
            for variant in item.us:
                if variant == "ours":
                    continue
                from_ops = (sign[variant] - sign["ours"]) / ours * 100
                measured = item.median_delta(variant) / ours * 100
                decision.setdefault(item.alg, {})[variant] = {
                    "from_operation_pct": from_ops,
                    "end_to_end_pct": measured,
                }
                verdict = "≤ 5 %" if max(from_ops, measured) <= 5 else "> 5 %"
                print(
                    f"  {item.alg} {variant:18}: Δ sign ÷ endpoint per token {from_ops:5.2f} %,"
                    f" endpoint A/B {measured:5.2f} %  -> {verdict}"
                )
    return decision


def environment() -> dict[str, str]:
    import cryptography

    return {
        "python": platform.python_version(),
        "cryptography": cryptography.__version__,
        "joserfc": getattr(joserfc, "__version__", "?"),
        "machine": platform.machine(),
        "cpus": str(__import__("os").cpu_count()),
        "load": " ".join(Path("/proc/loadavg").read_text().split()[:3]) if Path("/proc/loadavg").exists() else "?",
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--alg", default="RS256,ES256", help="comma-separated: RS256, ES256")
    parser.add_argument("--rounds", type=int, default=21, help="interleaved rounds; medians are reported")
    parser.add_argument(
        "--seconds", type=float, default=0.05, help="CPU seconds per variant per round (twice that in-process)"
    )
    parser.add_argument("--no-endpoint", action="store_true", help="skip the in-process token endpoint")
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args()
    algs = [a.strip().upper() for a in args.alg.split(",") if a.strip()]
    for alg in algs:
        if alg not in ("RS256", "ES256"):
            parser.error(f"unsupported --alg {alg}")
    env = environment()
    print("environment: " + ", ".join(f"{k} {v}" for k, v in env.items()), flush=True)
    gc.collect()
    rows = [row for alg in algs for row in operations(alg, args.rounds, args.seconds)]
    e2e: list[EndToEnd] = []
    if not args.no_endpoint:
        import logging

        logging.disable(logging.WARNING)
        for alg in algs:
            e2e.extend(end_to_end(alg, args.rounds, args.seconds * 2))
    decision = print_report(rows, e2e, args.rounds)
    env["load after"] = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    print(f"load average before / after: {env['load']} / {env['load after']}")
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {
                    "environment": env,
                    "settings": vars(args),
                    "operations": [
                        {**row.__dict__, "median_us": row.median_us, "median_ratio": row.median_ratio} for row in rows
                    ],
                    "end_to_end": [item.__dict__ for item in e2e],
                    "decision": decision,
                },
                indent=2,
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
