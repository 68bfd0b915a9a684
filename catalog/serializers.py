"""API shapes for titles and a profile's engagement. Fields are explicit and read-only where the
server decides (ids, ownership, timestamps); writes go through catalog.services."""

from drf_spectacular.extensions import OpenApiSerializerExtension
from rest_framework import serializers

from api.fields import StrictBooleanField

from .models import (
    BlockedTitle,
    Credit,
    Episode,
    Genre,
    HiddenTitle,
    ListEntry,
    Rating,
    RatingValue,
    Season,
    Title,
    ViewingActivity,
)

# Generous bounds that keep a heartbeat inside the database column (and out of 500s).
MAX_SECONDS = 7 * 24 * 3600


class GenreSerializer(serializers.ModelSerializer):
    class Meta:
        model = Genre
        fields = ["slug", "name"]
        read_only_fields = fields


class TitleSummarySerializer(serializers.ModelSerializer):
    """A title inside another answer (a rating, a list entry, a viewing)."""

    class Meta:
        model = Title
        fields = ["id", "external_id", "name", "kind", "year", "maturity_rating"]
        read_only_fields = fields


class TitleSerializer(serializers.ModelSerializer):
    genres = GenreSerializer(many=True, read_only=True)

    class Meta:
        model = Title
        fields = [
            "id",
            "external_id",
            "slug",
            "name",
            "kind",
            "year",
            "genres",
            "maturity_rating",
            "runtime_minutes",
            "synopsis",
        ]
        read_only_fields = fields


class EpisodeSerializer(serializers.ModelSerializer):
    class Meta:
        model = Episode
        fields = ["id", "number", "name", "runtime_minutes"]
        read_only_fields = fields


class SeasonSerializer(serializers.ModelSerializer):
    episodes = EpisodeSerializer(many=True, read_only=True)

    class Meta:
        model = Season
        fields = ["number", "name", "episodes"]
        read_only_fields = fields


class CreditSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="person.name", read_only=True)

    class Meta:
        model = Credit
        fields = ["name", "role", "character"]
        read_only_fields = fields


class TitleDetailSerializer(TitleSerializer):
    seasons = SeasonSerializer(many=True, read_only=True)
    credits = CreditSerializer(many=True, read_only=True)

    class Meta(TitleSerializer.Meta):
        fields = [*TitleSerializer.Meta.fields, "imdb_id", "tmdb_id", "date_added", "seasons", "credits"]
        read_only_fields = fields


class RatingSerializer(serializers.ModelSerializer):
    title = TitleSummarySerializer(read_only=True)

    class Meta:
        model = Rating
        fields = ["title", "value", "created_at", "updated_at", "exclude_from_recommendations"]
        read_only_fields = fields


_EXCLUDE_HELP = '"Don\'t use this to recommend": kept in history and the export, ignored by training and serving.'


class RatingInputSerializer(serializers.Serializer):
    value = serializers.ChoiceField(choices=RatingValue.choices)
    exclude_from_recommendations = StrictBooleanField(required=False, help_text=_EXCLUDE_HELP)


class ExcludeInputSerializer(serializers.Serializer):
    exclude_from_recommendations = StrictBooleanField(help_text=_EXCLUDE_HELP)


class _ExcludeInputSchema(OpenApiSerializerExtension):
    """The flag is required, in a PATCH too (ViewingItemApi.patch): the body is the whole change,
    not a partial update of a resource. drf-spectacular documents every PATCH body as partial
    (all fields optional), which called a body without the flag valid; this keeps it required."""

    target_class = ExcludeInputSerializer

    def map_serializer(self, auto_schema, direction):
        schema = auto_schema._map_serializer(self.target, direction, bypass_extensions=True)
        return {**schema, "required": ["exclude_from_recommendations"]}


class HiddenTitleSerializer(serializers.ModelSerializer):
    title = TitleSummarySerializer(read_only=True)
    hidden_at = serializers.DateTimeField(source="created_at", read_only=True)

    class Meta:
        model = HiddenTitle
        fields = ["title", "hidden_at"]
        read_only_fields = fields


class BlockedTitleSerializer(serializers.ModelSerializer):
    """A viewing restriction: a title blocked for the profile (it may be above its limit)."""

    title = TitleSummarySerializer(read_only=True)

    class Meta:
        model = BlockedTitle
        fields = ["title", "created_at"]
        read_only_fields = fields


class ListEntrySerializer(serializers.ModelSerializer):
    title = TitleSummarySerializer(read_only=True)

    class Meta:
        model = ListEntry
        fields = ["title", "added_at"]
        read_only_fields = fields


class ViewingSerializer(serializers.ModelSerializer):
    title = TitleSummarySerializer(read_only=True)
    progress = serializers.FloatField(read_only=True, help_text="0..1")

    class Meta:
        model = ViewingActivity
        fields = [
            "title",
            "episode",
            "position_seconds",
            "duration_seconds",
            "completed",
            "progress",
            "started_at",
            "last_watched_at",
            "exclude_from_recommendations",
        ]
        read_only_fields = fields


class ViewingInputSerializer(serializers.Serializer):
    """A player heartbeat."""

    title = serializers.IntegerField(min_value=1, help_text="The title's id.")
    episode = serializers.IntegerField(
        min_value=1, allow_null=True, required=False, default=None, help_text="An episode of that title, or null."
    )
    position_seconds = serializers.IntegerField(min_value=0, max_value=MAX_SECONDS)
    duration_seconds = serializers.IntegerField(min_value=1, max_value=MAX_SECONDS)


class ViewingRecordedSerializer(serializers.Serializer):
    recorded = serializers.BooleanField(
        read_only=True, help_text="False when the account has not consented to viewing history (nothing kept)."
    )
