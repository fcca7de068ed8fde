"""What accounts tells the apps that stand on it. accounts imports none of
them: they connect to these signals in their AppConfig.ready."""

from django.dispatch import Signal

#: Sent by accounts.services.user_mark_email_verified when a user's email
#: becomes proven (the welcome email's verification link or a set-password
#: link was used), once per user, and by user_add for an account an ADMIN adds
#: with a password (the ADMIN vouches for the address): after that change
#: commits (outside its lock on the user's row, so a receiver may take other
#: locks, such as a lead's). A receiver's failure is logged, not raised: the
#: address stays proven. Until then, anyone could have registered the address:
#: nothing may be handed to the account on the strength of its email. Arguments: user.
user_email_verified = Signal()

#: Sent by accounts.services.user_update before a user's role changes, inside
#: its transaction, with the user's row locked. What the role holds in another
#: app (a seat, a place on a bootcamp's staff) belongs to that app: a receiver
#: refuses the change by raising ValidationError({"role": ...}) with its own
#: code, and nothing is written. Arguments: user (as stored, with the old
#: role), role (the new one).
user_role_changing = Signal()

#: Sent by the admin after it deactivates a user, to ask the apps what the user
#: still holds there: each receiver returns one sentence naming it (a bootcamp
#: they teach, the open leads they own) or None, and the admin shows the
#: sentences, so that someone hands those on. A deactivation is never refused:
#: locking someone out can't wait. Arguments: user.
user_still_holds = Signal()

#: Sent by accounts.services.user_update once a deactivated user is active
#: again, after the change commits (outside its lock on the user's row), so a
#: receiver may take other locks. Arguments: user.
user_reactivated = Signal()
