"""Artists and their albums."""
from django.db import models


class Artist(models.Model):
    name = models.CharField(max_length=200, unique=True)
    genre = models.CharField(max_length=100, blank=True)

    def __str__(self):
        return self.name


class Album(models.Model):
    artist = models.ForeignKey(Artist, related_name="albums", on_delete=models.CASCADE)
    title = models.CharField(max_length=200)
    released = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["artist__name", "released", "title"]

    def __str__(self):
        return f"{self.title} ({self.artist})"
