"""numba kernel of :func:`core.metrics.distances.emd_auction`: Bertsekas' auction with epsilon scaling."""
from __future__ import annotations

import math

import numba
import numpy as np


@numba.njit(cache=True)
def _auction(a, b, eps_fraction, eps_decay):
    """Mean cost of a bijection of clouds a, b (n,3) within ``eps_fraction`` x the largest distance of the optimum.

    Forward auction (Gauss-Seidel, Bertsekas 1988): each unassigned point of ``a`` bids for the point
    of ``b`` with the lowest cost + price, raising its price by the gap to the second best + eps. An
    assignment that ends a phase is eps-complementary-slack, so its total cost is within n*eps of the
    optimum; eps shrinks by ``eps_decay`` per phase, prices carry over.
    """
    n = a.shape[0]
    cost = np.empty((n, n), dtype=np.float32)
    largest = 0.0
    for i in range(n):
        for j in range(n):
            d = math.sqrt((a[i, 0] - b[j, 0]) ** 2 + (a[i, 1] - b[j, 1]) ** 2 + (a[i, 2] - b[j, 2]) ** 2)
            cost[i, j] = d
            largest = max(largest, d)
    prices = np.zeros(n)
    owner = np.empty(n, dtype=np.int64)
    assigned = np.empty(n, dtype=np.int64)
    queue = np.empty(n, dtype=np.int64)
    eps_final = max(eps_fraction * largest, 1e-12)
    eps = max(largest / 4.0, eps_final)
    while True:
        owner[:] = -1
        assigned[:] = -1
        for i in range(n):
            queue[i] = i
        head, size = 0, n
        while size > 0:
            i = queue[head]
            head = (head + 1) % n
            size -= 1
            best, second, best_j = np.inf, np.inf, 0
            for j in range(n):
                w = cost[i, j] + prices[j]
                if w < best:
                    second, best, best_j = best, w, j
                elif w < second:
                    second = w
            prices[best_j] += (second - best) + eps
            previous = owner[best_j]
            owner[best_j], assigned[i] = i, best_j
            if previous >= 0:
                assigned[previous] = -1
                queue[(head + size) % n] = previous
                size += 1
        if eps <= eps_final:
            break
        eps = max(eps * eps_decay, eps_final)
    total = 0.0
    for i in range(n):
        total += cost[i, assigned[i]]
    return total / n


@numba.njit(parallel=True, cache=True)
def auction_batch(a, b, eps_fraction, eps_decay):
    """:func:`_auction` of every pair (a[k], b[k]) of (B,n,3) batches, in parallel over pairs."""
    out = np.empty(a.shape[0])
    for k in numba.prange(a.shape[0]):
        out[k] = _auction(a[k], b[k], eps_fraction, eps_decay)
    return out
