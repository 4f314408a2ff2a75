"""Independent EIP-712 oracle for Granary transactions, computed with eth_account.

Usage: python eth_account_sign.py CASES.json

CASES.json is {"cases": [{"private_key": "0x…", "typed_data": {…}, "our_signature": "0x…"}, …]}
where typed_data is a full EIP-712 message (types, primaryType, domain, message) and
our_signature is the engine's own r‖s‖v signature of the same transaction.

For each case this prints one JSON object on its own line, in input order:
  index           position of the case in the input
  address         the address of private_key
  digest          the EIP-712 digest of typed_data (0x19 ‖ 0x01 ‖ domainSeparator ‖ hashStruct)
  message_hash    the hash eth_account reports for its own signature (must equal digest)
  signature       eth_account's r‖s‖v signature of typed_data (v = 27 or 28)
  recovered       the address eth_account recovers from its own signature
  recovered_ours  the address eth_account recovers from our_signature
The first line is a header: {"eth_account": VERSION, "count": N}.
Any failure raises, so the process exits non-zero with a traceback on stderr.
"""

import json
import sys
from importlib.metadata import version

from eth_account import Account
from eth_account.messages import _hash_eip191_message, encode_typed_data
from eth_utils import keccak


def hex0x(b: bytes) -> str:
    return "0x" + bytes(b).hex()


def eip191_digest(signable) -> bytes:
    """keccak256(0x19 ‖ version ‖ header ‖ body), computed by hand as a cross-check."""
    return keccak(b"\x19" + signable.version + signable.header + signable.body)


def main() -> int:
    if len(sys.argv) != 2:
        print("usage: eth_account_sign.py CASES.json", file=sys.stderr)
        return 2
    with open(sys.argv[1], encoding="utf-8") as f:
        cases = json.load(f)["cases"]

    print(json.dumps({"eth_account": version("eth-account"), "count": len(cases)}))
    for index, case in enumerate(cases):
        key = bytes.fromhex(case["private_key"].removeprefix("0x"))
        signable = encode_typed_data(full_message=case["typed_data"])
        if signable.version != b"\x01":
            raise AssertionError(f"case {index}: EIP-191 version {signable.version!r} is not 0x01")

        digest = _hash_eip191_message(signable)
        if digest != eip191_digest(signable):
            raise AssertionError(f"case {index}: eth_account's digest disagrees with keccak256")

        signed = Account.sign_message(signable, private_key=key)
        recovered = Account.recover_message(signable, signature=signed.signature)
        ours = bytes.fromhex(case["our_signature"].removeprefix("0x"))
        recovered_ours = Account.recover_message(signable, signature=ours)

        print(
            json.dumps(
                {
                    "index": index,
                    "address": Account.from_key(key).address.lower(),
                    "digest": hex0x(digest),
                    "message_hash": hex0x(signed.message_hash),
                    "signature": hex0x(signed.signature),
                    "recovered": recovered.lower(),
                    "recovered_ours": recovered_ours.lower(),
                }
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
