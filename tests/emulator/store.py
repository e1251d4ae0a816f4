"""Persistent state of the emulator: resource records and long-running operations, as one JSON file.

Written atomically (temporary file + rename) after every change, so a killed emulator never leaves a torn file
and a restarted one sees exactly the last acknowledged state.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

STATE_VERSION = 1


class Store:
    def __init__(self, state_dir: Path) -> None:
        self.path = state_dir / "state.json"
        # Key: lower-cased resource ID. Value: {"id", "type", "parent", "subscription", "resource_group",
        # "body", "internal", "pending"}; "parent" is the lower-cased ID of the parent resource or scope.
        self.records: dict[str, dict[str, Any]] = {}
        self.operations: dict[str, dict[str, Any]] = {}
        # Resource provider registration per subscription: {subscription (lower): {namespace (lower): state}};
        # a namespace not listed is Registered.
        self.registrations: dict[str, dict[str, str]] = {}
        self.load()

    def load(self) -> None:
        if not self.path.exists():
            return
        data = json.loads(self.path.read_text())
        if data.get("version") != STATE_VERSION:
            raise RuntimeError(f"{self.path}: unsupported state version {data.get('version')!r}")
        self.records = data.get("records", {})
        self.operations = data.get("operations", {})
        self.registrations = data.get("registrations", {})

    def save(self) -> None:
        payload = json.dumps(
            {"version": STATE_VERSION, "records": self.records, "operations": self.operations,
             "registrations": self.registrations}, sort_keys=True
        )
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".state-", suffix=".json")
        try:
            with os.fdopen(fd, "w") as handle:
                handle.write(payload)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def clear(self) -> None:
        self.records.clear()
        self.operations.clear()
        self.registrations.clear()
        self.save()
