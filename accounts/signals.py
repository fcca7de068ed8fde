"""What accounts tells the apps that stand on it. accounts imports none of
them: they connect to these signals in their AppConfig.ready."""

from django.dispatch import Signal

#: Sent by accounts.services.user_register once a new user is saved, inside
#: its transaction: a receiver's writes commit or roll back with the
#: registration. Arguments: user.
user_registered = Signal()
