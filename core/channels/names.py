"""Human-looking names for Web Chat visitors who gave none ("Maya Brooks", never "Visitor 123")."""

import hashlib

FIRST_NAMES = tuple(
    """Alex Amara Ana Ben Camille Carlos Chloe Daniel Dara Elena Eli Emma Felix Hana Ines Isaac Jonas Julia Kai
    Kenji Laura Leo Lina Lucas Maya Mila Nadia Noah Nora Omar Priya Rafael Rosa Sam Sara Theo Tomas Uma Victor
    Yara Zoe Aiden Bea Clara Diego Erin Farah Hugo""".split()
)
LAST_NAMES = tuple(
    """Adams Bauer Becker Brooks Campbell Carter Costa Dubois Ellis Evans Fischer Garcia Gray Hayes Hughes Ito
    Jensen Kim Klein Lambert Lee Lopez Martin Moreau Murphy Nakamura Novak Okafor Olsen Park Patel Reed Rossi
    Santos Silva Singh Stone Suzuki Torres Vogel Walsh Weber Wood Young Ward Hale""".split()
)


def generated_name(seed: str) -> tuple[str, str]:
    """(first, last) chosen by the seed (a contact ID): the same visitor always gets the same name."""
    digest = hashlib.blake2b(seed.encode(), digest_size=8).digest()
    number = int.from_bytes(digest, "big")
    return FIRST_NAMES[number % len(FIRST_NAMES)], LAST_NAMES[(number // len(FIRST_NAMES)) % len(LAST_NAMES)]
