"""What every stage shares: configuration, course ids and names, typed values, JSON-lines tables,
atomic writes, the step command line, and the root of user errors."""
