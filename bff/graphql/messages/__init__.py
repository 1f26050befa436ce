"""Messages 's GraphQL piece: notifications, push devices, the mail-link mutations."""
