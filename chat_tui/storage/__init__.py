"""History storage: TinyDB files written atomically, behind ``SessionRepository``."""
