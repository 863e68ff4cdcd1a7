"""Test support: real local servers (fake OpenAI and Jina endpoints), corpora, fixtures."""
