"""Choice sets named for the OpenAPI schema (several models have a `status`)."""

from accounts.models import User
from bootcamps.models import Bootcamp
from enrollments.models import Enrollment
from leads.models import Lead

USER_ROLE = User.Role.choices
BOOTCAMP_STATUS = Bootcamp.Status.choices
BOOTCAMP_DELIVERY_FORMAT = Bootcamp.DeliveryFormat.choices
ENROLLMENT_STATUS = Enrollment.Status.choices
LEAD_STATUS = Lead.Status.choices
LEAD_SOURCE = Lead.Source.choices
