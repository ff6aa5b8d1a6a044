"""RankLens engine: corpus -> index -> search -> fusion -> evaluate, with no UI dependency."""
