from django.apps import AppConfig


class EnrollmentsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "enrollments"

    def ready(self):
        from accounts.signals import user_reactivated, user_role_changing
        from bootcamps.signals import capacity_changed, opening_changed
        from cohortly.caching import changes_also
        from enrollments.models import Enrollment
        from enrollments.services import (
            on_capacity_changed,
            on_opening_changed,
            on_user_reactivated,
            on_user_role_changing,
        )

        # A bootcamp shows its seats, and its enrollments their waitlist
        # positions: both are counted from the bootcamp's enrollments.
        changes_also(Enrollment, "bootcamp")

        # A larger capacity frees seats for the waitlist, whichever path changed it.
        capacity_changed.connect(on_capacity_changed, dispatch_uid="enrollments-capacity-changed")
        # So does a bootcamp opening again, or a waiting student active again.
        opening_changed.connect(on_opening_changed, dispatch_uid="enrollments-opening-changed")
        user_reactivated.connect(on_user_reactivated, dispatch_uid="enrollments-user-reactivated")

        # A student holding a seat or a waitlist place stays a student.
        user_role_changing.connect(on_user_role_changing, dispatch_uid="enrollments-user-role-changing")

        from accounts.signals import user_still_holds
        from enrollments.selectors import on_user_still_holds

        # A deactivated student's seat is nobody's until it is freed: the admin says where.
        user_still_holds.connect(on_user_still_holds, dispatch_uid="enrollments-user-still-holds")
