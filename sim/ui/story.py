"""The guided sequence of presenter mode: one slide per documented case.

The text is ours, written for a class: what the case is, what to look at in the live
views, and a question to put to the room. Figures quoted from the seed document are
marked as such in the scenarios' ``sources:`` lists.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Slide:
    """One slide of presenter mode.

    Attributes:
        title: The slide's heading.
        scenario: The shipped scenario it runs live, or None for a text-only slide.
        points: Paragraphs of the slide's text.
        look_at: What to look at in the live views.
        ask: A question to put to the room.
        whatifs: Names of the what-ifs offered on keys 1-4 (see ``sim.ui.whatifs``).
        views: Which live views to show (``headline`` is always shown as tiles; the
            first two others are drawn).
    """

    title: str
    scenario: str | None
    points: tuple[str, ...]
    look_at: tuple[str, ...] = ()
    ask: str = ""
    whatifs: tuple[str, ...] = ()
    views: tuple[str, ...] = field(default=("headline", "money"))
    days: float | None = None
    """Shorter runs for the slide (whole scenarios still load in Explore)."""


SLIDES: tuple[Slide, ...] = (
    Slide(
        title="Who is working when a post gets a thousand likes?",
        scenario=None,
        points=(
            "Likes, shares, follows and comments look like free, spontaneous attention. "
            "Much of it is work: tiny tasks done for a few cents, for points, or for a cause.",
            "The model has clients who order engagement, recruiters who split the order "
            "into micro-tasks, influencers who relay calls to their followers, workers who "
            "do the tasks, and a platform whose moderators remove what they catch.",
            "Each slide runs one documented case live. Press → for the next slide, ← to go "
            "back, Space to play or pause, S to step one hour, R to reset, and 1 to 4 for "
            "the what-ifs.",
        ),
        views=(),
    ),
    Slide(
        title="An ordinary micro-task market",
        scenario="baseline_microtask_market",
        points=(
            "Brands and app makers buy likes, follows, comments and posts on a broker that "
            "keeps about a tenth of the price.",
            "Workers in three regions pick up tasks when the pay, after the unpaid minutes "
            "spent finding each task, is worth their time.",
        ),
        look_at=(
            "The share bar: most of each dollar does reach the workers here.",
            "The pay distribution: hourly pay is still low, and a few workers do most tasks.",
        ),
        ask="If workers get nine cents of every dime, why is their hourly pay so low?",
        whatifs=("pay_in_points", "to_bots", "to_pyramid", "double_moderators"),
        views=("headline", "money", "pay"),
        days=3,
    ),
    Slide(
        title="2016: content farms and click farms (centralised)",
        scenario="us2016_content_farms",
        points=(
            "A content farm writes divisive posts and pays the platform to promote them; a "
            "like farm and a bottom-of-the-market click network add likes and shares.",
            "Every order goes to one recruiter that pays its workers directly: centralised "
            "crowdturfing. At the bottom, a click pays a tiny fraction of a cent.",
        ),
        look_at=(
            "Where the money goes: the farms' margins and the platform's promotion fees.",
            "How much of the engagement moderators remove, and the reach that survives.",
        ),
        ask="Who earns the most from a like that costs the buyer a fraction of a cent?",
        whatifs=("double_moderators", "pay_in_points", "to_pyramid", "to_bots"),
        views=("headline", "money", "series"),
        days=3,
    ),
    Slide(
        title="2017 Socialist primary: the influencer pyramid (distributed)",
        scenario="ps2017_influencer_pyramid",
        points=(
            "The campaign hires an agency, the agency a platform that pays influencers "
            "per like (35 to 70 euro cents in the seed document); the influencers ask their "
            "followers to act, and the followers act for free.",
            "The order travels down a chain: distributed crowdturfing.",
        ),
        look_at=(
            "The money stops at the influencers: the followers who click get nothing.",
            "Each like costs far more than at a click farm, and moderation catches little.",
        ),
        ask="Why would a campaign pay fifty cents a like when farms sell likes for less?",
        whatifs=("double_moderators", "to_bots"),
        views=("headline", "money", "network"),
        days=3,
    ),
    Slide(
        title="2017 Fillon campaign: points instead of pay (gamified)",
        scenario="fillon2017_points",
        points=(
            "Supporters link their accounts to a campaign platform and perform actions for "
            "points: one for a routine task, two or three when it is urgent.",
            "Collective objectives (such as 116 tweets or 2,000 shares), badges and a "
            "leaderboard make the points feel worth something. Nobody is paid.",
        ),
        look_at=(
            "No money moves, yet hours of work are done: the unpaid hours and what the "
            "same actions would have cost at market prices.",
            "The leaderboard and whether the objectives are met in time.",
        ),
        ask="What did the supporters get back for their work, and who gained from it?",
        whatifs=("double_moderators", "to_pyramid", "to_bots"),
        views=("headline", "series", "gamification"),
        days=3,
    ),
    Slide(
        title="Bots or people?",
        scenario="bots_vs_click_workers",
        points=(
            "The seed document's choice: 100 dollars of software that sends 10,000 posts, "
            "or 10,000 click workers at a cent a post.",
            "Both orders run at once on the same platform, against the same detector and "
            "moderators; each buyer re-orders what moderators remove, up to 150 dollars.",
        ),
        look_at=(
            "How many posts of each kind survive moderation: the buyer gets far more from "
            "people, which is why farms hire humans.",
            "Accounts banned on each side.",
        ),
        ask="If both cost the same, why does a buyer switch from bots to people?",
        whatifs=("double_moderators",),
        views=("headline", "campaigns", "groups", "money"),
    ),
    Slide(
        title="The platform's side of the ledger",
        scenario="us2016_content_farms",
        points=(
            "A platform earns from advertising on the attention it gathers, and fake "
            "engagement that survives moderation still brings audiences to the ads.",
            "Moderators are a low-paid click workforce too: the platform pays them out of "
            "the same advertising income.",
        ),
        look_at=(
            "The platform node of the money diagram: promotion fees and advertising on the "
            "surviving engagement, against the moderators' wages.",
        ),
        ask="Does a platform gain or lose when it doubles its moderators?",
        whatifs=("double_moderators",),
        views=("headline", "money"),
        days=3,
    ),
    Slide(
        title="What to take away",
        scenario=None,
        points=(
            "Engagement is produced by work, paid or unpaid, organised in chains.",
            "The further down the chain, the smaller the share: margins, influencers and "
            "platforms keep most of the money, and points can replace pay altogether.",
            "Centralised farms are cheap but easier to catch; pyramids and genuine-looking "
            "communities are costly but survive; bots are cheapest and easiest to catch.",
            "Open Explore to change any number and see for yourself; every set-up can be "
            "exported and re-run with clickfarm run.",
        ),
        views=(),
    ),
)
