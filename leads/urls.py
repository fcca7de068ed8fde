"""The sales workspace, included at /sales/ with the namespace "sales"."""

from django.urls import path

from leads import views

urlpatterns = [
    path("", views.LeadListView.as_view(), name="lead_list"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("follow-ups/", views.FollowUpListView.as_view(), name="follow_ups"),
    path("dashboard/", views.DashboardView.as_view(), name="dashboard"),
    path("leads/export.csv", views.LeadExportView.as_view(), name="lead_export"),
    path("leads/new/", views.LeadCreateView.as_view(), name="lead_create"),
    path("leads/<int:pk>/", views.LeadDetailView.as_view(), name="lead_detail"),
    path("leads/<int:pk>/notes/", views.LeadNoteView.as_view(), name="lead_note"),
    path("leads/<int:pk>/status/", views.LeadStatusView.as_view(), name="lead_status"),
    path("leads/<int:pk>/owner/", views.LeadOwnerView.as_view(), name="lead_owner"),
    path("leads/<int:pk>/follow-up/", views.LeadFollowUpView.as_view(), name="lead_follow_up"),
    path("leads/<int:pk>/convert/", views.LeadConvertView.as_view(), name="lead_convert"),
]
