"""The fast `.meta` reader agrees with the full YAML reader on every file it accepts, and
declines everything else."""

from __future__ import annotations

from typing import Optional

import pytest

from agent_vault._format import fast_mapping, parse_yaml_mapping

AGREE = [
    b"name: a/b\ngroup: a\ncreated: 2026-11-22T10:00:00Z\nrotated: 2026-11-22T10:00:00Z\n"
    b"authorized_agents:\n- bot\n- ci\nrecipients: sha256:00ff\n",
    b"name: x\ngroup: default\ncreated: 2025-01-01T00:00:00Z\nauthorized_agents: []\n",
    b"name: x\ngroup: no\nexpires: ~\nrotated: null\nauthorized_agents:\n",
    b"name: x\ngroup: on\nextra_agents:\n- yes\nexpires: 2027-01-31\n",
]
DECLINE = [
    b"name: 'quoted'\ngroup: a\n",
    b"name: x # comment\ngroup: a\n",
    b"---\nname: x\ngroup: a\n",
    b"name: x\ngroup: a\nauthorized_agents:\n  - indented\n",
    b"name: x\nname: y\n",
    b"name: [unclosed\n",
    b"created: 2025-01-01 10:00:00+00:00\n",
    b"- not a mapping\n",
    b"\\xff\\xfe",
    b"",
]


@pytest.mark.parametrize("data", AGREE)
def test_fast_reader_agrees_with_yaml(data: bytes) -> None:
    """Accepted files give exactly what the YAML 1.2 (strings-only) reader gives."""
    fast: Optional[dict] = fast_mapping(data)  # type: ignore[type-arg]
    assert fast is not None
    assert fast == parse_yaml_mapping("x.meta", data)


@pytest.mark.parametrize("data", DECLINE)
def test_fast_reader_declines_anything_unusual(data: bytes) -> None:
    """Quoting, comments, documents markers, indentation, duplicates and errors go to YAML."""
    assert fast_mapping(data) is None
