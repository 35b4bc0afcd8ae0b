"""Page routers: session (sign in), console, insight (deals, law, detectors, platforms),
platform (the platform role's view) and public (the portal)."""
