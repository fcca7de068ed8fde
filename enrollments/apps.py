from django.apps import AppConfig


class EnrollmentsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "enrollments"

    def ready(self):
        from accounts.models import User
        from bootcamps.models import Bootcamp
        from cohortly.counting import connect_signals
        from enrollments.models import Enrollment

        # Enrollment list counts are cached per version of what they count and
        # search (cohortly.counting).
        connect_signals(Enrollment, User, Bootcamp)

        from bootcamps.signals import capacity_changed
        from enrollments.services import on_capacity_changed

        capacity_changed.connect(on_capacity_changed, dispatch_uid="enrollments-capacity-changed")
