"""Serializers of the recommender's API (output shapes only)."""

from rest_framework import serializers


class HomeItemSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="title.pk")
    external_id = serializers.CharField(source="title.external_id")
    name = serializers.CharField(source="title.name")
    reason = serializers.CharField()


class HomeRowSerializer(serializers.Serializer):
    key = serializers.CharField(help_text="`top-picks` is the main personalized row.")
    title = serializers.CharField()
    reason = serializers.CharField()
    items = HomeItemSerializer(many=True)


class HomeSerializer(serializers.Serializer):
    personalized = serializers.BooleanField()
    model_version = serializers.CharField(allow_null=True)
    notice = serializers.CharField(allow_null=True, help_text="Why the home is not personalized, if it is not.")
    rows = HomeRowSerializer(many=True)
