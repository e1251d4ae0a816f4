# Copyright: ComplianceFlow platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ARM API versions the modules were written and tested against, in one place so an upgrade is one edit."""

from __future__ import annotations

RESOURCES = "2021-04-01"
LOCKS = "2020-05-01"
NETWORK = "2024-05-01"
PRIVATE_DNS = "2024-06-01"
STORAGE = "2023-05-01"
