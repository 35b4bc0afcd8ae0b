"""One router per resource; thin: each route checks its operation and calls the domain."""
