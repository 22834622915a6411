"""Small helpers the layers share: atomic file writes, formula-safe CSV cells, process liveness."""
