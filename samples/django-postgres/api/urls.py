"""URL routes: /api/artists/ and /api/artists/<id>/albums/ (nested)."""
from django.contrib import admin
from django.urls import include, path
from rest_framework_nested import routers

from music import views

router = routers.DefaultRouter()
router.register(r"artists", views.ArtistViewSet)
router.register(r"albums", views.AlbumViewSet)

artists_router = routers.NestedDefaultRouter(router, r"artists", lookup="artist")
artists_router.register(r"albums", views.ArtistAlbumViewSet, basename="artist-albums")

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include(router.urls)),
    path("api/", include(artists_router.urls)),
]
