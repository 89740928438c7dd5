"""Names, companies and contact details for the demo's customers.

Phone numbers come from the ranges reserved for fiction (NANP 555-0100..0199, Ofcom's
07700 900xxx), and email domains are example domains, so the demo can never reach a
real person even when SMS and email are configured.
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass


def _words(text: str) -> list[str]:
    return text.split()


FIRST_NAMES_US = _words("""
    James Mary Robert Patricia Michael Jennifer David Linda William Elizabeth Carlos Maria José
    Guadalupe Wei Mei Hiroshi Yuki Andre Keisha DeShawn Latoya Raj Anjali Mohammed Fatima Tyler Brittany
    Kevin Ashley Brian Megan Jason Nicole Ethan Olivia Noah Emma Liam Ava Dmitri Svetlana Thanh Linh
    Samuel Grace Isaiah Destiny Connor Shannon
""")
LAST_NAMES_US = _words("""
    Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez Gonzalez
    Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Nguyen Kim Patel Shah Chen Wang Sullivan
    O'Brien Murphy Washington Robinson Clark Lewis Walker Young Allen King Wright Scott Rossi Kowalczyk
    Novak Ivanov Haddad Okonkwo Yamamoto Schmidt Cohen Baptiste
""")
FIRST_NAMES_UK = _words("""
    Oliver Amelia George Isla Harry Ava Jack Mia Charlie Ivy Thomas Freya Oscar Florence William Poppy
    Alfie Evie Arthur Rosie Muhammad Aisha Arjun Priya Kwame Adaeze Callum Niamh Rhys Seren Fionn Aoife
    Tomasz Zofia Luca Giulia Hamza Maryam Ellis Harriet
""")
LAST_NAMES_UK = _words("""
    Smith Jones Taylor Brown Williams Wilson Johnson Davies Robinson Wright Thompson Evans Walker White
    Roberts Green Hall Wood Jackson Clarke Patel Khan Ahmed Hussain Singh Begum Okafor Mensah Campbell
    MacDonald Kelly O'Sullivan Byrne Hughes Lewis Morgan Nowak Kowalski Ricci Moreau
""")
BUSINESS_WORDS = _words("""
    Harbor Summit Maple Granite Bluebird Riverside Lantern Copperline Northgate Oakridge Fairview
    Redwood Beacon Juniper Kestrel Meridian Pinecrest Saltmarsh
""")
BUSINESS_KINDS = [
    "Dental",
    "Bakery",
    "Plumbing",
    "Architects",
    "Physio",
    "Accounting",
    "Vets",
    "Design Studio",
    "Law Office",
    "Print Shop",
    "Logistics",
    "Café",
    "Florists",
    "Opticians",
]
PERSONAL_DOMAINS = ["example.com", "example.net", "example.org", "mail.example.com", "inbox.example.net"]
US_AREA_CODES = ["617", "781", "857", "508", "401", "303", "720", "212"]


@dataclass(frozen=True)
class Customer:
    id: str
    name: str
    email: str
    phone: str
    tier: str
    contact_ok: bool
    region: str  # "NA" or "EMEA": which half of the company serves them
    segment: str
    company: str


def ascii_slug(text: str, separator: str = ".") -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    words = "".join(c if c.isalnum() else " " for c in plain.lower()).split()
    return separator.join(words)


def _tier(rng: random.Random, segment: str) -> str:
    weights = {"HOME": (10, 30, 57, 3), "SMB": (30, 45, 22, 3), "ENT": (80, 18, 0, 2)}[segment]
    return rng.choices(["Gold", "Silver", "Bronze", ""], weights=weights)[0]


def make_customers(rng: random.Random, count: int, *, emea_share: float = 0.3) -> list[Customer]:
    """`count` distinct customers with unique ids and phone numbers."""
    us_phones = [f"+1{area}5550{n:03d}" for area in US_AREA_CODES for n in range(100, 200)]
    uk_phones = [f"+447700900{n:03d}" for n in range(1000)]
    rng.shuffle(us_phones)
    rng.shuffle(uk_phones)
    ids = rng.sample(range(10000, 99999), count)
    customers = []
    for index in range(count):
        region = "EMEA" if rng.random() < emea_share else "NA"
        firsts, lasts = (FIRST_NAMES_UK, LAST_NAMES_UK) if region == "EMEA" else (FIRST_NAMES_US, LAST_NAMES_US)
        first, last = rng.choice(firsts), rng.choice(lasts)
        segment = rng.choices(["HOME", "SMB", "ENT"], weights=(70, 22, 8))[0]
        company = ""
        if segment == "HOME":
            local = ascii_slug(f"{first} {last}") + rng.choice(["", "", str(rng.randint(1, 99))])
            domain = rng.choice(PERSONAL_DOMAINS)
        else:
            company = f"{rng.choice(BUSINESS_WORDS)} {rng.choice(BUSINESS_KINDS)}"
            local = ascii_slug(first)
            domain = ascii_slug(company, "-") + ".example.com"
        customers.append(
            Customer(
                id=f"C-{ids[index]}",
                name=f"{first} {last}",
                email=f"{local}@{domain}",
                phone=(uk_phones if region == "EMEA" else us_phones).pop(),
                tier=_tier(rng, segment),
                contact_ok=rng.random() < 0.88,
                region=region,
                segment=segment,
                company=company,
            )
        )
    return customers
