"""What runs the server: the runtime every handler reads (`runtime`), API keys and tokens to identities
(`identities`), the guards and reach (`access`), the one error map (`problems`), dependencies, hardening, telemetry,
logs, the outage log, health and metrics routes, and the OpenAPI finishing touches.

May import the core. Knows no capability: a capability's state lives on `app.state` under its own name, and the
runtime reaches it only through callbacks app.py hands it (`searched`, `caches`). Capabilities import it."""
