from django.core.management.base import BaseCommand

from cohortly.policy import policy_markdown


class Command(BaseCommand):
    help = "Print the API's access policy (who may call each route) as a Markdown table."

    def handle(self, *args, **options):
        self.stdout.write(policy_markdown())
