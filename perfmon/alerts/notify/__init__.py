"""Notifications: what an alert's transitions tell each channel, a durable outbox, and the senders."""
