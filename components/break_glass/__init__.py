"""Break-glass access: the requests table, the broker Lambda and its function URL, the people's roles, the
one-shot revocation schedules and the sweeper (`component.BreakGlassAccess`; documents in `policies`)."""
