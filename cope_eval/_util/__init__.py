"""Small helpers the layers share: atomic file writes, formula-safe CSV cells, process liveness, a
cache bounded by the memory its values hold, and giving freed memory back to the system."""
