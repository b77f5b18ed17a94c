"""The browser verification page: its vectors, its build, and the page itself in a real headless Chromium.

One table drives every path: the Python table (tests/vectors/inclusion/cases.json) and the margin, private and
sharded tables (tests/vectors/web/, from make_web_cases.py) get the same verdict from the Python verifier, from
the page's module in Node (web/test/, `make test` runs it) and from the page in Chromium here, dropping each file
through the page's own inputs and reading the verdict it shows; the spot and margin tables also against a
registry of their kind on anvil.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner

from browser import check_on_page, chromium, served
from recording_node import recording_proxy
from zksolvency.artifacts import ArtifactError, InclusionFile, RoundStatement, load_round
from zksolvency.audit import check_identity, check_inclusion, round_keys, shard_of, verify_statement
from zksolvency.verifier.plonk import VerificationError
from zksolvency.verifier.inclusion import InclusionError
from zksolvency.web import PagePin, PinError, built_page, pinned_page

ROOT = Path(__file__).resolve().parents[1]
VECTORS = ROOT / "tests" / "vectors"
sys.path.insert(0, str(VECTORS))
import make_web_cases  # noqa: E402

SPOT_ROUND = VECTORS / "inclusion" / "round.json"
MARGIN_ROUND = VECTORS / "web" / "margin_round.json"
SPOT_CASES = json.loads((VECTORS / "inclusion" / "cases.json").read_text(encoding="utf-8"))
MARGIN_CASES = json.loads((VECTORS / "web" / "margin_cases.json").read_text(encoding="utf-8"))
PRIVATE_ROUND = VECTORS / "web" / "private_round.json"
PRIVATE_CASES = json.loads((VECTORS / "web" / "private_cases.json").read_text(encoding="utf-8"))
SHARDED_ROUND = VECTORS / "web" / "sharded_round.json"
SHARDED_PRIVATE_ROUND = VECTORS / "web" / "sharded_private_round.json"
SHARDED_CASES = json.loads((VECTORS / "web" / "sharded_cases.json").read_text(encoding="utf-8"))
FORGED_SHARDED = json.loads((VECTORS / "web" / "sharded_forged_rounds.json").read_text(encoding="utf-8"))
CIRCUITS = json.loads((VECTORS / "web" / "circuits.json").read_text(encoding="utf-8"))
PINS = json.loads((VECTORS / "web" / "pins.json").read_text(encoding="utf-8"))
TABLES = {"inclusion/round.json": (SPOT_ROUND, SPOT_CASES), "web/margin_round.json": (MARGIN_ROUND, MARGIN_CASES),
          "web/private_round.json": (PRIVATE_ROUND, PRIVATE_CASES),
          "web/sharded_round.json": (SHARDED_ROUND, SHARDED_CASES)}
ROUND_FILES = {**{name: path for name, (path, _) in TABLES.items()},
               "web/sharded_private_round.json": SHARDED_PRIVATE_ROUND}
ALL_CASES = [(name, c) for name, (_, cases) in TABLES.items() for c in cases]
PAGE_CODE_LIMIT = 300_000  # bytes of the page's own code and libraries, minified


def python_verdict(statement, keys, case) -> str:
    """verify-inclusion --round's verdict: the file's round and id, its shard, then its records (``keys``: each
    shard's, by index)."""
    try:
        inclusion = InclusionFile.from_json(case["file"], "case")
        check_identity(inclusion, statement.round_id, case["user_id"])
        shard = shard_of(statement, inclusion)
        check_inclusion(inclusion, keys[shard], statement.round_id, [a.name for a in statement.assets],
                        case["user_id"])
        return "VALID"
    except ArtifactError:
        return "MALFORMED"
    except InclusionError as e:
        return e.rule.name


@pytest.fixture(scope="module")
def vector_rounds():
    out = {}
    for name in ("web/margin_round.json", "web/private_round.json", "web/sharded_round.json"):
        statement = load_round(TABLES[name][0])
        verified = verify_statement(statement, allow_insecure_srs=True)
        out[name] = statement, {i: round_keys(v) for i, v in verified.items()}
    return out


WEB_CASES = [(name, c) for name in ("web/margin_round.json", "web/private_round.json", "web/sharded_round.json")
             for c in TABLES[name][1]]


@pytest.mark.parametrize("table, case", WEB_CASES, ids=[c["name"] for _, c in WEB_CASES])
def test_python_reaches_the_verdict_of_every_margin_and_private_vector(table, case, vector_rounds):
    statement, keys = vector_rounds[table]
    assert python_verdict(statement, keys, case) == case["verdict"]


@pytest.mark.parametrize("case", FORGED_SHARDED, ids=[c["name"] for c in FORGED_SHARDED])
def test_python_refuses_every_forged_sharded_round_as_the_page_does(case, tmp_path):
    """The forged sharded rounds the page's module refuses (web/test/round.test.js): Python refuses each the same
    way (a statement the proofs do not prove, or a file that does not parse), for the same reason."""
    path = tmp_path / "round.json"
    path.write_text(json.dumps(case["round"]), encoding="utf-8")
    with pytest.raises((VerificationError, ArtifactError)) as refused:
        verify_statement(load_round(path), allow_insecure_srs=True)
    assert ("MALFORMED" if isinstance(refused.value, ArtifactError) else "proof") == case["verdict"]
    assert case["reason"] in str(refused.value)


def test_the_web_vectors_are_the_generators(tmp_path):
    """pins.json and circuits.json are exactly what the generator writes for the vector rounds; the margin,
    private and sharded tables hold the generator's cases with its verdicts (their rounds are random: salts, rows
    and shards are drawn afresh)."""
    rounds = ROUND_FILES
    assert PINS == make_web_cases.pins(rounds)
    assert CIRCUITS == make_web_cases.circuits(rounds)
    fresh = make_web_cases.margin_cases(make_web_cases.margin_round(tmp_path))
    assert [(c["name"], c["verdict"]) for c in fresh] == [(c["name"], c["verdict"]) for c in MARGIN_CASES]
    fresh = make_web_cases.private_cases(make_web_cases.private_round(tmp_path))
    assert [(c["name"], c["verdict"]) for c in fresh] == [(c["name"], c["verdict"]) for c in PRIVATE_CASES]
    fresh = make_web_cases.sharded_cases(make_web_cases.sharded_round(tmp_path))
    assert [(c["name"], c["verdict"]) for c in fresh] == [(c["name"], c["verdict"]) for c in SHARDED_CASES]
    assert [(c["name"], c["verdict"], c["reason"]) for c in FORGED_SHARDED] == [
        (name, verdict, reason) for name, _, _, verdict, reason in make_web_cases.FORGERIES]
    assert load_round(SHARDED_ROUND).round_id == make_web_cases.SHARDED_ROUND_ID
    assert RoundStatement.load(MARGIN_ROUND).round_id == make_web_cases.ROUND_ID
    assert RoundStatement.load(PRIVATE_ROUND).round_id == make_web_cases.PRIVATE_ROUND_ID


def test_the_built_page_is_its_sources(tmp_path):
    """The page installed with the package (zksolvency/data/web/verify.html) is what web/build.mjs makes now."""
    if not (ROOT / "web" / "node_modules" / "esbuild").exists() or shutil.which("node") is None:
        pytest.skip("no web/node_modules: npm ci --prefix web (make test runs it)")
    out = tmp_path / "verify.html"
    subprocess.run(["node", str(ROOT / "web" / "build.mjs"), str(out)], check=True, capture_output=True)
    assert out.read_text(encoding="utf-8") == built_page(), "rebuild the page: make web"


def test_the_page_is_one_file_within_its_size_budget():
    page = built_page()
    assert len(page.encode("utf-8")) < PAGE_CODE_LIMIT
    for external in ("src=", "href=", "@import", "url("):  # nothing fetched: one file works offline
        assert external not in page.split("<script type=\"module\">")[0], external


@pytest.mark.parametrize("args, message", [
    ([], "pin the page to one thing"),
    (["--vk-digest", "0x12"], "64 lowercase hex digits"),
    (["--vk-digest", "0x" + "ab" * 32], "--vk-digest needs --round"),
    (["--vk-digest", "0x" + "ab" * 32, "--round", str(SPOT_ROUND)], "not of the pinned"),
    (["--registry", "0x" + "ab" * 20, "--rpc", "http://x", "--round", str(SPOT_ROUND)], "--round goes with"),
    (["--registry", "0x" + "ab" * 20], "--registry needs --rpc"),
    (["--registry", "0x12", "--rpc", "http://127.0.0.1:8545"], "40 hex digits"),
    (["--registry", "0x" + "ab" * 20, "--rpc", "file:///etc/passwd"], "http:// or https://"),
    (["--registry", "0x" + "ab" * 20, "--rpc", "http://user:pw@node.example"], "no credentials"),
    (["--vk-digest", "0x" + "ab" * 32, "--rpc", "http://127.0.0.1:8545"], "--rpc goes with --registry"),
    (["--vk-digest", "0x" + "ab" * 32, "--registry", "0x" + "ab" * 20, "--rpc", "http://x"], "one thing"),
])
def test_the_web_command_refuses_a_page_without_exactly_one_pin(args, message, tmp_path):
    from zksolvency.cli import main

    result = CliRunner().invoke(main, ["web", "--out", str(tmp_path / "page.html"), *args])
    assert result.exit_code == 2 and message in result.output, result.output
    assert not (tmp_path / "page.html").exists()


def test_zksolvency_web_round_takes_a_sharded_round(tmp_path):
    """`zksolvency web --round` with a sharded round.json: the page is pinned to its one key, with its circuit."""
    from zksolvency.cli import main

    digest = PINS["web/sharded_round.json"]
    result = CliRunner().invoke(main, ["web", "--vk-digest", digest, "--round", str(SHARDED_ROUND), "--out",
                                       str(tmp_path / "page.html")])
    assert result.exit_code == 0, result.output
    page = (tmp_path / "page.html").read_text(encoding="utf-8")
    config = {"allow_insecure_srs": False, "circuit": CIRCUITS["web/sharded_round.json"], "pin": {"vk_digest": digest}}
    assert json.dumps(config, sort_keys=True).replace("<", "\\u003c") in page
    result = CliRunner().invoke(main, ["web", "--vk-digest", PINS["inclusion/round.json"], "--round",
                                       str(SHARDED_ROUND), "--out", str(tmp_path / "other.html")])
    assert result.exit_code == 2 and "not of the pinned" in result.output, result.output


def test_the_pin_is_written_into_the_page_and_cannot_end_its_element(tmp_path):
    from zksolvency.cli import main

    digest = PINS["inclusion/round.json"]
    result = CliRunner().invoke(main, ["web", "--vk-digest", digest.upper().replace("0X", "0x"), "--round",
                                       str(SPOT_ROUND), "--out", str(tmp_path / "page.html")])
    assert result.exit_code == 0, result.output
    page = (tmp_path / "page.html").read_text(encoding="utf-8")
    config = {"allow_insecure_srs": False, "circuit": CIRCUITS["inclusion/round.json"], "pin": {"vk_digest": digest}}
    assert json.dumps(config, sort_keys=True).replace("<", "\\u003c") in page
    assert "connect-src 'none'" in page  # a page pinned to a key asks no one anything
    with pytest.raises(PinError):
        PagePin(registry="0x" + "ab" * 20, rpc="http://127.0.0.1:1/</script><script>alert(1)")
    page = pinned_page(PagePin(registry="0x" + "ab" * 20, rpc="http://127.0.0.1:8545/rpc?k=1"))
    assert "connect-src http://127.0.0.1:8545;" in page
    with pytest.raises(PinError):
        PagePin(vk_digest="0x" + "ab" * 32, allow_insecure_srs=True, rpc="http://x", circuit="")


# --------------------------------------------------------------------------- the page in Chromium


@pytest.fixture(scope="module")
def session():
    with chromium() as s:
        yield s


@pytest.fixture(scope="module")
def pages():
    """The page served pinned to each vector round's key (development SRS allowed, as the vectors use one)."""
    with served(PagePin.for_round(PINS["inclusion/round.json"], SPOT_ROUND, True)) as spot, \
            served(PagePin.for_round(PINS["web/margin_round.json"], MARGIN_ROUND, True)) as margin, \
            served(PagePin.for_round(PINS["web/private_round.json"], PRIVATE_ROUND, True)) as private, \
            served(PagePin.for_round(PINS["web/sharded_round.json"], SHARDED_ROUND, True)) as sharded:
        yield {"inclusion/round.json": spot, "web/margin_round.json": margin, "web/private_round.json": private,
               "web/sharded_round.json": sharded}


@pytest.mark.parametrize("table, case", ALL_CASES, ids=[c["name"] for _, c in ALL_CASES])
def test_the_page_in_chromium_reaches_the_verdict_of_every_vector(table, case, session, pages, tmp_path):
    round_file, _ = TABLES[table]
    path = tmp_path / "inclusion.json"
    path.write_text(json.dumps(case["file"]), encoding="utf-8")
    session.get(pages[table])
    shown = check_on_page(session, case["user_id"], path, round_file)
    assert shown["rule"] == case["verdict"], shown["reason"]
    assert shown["verdict"] == ("VALID" if case["verdict"] == "VALID" else "INVALID")
    assert "INSECURE" in shown["pin"]  # served with --allow-insecure-srs: said, in red
    assert any("INSECURE" in t for t in shown["insecure"])


def test_the_page_shows_balances_with_decimals_the_round_and_the_pin(session, pages, tmp_path):
    case = next(c for c in SPOT_CASES if c["name"] == "honest_one_record")
    path = tmp_path / "alice.json"
    path.write_text(json.dumps(case["file"]), encoding="utf-8")
    session.get(pages["inclusion/round.json"])
    shown = check_on_page(session, "alice", path, SPOT_ROUND)
    assert shown["balances"]["BTC"] == ["0.50000000"] and shown["balances"]["ETH"] == ["2.000000000"]
    assert shown["balances"]["RAW"] == ["0"]
    statement = RoundStatement.load(SPOT_ROUND)
    assert statement.round_id in shown["text"] and statement.timestamp in shown["text"]
    assert PINS["inclusion/round.json"] in shown["text"] and "proof was verified in this browser" in shown["text"]

    margin = next(c for c in MARGIN_CASES if c["name"] == "margin_honest_alice")
    path.write_text(json.dumps(margin["file"]), encoding="utf-8")
    session.get(pages["web/margin_round.json"])
    shown = check_on_page(session, "alice", path, MARGIN_ROUND)
    assert shown["balances"]["BTC"] == ["1.00000000", "0.00000000"]
    assert shown["balances"]["USDT"] == ["0.000000", "50000.000000"]  # equity, debt


def test_the_page_refuses_a_round_whose_proof_fails(session, pages, tmp_path):
    case = next(c for c in SPOT_CASES if c["name"] == "honest_one_record")
    path = tmp_path / "alice.json"
    path.write_text(json.dumps(case["file"]), encoding="utf-8")
    forged = json.loads(SPOT_ROUND.read_text(encoding="utf-8"))
    forged["totals"]["BTC"] = str(int(forged["totals"]["BTC"]) - 1)  # liabilities understated
    forged["public_inputs"][1] = forged["totals"]["BTC"]
    (tmp_path / "round.json").write_text(json.dumps(forged), encoding="utf-8")
    session.get(pages["inclusion/round.json"])
    shown = check_on_page(session, "alice", path, tmp_path / "round.json")
    assert (shown["verdict"], shown["rule"]) == ("INVALID", "proof") and "quotient identity" in shown["reason"]


def test_the_page_refuses_a_round_of_another_key_or_an_insecure_one_not_allowed(session, tmp_path):
    case = next(c for c in SPOT_CASES if c["name"] == "honest_one_record")
    path = tmp_path / "alice.json"
    path.write_text(json.dumps(case["file"]), encoding="utf-8")
    with served(PagePin.for_round(PINS["web/margin_round.json"], MARGIN_ROUND, True)) as url:
        session.get(url)
        shown = check_on_page(session, "alice", path, SPOT_ROUND)
        assert (shown["verdict"], shown["rule"]) == ("INVALID", "pin") and "not the pinned" in shown["reason"]
    with served(PagePin.for_round(PINS["inclusion/round.json"], SPOT_ROUND)) as url:
        session.get(url)
        shown = check_on_page(session, "alice", path, SPOT_ROUND)
        assert (shown["verdict"], shown["rule"]) == ("INVALID", "pin") and "development SRS" in shown["reason"]
        assert shown["insecure"] == [] and "INSECURE" not in shown["pin"]


# --------------------------------------------------------------------------- the registry as the source


OWNER_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"  # anvil's account 0


@pytest.fixture(scope="module")
def chain():
    """One anvil (127.0.0.1) holding the spot vectors' round in a SolvencyRegistry and the margin vectors' round in
    a MarginSolvencyRegistry: {"url", "spot", "margin"} (the registries' addresses)."""
    from eth_account import Account

    from zksolvency.chain import anvil, connect
    from zksolvency.onchain import deploy_round_contracts, publish, register_round_assets, registry_contract

    with anvil() as url:
        w3 = connect(url)
        owner = Account.from_key(OWNER_KEY)
        out = {"url": url}
        for kind, path in (("spot", SPOT_ROUND), ("margin", MARGIN_ROUND)):
            statement = RoundStatement.load(path)
            contract = registry_contract(w3, deploy_round_contracts(w3, owner, statement).registry)
            register_round_assets(w3, contract, owner, statement)
            publish(w3, contract, owner, statement)
            out[kind] = contract.address
        yield out


@pytest.fixture(scope="module")
def registry(chain):
    """The spot vectors' registry: (the node's URL, its address)."""
    return chain["url"], chain["spot"]


@pytest.fixture(scope="module")
def recording_node(chain):
    """A JSON-RPC endpoint in front of anvil that records every request (and answers browsers' CORS)."""
    with recording_proxy(chain["url"]) as node:
        yield node


def _python_chain_verdict(url, address, case) -> tuple:
    """(verify-inclusion --rpc's verdict on a case, its reason): the Python chain path (onchain.recorded_keys, with
    a margin registry's recorded weights, or the record of the shard the file names), then the same check as
    against a round file."""
    from zksolvency.chain import connect
    from zksolvency.onchain import recorded_keys, registry_contract

    try:
        inclusion = InclusionFile.from_json(case["file"], "case")
        keys, recorded = recorded_keys(registry_contract(connect(url), address), inclusion.round_id,
                                       shard=inclusion.shard)
        check_inclusion(inclusion, keys, inclusion.round_id, recorded["assets"], case["user_id"])
        return "VALID", ""
    except ArtifactError as e:
        return "MALFORMED", str(e)
    except InclusionError as e:
        return e.rule.name, str(e)


def _page_module_chain_verdicts(url, address, cases) -> dict:
    """The page's module (web/tools/chain_verdicts.mjs, in Node) on every case against the registry."""
    if not (ROOT / "web" / "node_modules" / "@noble").exists() or shutil.which("node") is None:
        pytest.skip("no web/node_modules: npm ci --prefix web (make test runs it)")
    out = subprocess.run(["node", str(ROOT / "web" / "tools" / "chain_verdicts.mjs"), url, address, "-"],
                         input=json.dumps(cases, ensure_ascii=False), check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def test_the_pages_module_against_the_registry_reaches_the_verdict_of_every_vector(registry):
    url, address = registry
    got = _page_module_chain_verdicts(url, address, SPOT_CASES)
    assert got == {c["name"]: c["verdict"] for c in SPOT_CASES}
    for name in ("honest_several_records", "another_round", "raised_balance"):  # the Python chain path agrees
        case = next(c for c in SPOT_CASES if c["name"] == name)
        assert _python_chain_verdict(url, address, case)[0] == got[name]


def test_the_pages_module_against_a_margin_registry_reaches_the_verdict_of_every_margin_vector(chain):
    """Every margin case against the margin registry, its weights made from the terms its MarginRoundSubmitted event
    recorded: the page's module and the Python chain path reach the table's verdict (the one they reach against
    round.json)."""
    got = _page_module_chain_verdicts(chain["url"], chain["margin"], MARGIN_CASES)
    assert got == {c["name"]: c["verdict"] for c in MARGIN_CASES}
    assert {c["name"]: _python_chain_verdict(chain["url"], chain["margin"], c)[0] for c in MARGIN_CASES} == got


def _other_kind_cases() -> list:
    """Files of one kind of round against a registry of the other kind: as sent (their round is not there), and
    relabelled to the registry's round (its id and asset names, as a cheating exchange would serve them)."""
    spot, margin = RoundStatement.load(SPOT_ROUND), RoundStatement.load(MARGIN_ROUND)
    alice = next(c for c in MARGIN_CASES if c["name"] == "margin_honest_alice")
    carol = next(c for c in MARGIN_CASES if c["name"] == "margin_honest_carol")
    honest = next(c for c in SPOT_CASES if c["name"] == "honest_one_record")

    def relabelled(case, statement):
        file = {**case["file"], "round_id": statement.round_id, "assets": [a.name for a in statement.assets]}
        return {**case, "file": file}

    return [("spot", {**alice, "name": "margin_file"}), ("spot", {**relabelled(alice, spot), "name": "margin_file_relabelled"}),
            ("spot", {**relabelled(carol, spot), "name": "margin_file_without_debts_relabelled"}),
            ("margin", {**honest, "name": "spot_file"}),
            ("margin", {**relabelled(honest, margin), "name": "spot_file_relabelled"})]


def test_a_file_of_the_other_kind_of_round_is_refused_by_the_page_as_by_python(chain):
    for kind, case in _other_kind_cases():
        python, reason = _python_chain_verdict(chain["url"], chain[kind], case)
        page = _page_module_chain_verdicts(chain["url"], chain[kind], [case])[case["name"]]
        assert python != "VALID" and page == python, (kind, case["name"], python, reason)


def _seen(text: str, file: dict) -> set:
    """Which of the customer's secrets ``text`` (a request to the node) holds, in any encoding the ABI uses."""
    found = set()
    uid = file["user_id"]
    if uid in text or uid.encode().hex() in text.lower():
        found.add("user id")
    if file["salt"][2:].lower() in text.lower():
        found.add("salt")
    for r in file["records"]:
        if format(r["row"], "064x") in text.lower():
            found.add("row")
        for s in r["slots"]:
            if s["asset"] and (format(int(s["units"]), "064x") in text.lower() or f'"{s["units"]}"' in text):
                found.add("balance")
    return found


NODE_CASES = [("spot", c) for c in SPOT_CASES if c["name"] in (
    "honest_several_records", "honest_one_record", "another_round", "raised_balance", "another_customers_file")] + [
    ("margin", c) for c in MARGIN_CASES if c["name"] in ("margin_honest_alice", "margin_honest_carol",
                                                         "margin_surplus_raised", "margin_smaller_debt_shown")]


def _dropped_on_registry_page(session, recording_node, address, case, tmp_path) -> dict:
    """What the page pinned to the registry at ``address`` (through the recording node, its record of requests
    cleared first) shows for the case's file."""
    url, bodies = recording_node
    path = tmp_path / "inclusion.json"
    path.write_text(json.dumps(case["file"]), encoding="utf-8")
    with served(PagePin(registry=address, rpc=url, allow_insecure_srs=True)) as page:
        bodies.clear()
        session.get(page)
        return check_on_page(session, case["user_id"], path)


@pytest.mark.parametrize("kind, case", NODE_CASES, ids=[f"{k}-{c['name']}" for k, c in NODE_CASES])
def test_the_page_pinned_to_the_registry_tells_the_node_only_the_registry_and_the_round(
        kind, case, chain, recording_node, session, tmp_path):
    _, bodies = recording_node
    address = chain[kind]
    shown = _dropped_on_registry_page(session, recording_node, address, case, tmp_path)
    assert shown["rule"] == case["verdict"], shown["reason"]
    assert address in shown["text"]
    if case["verdict"] != "VALID":  # Python's verdict and reason, on the chain path
        python, reason = _python_chain_verdict(chain["url"], address, case)
        # The same words; Python quotes names as repr does ('x'), the page as JSON ("x").
        assert python == case["verdict"] and reason.replace("'", '"') in shown["reason"].replace("'", '"')
    elif kind == "margin":  # equity, debt and the collateral check, from the registry's recorded weights
        assert "Equity" in shown["text"] and "Debt" in shown["text"]
        assert ("covers your debt" if case["user_id"] == "alice" else "No debt") in shown["account"]
    assert bodies, "the page asked the node nothing"
    methods = {json.loads(b.split(" ", 1)[1])["method"] for b in bodies}
    assert methods <= {"eth_call", "eth_getLogs"}
    assert set().union(*(_seen(b, case["file"]) for b in bodies)) == set()


# ----------------------------------------------------------------- a sharded round on the registry


@pytest.fixture(scope="module")
def sharded_chain(chain, tmp_path_factory):
    """On the anvil of ``chain``: "complete", a SolvencyRegistry of the sharded vectors' round's shape holding that
    round (3 shards) with every shard verified, and a round of one shard of the same shape (its customers' files in
    "one_shard_files"); "incomplete", one more registry bound to the same verifier holding the sharded round opened
    with shard 0 alone verified (as a cheating or stalled exchange leaves it); and "statements" by registry kind."""
    from eth_account import Account

    from zksolvency.chain import connect, deploy
    from zksolvency.onchain import (_transact, compile_round_contracts, deploy_round_contracts, publish,
                                    publish_sharded, register_round_assets, registry_contract)

    w3, owner = connect(chain["url"]), Account.from_key(OWNER_KEY)
    statement = load_round(SHARDED_ROUND)
    compiled = compile_round_contracts(statement)
    deployment = deploy_round_contracts(w3, owner, statement, compiled)
    complete = registry_contract(w3, deployment.registry)
    register_round_assets(w3, complete, owner, statement)
    publish_sharded(w3, complete, owner, statement)
    one = _one_shard_round(tmp_path_factory.mktemp("one-shard"))
    publish(w3, complete, owner, one.statement)
    incomplete = registry_contract(w3, deploy(w3, compiled["SolvencyRegistry"], owner, deployment.verifier,
                                              statement.slots))
    register_round_assets(w3, incomplete, owner, statement)
    names, first = [a.name for a in statement.assets], statement.shards[0]
    _transact(w3, incomplete, owner, incomplete.functions.openShardedRound(
        statement.round_id, statement.timestamp, names, len(statement.shards), list(statement.values)), "open")
    _transact(w3, incomplete, owner, incomplete.functions.submitShard(
        statement.round_id, 0, first.proof, list(first.values)), "shard 0")
    files = {one.user_ids[u]: one.inclusion_file(u).to_json() for u in range(len(one.user_ids))}
    return {**chain, "complete": complete.address, "incomplete": incomplete.address, "one_shard_files": files,
            "statements": {"complete": statement, "incomplete": statement, "spot": load_round(SPOT_ROUND),
                           "margin": load_round(MARGIN_ROUND), "one_shard": one.statement}}


def _one_shard_round(work: Path):
    """A round of one shard of the sharded vectors' shape (their ledger, SRS and slots), proven again until its
    commitment's x has bit 253 clear: the registry misreads a one-shard round whose x has it set (below)."""
    from zksolvency.ingest import read_ledger
    from zksolvency.prover.srs import dev_setup
    from zksolvency.round import prove_round

    (work / "ledger.csv").write_text(make_web_cases.SHARDED_LEDGER, encoding="utf-8")
    ledger = read_ledger(work / "ledger.csv", make_web_cases.SHARDED_DECIMALS)
    srs = dev_setup(9)
    while True:
        rnd = prove_round(ledger, srs, "vectors-one-shard", slots=2)
        if not rnd.statement.inclusion_commitment.x >> 253 & 1:
            return rnd


def _as_shard(case, shard, name):
    """A round of one shard's file presented as shard ``shard``'s (format /3), as a cheating exchange could."""
    return {**case, "name": name, "file": {**case["file"], "format": "zksolvency-inclusion/3", "shard": shard}}


# (registry, case with its verdict against it): every case of the sharded table against the registry holding the
# round complete (the verdict it has against round.json: a file moved to another shard, a shard past the last, no
# shard, ...), and what a cheating exchange could serve besides: an honest file while not every shard has verified
# (ROUND_ID), a one-shard round's file naming a shard (SHARD; "one_shard": its file is the fixture's), and a margin
# round's file made to name a shard against the margin registry holding that round as a round of one shard (SHARD).
SHARDED_CHAIN_CASES = [("complete", c) for c in SHARDED_CASES] + [
    ("incomplete", {**next(c for c in SHARDED_CASES if c["name"] == "sharded_honest_alice"),
                    "name": "sharded_round_not_complete", "verdict": "ROUND_ID"}),
    ("one_shard", {"name": "one_shard_round_file_naming_shard_0", "user_id": "alice", "shard": 0, "verdict": "SHARD"}),
    ("one_shard", {"name": "one_shard_round_file_naming_shard_1", "user_id": "bob", "shard": 1, "verdict": "SHARD"}),
    ("margin", {**_as_shard(next(c for c in MARGIN_CASES if c["name"] == "margin_honest_alice"), 0,
                            "margin_file_naming_a_shard"), "verdict": "SHARD"})]
# The Python paths that read the registry alone, as the page does (tests/inclusion_paths.py's sharded_paths).
REGISTRY_PATHS = ("chain", "view")


def _resolved(sharded_chain, kind, case) -> tuple:
    """(the registry's address, the case with its file): a "one_shard" case's file is the fixture round's."""
    if kind == "one_shard":
        honest = {"file": sharded_chain["one_shard_files"][case["user_id"]]}
        return sharded_chain["complete"], {**case, **_as_shard(honest, case["shard"], case["name"])}
    return sharded_chain[kind], case


def _python_sharded_chain_verdicts(url, address, statement, case) -> dict:
    """Each registry path's verdict on a case (sharded_paths: the shard the file names, that shard's record); a
    ChainError, with which verify-inclusion --rpc stops (no rule), is the page's "registry"."""
    from inclusion_paths import sharded_paths, verdict

    from zksolvency.chain import ChainError, connect
    from zksolvency.onchain import registry_contract

    paths = sharded_paths(statement, {}, registry_contract(connect(url), address), measure_gas=False)
    out = {}
    for name in REGISTRY_PATHS:
        try:
            out[name] = verdict(lambda: paths[name](case["file"], case["user_id"]))
        except ChainError:
            out[name] = "registry"
    return out


def test_the_pages_module_against_a_sharded_round_on_the_registry_reaches_pythons_verdict(sharded_chain):
    """Every case of the chain's sharded table: the page's module (web/tools/chain_verdicts.mjs) and every Python
    path that reads the registry alone reach the case's verdict."""
    url = sharded_chain["url"]
    for kind in dict.fromkeys(k for k, _ in SHARDED_CHAIN_CASES):
        resolved = [_resolved(sharded_chain, k, c) for k, c in SHARDED_CHAIN_CASES if k == kind]
        address = resolved[0][0]
        got = _page_module_chain_verdicts(url, address, [c for _, c in resolved])
        assert got == {c["name"]: c["verdict"] for _, c in resolved}, kind
        for _, case in resolved:
            python = _python_sharded_chain_verdicts(url, address, sharded_chain["statements"][kind], case)
            assert python == dict.fromkeys(REGISTRY_PATHS, case["verdict"]), (case["name"], python)


_SPOT_X = int(json.loads(SPOT_ROUND.read_text(encoding="utf-8"))["inclusion_commitment"][2:66], 16)


def test_a_one_shard_rounds_file_naming_a_shard_whatever_its_commitment_is_refused_as_shard(sharded_chain):
    """The spot vectors' round (another shape, another registry) as "one_shard" above: the page and Python agree,
    and the verdict is SHARD. Its commitment's x has bit 253 set, the bit that marks a sharded round's word where
    no commitment is (a registry that tested that bit alone took this round for a sharded one)."""
    assert _SPOT_X >> 253 & 1, "the case this test is for: a recorded commitment whose x has bit 253 set"
    url, address = sharded_chain["url"], sharded_chain["spot"]
    honest = next(c for c in SPOT_CASES if c["name"] == "honest_one_record")
    cases = [{**_as_shard(honest, shard, f"spot_file_naming_shard_{shard}"), "verdict": "SHARD"} for shard in (0, 1)]
    got = _page_module_chain_verdicts(url, address, cases)
    python = {c["name"]: _python_sharded_chain_verdicts(url, address, sharded_chain["statements"]["spot"], c)
              for c in cases}
    assert {name: dict.fromkeys(REGISTRY_PATHS, v) for name, v in got.items()} == python  # one verdict, every path
    assert got == {c["name"]: c["verdict"] for c in cases}


def _requests_told(bodies) -> list:
    """What each request told the node, decoded: ("eth_call", registry, function, its arguments) or ("eth_getLogs",
    registry, topics, from block, to block); an unknown function or method fails the test."""
    from eth_abi import decode

    from zksolvency.verifier.transcript import keccak256

    views = {"margin()": [], "inclusionContext(string)": ["string"], "shardInclusionContext(string,uint256)":
             ["string", "uint256"], "shardedRoundOf(string)": ["string"], "assetOf(string)": ["string"]}
    by_selector = {keccak256(f.encode())[:4].hex(): (f, types) for f, types in views.items()}
    told = []
    for body in bodies:
        request = json.loads(body.split(" ", 1)[1])
        params = request["params"]
        if request["method"] == "eth_call":
            assert params[1] == "latest" and set(params[0]) == {"to", "data"}, params
            data = bytes.fromhex(params[0]["data"][2:])
            function, types = by_selector[data[:4].hex()]
            told.append(("eth_call", params[0]["to"].lower(), function, decode(types, data[4:])))
        else:
            assert request["method"] == "eth_getLogs" and len(params) == 1, request
            f = params[0]
            assert set(f) == {"address", "fromBlock", "toBlock", "topics"}, f
            told.append(("eth_getLogs", f["address"].lower(), tuple(f["topics"]), int(f["fromBlock"], 16),
                         int(f["toBlock"], 16)))
    return told


PAGE_SHARDED_CASES = [(k, c) for k, c in SHARDED_CHAIN_CASES if c["name"] in (
    "sharded_honest_alice", "sharded_honest_frank", "sharded_another_shard", "sharded_shard_past_the_last",
    "sharded_no_shard", "sharded_round_not_complete", "one_shard_round_file_naming_shard_0",
    "margin_file_naming_a_shard")]


@pytest.mark.parametrize("kind, case", PAGE_SHARDED_CASES, ids=[c["name"] for _, c in PAGE_SHARDED_CASES])
def test_the_page_checks_a_sharded_rounds_file_against_its_shards_record_telling_the_node_nothing_of_the_customer(
        kind, case, sharded_chain, recording_node, session, tmp_path):
    """A file dropped into the page pinned to the registry: the verdict (and for a refusal Python's reason), the
    shard shown; the node is told the registry, the round id (and its Keccak), the file's shard index and what the
    registry itself recorded (blocks, asset names), nothing else."""
    _, bodies = recording_node
    address, case = _resolved(sharded_chain, kind, case)
    shown = _dropped_on_registry_page(session, recording_node, address, case, tmp_path)
    assert shown["rule"] == case["verdict"], shown["reason"]
    file = case["file"]
    if case["verdict"] == "VALID":
        assert f"{file['shard']} of 3" in shown["text"] and "registry verified every shard" in shown["text"]
    else:  # Python's reason on its chain path, in the page's words (names quoted as JSON, not as repr)
        python, reason = _python_chain_verdict(sharded_chain["url"], address, case)
        assert python == case["verdict"] and reason.replace("'", '"') in shown["reason"].replace("'", '"')
    _assert_told_only_the_registry_the_round_and_the_shard(
        sharded_chain["url"], bodies, address, file, {a.name for a in sharded_chain["statements"][kind].assets})


def _assert_told_only_the_registry_the_round_and_the_shard(url, bodies, address, file, names) -> None:
    """Every request names the registry, and carries nothing but the file's round id (or its Keccak), its shard
    index, the registry's own record (an asset name it recorded for the round, the one block holding the round's
    event) or nothing: no id, salt, row or balance, in any encoding."""
    from zksolvency.chain import connect
    from zksolvency.verifier.transcript import keccak256

    told = _requests_told(bodies)
    assert told, "the page asked the node nothing"
    key = "0x" + keccak256(file["round_id"].encode()).hex()
    w3 = connect(url)
    for request in told:
        assert request[1] == address.lower(), request
        if request[0] == "eth_getLogs":
            topics, first, last = request[2:]
            assert topics[1] == key and first == last, request
            logs = w3.eth.get_logs({"address": w3.to_checksum_address(address), "fromBlock": first, "toBlock": last,
                                    "topics": list(topics)})
            assert len(logs) == 1, request  # the block the registry recorded the round's event in
        elif request[2] == "assetOf(string)":
            assert request[3][0] in names, request
        else:
            assert request[3][:1] in ((), (file["round_id"],)) and request[3][1:] in ((), (file.get("shard"),)), request



def test_the_page_shows_a_margin_account_checked_against_the_registry(chain, session, tmp_path):
    """A borrower's file dropped into the page pinned to the margin registry: their equity and debt with the
    registered decimals, and the collateral check made with the recorded weights."""
    case = next(c for c in MARGIN_CASES if c["name"] == "margin_honest_alice")
    path = tmp_path / "alice.json"
    path.write_text(json.dumps(case["file"]), encoding="utf-8")
    with served(PagePin(registry=chain["margin"], rpc=chain["url"], allow_insecure_srs=True)) as page:
        session.get(page)
        shown = check_on_page(session, "alice", path)
    assert shown["verdict"] == "VALID", shown["reason"]
    assert shown["balances"]["BTC"] == ["1.00000000", "0.00000000"]
    assert shown["balances"]["USDT"] == ["0.000000", "50000.000000"]  # equity, debt
    # 1 BTC at 65,000 USD, 90%: 58,500 USD of collateral for 50,000 USD of debt.
    assert "58500.00000000 USD, covers your debt, 50000.00000000 USD" in shown["account"]


def test_zksolvency_web_serves_the_pinned_page_on_127_0_0_1_only(tmp_path):
    import signal

    cli = Path(sys.executable).with_name("zksolvency")
    proc = subprocess.Popen([str(cli), "web", "--port", "0", "--vk-digest", PINS["inclusion/round.json"],
                             "--round", str(SPOT_ROUND)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        assert "pinned to the verifying key " + PINS["inclusion/round.json"] in line, line
        url = line.split()[3]
        assert url.startswith("http://127.0.0.1:")
        with urllib.request.urlopen(url, timeout=10) as answer:
            page = answer.read().decode("utf-8")
            assert answer.headers["Cache-Control"] == "no-store"
        assert PINS["inclusion/round.json"] in page and CIRCUITS["inclusion/round.json"][:40] in page
        with pytest.raises(urllib.error.HTTPError):
            urllib.request.urlopen(url + "round.json", timeout=10)
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=10)
