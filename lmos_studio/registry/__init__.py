"""Agent registries: the embedded SQLite store, the WoT TDD server, remote clients and mDNS discovery."""
