"""tests/golden/corpus.json is exactly what Apache's Python runtime writes today.

The Rust side decodes each entry into Mosaic's generated type, re-encodes it and compares
bytes; these tests make sure the corpus it reads is current, consistent and spec-shaped.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

import golden
from thrift_stubs import Stubs


@pytest.fixture(scope="module")
def regenerated(stubs: Stubs) -> list[dict[str, str]]:
    return golden.corpus(stubs.ttypes)


def test_committed_corpus_matches_apache_runtime(regenerated: list[dict[str, str]]) -> None:
    committed_text = golden.CORPUS_PATH.read_text()
    committed: list[dict[str, str]] = json.loads(committed_text)
    by_name = {entry["name"]: entry for entry in committed}
    for entry in regenerated:
        old = by_name.get(entry["name"])
        assert old == entry, (
            f"corpus entry {entry['name']}: committed {old}, Apache's runtime writes {entry}; "
            "run `.venv/bin/python tests/python/golden.py` and commit tests/golden/corpus.json"
        )
    assert [e["name"] for e in committed] == [e["name"] for e in regenerated], (
        "the committed corpus has other entries or another order than golden.py makes: "
        "run `.venv/bin/python tests/python/golden.py`"
    )
    assert committed_text == golden.render(regenerated), (
        "tests/golden/corpus.json is not formatted as golden.py writes it: regenerate it"
    )


@pytest.mark.parametrize("compact", [False, True], ids=["binary", "compact"])
def test_every_entry_round_trips_through_apache_runtime(
    regenerated: list[dict[str, str]], stubs: Stubs, compact: bool
) -> None:
    """Decoding an entry and encoding it again gives the same bytes (what Rust will do).

    Except for entries with absent optional-with-default fields, which Apache's Python
    runtime reads back as set to their defaults.
    """
    key = "compact" if compact else "binary"
    for entry in regenerated:
        if entry["name"] in golden.ABSENT_OPTIONAL_DEFAULTS:
            continue
        cls: Any = getattr(stubs.ttypes, entry["type"])
        data = bytes.fromhex(entry[key])
        again = golden.encode(golden.decode(cls, data, compact=compact), compact=compact)
        assert again.hex() == entry[key], (
            f"{entry['name']} ({key}): decoded and re-encoded as {again.hex()}, "
            f"expected {entry[key]}"
        )


@pytest.mark.parametrize("compact", [False, True], ids=["binary", "compact"])
def test_c_extension_writes_the_same_bytes(stubs: Stubs, compact: bool) -> None:
    """Apache's two encoders (pure Python and fastbinary) agree on every corpus value."""
    for name, value in golden.build_values(stubs.ttypes):
        pure = golden.encode(value, compact=compact)
        fast = golden.encode(value, compact=compact, accelerated=True)
        assert fast == pure, f"{name}: fastbinary wrote {fast.hex()}, pure Python {pure.hex()}"


def test_absent_optional_defaults_are_really_absent(regenerated: list[dict[str, str]]) -> None:
    for entry in regenerated:
        if entry["name"] in golden.ABSENT_OPTIONAL_DEFAULTS:
            assert entry["binary"] == "00" and entry["compact"] == "00", (
                f"{entry['name']} should be an empty struct, is {entry}"
            )


def test_corpus_bytes_follow_the_specs(regenerated: list[dict[str, str]]) -> None:
    """Two entries spelled out by hand from thrift-binary/compact-protocol.md."""
    by_name = {entry["name"]: entry for entry in regenerated}
    bonk = by_name["bonk_typical"]  # Bonk{message="bonk", type=1}
    expected_binary = "0b000100000004626f6e6b0800020000000100"
    expected_compact = "1804626f6e6b150200"
    assert bonk["binary"] == expected_binary, f"bonk_typical binary: {bonk['binary']}"
    assert bonk["compact"] == expected_compact, f"bonk_typical compact: {bonk['compact']}"
    sparse = by_name["large_deltas_sparse"]  # LargeDeltas{check_false=true (id 1500), []}
    # Compact long form: type byte (bool true = 1), then the zigzag varint field id 1500.
    assert sparse["compact"].startswith("01b817"), f"large_deltas_sparse: {sparse['compact']}"
