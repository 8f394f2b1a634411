"""The service's HTTP API as the drivers use it: the same calls through the lab's front HAProxy or through
CloudFront, so lab drills and AWS drills exercise one client."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import requests

from ops.driver import DriverError

TIMEOUT_S = 2.0


def region_serving(base_url: str) -> str | None:
    """The region that answers ``/health`` at ``base_url`` (never cached by CloudFront, unlike ``/version``);
    None when nothing does."""
    try:
        answer = requests.get(f"{base_url}/health", timeout=TIMEOUT_S)
    except requests.RequestException:
        return None
    return str(answer.json().get("region")) if answer.status_code == 200 else None


def write(base_url: str, record: Mapping[str, Any]) -> int:
    """:raise DriverError: no answer, or the write was not acknowledged."""
    try:
        answer = requests.post(f"{base_url}/api/records", json=dict(record), timeout=TIMEOUT_S)
    except requests.RequestException as error:
        raise DriverError(f"write refused: {type(error).__name__}") from None
    if answer.status_code not in (200, 201):
        raise DriverError(f"write refused: HTTP {answer.status_code}")
    return int(answer.json()["id"])


def read(base_url: str, record_id: int) -> Mapping[str, Any] | None:
    """None when the record does not exist there. :raise DriverError: any other answer."""
    try:
        answer = requests.get(f"{base_url}/api/records/{record_id}", timeout=TIMEOUT_S)
    except requests.RequestException as error:
        raise DriverError(f"read {record_id}: {type(error).__name__}") from None
    if answer.status_code == 404:
        return None
    if answer.status_code != 200:
        raise DriverError(f"read {record_id}: HTTP {answer.status_code}")
    return dict(answer.json())
