"""Widgets of the chat-tui screen."""
