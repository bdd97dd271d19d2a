"""Project settings: read them, or change only the fields given (``muster-costs settings``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from shared.dal.settings import SettingsRepository, settings_repository
from shared.domain.settings import ProjectSettings, SettingsChange, apply_change


class SettingsService:
    def __init__(
        self,
        repository: SettingsRepository | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.repository = repository or settings_repository()
        self.now = now

    def current(self) -> ProjectSettings:
        return self.repository.project_settings()

    def update(self, change: SettingsChange) -> ProjectSettings:
        """Validate and store the change; an unchanged result is not rewritten."""
        current = self.repository.project_settings()
        updated = apply_change(current, change, self.now().replace(microsecond=0))
        if updated != current:
            self.repository.save_project_settings(updated)
        return updated
