"""Reading nginx access logs: following, back-scanning, bulk scans, log selection."""
