"""Make the inclusion test vectors: a fixture round and the table of honest and forged inclusion files.

    .venv/bin/python tests/vectors/make_inclusion_cases.py

writes tests/vectors/inclusion/round.json (a round over the fixture ledger,
made with the insecure development SRS of 2^9 rows), cases.json (inclusion
files with the verdict every verifier must reach) and records.json (records
as the registry's view takes them, for the rules a file cannot express). Run
it again whenever the round or inclusion format changes; the tests read only
the files it writes.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path
from types import SimpleNamespace

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from cheating import Exchange, cases, fixture_decimals, fixture_ledger, record_cases  # noqa: E402
from click.testing import CliRunner  # noqa: E402

from zksolvency.artifacts import canonical_json  # noqa: E402
from zksolvency.cli import main as cli  # noqa: E402
from zksolvency.prover.srs import dev_setup  # noqa: E402

OUT = HERE / "inclusion"
ROUND_ID = "vectors-1"


def main() -> None:
    work = Path(tempfile.mkdtemp())
    try:
        dev_setup(9).save(work / "srs.bin")
        fixture_ledger(work / "ledger.csv")
        result = CliRunner().invoke(cli, ["prove", str(work / "ledger.csv"), "--srs", str(work / "srs.bin"),
                                          "--decimals", fixture_decimals(), "--out", str(work / "round"),
                                          "--round-id", ROUND_ID, "--slots", "4"])
        if result.exit_code:
            raise SystemExit(result.output)
        ex = Exchange(work / "round")
        OUT.mkdir(exist_ok=True)
        shutil.copy(work / "round" / "round.json", OUT / "round.json")
        table = [c.to_json() for c in cases(ex)]
        (OUT / "cases.json").write_text(canonical_json(table), encoding="utf-8")
        shape = SimpleNamespace(slots=ex.slots, asset_count=len(ex.names))
        (OUT / "records.json").write_text(canonical_json(record_cases(shape)), encoding="utf-8")
        print(f"{len(table)} cases -> {OUT}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
