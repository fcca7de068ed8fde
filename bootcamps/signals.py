"""What bootcamps tells the apps that stand on it. bootcamps imports none of
their services: they connect to these signals in their AppConfig.ready."""

from django.dispatch import Signal

#: Sent by bootcamps.services.bootcamp_update when a bootcamp's capacity
#: changed, inside its transaction and while it holds the bootcamp's row lock
#: (the lock enrollments take to use a seat): a receiver sees the seat count
#: as it stays until commit, and its writes commit with the change.
#: Arguments: bootcamp (saved, with the new capacity), old_capacity.
capacity_changed = Signal()

#: Sent by bootcamps.services.bootcamp_update when a bootcamp's status or end
#: date changed (it may take enrollments again: published anew, or its end
#: moved later), under the same lock and in the same transaction as
#: capacity_changed. Arguments: bootcamp (saved).
opening_changed = Signal()
