"""REST views: artists, albums, and albums nested under their artist."""
from rest_framework import viewsets

from .models import Album, Artist
from .serializers import AlbumSerializer, ArtistSerializer


class ArtistViewSet(viewsets.ModelViewSet):
    queryset = Artist.objects.all()
    serializer_class = ArtistSerializer
    filterset_fields = ["genre"]


class AlbumViewSet(viewsets.ModelViewSet):
    queryset = Album.objects.all()
    serializer_class = AlbumSerializer
    filterset_fields = ["artist", "released"]


class ArtistAlbumViewSet(viewsets.ModelViewSet):
    serializer_class = AlbumSerializer

    def get_queryset(self):
        return Album.objects.filter(artist_id=self.kwargs["artist_pk"])
