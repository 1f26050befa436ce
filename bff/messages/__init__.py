"""Messages to members: in-app notifications, mail and push, delivered from the outbox
(`bff.outbox`) by procrastinate jobs (`bff.messages.jobs`); push devices."""
