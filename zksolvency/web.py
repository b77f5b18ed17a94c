"""The browser verification page: the built page (``web/``, bundled into ``data/web/verify.html``) with its pin.

The page is one self-contained HTML file (its script and style inlined). Whoever serves it names what it checks
against: a verifying key's digest (the customer then drops the round's round.json beside their file, and the
page verifies the round's proof from the key's circuit description, which goes into the page with the pin) or a
registry and the JSON-RPC endpoint the page asks about the round. The pin is written into the page as JSON; the
page reads nothing else from the server. ``server`` listens on 127.0.0.1 only.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.resources import files
from urllib.parse import urlsplit

PAGE = "verify.html"
CONFIG_ELEMENT = '<script type="application/json" id="zksolvency-config">{}</script>'
HOST = "127.0.0.1"
_DIGEST = re.compile("0x[0-9a-f]{64}")
_ADDRESS = re.compile("0x[0-9a-fA-F]{40}")
# An RPC URL the page may be pinned to: http(s), a host (and port), a path and query of plain URL characters
# (no credentials, quotes, spaces or angle brackets: it is written into the page and its CSP).
_RPC_URL = re.compile(r"(https?://[A-Za-z0-9.\-]+(?::[0-9]{1,5})?|https?://\[[0-9A-Fa-f:.]+\](?::[0-9]{1,5})?)"
                      r"(?:/[A-Za-z0-9._~%!$&()*+,;=:/?\-]*)?")
CSP_CONNECT = "connect-src http: https:"


class PinError(ValueError):
    """A pin the page cannot be served with; the message names the option."""


@dataclass(frozen=True)
class PagePin:
    """What the served page checks against: a verifying key's digest, or a registry read through an RPC URL."""

    vk_digest: str | None = None
    registry: str | None = None
    rpc: str | None = None
    allow_insecure_srs: bool = False
    circuit: str | None = None  # with vk_digest: the pinned key's circuit description (``circuit_description``)

    def __post_init__(self):
        if (self.vk_digest is None) == (self.registry is None):
            raise PinError("pin the page to one thing: --vk-digest HEX, or --registry ADDR with --rpc URL")
        if self.rpc is not None and self.registry is None:
            raise PinError("--rpc goes with --registry")
        if self.vk_digest is not None and not _DIGEST.fullmatch(self.vk_digest):
            raise PinError("--vk-digest: expected 0x and 64 lowercase hex digits")
        if self.vk_digest is not None and self.circuit is None:
            raise PinError("--vk-digest needs --round FILE: a round of the pinned key, whose circuit the page "
                           "verifies rounds with")
        if self.vk_digest is None and self.circuit is not None:
            raise PinError("--round goes with --vk-digest (against a registry, the registry verified the proof)")
        if self.registry is not None:
            if not _ADDRESS.fullmatch(self.registry):
                raise PinError("--registry: expected 0x and 40 hex digits")
            if self.rpc is None:
                raise PinError("--registry needs --rpc URL (the endpoint the customer's browser asks)")
            if not _RPC_URL.fullmatch(self.rpc):
                raise PinError("--rpc: expected an http:// or https:// URL (no credentials, quotes or spaces)")

    @staticmethod
    def for_round(vk_digest: str, round_file, allow_insecure_srs: bool = False) -> "PagePin":
        """A page pinned to ``vk_digest``, with the circuit of ``round_file`` (a round of that key, of one shard or
        several: PinError if not)."""
        from zksolvency.artifacts import load_round

        statement = load_round(round_file)
        digest = "0x" + statement.verifying_key.digest().hex()
        if digest != vk_digest:
            raise PinError(f"--round: {round_file} is a round of the key {digest}, not of the pinned {vk_digest}")
        return PagePin(vk_digest, allow_insecure_srs=allow_insecure_srs, circuit=circuit_description(statement))

    def to_json(self) -> dict:
        pin = {"vk_digest": self.vk_digest} if self.vk_digest else {"registry": self.registry, "rpc": self.rpc}
        out = {"pin": pin, "allow_insecure_srs": self.allow_insecure_srs}
        if self.circuit is not None:
            out["circuit"] = self.circuit
        return out

    def connect_source(self) -> str:
        """The page's CSP connect-src: the RPC endpoint's origin, or nothing at all for a page pinned to a key."""
        return "'none'" if self.rpc is None else _RPC_URL.fullmatch(self.rpc).group(1)

    def describe(self) -> str:
        what = f"the verifying key {self.vk_digest}" if self.vk_digest else f"the registry {self.registry} via {self.rpc}"
        return what + (" (INSECURE development SRS accepted)" if self.allow_insecure_srs else "")


def circuit_description(statement) -> str:
    """The canonical description of a round's circuit (a sharded round's: every shard's, one key): the text whose
    Keccak is its key's circuit digest, from which the page verifies the round's proofs (the pinned key pins it;
    the page checks the digest)."""
    from zksolvency.circuits.solvency import SolvencyCircuit

    return SolvencyCircuit(statement.shape()).cs.canonical_description()


def built_page() -> str:
    """The built page as installed with the package (``make web`` rebuilds it; a test checks it is current)."""
    return files("zksolvency").joinpath("data", "web", PAGE).read_text(encoding="utf-8")


def pinned_page(pin: PagePin, page: str | None = None) -> str:
    """The page with ``pin`` written in (as JSON in a script element, ``<`` escaped so it cannot end it)."""
    page = built_page() if page is None else page
    if page.count(CONFIG_ELEMENT) != 1 or page.count(CSP_CONNECT) != 1:
        raise RuntimeError("the built page has no place for its pin")
    page = page.replace(CSP_CONNECT, f"connect-src {pin.connect_source()}")
    config = json.dumps(pin.to_json(), sort_keys=True).replace("<", "\\u003c")
    return page.replace(CONFIG_ELEMENT, CONFIG_ELEMENT.replace("{}", config))


def server(pin: PagePin, port: int = 0) -> ThreadingHTTPServer:
    """An HTTP server on 127.0.0.1 answering GET / with the pinned page (port 0: a free one)."""
    body = pinned_page(pin).encode("utf-8")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's name)
            if urlsplit(self.path).path not in ("/", "/index.html", "/" + PAGE):
                self.send_error(404, "only the verification page is served here")
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.send_header("X-Content-Type-Options", "nosniff")
            self.send_header("Referrer-Policy", "no-referrer")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format, *args):  # requests are not logged: a path could carry anything
            pass

    return ThreadingHTTPServer((HOST, port), Handler)

