"""Customer comments for the demo, composed from sentence parts so that they rarely repeat.

A comment is a situation (what the customer contacted us about), one or two sentences on
how it went (in the mood the score says), sometimes a word about the agent and a closing
remark. The parts mention real-sounding details ({minutes} on hold, the agent's first
name, an amount) filled in from the same seeded random generator as the rest of the demo.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

UNHAPPY, NEUTRAL, DELIGHTED = "unhappy", "neutral", "delighted"
MOODS = (UNHAPPY, NEUTRAL, DELIGHTED)


@dataclass(frozen=True)
class Locale:
    """Words that differ between the American and the British side of the company."""

    currency: str
    technician: str
    holiday: str
    good: str


US = Locale(currency="$", technician="technician", holiday="Thanksgiving week", good="great")
UK = Locale(currency="£", technician="engineer", holiday="half term", good="brilliant")

SUPPORT_SITUATIONS: dict[str, list[str]] = {
    "outage": [
        "My internet kept dropping every evening for about {days} days.",
        "The connection went down on {weekday} and stayed down for {hours} hours.",
        "I called because the Wi-Fi kept cutting out during my work calls.",
        "We had no service at all on {weekday} morning.",
        "The line was dropping every few minutes, which made working from home impossible.",
    ],
    "speed": [
        "I'm paying for 500 Mbps and getting closer to 40.",
        "Speeds have been terrible in the evenings since the start of the month.",
        "Video calls kept freezing, so I asked for a speed check.",
        "Upload speed dropped to almost nothing after the last outage.",
    ],
    "billing": [
        "I was charged {currency}{amount} more than my usual bill.",
        "My promotional discount disappeared from the bill without warning.",
        "I was billed twice for the same month.",
        "I got charged a late fee even though I pay by direct debit.",
        "There was a {currency}{amount} equipment fee on my bill for a router I returned.",
    ],
    "installation": [
        "The {technician} was booked for {weekday} between 8 and 12.",
        "I had a new fibre installation booked.",
        "My installation had already been rescheduled once.",
        "We moved house and needed the service set up at the new address.",
    ],
    "equipment": [
        "My router kept rebooting itself several times a day.",
        "The new router would not connect to half of our devices.",
        "The replacement router arrived without a power cable.",
        "The mesh extenders stopped talking to the main router after an update.",
    ],
    "account": [
        "I was locked out of my online account and could not reset the password.",
        "I needed to change the account holder after my father passed away.",
        "I wanted to upgrade my plan before my contract ended.",
        "I asked to move my account to paperless billing.",
    ],
}

STORE_SITUATIONS: dict[str, list[str]] = {
    "equipment": [
        "I came into the store to swap a faulty router.",
        "I brought back the old set-top box and router.",
        "I needed a replacement power supply for my router.",
    ],
    "account": [
        "I came in to sign up for the new fibre plan.",
        "I popped into the store to sort out my bill in person.",
        "I visited the store to add a second line for my home office.",
    ],
    "billing": [
        "I went to the store because the phone queue was over an hour.",
        "I came in to dispute a {currency}{amount} charge.",
    ],
}

EXPERIENCE: dict[str, dict[str, list[str]]] = {
    UNHAPPY: {
        "outage": [
            "I was told it was fixed but it dropped again the same night.",
            "It took three calls before anyone took it seriously.",
            "Nobody could tell me when it would be back.",
            "The status page said everything was fine the whole time.",
            "I was asked to restart the router for the fourth time, as if I hadn't already.",
        ],
        "speed": [
            "The line test 'passed' and that was the end of the conversation.",
            "I was offered a more expensive plan instead of a fix.",
            "Nothing has changed since the call.",
            "I was told evenings are just busy and there is nothing to be done.",
        ],
        "billing": [
            "I was promised a refund that never showed up.",
            "Each person I spoke to gave me a different explanation.",
            "It has still not been corrected on this month's bill.",
            "I was told it would take up to two billing cycles to sort out.",
        ],
        "installation": [
            "Nobody turned up and nobody called.",
            "The {technician} arrived at 4pm, did half the job and left.",
            "I took a day off work for an appointment that was cancelled by text at 11.",
            "The cable was left hanging across the front of the house.",
        ],
        "equipment": [
            "The replacement has exactly the same problem.",
            "I was told a new one would be posted and it never arrived.",
            "I was charged for a replacement that should have been free under warranty.",
        ],
        "account": [
            "It took {minutes} minutes and I still can't log in.",
            "I had to send the same documents three times.",
            "The change I asked for was never made.",
        ],
    },
    NEUTRAL: {
        "outage": [
            "It was fixed in the end, but it took longer than it should have.",
            "The fix worked, although I had to chase it once.",
            "Service is back, but nobody explained what went wrong.",
        ],
        "speed": [
            "Speeds are better now, though still not what I pay for.",
            "They reset something on the line and it seems okay for now.",
        ],
        "billing": [
            "The charge was reversed, but it took two calls.",
            "It is sorted now; I just wish it hadn't happened in the first place.",
            "I got a credit, although it was less than I expected.",
        ],
        "installation": [
            "The install was done, just a day later than planned.",
            "The {technician} was fine, the booking process less so.",
        ],
        "equipment": [
            "The swap was quick enough once I got through.",
            "The new router works; setting it up was a bit fiddly.",
        ],
        "account": [
            "It was done, but the website could have handled this without a call.",
            "All sorted, though it took a while.",
        ],
    },
    DELIGHTED: {
        "outage": [
            "{agent} ran a line test while we talked and found the fault straight away.",
            "The fault was fixed within the hour and I got a text when it was done.",
            "They booked a {technician} for the next morning and it has been perfect since.",
        ],
        "speed": [
            "After a quick line reset I'm getting the full speed for the first time.",
            "{agent} spotted an old setting on the router and speeds tripled.",
        ],
        "billing": [
            "The charge was refunded on the spot and I got a goodwill credit on top.",
            "{agent} explained the bill line by line and fixed the mistake in minutes.",
        ],
        "installation": [
            "The {technician} was early, tidy and explained everything.",
            "The whole installation was done in under two hours.",
        ],
        "equipment": [
            "A new router was ready for me in minutes.",
            "They set the new router up for me before I left.",
        ],
        "account": [
            "Everything was done in one call.",
            "It took five minutes and I got a confirmation email straight away.",
        ],
    },
}

GENERAL: dict[str, list[str]] = {
    UNHAPPY: [
        "I spent {minutes} minutes on hold before I got through.",
        "Nobody called me back as promised.",
        "I had to explain the whole problem again to every person I spoke to.",
        "The chat kept disconnecting me.",
        "I was transferred {transfers} times.",
        "I work from home, so this has cost me real money.",
    ],
    NEUTRAL: [
        "The wait on the phone was about {minutes} minutes.",
        "The person I spoke to was polite but clearly following a script.",
        "It would help to get updates without having to ask.",
        "",
    ],
    DELIGHTED: [
        "I barely waited on the phone at all.",
        "Honestly the best support call I've had with any provider.",
        "Really impressed with how quickly this was sorted.",
        "I didn't have to repeat myself once.",
        "",
    ],
}

GENERAL_IN_STORE: dict[str, list[str]] = {
    UNHAPPY: [
        "I queued for {minutes} minutes and only one till was open.",
        "The store had none in stock and couldn't say when they would.",
        "I was sent to the phone line anyway, so the trip was pointless.",
        "Nobody called me back as promised.",
    ],
    NEUTRAL: [
        "The queue was about {minutes} minutes.",
        "The store was busy but the staff were polite.",
        "",
    ],
    DELIGHTED: [
        "I was in and out in ten minutes.",
        "The store was spotless and someone greeted me straight away.",
        "I didn't have to repeat myself once.",
        "",
    ],
}

AGENT_REMARKS: dict[str, list[str]] = {
    UNHAPPY: [
        "{agent} was not rude, just unhelpful.",
        "{agent} seemed to have no idea how to fix it.",
        "{agent} promised a call back that never came.",
    ],
    NEUTRAL: [
        "{agent} was friendly enough.",
        "{agent} did what they could.",
    ],
    DELIGHTED: [
        "{agent} was patient and explained everything clearly.",
        "{agent} went above and beyond.",
        "{agent} was amazing, please pass on my thanks.",
        "{agent} went the extra mile to get it sorted.",
        "Please thank {agent}, an absolute lifesaver.",
        "{agent} was excellent from start to finish.",
    ],
}

CLOSERS: dict[str, list[str]] = {
    UNHAPPY: [
        "Very disappointed.",
        "I expected a lot better.",
        "This is not good enough.",
        "I'm losing patience.",
        "Please sort this out properly.",
    ],
    NEUTRAL: ["Okay overall.", "Could be better, could be worse.", "Fine in the end.", ""],
    DELIGHTED: ["Thank you!", "Great service, thanks.", "{good} job, really.", "Keep it up.", "Very happy customer."],
}

# Churn and legal signals the keyword rule looks for; some are negated on purpose ("I don't
# want to cancel"), which the detection does not count.
RISK_SENTENCES = [
    "If this isn't fixed by {weekday} I will cancel.",
    "I want a refund for the days without service.",
    "I'm already looking to switch provider.",
    "Never again.",
    "I've spoken to a lawyer about the early termination fee.",
    "I'd like to know how to cancel my contract without the exit fee.",
    "I'll be taking this to the ombudsman.",
    "I don't want to cancel, I just want it to work.",
]

NPS_COMMENTS: dict[str, list[str]] = {
    UNHAPPY: [
        "The price went up again without any real improvement in service.",
        "Reliability has been poor for months.",
        "Customer service is impossible to reach.",
        "Outages every other week and no compensation.",
        "The contract terms are confusing and the exit fees are outrageous.",
        "New customers get better deals than loyal ones.",
        "Speeds never match what was advertised.",
    ],
    NEUTRAL: [
        "Service is fine most of the time, but the price keeps creeping up.",
        "Does the job. Nothing special.",
        "Good speeds, average customer service.",
        "Reliable enough, though support could be quicker.",
        "Happy with the internet, less happy with the bill.",
    ],
    DELIGHTED: [
        "Fast, reliable and the support team actually knows what they're doing.",
        "I've had no outages in two years.",
        "The speeds are {good} and the price is fair.",
        "Every time I've called, the problem was fixed on the first call.",
        "The store staff are always helpful.",
        "Best provider I've had, by a long way.",
    ],
}

INTERVIEWER_NOTES: dict[str, list[str]] = {
    UNHAPPY: [
        "Customer sounded close to cancelling; mentioned a competitor's offer.",
        "Customer asked for a manager to call back.",
        "Elderly customer, struggled with the router set-up; would appreciate a home visit.",
        "Very frustrated; works from home and lost a day's work.",
        "Customer was upset and ended the call early.",
    ],
    NEUTRAL: [
        "Scored it fairly high but said 'it'll do for now'; sounded unhappy about the price.",
        "Customer hesitated on the resolution question; the fix may not have held.",
        "Short answers; customer seemed in a hurry.",
    ],
    DELIGHTED: [
        "Customer asked us to pass on their thanks to the agent.",
        "Very warm call; customer praised the store team.",
    ],
}

WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


def _fill(text: str, rng: random.Random, agent: str, locale: Locale) -> str:
    values = {
        "agent": agent or "the person I spoke to",
        "minutes": rng.choice([15, 20, 25, 35, 40, 45, 50, 55, 70, 90]),
        "days": rng.randint(2, 9),
        "hours": rng.randint(3, 30),
        "transfers": rng.choice(["three", "four", "five"]),
        "weekday": rng.choice(WEEKDAYS),
        "amount": f"{rng.choice([12, 18, 24, 35, 49, 60, 85])}.{rng.choice(['00', '50', '99'])}",
        "currency": locale.currency,
        "technician": locale.technician,
        "good": locale.good,
    }
    filled = text.format(**values)
    return filled[:1].upper() + filled[1:]


def _join(sentences: list[str]) -> str:
    return " ".join(s for s in sentences if s)


def support_comment(rng: random.Random, *, mood: str, agent: str, store: bool, locale: Locale, risk: bool) -> str:
    """A comment after a support ticket or a store visit, in the given mood."""
    situations = STORE_SITUATIONS if store else SUPPORT_SITUATIONS
    topic = rng.choice(sorted(situations))
    parts = [rng.choice(situations[topic]), rng.choice(EXPERIENCE[mood][topic])]
    if rng.random() < 0.55:
        parts.append(rng.choice((GENERAL_IN_STORE if store else GENERAL)[mood]))
    if agent and rng.random() < (0.6 if mood == DELIGHTED else 0.3):
        parts.append(rng.choice(AGENT_REMARKS[mood]))
    if risk:
        parts.append(rng.choice(RISK_SENTENCES))
    if rng.random() < 0.5:
        parts.append(rng.choice(CLOSERS[mood]))
    return _join([_fill(p, rng, agent, locale) for p in parts if p])


def relationship_comment(rng: random.Random, *, mood: str, locale: Locale, risk: bool) -> str:
    """A reason for an NPS score: one or two remarks about the relationship as a whole."""
    first, second = rng.sample(NPS_COMMENTS[mood], 2)
    parts = [first]
    if rng.random() < 0.45:
        parts.append(second)
    if risk:
        parts.append(rng.choice(RISK_SENTENCES))
    return _join([_fill(p, rng, "", locale) for p in parts])


def interviewer_note(rng: random.Random, *, mood: str) -> str:
    return rng.choice(INTERVIEWER_NOTES[mood])


# A second survey on the same ticket after the team called back: it supersedes the first.
FOLLOW_UP_OPENERS = [
    "Update: {agent} called me back the next day.",
    "Update: I got a call from the team lead about my earlier survey.",
    "Update: someone actually rang me after my last review.",
]
FOLLOW_UP_OUTCOMES = [
    "They found the real cause this time and it has been fine since.",
    "The charge has been refunded in full and they apologised.",
    "A {technician} came out and replaced the faulty box outside.",
]


def follow_up_comment(rng: random.Random, *, agent: str, locale: Locale) -> str:
    """The comment of a customer surveyed again after the team recovered the situation."""
    parts = [rng.choice(FOLLOW_UP_OPENERS), rng.choice(FOLLOW_UP_OUTCOMES), rng.choice(CLOSERS[DELIGHTED])]
    return _join([_fill(p, rng, agent, locale) for p in parts])


# What the team writes on a case. Contact notes say what was found and done; the demo
# picks them by outcome.
NO_ANSWER_NOTES = [
    "Called, no answer. Left a voicemail with my direct number.",
    "No answer on the mobile; sent an email asking for a good time to call.",
    "Tried twice this morning, straight to voicemail. Will try again after 5.",
]
# What was found on the call, each with the things that fix it.
CONTACT_STORIES: list[tuple[str, list[str]]] = [
    (
        "Spoke to {customer}. The fault was on our side: a failing port at the street cabinet.",
        [
            "Booked a {technician} for {weekday} morning and confirmed by text.",
            "Moved the line to a new port; stable since.",
        ],
    ),
    (
        "Spoke to {customer}. The double charge was a billing system error.",
        [
            "Credited {currency}{amount} to the account and apologised.",
            "Reversed the charge and added a month's discount.",
        ],
    ),
    (
        "Spoke to {customer}. The appointment had been cancelled by the scheduling system without telling anyone.",
        [
            "Rebooked for {weekday} with the first slot of the day.",
            "Booked a {technician} for {weekday} morning and confirmed by text.",
        ],
    ),
    (
        "Called {customer} back. They were still without a stable connection.",
        [
            "Raised it with the network team and promised an update within 24h.",
            "Walked them through the fix on the phone; working now.",
        ],
    ),
    (
        "Spoke to {customer}. The router was an old model that can't handle the new plan's speeds.",
        ["Posted a replacement router by next-day delivery.", "Arranged a free router swap at their nearest store."],
    ),
    (
        "Called {customer}. They mostly wanted someone to listen; the issue itself was already fixed.",
        [
            "Apologised for the hassle and waived this month's equipment fee.",
            "Apologised and gave them my direct number.",
        ],
    ),
]
INTERNAL_NOTES = [
    "Customer did not agree to be contacted. Reviewed the ticket with {agent} and corrected the account.",
    "No contact consent. Checked the line history: the fault was fixed on our side, logged for coaching.",
]
RESOLVED_NOTES = [
    "Customer confirmed everything is working. Closing.",
    "Customer happy with the credit. Closing.",
    "Follow-up call: the fix has held for three days. Closing.",
    "Customer thanked us for calling back.",
]
UNRESOLVED_NOTES = [
    "Customer has decided to leave; exit fee waived as a goodwill gesture.",
    "Could not agree on the refund amount; customer unhappy with the offer.",
    "The fault needs a street works permit; customer does not accept the wait.",
]


def case_note(rng: random.Random, notes: list[str], *, customer: str, agent: str, locale: Locale) -> str:
    """One note from `notes` with its details filled in."""
    return _fill(rng.choice(notes).replace("{customer}", customer or "the customer"), rng, agent, locale)
