"""What OPTIONS says a route takes."""

from rest_framework.metadata import SimpleMetadata


class ActionMetadata(SimpleMetadata):
    """DRF's metadata, describing each method with the serializer of the action it
    runs. A viewset answers OPTIONS as the action "metadata", so one that picks
    its serializer by action (the public lead form, enrolling, creating a user)
    described its POST with the read serializer: read-only fields, nothing to send.
    Each method is described on its own, as that method's action."""

    def determine_actions(self, request, view):
        action_map = getattr(view, "action_map", None)
        if not action_map:
            return super().determine_actions(request, view)
        asked, names = view.action, view.http_method_names
        actions = {}
        try:
            for method in {"PUT", "POST"} & set(view.allowed_methods):
                view.action = action_map.get(method.lower(), asked)
                view.http_method_names = [method.lower()]
                actions.update(super().determine_actions(request, view))
                view.http_method_names = names
        finally:
            view.action, view.http_method_names = asked, names
        return actions
