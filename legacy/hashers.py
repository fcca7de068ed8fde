"""The Node backend's bcrypt hashes, verified as they are and upgraded at first login.

The importer stores a Node hash (`$2a$`, `$2b$` or `$2y$`, any cost) as
`legacy_bcrypt$<hash>`. Django's check_password verifies it with this hasher and,
because it is not the first entry of PASSWORD_HASHERS, re-hashes the password with
the preferred one (Argon2) on the first successful login.
"""

import bcrypt
from django.contrib.auth.hashers import BCryptPasswordHasher
from django.utils.crypto import constant_time_compare

#: The node `bcrypt` and `bcryptjs` packages hash only the first 72 bytes of a
#: password; the Python package refuses longer ones instead of cutting them.
BCRYPT_MAX_BYTES = 72


class LegacyBcryptPasswordHasher(BCryptPasswordHasher):
    algorithm = "legacy_bcrypt"
    library = "bcrypt"

    @staticmethod
    def wrap(node_hash: str) -> str:
        """The stored form of a hash the Node backend wrote."""
        return f"{LegacyBcryptPasswordHasher.algorithm}${node_hash}"

    def encode(self, password, salt):
        password = password.encode()[:BCRYPT_MAX_BYTES]
        return self.wrap(bcrypt.hashpw(password, salt).decode("ascii"))

    def verify(self, password, encoded):
        algorithm, node_hash = encoded.split("$", 1)
        if algorithm != self.algorithm:
            return False
        try:
            return constant_time_compare(encoded, self.encode(password, node_hash.encode("ascii")))
        except ValueError:  # not a bcrypt hash at all (a damaged import)
            return False

    def must_update(self, encoded):
        # Never the preferred hasher: check_password replaces it with Argon2 at
        # the first successful login whatever this says.
        return True
