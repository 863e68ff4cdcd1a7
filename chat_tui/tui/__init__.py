"""The Textual front end: the only package in chat-tui that imports Textual."""
