from django.urls import path

from config.placeholders import todo

urlpatterns = [
    path("title/<slug:slug>/", todo, name="title-detail"),
    path("title/<slug:slug>/poster.svg", todo, name="title-poster"),
    path("title/<slug:slug>/rate/", todo, name="title-rate"),
    path("title/<slug:slug>/list/", todo, name="title-list"),
    path("watch/<slug:slug>/", todo, name="watch"),
    path("watch/<slug:slug>/heartbeat/", todo, name="watch-heartbeat"),
    path("browse/", todo, name="browse"),
    path("browse/<slug:genre>/", todo, name="browse-genre"),
    path("search/", todo, name="search"),
    path("search/suggest/", todo, name="search-suggest"),
    path("my-list/", todo, name="my-list"),
    path("history/", todo, name="history"),
    path("ratings/", todo, name="my-ratings"),
]
