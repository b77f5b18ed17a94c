"""A small margin ledger and its prices, shared by the margin tests: borrowers, a customer without debts, one
whose collateral is only a 0-ratio asset, and (DAVE) a debtor with nothing, whom the honest ledger leaves out."""

from __future__ import annotations

from zksolvency.ingest import read_ledger

DECIMALS = {"BTC": 8, "ETH": 18, "USDT": 6, "DOGE": 8}
DAVE = "dave,,,,1,,,\n"
LEDGER = """user_id,BTC,BTC:debt,ETH,ETH:debt,USDT,USDT:debt,DOGE
alice,1,,,,,50000,
bob,,0.1,2,,20000,,
carol,2,,0.5,,100,,1000
""" + DAVE + """erin,,,3,1,,,
frank,,,,,10,10,
"""
HONEST_LEDGER = LEDGER.replace(DAVE, "")
PRICES = "asset,price,ratio_bps\nBTC,65000,9000\nETH,3000.5,8500\nUSDT,1,10000\nDOGE,0.12345678,0\n"


def margin_files(tmp_path, ledger=LEDGER, prices=PRICES):
    """(the ledger read with DECIMALS, the prices file's path), both written under ``tmp_path``."""
    (tmp_path / "ledger.csv").write_text(ledger)
    (tmp_path / "prices.csv").write_text(prices)
    return read_ledger(tmp_path / "ledger.csv", DECIMALS), tmp_path / "prices.csv"
