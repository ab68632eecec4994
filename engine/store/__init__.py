"""Storage: atomic writes, the markers that say a folder is ours, where the engine may write, and
operating-system errors in words."""
