"""Delivery channels for notifications (group robots, webhooks): outbound HTTP stays in
api/, the rules of who hears what stay in models/notify.py."""
