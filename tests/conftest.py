"""Test-suite wide pytest configuration: the emulator fixture (`emulator`) comes from its plugin."""

pytest_plugins = ["tests.emulator.pytest_plugin"]
