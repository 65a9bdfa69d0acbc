"""The follow replies: following, unfollowing, and the list, each saying how to stop."""

from __future__ import annotations

from db.follows import FOLLOW_LIMIT, Followed, FollowOutcome
from db.models import Follow, Race
from render import limits
from render.follow import (
    already_following_text,
    choice_name,
    choice_value,
    follow_full_text,
    followed_text,
    following_embed,
    no_follows_text,
    not_following_text,
    unfollowed_all_text,
    unfollowed_text,
)

ALABAMA = Race(id=1, cycle=2020, state="AL", office="senate", seat="Class II", special=False)


def test_following_a_race() -> None:
    text = followed_text(ALABAMA, FollowOutcome(Followed.ADDED, 3), "!")
    assert text.startswith(
        f"You now follow the **2020 Alabama U.S. Senate (Class II)** (3 of {FOLLOW_LIMIT})."
    )
    assert text.endswith("To stop: `!unfollow alabama 2020`. Your list: `!following`.")
    assert already_following_text(ALABAMA, "/") == (
        "You already follow the **2020 Alabama U.S. Senate (Class II)**. "
        "To stop: `/unfollow alabama 2020`. Your list: `/following`."
    )
    assert follow_full_text(FollowOutcome(Followed.FULL, 25), "!").startswith(
        "You follow 25 races, the most one member can."
    )


def test_unfollowing() -> None:
    assert unfollowed_all_text(3) == "You no longer follow any race (3 removed)."
    assert unfollowed_all_text(0) == "You follow no races."
    assert not_following_text(ALABAMA, "!") == (
        "You don't follow the **2020 Alabama U.S. Senate (Class II)**. Your list: `!following`."
    )
    assert unfollowed_text(ALABAMA, "!").endswith("Follow again: `!follow alabama 2020`.")
    assert no_follows_text("!") == "You follow no races. Follow one: `!follow alabama`."


def test_the_list_fits_with_every_race_one_may_follow() -> None:
    races = [
        Race(id=i, cycle=2000 + i, state="AL", office="house", seat=str(i) * 30, special=True)
        for i in range(FOLLOW_LIMIT)
    ]
    follows = [Follow(user_id=1, race_id=r.id, race=r) for r in races]
    embed = following_embed(follows, "!")
    assert embed.title == f"You follow {FOLLOW_LIMIT} races (of {FOLLOW_LIMIT})"
    assert len((embed.description or "").splitlines()) == FOLLOW_LIMIT
    assert embed.footer.text == "The desk's updates to these reach you by DM. Stop them all: !unfollow all"
    assert len(embed) <= limits.EMBED_TOTAL
    one = following_embed(follows[:1], "!")
    assert one.title == f"You follow 1 race (of {FOLLOW_LIMIT})"


def test_autocomplete_choices_fit_discords_100_characters() -> None:
    long = Race(id=9, cycle=2020, state="AL", office="senate", seat="S" * 200, special=True)
    assert len(choice_name(long)) <= 100 and len(choice_value(long)) <= 100
    assert choice_value(ALABAMA) == "alabama 2020"
