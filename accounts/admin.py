"""Accounts admin: users (Django's UserAdmin, with their profiles inline) and profiles."""

from django.conf import settings
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import Count

from .models import Profile, User


class ProfileInline(admin.TabularInline):
    model = Profile
    fields = ["name", "is_kids", "maturity_limit", "avatar_color", "onboarded_at"]
    extra = 0
    # The same limit profile_create enforces for subscribers.
    max_num = settings.MAX_PROFILES_PER_ACCOUNT


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ["username", "email", "is_staff", "is_active", "date_joined", "profile_count"]
    list_filter = ["is_staff", "is_superuser", "is_active", "date_joined"]
    inlines = [ProfileInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_profiles=Count("profiles"))

    @admin.display(description="profiles", ordering="_profiles")
    def profile_count(self, obj):
        return obj._profiles


@admin.register(Profile)
class ProfileAdmin(admin.ModelAdmin):
    list_display = ["name", "account", "is_kids", "maturity_limit", "created_at", "onboarded_at"]
    list_select_related = ["account"]
    list_filter = ["is_kids", "maturity_limit"]
    search_fields = ["name", "account__username", "account__email"]
    autocomplete_fields = ["account"]
    readonly_fields = ["engagement_stamp", "created_at", "has_pin"]
    # The PIN's hash is a credential (10,000 PINs: a hash gives the PIN back offline): never shown.
    exclude = ["pin_hash", "pin_failures", "pin_locked_until"]
