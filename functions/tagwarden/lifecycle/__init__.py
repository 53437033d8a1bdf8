"""What happens to resources nobody can be named for: quarantine, grace period, release, delete,
and the notifications people receive. Pure here; the clouds act through the ports in ports.py."""
