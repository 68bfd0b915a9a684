from django import template

from privacy.selectors import policy_review_needed as _needed

register = template.Library()


@register.simple_tag(takes_context=True)
def policy_review_needed(context) -> bool:
    """Whether the signed-in account should review its choices under the current policy.

    A template tag rather than a context processor, so only pages that include the banner
    pay its query; the answer is kept on the request for repeated includes.
    """
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return False
    if not hasattr(request, "_privacy_review_needed"):
        request._privacy_review_needed = _needed(user.pk)
    return request._privacy_review_needed
