"""Calls to a registry in the on-chain tests."""

from __future__ import annotations


def refusal(call, sender) -> str:
    """The registry's own reason for refusing ``call`` (a custom error's name and arguments, or a revert string);
    AssertionError if it accepts."""
    from zksolvency.onchain import _reason as reason

    try:
        call.call({"from": sender})
    except Exception as e:
        return reason(e)
    raise AssertionError("the registry accepted")
