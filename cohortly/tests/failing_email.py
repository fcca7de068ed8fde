from django.core.mail.backends.base import BaseEmailBackend


class FailingBackend(BaseEmailBackend):
    """A mail provider that is down."""

    def send_messages(self, email_messages):
        raise ConnectionRefusedError("mail provider unreachable")


class RefusingBackend(BaseEmailBackend):
    """A mail server refusing the recipient, in the words smtplib gives (its
    message names the address)."""

    def send_messages(self, email_messages):
        import smtplib

        raise smtplib.SMTPRecipientsRefused(
            {message.to[0]: (550, b"5.1.1 User unknown") for message in email_messages}
        )
