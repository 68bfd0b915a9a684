import dataclasses
import os
import time

from django.apps import AppConfig


class SlowJobsConfig(AppConfig):
    name = "tests.support.slow_jobs"
    label = "slow_jobs"

    def ready(self):
        from privacy import registry

        delay = float(os.environ["TEST_SLOW_EXPORT_SECONDS"])
        section = registry.section("profiles")
        inner = section.export

        def slow_export(account):
            time.sleep(delay)
            return inner(account)

        registry.register_section(dataclasses.replace(section, export=slow_export))
