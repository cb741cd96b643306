"""An adversarial XP kernel client: opens Connect streams to a pager and sends what a test asks."""
