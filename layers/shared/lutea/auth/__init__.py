"""Auth primitives: tokens, passwords, one-time codes. Guards live in lutea.http.guards."""
