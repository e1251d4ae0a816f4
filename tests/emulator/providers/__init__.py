"""Resource providers of the emulator: one module per namespace (or family), discovered automatically.

Every module here that exports RESOURCE_TYPES is loaded by the engine at start; see tests/emulator/PROVIDERS.md
for the interface and tests/emulator/framework.py for its reference.
"""
