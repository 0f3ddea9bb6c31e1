"""Model backends behind one interface (:class:`detector.backends.base.Backend`)."""
