"""The core's domain: the directory model, the referral rules citing the law, schedules, geometry, scope, access.

Pure: no I/O, no asyncpg, no litestar (the `pure` contract). Imports nothing of the service outside `domain`.
Everything may import it."""
