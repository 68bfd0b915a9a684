from django.urls import path

from . import views, views_browse, views_restrictions

urlpatterns = [
    path("title/<slug:slug>/", views.title_detail, name="title-detail"),
    path("title/<slug:slug>/poster.svg", views.title_poster, name="title-poster"),
    # One URL per artwork variant (catalog.posters.VARIANTS); the bare poster.svg is the default.
    path("title/<slug:slug>/poster/<str:variant>.svg", views.title_poster, name="title-poster-variant"),
    path("title/<slug:slug>/preview/", views.title_preview, name="title-preview"),
    path("title/<slug:slug>/rate/", views.title_rate, name="title-rate"),
    path("title/<slug:slug>/list/", views.title_list, name="title-list"),
    path("title/<slug:slug>/hide/", views.title_hide, name="title-hide"),
    path("title/<slug:slug>/exclude/", views.title_exclude, name="title-exclude"),
    path("watch/<slug:slug>/", views.watch, name="watch"),
    path("watch/<slug:slug>/heartbeat/", views.watch_heartbeat, name="watch-heartbeat"),
    path(
        "title/<slug:slug>/continue-watching/",
        views.continue_watching_remove,
        name="continue-watching-remove",
    ),
    path("people/<slug:slug>/", views.person_detail, name="person-detail"),
    path("browse/", views_browse.browse, name="browse"),
    path("browse/<slug:genre>/", views_browse.browse, name="browse-genre"),
    path("search/", views_browse.search, name="search"),
    path("search/suggest/", views_browse.search_suggest, name="search-suggest"),
    path("search/history/clear/", views_browse.search_history_clear, name="search-history-clear"),
    path("my-list/", views_browse.my_list, name="my-list"),
    path("history/", views_browse.history, name="history"),
    path("account/activity/", views_browse.account_activity, name="account-activity"),
    path("history/clear/", views_browse.history_clear, name="history-clear"),
    path("history/<slug:slug>/remove/", views_browse.history_remove, name="history-remove"),
    path("ratings/", views_browse.my_ratings, name="my-ratings"),
    path("profiles/<int:pk>/restrictions/", views_restrictions.profile_restrictions, name="profile-restrictions"),
]
