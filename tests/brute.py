"""Brute-force references shared by test modules (a test module never imports another)."""


def brute_force_outcome(x_hat, x0, train):
    if list(x_hat) == list(x0):
        return "recovered", next((j for j, s in enumerate(train) if list(s) == list(x_hat)), None), 0
    for j, s in enumerate(train):
        if list(s) == list(x_hat):
            return "other_basin", j, 0
    best = None
    for j, s in enumerate(train):
        d = sum(int(a != b) for a, b in zip(s, x_hat))
        if best is None or d < best[1]:
            best = (j, d)
    return ("new", best[0], best[1]) if best else ("new", None, len(x_hat))
