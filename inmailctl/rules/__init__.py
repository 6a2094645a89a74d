"""The rules core: pure functions over plain values; no files, no clock, no Typer, no Rich."""
