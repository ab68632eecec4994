"""The diffusion maths: the uniform-noise forward process, the one reverse step, ancestral sampling."""
