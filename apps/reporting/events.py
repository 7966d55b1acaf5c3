"""Live-push event names of public participation (sent to ``apps.core.live.GROUP_COMMAND``).

Payloads carry the tip id, code and category only: never anything of the tipster.
"""
TIP_NEW = "tip.new"  # a tip arrived from the public
TIP_CHANGED = "tip.changed"  # triaged, linked, dispatched or closed
TIP_MESSAGE = "tip.message"  # the tipster wrote in the thread
REWARD_CHANGED = "reward.changed"  # a reward was proposed, approved, claimed or paid
