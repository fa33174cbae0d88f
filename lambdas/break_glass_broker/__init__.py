"""The break-glass broker (handler: `lambdas.break_glass_broker.handler.lambda_handler`).

The only holder of the right to mint break-glass Vault tokens. It is called three ways: through its
function URL (AWS_IAM auth, so AWS tells it who the caller is) for request, approve, deny, cancel,
activate, revoke, status and list; by a one-shot EventBridge Scheduler schedule that revokes a grant when
its window ends; and by a periodic schedule, the sweeper, that revokes anything still active past its window
and expires requests nobody activated in time.
"""

# Request states, as stored in the table's `status` attribute.
PENDING = "pending"
ACTIVATING = "activating"
ACTIVE = "active"
REVOKED = "revoked"
DENIED = "denied"
CANCELLED = "cancelled"
EXPIRED = "expired"
FAILED = "failed"
FINAL_STATES = (REVOKED, DENIED, CANCELLED, EXPIRED, FAILED)

# The CloudWatch namespace the sweeper publishes to; the broker's IAM policy allows exactly this one.
METRIC_NAMESPACE = "Candlefish/BreakGlass"
SWEPT_METRIC = "GrantsRevokedBySweeper"
