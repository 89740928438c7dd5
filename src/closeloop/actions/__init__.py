"""The orchestration layer: one module per verb, each one transaction that chains the domain apps.

A domain app's services change only their own tables (plus the outbox and the timeline); anything of the
form "store this, and then raise alerts, and then open a case" lives here, so the whole chain of one
action commits together or not at all.
"""
