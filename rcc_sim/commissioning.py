"""Who commissions placements for each LA's children, and what they can draw on.

In the status quo every LA is its own commissioner: its in-house foster carers and its own
children's homes are open only to its own children. A Regional Care Co-operative (issue 3) is
a commissioner shared by several LAs; pooling is then a different ``commissioner`` mapping,
not different code.
"""

from __future__ import annotations

import numpy as np


class Commissioning:
    def __init__(self, model):
        world = model.world
        n = world.n_la
        self.commissioner = np.arange(n)  # LA index -> commissioner id
        self.own_search_order = self._own_search_order(world)

    def _own_search_order(self, world) -> list[np.ndarray]:
        """For each LA, the LAs whose in-house units its commissioner may use, nearest first."""
        c = self.commissioner
        return [[(j, d) for j, d in world.neighbour_list[i] if c[j] == c[i]] for i in range(world.n_la)]
