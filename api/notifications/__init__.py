"""Notifications to members: reminders, gifts, tier changes."""
