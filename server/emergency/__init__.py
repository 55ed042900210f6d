"""Emergency plans: trigger conditions, incidents with a timeline, checklist and muster, drills."""
