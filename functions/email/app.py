"""/email routes: the contact form."""

from __future__ import annotations

from aws_lambda_powertools.metrics import MetricUnit
from lutea.domain import contact
from lutea.email.service import EmailDeliveryError
from lutea.http import create_app, json_body, make_handler
from lutea.http.docs import ok
from lutea.observability import metrics
from lutea.schemas.contact import ContactIn

app = create_app()


@app.post("/email/contact", responses=ok("Success"))
def send_contact_message(body: ContactIn):
    """Send the contact form.

    `rgpd` must be true; the reCAPTCHA `token` is checked when configured; a failed send: 502
    `{success: false, message}`. Strict rate limit."""
    form = contact.ContactForm(
        last_name=body.nom, first_name=body.prenom, email=body.email, phone=body.telephone, message=body.message, token=body.token
    )
    try:
        message = contact.submit_contact_form(form)
    except EmailDeliveryError:
        # Fix: the original answered 200 {success: false}; a message that was not sent is a 502.
        metrics.add_metric(name="ContactMessagesFailed", unit=MetricUnit.Count, value=1)
        return json_body(502, {"success": False, "message": contact.FAILED_MESSAGE})
    metrics.add_metric(name="ContactMessagesSent", unit=MetricUnit.Count, value=1)
    return {"success": True, "message": message}


lambda_handler = make_handler(app)
