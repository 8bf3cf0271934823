"""What the windowed policies share: ``matching`` (minimum-cost bipartite matching and the
drivers' arrays), ``travel_matrix`` (travel minutes and distances between many points at
once) and ``bundles`` (orders of one restaurant carried together, drop-offs sequenced)."""
