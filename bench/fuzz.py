"""A long HTTP fuzzing run by hand (CI runs a short one in tests/fuzz): starts `identityserver serve` on an
embedded database with the fuzzing configuration of tests/fuzz, sends schema-driven and raw-bytes requests to every
routed endpoint, and prints the requests sent, the endpoints covered, the failures found and the server's memory
before and after (VmRSS), so that unbounded growth shows.

    python bench/fuzz.py --examples 400          # about 400 cases per operation and generator
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.fuzz.runner import Fuzzer, openapi_document
from tests.fuzz.test_protocol_fuzzing import CONFIG, SECRETS
from tests.support.process import free_port, wait_until_up


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--examples", type=int, default=400, help="cases per operation and generator")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder)
        config = base / "config.toml"
        config.write_text(CONFIG.format(database=base / "fuzz.db"))
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        command = [sys.executable, "-m", "identityserver", "serve", "--config", str(config), "--port", str(port)]
        command += ["--state-path", str(base / "state"), "--log-level", "warning"]
        server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_until_up(f"{url}/.well-known/openid-configuration", server)
            document = openapi_document(config, url)
            fuzzer = Fuzzer(url, base / "fuzz.db", SECRETS)
            before = rss_kib(server.pid)
            started = time.monotonic()
            fuzzer.fuzz_schema(document, args.examples)
            middle = rss_kib(server.pid)
            fuzzer.fuzz_raw(document, args.examples)
            after = rss_kib(server.pid)
            elapsed = time.monotonic() - started
            fuzzer.close()
        finally:
            server.terminate()
            server.wait(timeout=30)
    report = fuzzer.report
    print(f"{report.summary()} in {elapsed:.0f} s")
    print(f"endpoints covered: {len(document['paths'])}: {', '.join(sorted(document['paths']))}")
    print(
        f"server VmRSS: {before / 1024:.1f} MiB before, {middle / 1024:.1f} after schema cases, "
        f"{after / 1024:.1f} after raw"
    )
    print(f"failures: {len(report.failures)}")
    for failure in report.failures[:50]:
        print("  " + failure)
    return 1 if report.failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
