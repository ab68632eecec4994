"""What-if: the form, the server's training jobs, watching one live, its results and their comparison."""
