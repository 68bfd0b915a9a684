"""factory_boy factories for every model the tests build."""

import factory
from django.utils import timezone
from django.utils.text import slugify

from accounts.maturity import MaturityRating
from accounts.models import Profile, User
from catalog import models as cm

PASSWORD = "correct-horse-battery"  # every factory-made account's password


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def save_password(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class ProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Profile

    account = factory.SubFactory(UserFactory)
    name = factory.Sequence(lambda n: f"Profile {n}")


class GenreFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = cm.Genre
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Genre {n}")
    slug = factory.LazyAttribute(lambda g: slugify(g.name))


class TagFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = cm.Tag
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"tag {n}")
    slug = factory.LazyAttribute(lambda t: slugify(t.name))


class PersonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = cm.Person

    name = factory.Sequence(lambda n: f"Person {n}")
    slug = factory.LazyAttribute(lambda p: slugify(p.name))


class TitleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = cm.Title
        skip_postgeneration_save = True

    kind = cm.TitleKind.FILM
    name = factory.Sequence(lambda n: f"Title {n}")
    slug = factory.LazyAttribute(lambda t: slugify(t.name))
    synopsis = "A story worth telling."
    year = 2020
    runtime_minutes = 100
    maturity_rating = MaturityRating.PG_13
    external_id = factory.Sequence(lambda n: f"test:{n}")
    date_added = factory.LazyFunction(timezone.now)

    @factory.post_generation
    def genres(obj, create, extracted, **kwargs):
        if create and extracted:
            obj.genres.add(*extracted)


class SeasonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = cm.Season

    title = factory.SubFactory(TitleFactory, kind=cm.TitleKind.SERIES)
    number = factory.Sequence(lambda n: n + 1)


class EpisodeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = cm.Episode

    season = factory.SubFactory(SeasonFactory)
    title = factory.LazyAttribute(lambda e: e.season.title)
    number = factory.Sequence(lambda n: n + 1)
    name = factory.Sequence(lambda n: f"Episode {n}")
    runtime_minutes = 30


class CreditFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = cm.Credit

    title = factory.SubFactory(TitleFactory)
    person = factory.SubFactory(PersonFactory)
    role = cm.CreditRole.ACTOR
    order = 0


class CollectionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = cm.Collection

    name = factory.Sequence(lambda n: f"Collection {n}")
    slug = factory.LazyAttribute(lambda c: slugify(c.name))


class RatingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = cm.Rating

    profile = factory.SubFactory(ProfileFactory)
    title = factory.SubFactory(TitleFactory)
    value = cm.RatingValue.UP


class ViewingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = cm.ViewingActivity

    profile = factory.SubFactory(ProfileFactory)
    title = factory.SubFactory(TitleFactory)
    position_seconds = 600
    duration_seconds = 6000


class ListEntryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = cm.ListEntry

    profile = factory.SubFactory(ProfileFactory)
    title = factory.SubFactory(TitleFactory)
