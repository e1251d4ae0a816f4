# Copyright: ComplianceFlow platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # Option names and meanings follow azure.azcollection, so existing playbooks and AWX credentials work.
    DOCUMENTATION = r"""
options:
  auth_source:
    description:
      - Where credentials come from.
      - V(auto) uses, in order, the module options (O(client_id)/O(secret)/O(tenant) or O(ad_user)/O(password)),
        the E(AZURE_CLIENT_ID)/E(AZURE_SECRET)/E(AZURE_TENANT) (or E(AZURE_AD_USER)/E(AZURE_PASSWORD))
        environment variables that AWX's Azure Resource Manager credential injects, a profile of
        C(~/.azure/credentials), a managed identity when E(IDENTITY_ENDPOINT) or E(MSI_ENDPOINT) is set,
        then the Azure CLI.
      - V(env) reads the E(AZURE_*) environment variables (module options still override single values).
      - V(credential_file) reads the O(profile) section of C(~/.azure/credentials).
      - V(msi) uses the managed identity of the machine (O(client_id) selects a user-assigned identity).
      - V(cli) uses the signed-in Azure CLI (C(az login)).
    type: str
    default: auto
    choices: [auto, cli, credential_file, env, msi]
  profile:
    description:
      - Section of C(~/.azure/credentials) to use; falls back to E(AZURE_PROFILE), then C(default).
    type: str
  subscription_id:
    description:
      - Azure subscription ID. Falls back to E(AZURE_SUBSCRIPTION_ID), then the credential file profile, then
        (with O(auth_source=cli)) the CLI's default subscription.
    type: str
  client_id:
    description:
      - Application (client) ID of a service principal, or of a user-assigned managed identity with
        O(auth_source=msi). Falls back to E(AZURE_CLIENT_ID).
    type: str
  secret:
    description:
      - Client secret of the service principal. Falls back to E(AZURE_SECRET). Never logged.
    type: str
  tenant:
    description:
      - Microsoft Entra tenant ID. Falls back to E(AZURE_TENANT).
    type: str
  ad_user:
    description:
      - User name for username/password sign-in (no MFA). Falls back to E(AZURE_AD_USER).
    type: str
  password:
    description:
      - Password for O(ad_user). Falls back to E(AZURE_PASSWORD). Never logged.
    type: str
  cloud_environment:
    description:
      - V(AzureCloud), V(AzureUSGovernment), V(AzureChinaCloud), or the URL of a custom cloud's metadata
        endpoint (Azure Stack Hub, the local emulator); endpoints are then read from
        C(<url>/metadata/endpoints?api-version=2019-05-01).
      - Falls back to E(AZURE_CLOUD_ENVIRONMENT).
    type: str
    default: AzureCloud
  cert_validation_mode:
    description:
      - V(ignore) turns off TLS certificate validation (only for test clouds with self-signed certificates).
        Falls back to E(AZURE_CERT_VALIDATION_MODE); default V(validate).
      - Custom CAs are better trusted with E(REQUESTS_CA_BUNDLE) and E(SSL_CERT_FILE).
    type: str
    choices: [validate, ignore]
  disable_instance_discovery:
    description:
      - Skip Microsoft Entra instance discovery (needed for custom clouds whose authority Entra does not know,
        such as Azure Stack Hub or the local emulator). Falls back to E(AZURE_DISABLE_INSTANCE_DISCOVERY).
    type: bool
    default: false
  api_profile:
    description:
      - Accepted for compatibility with azure.azcollection; each module pins the API versions it was
        tested with, so only V(latest) is meaningful.
    type: str
    default: latest
  x509_certificate_path:
    description:
      - Path to a PEM file holding the service principal's certificate and private key, used instead of
        O(secret) for certificate-based sign-in (with O(client_id) and O(tenant)).
    type: path
  thumbprint:
    description:
      - Accepted for compatibility with azure.azcollection; the certificate in O(x509_certificate_path) identifies
        itself, so the thumbprint is not needed.
    type: str
  timeout:
    description:
      - Seconds this task waits for Azure's long-running operations (and for retries of throttled or busy
        requests) before it fails. The operation may still finish in Azure; a re-run picks it up.
    type: int
    default: 1800
notes:
  - Credentials can be passed once per play with C(module_defaults) and the action group
    C(group/complianceflow.azure_infra.azure).
  - Requires the Python packages C(azure-identity) and C(azure-mgmt-core) on the managed host (usually localhost).
"""
