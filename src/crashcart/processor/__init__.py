"""The processor: turns stored raw crashes into processed, signed, indexed crashes (issue #4)."""
