"""Readers and writers of agent descriptions and design files, one module per format."""
