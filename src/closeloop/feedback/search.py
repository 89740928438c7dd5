"""What full-text search reads on PostgreSQL, defined once so the query and its index are the same expression.

The GIN indexes of migration 0004_search_indexes are built from these very expressions; the planner uses an
expression index only for a query that repeats the expression exactly.
"""

from __future__ import annotations

from django.contrib.postgres.search import SearchVector

# The English dictionary: "refunds" finds "refund", "failing" finds "failed"; ticket numbers keep their form.
SEARCH_CONFIG = "english"
RESPONSE_INDEX = "response_search"
CUSTOMER_INDEX = "customer_search"


def response_vector() -> SearchVector:
    """The customer's words and the ticket of a response."""
    return SearchVector("words", "ticket", config=SEARCH_CONFIG)


def customer_vector() -> SearchVector:
    return SearchVector("name", config=SEARCH_CONFIG)
