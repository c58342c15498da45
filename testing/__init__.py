"""Test and benchmark helpers that are not part of the installed app: scoring against hand-made
ground truth (:mod:`testing.real_dev`). Importable from the project root (``uv run`` puts it on
``sys.path``); never shipped in the wheel."""
