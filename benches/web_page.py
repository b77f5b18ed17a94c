"""One customer's inclusion check in the verification page, in headless Chromium, beside the Python check.

    .venv/bin/python benches/web_page.py [--runs 7] [--json]

The page is served by ``zksolvency.web`` (127.0.0.1) pinned to the test vectors' round (2^8 rows, 10 assets,
4 slots; development SRS allowed); each run loads it afresh, drops the customer's inclusion file and round.json
through its inputs, and reads the page's own time from reading the files to the verdict (``performance.now``:
round.json parsed and its key checked, the round's proof verified, then the customer's records: hashes, rules,
pairing). In the same run, the baseline: what ``verify-inclusion --round`` does in Python for the same files
(``verify_round``, then ``check_inclusion``; the pairing cache cleared). Reported: medians, their ratio, and the
page's size.
"""

from __future__ import annotations

import argparse
import gzip
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from browser import check_on_page, chromium, served  # noqa: E402

from zksolvency.artifacts import InclusionFile, RoundStatement  # noqa: E402
from zksolvency.audit import check_inclusion, round_keys, verify_round  # noqa: E402
from zksolvency.web import PagePin, built_page  # noqa: E402

VECTORS = ROOT / "tests" / "vectors"
ROUND = VECTORS / "inclusion" / "round.json"
USERS = {"one record": "honest_one_record", "three records": "honest_several_records"}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    cases = {c["name"]: c for c in json.loads((VECTORS / "inclusion" / "cases.json").read_text(encoding="utf-8"))}
    pins = json.loads((VECTORS / "web" / "pins.json").read_text(encoding="utf-8"))
    statement = RoundStatement.load(ROUND)
    names = [a.name for a in statement.assets]
    report = {"runs": args.runs}
    with tempfile.TemporaryDirectory() as work, chromium() as session, \
            served(PagePin.for_round(pins["inclusion/round.json"], ROUND, allow_insecure_srs=True)) as url:
        for label, name in USERS.items():
            case = cases[name]
            path = Path(work) / f"{name}.json"
            path.write_text(json.dumps(case["file"]), encoding="utf-8")
            page_ms, python_ms = [], []
            for _ in range(args.runs + 1):  # the first of each is a warm-up
                session.get(url)
                shown = check_on_page(session, case["user_id"], path, ROUND)
                assert shown["rule"] == "VALID", shown
                page_ms.append(float(session.execute_script("return document.body.dataset.checkMs")))
                inclusion = InclusionFile.from_json(case["file"], "case")
                _fresh()  # the pairing result is cached per claim set: time a cold check
                t = time.perf_counter()
                keys = round_keys(verify_round(RoundStatement.load(ROUND), allow_insecure_srs=True))
                check_inclusion(inclusion, keys, statement.round_id, names, case["user_id"])
                python_ms.append((time.perf_counter() - t) * 1e3)
            page, python = statistics.median(page_ms[1:]), statistics.median(python_ms[1:])
            report[label] = {"page_ms": round(page, 1), "python_ms": round(python, 1),
                             "page_over_python": round(page / python, 2)}
    page_bytes = built_page().encode("utf-8")
    report["page_bytes"] = len(page_bytes)
    report["page_gzip_bytes"] = len(gzip.compress(page_bytes, 9))
    if args.json:
        print(json.dumps(report, sort_keys=True))
        return
    for label in USERS:
        r = report[label]
        print(f"{label:<14} page {r['page_ms']:7.1f} ms   python {r['python_ms']:7.1f} ms   "
              f"page / python {r['page_over_python']:.2f}")
    print(f"page: {report['page_bytes']} bytes minified, one file ({report['page_gzip_bytes']} gzipped)")


def _fresh() -> None:
    from zksolvency.verifier.inclusion import openings_hold

    openings_hold.cache_clear()


if __name__ == "__main__":
    main()
