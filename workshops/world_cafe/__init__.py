"""The world café format: tables, rounds, rotation, hosts."""

from .format import FORMAT, WorldCafe

__all__ = ["FORMAT", "WorldCafe"]
