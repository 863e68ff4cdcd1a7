"""Entry point for ``python -m chat_tui``."""

from chat_tui.launch import main

if __name__ == "__main__":
    main()
