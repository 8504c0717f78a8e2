"""The loyalty rules, pure Python: no framework, no SQL."""
