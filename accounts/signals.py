"""What accounts tells the apps that stand on it. accounts imports none of
them: they connect to these signals in their AppConfig.ready."""

from django.dispatch import Signal

#: Sent by accounts.services.user_mark_email_verified when a user's email
#: becomes proven (the welcome email's verification link or a set-password
#: link was used), once per user, inside the
#: caller's transaction: a receiver's writes commit or roll back with it. Not
#: sent for accounts created verified (by an ADMIN, with a password). Until
#: then, anyone could have registered the address: nothing may be handed to
#: the account on the strength of its email. Arguments: user.
user_email_verified = Signal()
