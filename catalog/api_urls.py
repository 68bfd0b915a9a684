from django.urls import path

from . import apis

urlpatterns = [
    path("titles/", apis.TitleListApi.as_view(), name="api-titles"),
    path("titles/<int:pk>/", apis.TitleDetailApi.as_view(), name="api-title"),
    path("profiles/<int:pid>/ratings/", apis.RatingListApi.as_view(), name="api-ratings"),
    path("profiles/<int:pid>/ratings/<int:title_id>/", apis.RatingDetailApi.as_view(), name="api-rating"),
    path("profiles/<int:pid>/my-list/", apis.MyListApi.as_view(), name="api-my-list"),
    path("profiles/<int:pid>/my-list/<int:title_id>/", apis.MyListItemApi.as_view(), name="api-my-list-item"),
    path("profiles/<int:pid>/viewing/", apis.ViewingApi.as_view(), name="api-viewing"),
    path("profiles/<int:pid>/viewing/<int:title_id>/", apis.ViewingItemApi.as_view(), name="api-viewing-item"),
    path("profiles/<int:pid>/hidden/", apis.HiddenListApi.as_view(), name="api-hidden"),
    path("profiles/<int:pid>/hidden/<int:title_id>/", apis.HiddenItemApi.as_view(), name="api-hidden-item"),
    path("profiles/<int:pid>/restrictions/", apis.RestrictionListApi.as_view(), name="api-restrictions"),
    path("profiles/<int:pid>/restrictions/<int:title_id>/", apis.RestrictionItemApi.as_view(), name="api-restriction"),
]
