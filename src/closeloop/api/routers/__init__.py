"""One Ninja router per resource; closeloop.api.app mounts them under /api/v1."""
