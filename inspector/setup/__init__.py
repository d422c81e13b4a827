"""Configuring the server side: nginx (discovery documents, the 401 challenge, the token
log), ORDS (role, privilege, JWT profile) and the identity provider's checklist.

Every change is planned first (a unified diff or PL/SQL to read), applied only on consent,
validated (``nginx -t``, read back, doctor's probe), rolled back on any failure and
recorded in an audit file.
"""
