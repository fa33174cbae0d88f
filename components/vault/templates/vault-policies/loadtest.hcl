# loadtest: the token `tools.loadtest` runs with (an administrator issues it for the run:
# `vault token create -policy=loadtest -ttl=1h`). It writes and reads its own canary secrets under
# secret/canary/loadtest/ and nothing else: no listing, no metadata, no deletes, no other path.

path "secret/data/canary/loadtest/*" {
  capabilities = ["create", "read", "update"]
}
