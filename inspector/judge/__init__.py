"""Judging tokens the way ORDS will: verdict registry, checks, expectations, analyzer."""
