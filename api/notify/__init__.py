"""Delivery channels for notifications (group robots, webhooks, e-mail): outbound HTTP and
SMTP stay in api/, the rules of who hears what stay in models/notify.py."""
