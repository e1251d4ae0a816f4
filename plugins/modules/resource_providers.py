#!/usr/bin/python
# Copyright: ComplianceFlow platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: resource_providers
short_description: Register Azure resource providers in the subscription
version_added: 0.3.0
description:
  - Registers the given resource provider namespaces (C(Microsoft.Network), C(Microsoft.Cache), ...) in the
    subscription and waits until Azure reports them C(Registered). A write to a namespace the subscription is not
    registered for is refused with C(MissingSubscriptionRegistration); C(playbooks/bootstrap.yml) registers every
    namespace the collection uses, once per subscription.
  - Reads all providers in one request; registers only the namespaces not yet registered (a second run changes
    nothing and sends no write).
options:
  namespaces:
    description: The provider namespaces to register.
    type: list
    elements: str
    required: true
  wait_seconds:
    description: How long to wait for a registration to finish (Azure takes seconds to minutes).
    type: int
    default: 600
extends_documentation_fragment:
  - complianceflow.azure_infra.azure_auth
  - complianceflow.azure_infra.attributes
author:
  - ComplianceFlow platform engineering (@complianceflow)
"""

EXAMPLES = r"""
- name: Register the namespaces the collection uses
  complianceflow.azure_infra.resource_providers:
    namespaces: [Microsoft.Network, Microsoft.Storage, Microsoft.KeyVault]
"""

RETURN = r"""
registered:
  description: The namespaces this task registered (or would register, in check mode).
  returned: always
  type: list
  elements: str
states:
  description: The registration state of every requested namespace after the task.
  returned: always
  type: dict
"""

import time

from ansible_collections.complianceflow.azure_infra.plugins.module_utils.azure_module import AzureModule

PROVIDERS_API = "2021-04-01"


def main() -> None:
    az = AzureModule(argument_spec={
        "namespaces": {"type": "list", "elements": "str", "required": True},
        "wait_seconds": {"type": "int", "default": 600},
    })
    wanted = list(dict.fromkeys(az.params["namespaces"]))
    base = f"/subscriptions/{az.subscription_id}/providers"
    listed = az.call(az.client.list, base, PROVIDERS_API)
    states = {str(p.get("namespace", "")).lower(): str(p.get("registrationState", "")) for p in listed}
    missing = [ns for ns in wanted if states.get(ns.lower()) != "Registered"]
    if missing and not az.check_mode:
        for namespace in missing:
            az.call(az.client.post, f"{base}/{namespace}/register", PROVIDERS_API)
        deadline = time.monotonic() + az.params["wait_seconds"]
        pending = list(missing)
        while pending:
            for namespace in list(pending):
                body = az.call(az.client.get, f"{base}/{namespace}", PROVIDERS_API) or {}
                states[namespace.lower()] = str(body.get("registrationState", ""))
                if states[namespace.lower()] == "Registered":
                    pending.remove(namespace)
            if pending and time.monotonic() > deadline:
                az.module.fail_json(msg=f"resource providers still registering after {az.params['wait_seconds']} s: "
                                        f"{', '.join(pending)}", states=states)
            if pending:
                time.sleep(2)
    az.changed = bool(missing)
    if az.module._diff and missing:
        az.record_diff("resource_providers", {"before": {ns: states.get(ns.lower(), "") for ns in missing},
                                              "after": dict.fromkeys(missing, "Registered")})
    az.exit(registered=missing, states={ns: ("Registered" if ns in missing and az.check_mode else
                                             states.get(ns.lower(), "")) for ns in wanted})


if __name__ == "__main__":
    main()
