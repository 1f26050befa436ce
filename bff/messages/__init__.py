"""Messages to members: in-app notifications, mail and push, delivered by a worker from the
outbox (`bff.outbox`); push devices."""
