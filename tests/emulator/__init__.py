"""A local Azure emulator (custom cloud over HTTPS) used as the test oracle; see docs/emulator.md."""
