"""The service layer between the UI (TUI or CLI) and storage, provider and retrieval."""
