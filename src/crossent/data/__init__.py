"""Data sets that ship with crossent (see README.md beside this file)."""
