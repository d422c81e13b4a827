"""The ORDS database side: repository, stand-in, schema facts, PL/SQL, apply, audit."""
