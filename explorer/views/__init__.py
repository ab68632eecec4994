"""Page parts with their logic: Denoise's sentence and the partners run beside it, the Entropy map's
projection panel."""
